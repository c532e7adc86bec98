package predicate

import (
	"errors"
	"regexp"
	"strings"
)

// likePattern compiles a LIKE pattern to a regular expression that matches whole strings:
// % is any run of characters (also none), _ exactly one character, and \ makes the next
// character literal (\%, \_, \\). Matching is case-sensitive and runs in linear time.
func likePattern(pattern string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; r {
		case '%':
			b.WriteString(`.*`)
		case '_':
			b.WriteString(`.`)
		case '\\':
			if i+1 == len(rs) {
				return nil, errors.New(`LIKE pattern ends with a lone \; write \\ for a backslash`)
			}
			i++
			b.WriteString(regexp.QuoteMeta(string(rs[i])))
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`\z`)
	return regexp.Compile(b.String())
}
