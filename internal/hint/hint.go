// Package hint attaches what-to-do-next advice to library errors. Advice names what the caller can
// change by its Go name in braces: "use {Overwrite} to replace it". Error() renders a plain name
// as "the Overwrite option" and a qualified one ({Config.AddTable}, {tokenmgr.Activate}) as
// written, for a library user; the CLI renders the same advice with its own flag and command
// names ("use --overwrite to replace it") through [Render] and [RenderError].
//
// Any error carrying advice has a method Hint() string (or, when it lists several problems each
// with its own advice, Hints() []string), so callers outside this module can read it with
// errors.As on an interface{ Hint() string }.
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

// WithAdvice returns msg followed by advice rendered for a library user (options and operations
// named {LikeThis}), and the error to chain: cause (or, when nil, msg) with the advice, from
// which the command line renders the advice with its flag and command names. msg ends with the
// separator (": " or "; ").
func WithAdvice(msg, advice string, cause error) (string, error) {
	if cause == nil {
		cause = errors.New(strings.TrimRight(msg, ":; "))
	}
	return msg + Render(advice, nil), New(cause, advice)
}

// Namer names an option or operation for the reader of a message; ok false keeps the default.
type Namer func(name string) (text string, ok bool)

// Render replaces each {Name} of advice by names(Name), or, when names is nil or does not know
// it, by "the Name option" (a qualified name such as Config.AddTable stays as written).
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
			text = defaultName(name)
		}
		b.WriteString(text)
		advice = advice[j+1:]
	}
}

// defaultName is how a library user reads name: a field of the options passed ("the Overwrite
// option"), or a qualified Go name (a function, method, type or field) as written.
func defaultName(name string) string {
	if strings.Contains(name, ".") {
		return name
	}
	return "the " + name + " option"
}

// RenderError returns err's text with the advice of every error in its tree (Unwrap() error and
// Unwrap() []error) that has a Hint() string or Hints() []string method rendered by names instead
// of the library default.
func RenderError(err error, names Namer) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	var walk func(e error)
	walk = func(e error) {
		var advice []string
		switch h := e.(type) {
		case interface{ Hints() []string }:
			advice = h.Hints()
		case interface{ Hint() string }:
			advice = []string{h.Hint()}
		}
		for _, a := range advice {
			if def, cli := Render(a, nil), Render(a, names); def != cli {
				s = strings.Replace(s, def, cli, 1)
			}
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			if next := u.Unwrap(); next != nil {
				walk(next)
			}
		case interface{ Unwrap() []error }:
			for _, next := range u.Unwrap() {
				if next != nil {
					walk(next)
				}
			}
		}
	}
	walk(err)
	return s
}
