package secret

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// redactedText replaces a secret wherever it would otherwise be printed.
const redactedText = "[redacted]"

// Sensitive holds a secret (a token value, an activation link). Every way of printing it —
// fmt verbs, %#v, JSON, slog — yields "[redacted]"; only [Sensitive.Reveal] returns the value.
// Keep Sensitive fields exported (fmt cannot call methods on unexported fields).
type Sensitive string

// Reveal returns the secret itself. Call it only where the secret is meant to go (a request
// header, a file, a terminal after an explicit --show).
func (s Sensitive) Reveal() string { return string(s) }

// IsZero reports whether no secret is held.
func (s Sensitive) IsZero() bool { return s == "" }

// String returns "[redacted]", or "" when no secret is held.
func (s Sensitive) String() string {
	if s == "" {
		return ""
	}
	return redactedText
}

// GoString keeps %#v from printing the secret.
func (s Sensitive) GoString() string { return fmt.Sprintf("secret.Sensitive(%q)", s.String()) }

// Format makes every fmt verb (%s, %v, %q, %x, %d, ...) print the redacted form.
func (s Sensitive) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, s.GoString())
		return
	}
	if verb == 'q' {
		_, _ = fmt.Fprintf(f, "%q", s.String())
		return
	}
	_, _ = io.WriteString(f, s.String())
}

// MarshalJSON writes the redacted form, never the secret.
func (s Sensitive) MarshalJSON() ([]byte, error) { return []byte(fmt.Sprintf("%q", s.String())), nil }

// LogValue keeps structured logs from printing the secret.
func (s Sensitive) LogValue() slog.Value { return slog.StringValue(s.String()) }

// minSecretLen is the shortest string Redact will scrub: shorter ones would mangle ordinary text
// and are not real secrets anyway.
const minSecretLen = 4

// Redact replaces every occurrence of each secret in msg with "[redacted]", including their
// URL path/query escaped forms. Secrets shorter than 4 bytes are left alone (they would mangle
// ordinary text and are not real secrets anyway).
func Redact(msg string, secrets ...string) string {
	for _, s := range secrets {
		if len(s) < minSecretLen {
			continue
		}
		msg = strings.ReplaceAll(msg, s, redactedText)
		if e := escapeForURL(s); e != s {
			msg = strings.ReplaceAll(msg, e, redactedText)
		}
	}
	return msg
}

// escapeForURL percent-encodes the bytes that URL paths and queries escape, so a secret that
// travelled in a URL is also recognised.
func escapeForURL(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
