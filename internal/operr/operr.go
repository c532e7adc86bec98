// Package operr is the common body of the library packages' error types: what was being done,
// the sentinel the error matches, an actionable message that holds no secret, and the cause.
// A package's error type embeds [Base] (adding its own fields, such as an HTTP status), so
// callers match it with errors.As on that type and errors.Is on the package's sentinels.
package operr

import "github.com/deltashare/deltashare/internal/hint"

// Base is embedded by an error type; its methods make the type an error whose text is the
// message and whose chain holds Kind and the cause.
type Base struct {
	// Op is what was being done, e.g. "store the credential".
	Op string
	// Kind is the sentinel this error matches (may be nil).
	Kind error

	msg   string
	cause error
}

// New returns a Base with a fixed message (which must hold no secret).
func New(op string, kind error, msg string, cause error) Base {
	return Base{Op: op, Kind: kind, msg: msg, cause: cause}
}

// WithAdvice returns a Base whose message is msg followed by advice, and whose cause carries
// the advice for the command line to render with its own names (see hint.WithAdvice; msg ends
// with the separator).
func WithAdvice(op string, kind error, msg, advice string, cause error) Base {
	text, chain := hint.WithAdvice(msg, advice, cause)
	return Base{Op: op, Kind: kind, msg: text, cause: chain}
}

// Error returns the actionable message.
func (e *Base) Error() string { return e.msg }

// Unwrap exposes Kind and the cause to errors.Is / errors.As.
func (e *Base) Unwrap() []error {
	var out []error
	if e.Kind != nil {
		out = append(out, e.Kind)
	}
	if e.cause != nil {
		out = append(out, e.cause)
	}
	return out
}
