package main

import (
	"context"
	"errors"

	"github.com/urfave/cli/v2"
)

// Exit codes: a documented, named set (see README). Only main calls os.Exit.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitPartial     = 3 // some tables failed
	exitAuth        = 4 // credential invalid, rejected or expired
	exitExpiring    = 5 // credential expires within the warning window (check)
	exitInterrupted = 130
)

// codedError wraps an error with the exit code it calls for.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

// withCode attaches an exit code to err.
func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &codedError{code: code, err: err}
}

// usageError reports bad flags or arguments (exit 2).
func usageError(err error) error { return withCode(exitUsage, err) }

// exitCode maps an error returned by a command to the process exit code.
func exitCode(ctx context.Context, err error) int {
	if err == nil {
		return exitOK
	}
	var ce *codedError
	if errors.As(err, &ce) {
		return ce.code
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return exitInterrupted
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	for _, m := range errorCodeMappers {
		if c, ok := m(err); ok {
			return c
		}
	}
	return exitError
}

// errorCodeMappers let packages' sentinel errors choose exit codes (auth errors exit 4, ...).
var errorCodeMappers []func(error) (int, bool)
