package export

import (
	"fmt"
	"strconv"
	"strings"
)

// Summary describes a finished run. Its JSON form is what "--output json" prints.
type Summary struct {
	Rows    int64    `json:"rows"`    // rows written
	Files   int64    `json:"files"`   // output files committed
	Bytes   int64    `json:"bytes"`   // output bytes written (after compression)
	Seconds float64  `json:"seconds"` // wall-clock time of the run
	Outputs []string `json:"outputs"` // the committed files (paths for a local sink), sorted
	// Removed lists old part files that an --overwrite run deleted because it did not rewrite them.
	Removed []string `json:"removed,omitempty"`
	// TableVersion is the Delta table version exported; Run sets -1 (unknown) and the caller
	// fills it in.
	TableVersion int64 `json:"tableVersion"`
}

// Text returns the summary as one line, for example
// "exported 1,000,000 rows to 4 files (23.5 MiB) in 1.20s (833,333 rows/s), table version 7".
func (s *Summary) Text() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "exported %s to %s (%s) in %.2fs", Plural(s.Rows, "row"), Plural(s.Files, "file"),
		HumanBytes(s.Bytes), s.Seconds)
	if s.Seconds > 0 {
		fmt.Fprintf(&sb, " (%s rows/s)", groupDigits(int64(float64(s.Rows)/s.Seconds)))
	}
	if s.TableVersion >= 0 {
		fmt.Fprintf(&sb, ", table version %d", s.TableVersion)
	}
	if len(s.Removed) > 0 {
		fmt.Fprintf(&sb, ", %s removed", Plural(int64(len(s.Removed)), "old part file"))
	}
	return sb.String()
}

// Plural writes n with thousands separators and the noun, in the plural unless n is 1:
// "1 row", "0 rows", "1,234 files".
func Plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return groupDigits(n) + " " + noun + "s"
}

// HumanBytes writes a byte count with binary units: 512 B, 1.5 KiB, 23.4 MiB.
func HumanBytes(n int64) string {
	if n < 1024 && n > -1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	f := float64(n)
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB", "PiB"} {
		f /= 1024
		if f < 1024 && f > -1024 || u == "PiB" {
			return strconv.FormatFloat(f, 'f', 1, 64) + " " + u
		}
	}
	return "" // not reached
}

// groupDigits writes n with thousands separators: 1,234,567.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
