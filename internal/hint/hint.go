// Package hint attaches what-to-do-next advice to library errors. Advice names what the caller can
// change by its Go name in braces: "use {Overwrite} to replace it". Error() renders a name as
// "the Overwrite option" for a library user; the CLI renders the same advice with its own flag and
// command names ("use --overwrite to replace it") through [Render] and [RenderError].
//
// Any error carrying advice has a method Hint() string, so callers outside this module can read
// it with errors.As on an interface{ Hint() string }.
package hint

import (
	"errors"
	"strings"
)

// Error is an error with advice.
type Error struct {
	Err    error  // what went wrong
	Advice string // what to do next, options named {LikeThis}
}

// New returns err with advice (nil when err is nil).
func New(err error, advice string) error {
	if err == nil {
		return nil
	}
	return &Error{Err: err, Advice: advice}
}

// Error returns what went wrong, then the advice with options named for a library user.
func (e *Error) Error() string { return e.Err.Error() + ": " + Render(e.Advice, nil) }

// Unwrap returns what went wrong.
func (e *Error) Unwrap() error { return e.Err }

// Hint returns the advice as written, options in braces.
func (e *Error) Hint() string { return e.Advice }

// Namer names an option or operation for the reader of a message; ok false keeps the default.
type Namer func(name string) (text string, ok bool)

// Render replaces each {Name} of advice by names(Name), or by "the Name option" when names is
// nil or does not know it.
func Render(advice string, names Namer) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(advice, '{')
		j := strings.IndexByte(advice[max(i, 0):], '}')
		if i < 0 || j < 0 {
			b.WriteString(advice)
			return b.String()
		}
		j += i
		b.WriteString(advice[:i])
		name := advice[i+1 : j]
		text, ok := "", false
		if names != nil {
			text, ok = names(name)
		}
		if !ok {
			text = "the " + name + " option"
		}
		b.WriteString(text)
		advice = advice[j+1:]
	}
}

// RenderError returns err's text with the advice of every [*Error] in its chain rendered by names
// instead of the library default.
func RenderError(err error, names Namer) string {
	s := err.Error()
	for e := err; e != nil; {
		var h *Error
		if !errors.As(e, &h) {
			break
		}
		if def, cli := Render(h.Advice, nil), Render(h.Advice, names); def != cli {
			s = strings.Replace(s, def, cli, 1)
		}
		e = h.Err
	}
	return s
}
