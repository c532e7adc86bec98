// Package redact keeps secrets out of messages: it strips URL query strings (presigned
// signatures), user information and control characters from text, URLs and errors.
package redact

import (
	"regexp"
	"strings"
	"unicode"
)

var urlQueryRE = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://[^\s?#"'<>]*)\?[^\s#"'<>]*`)

// Text makes server-provided text safe for an error message: URL query strings (which may
// hold signatures) are removed, control characters become spaces, and the text is cut to max
// runes.
func Text(s string, max int) string {
	s = urlQueryRE.ReplaceAllString(s, "$1?REDACTED")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return s
}

// URL returns u without its query string and fragment, and without user information.
func URL(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	if i := strings.Index(u, "://"); i >= 0 {
		rest := u[i+3:]
		host := rest
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			host = rest[:j]
		}
		if k := strings.LastIndexByte(host, '@'); k >= 0 {
			u = u[:i+3] + rest[k+1:]
		}
	}
	return u
}

// Err removes query strings from the text of an error while keeping it unwrappable.
func Err(err error) error {
	msg := err.Error()
	clean := urlQueryRE.ReplaceAllString(msg, "$1?REDACTED")
	if clean == msg {
		return err
	}
	return &cleanedError{msg: clean, err: err}
}

type cleanedError struct {
	msg string
	err error
}

func (e *cleanedError) Error() string { return e.msg }

func (e *cleanedError) Unwrap() error { return e.err }
