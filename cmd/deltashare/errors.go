package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/deltashare/deltashare/internal/hint"
	"github.com/deltashare/deltashare/sharing/protocol"
)

// How a failed command reports its error (main, once, on stderr): a line "deltashare: TEXT", or
// with --output json a JSON object (see docs/json.md):
//
//	{"error": "TEXT", "code": "USAGE", "exitCode": 2, "hint": "ADVICE"}
//
// TEXT is the whole message (advice included, as the line shows it); hint is the advice alone
// ("" when the error carries none); code is the server's errorCode when the server refused the
// request (RESOURCE_DOES_NOT_EXIST, ...), else a name of the exit code (errorCodeNames).

// errorJSON is the JSON form of a command's error.
type errorJSON struct {
	Error    string `json:"error"`
	Code     string `json:"code"`
	ExitCode int    `json:"exitCode"`
	Hint     string `json:"hint"`
}

// errorCodeNames name the exit codes in the JSON form of an error.
var errorCodeNames = map[int]string{
	exitError:       "ERROR",
	exitUsage:       "USAGE",
	exitPartial:     "PARTIAL",
	exitAuth:        "CREDENTIAL",
	exitExpiring:    "CREDENTIAL_EXPIRING",
	exitInterrupted: "INTERRUPTED",
}

// reportError prints err, which made the command exit with code, on w.
func reportError(w io.Writer, err error, code int, asJSON bool) {
	text := errorText(err)
	if code == exitInterrupted {
		text = interruptedText(text)
	}
	if !asJSON {
		fmt.Fprintln(w, "deltashare:", text)
		return
	}
	e := errorJSON{Error: text, Code: errorCodeNames[code], ExitCode: code, Hint: errorHint(err)}
	if e.Code == "" {
		e.Code = "ERROR"
	}
	var api *protocol.APIError
	if errors.As(err, &api) && api.Code != "" && code != exitInterrupted {
		e.Code = api.Code
	}
	_ = writeJSON(w, e)
}

// interruptedText says that the command was interrupted (Ctrl-C, SIGTERM) rather than
// "context canceled", keeping what the command says it left behind.
func interruptedText(text string) string {
	canceled := context.Canceled.Error()
	rest := strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(text, canceled), ": "))
	if rest == "" || rest == canceled {
		return "interrupted"
	}
	return "interrupted: " + strings.ReplaceAll(rest, ": "+canceled, "")
}

// errorHint is the advice of the first error in err's tree that carries one, rendered with the
// command line's names; "" when none does.
func errorHint(err error) string {
	for e := err; e != nil; {
		if h, ok := e.(interface{ Hint() string }); ok {
			return hint.Render(h.Hint(), cliName)
		}
		if h, ok := e.(interface{ Hints() []string }); ok && len(h.Hints()) > 0 {
			return hint.Render(h.Hints()[0], cliName)
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			e = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, next := range u.Unwrap() {
				if s := errorHint(next); s != "" {
					return s
				}
			}
			return ""
		default:
			return ""
		}
	}
	return ""
}

// jsonRequested reports whether the command line asks for --output json (-O json), so that
// even an error before the command parsed its flags is printed as JSON.
func jsonRequested(args []string) bool {
	for i, a := range args {
		if a == "--" {
			return false
		}
		switch {
		case a == "--output" || a == "-output" || a == "-O" || a == "--O":
			if i+1 < len(args) && strings.EqualFold(args[i+1], "json") {
				return true
			}
		case strings.HasPrefix(a, "--output=") || strings.HasPrefix(a, "-output=") || strings.HasPrefix(a, "-O="):
			_, v, _ := strings.Cut(a, "=")
			if strings.EqualFold(v, "json") {
				return true
			}
		}
	}
	return false
}
