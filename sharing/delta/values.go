package delta

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow/decimal128"
)

// Value parsers shared by predicates, statistics and partition values. They accept the
// spellings Delta writers produce and are strict about everything else.

const (
	microsPerSecond = 1_000_000
	microsPerDay    = 86_400 * microsPerSecond
	maxAbsYear      = 290_000 // keeps microseconds since the epoch inside int64
)

// ParseDate parses a date "YYYY-MM-DD" into days since 1970-01-01 (proleptic Gregorian).
// Month and day may have one digit; the year may be signed or longer than four digits.
func ParseDate(s string) (int32, error) {
	days, rest, err := parseDatePart(s)
	if err != nil {
		return 0, err
	}
	if rest != "" {
		return 0, fmt.Errorf("date %q has trailing %q; want YYYY-MM-DD", s, rest)
	}
	return int32(days), nil
}

// FormatDate renders days since 1970-01-01 as YYYY-MM-DD.
func FormatDate(days int32) string {
	y, m, d := civilFromDays(int64(days))
	return formatYMD(y, m, d)
}

func formatYMD(y, m, d int64) string {
	if y >= 0 && y <= 9999 {
		return fmt.Sprintf("%04d-%02d-%02d", y, m, d)
	}
	return fmt.Sprintf("%+05d-%02d-%02d", y, m, d)
}

// ParseTimestamp parses a timestamp into microseconds since the epoch. Accepted forms:
// "YYYY-MM-DD", "YYYY-MM-DD hh:mm[:ss[.ffffff]]" and the same with "T" for the space, each
// optionally followed by a zone: "Z", "UTC", "+hh", "+hh:mm" or "+hhmm" (also with "-").
// Without a zone the value is read as UTC (Delta partition values and stats are UTC). With
// ntz (timestamp without time zone) a zone other than Z/UTC is rejected. More than six
// fractional digits are allowed and truncated to the microsecond.
func ParseTimestamp(s string, ntz bool) (int64, error) {
	days, rest, err := parseDatePart(s)
	if err != nil {
		if strings.Contains(err.Error(), "no such day") || strings.Contains(err.Error(), "out of range") {
			return 0, fmt.Errorf("timestamp %q: %w", s, err)
		}
		return 0, fmt.Errorf("timestamp %q: want YYYY-MM-DD[ hh:mm:ss[.ffffff]][zone]", s)
	}
	var micros int64
	if rest != "" {
		if rest[0] != ' ' && rest[0] != 'T' && rest[0] != 't' {
			return 0, fmt.Errorf("timestamp %q: want a space or T after the date", s)
		}
		rest = rest[1:]
		h, r, ok := digits(rest, 1, 2)
		if !ok || len(r) == 0 || r[0] != ':' {
			return 0, fmt.Errorf("timestamp %q: want hh:mm[:ss[.ffffff]] after the date", s)
		}
		mi, r, ok := digits(r[1:], 1, 2)
		if !ok {
			return 0, fmt.Errorf("timestamp %q: want minutes after the hour", s)
		}
		var sec int64
		var frac int64
		if len(r) > 0 && r[0] == ':' {
			sec, r, ok = digits(r[1:], 1, 2)
			if !ok {
				return 0, fmt.Errorf("timestamp %q: want seconds after the minutes", s)
			}
			if len(r) > 0 && r[0] == '.' {
				r = r[1:]
				n := 0
				for n < len(r) && r[n] >= '0' && r[n] <= '9' {
					n++
				}
				if n == 0 || n > 9 {
					return 0, fmt.Errorf("timestamp %q: want 1 to 9 digits of fractional seconds", s)
				}
				fs := r[:n]
				for len(fs) < 6 {
					fs += "0"
				}
				frac, _ = strconv.ParseInt(fs[:6], 10, 64)
				r = r[n:]
			}
		}
		if h > 23 || mi > 59 || sec > 59 {
			return 0, fmt.Errorf("timestamp %q: time of day out of range", s)
		}
		micros = ((h*60+mi)*60+sec)*microsPerSecond + frac
		rest = r
	}
	offset, err := parseZone(rest, s, ntz)
	if err != nil {
		return 0, err
	}
	return days*microsPerDay + micros - offset, nil
}

// parseZone returns the zone offset in microseconds.
func parseZone(z, s string, ntz bool) (int64, error) {
	z = strings.TrimPrefix(z, " ")
	switch z {
	case "", "Z", "z", "UTC", "GMT":
		return 0, nil
	}
	if ntz {
		return 0, fmt.Errorf("timestamp_ntz %q must not carry a time zone", s)
	}
	if z[0] != '+' && z[0] != '-' {
		return 0, fmt.Errorf("timestamp %q: unexpected %q after the time; want a zone like Z or +01:00", s, z)
	}
	sign := int64(1)
	if z[0] == '-' {
		sign = -1
	}
	h, r, ok := digits(z[1:], 2, 2)
	var m int64
	if ok && len(r) > 0 {
		r = strings.TrimPrefix(r, ":")
		m, r, ok = digits(r, 2, 2)
	}
	if !ok || r != "" || h > 18 || m > 59 {
		return 0, fmt.Errorf("timestamp %q: bad zone offset %q; want +hh, +hh:mm or +hhmm", s, z)
	}
	return sign * (h*3600 + m*60) * microsPerSecond, nil
}

// FormatTimestamp renders microseconds since the epoch in the Delta Sharing timestamp format
// (ISO 8601 in UTC, "2022-01-01T00:00:00Z", with fractional seconds only when needed).
func FormatTimestamp(micros int64) string {
	days := FloorDiv(micros, microsPerDay)
	rem := micros - days*microsPerDay
	y, m, d := civilFromDays(days)
	sec := rem / microsPerSecond
	frac := rem % microsPerSecond
	out := fmt.Sprintf("%sT%02d:%02d:%02d", formatYMD(y, m, d), sec/3600, sec/60%60, sec%60)
	if frac != 0 {
		out += strings.TrimRight(fmt.Sprintf(".%06d", frac), "0")
	}
	return out + "Z"
}

// FormatTimestampNTZ renders microseconds as a wall-clock "YYYY-MM-DD hh:mm:ss[.ffffff]".
func FormatTimestampNTZ(micros int64) string {
	s := FormatTimestamp(micros)
	s = strings.TrimSuffix(s, "Z")
	return strings.Replace(s, "T", " ", 1)
}

func parseDatePart(s string) (days int64, rest string, err error) {
	r := s
	neg := false
	if len(r) > 0 && (r[0] == '+' || r[0] == '-') {
		neg = r[0] == '-'
		r = r[1:]
	}
	y, r, ok := digits(r, 1, 6)
	if !ok || len(r) == 0 || r[0] != '-' {
		return 0, "", fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	m, r, ok := digits(r[1:], 1, 2)
	if !ok || len(r) == 0 || r[0] != '-' {
		return 0, "", fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	d, r, ok := digits(r[1:], 1, 2)
	if !ok {
		return 0, "", fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	if neg {
		y = -y
	}
	if y > maxAbsYear || y < -maxAbsYear {
		return 0, "", fmt.Errorf("date %q: year out of range", s)
	}
	if m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m) {
		return 0, "", fmt.Errorf("date %q: no such day", s)
	}
	return daysFromCivil(y, m, d), r, nil
}

// digits reads between min and max ASCII digits from the front of s.
func digits(s string, min, max int) (int64, string, bool) {
	n := 0
	for n < len(s) && n < max && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if n < min {
		return 0, s, false
	}
	v, _ := strconv.ParseInt(s[:n], 10, 64)
	return v, s[n:], true
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysInMonth(y, m int64) int64 {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil converts a proleptic Gregorian date to days since 1970-01-01.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := FloorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := FloorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// FloorDiv divides rounding towards negative infinity (Delta timestamps before 1970 in coarser units).
func FloorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

var (
	bigTen      = big.NewInt(10)
	maxExponent = 1000
)

// ParseDecimalBig parses a decimal number ("-12.50", "1E+3", ".5") into an unscaled integer
// and its scale (digits after the point), exactly.
func ParseDecimalBig(s string) (*big.Int, int, error) {
	orig := s
	if s == "" {
		return nil, 0, fmt.Errorf("empty decimal")
	}
	neg := false
	if s[0] == '+' || s[0] == '-' {
		neg = s[0] == '-'
		s = s[1:]
	}
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > maxExponent || e < -maxExponent {
			return nil, 0, fmt.Errorf("decimal %q: bad exponent", orig)
		}
		exp = e
	}
	intPart, fracPart := mant, ""
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		intPart, fracPart = mant[:i], mant[i+1:]
	}
	if intPart == "" && fracPart == "" {
		return nil, 0, fmt.Errorf("decimal %q has no digits", orig)
	}
	all := intPart + fracPart
	for i := 0; i < len(all); i++ {
		if all[i] < '0' || all[i] > '9' {
			return nil, 0, fmt.Errorf("%q is not a decimal number", orig)
		}
	}
	if len(all) > 2*maxExponent {
		return nil, 0, fmt.Errorf("decimal %q has too many digits", orig)
	}
	v, _ := new(big.Int).SetString("0"+all, 10)
	if neg {
		v.Neg(v)
	}
	scale := len(fracPart) - exp
	return v, scale, nil
}

// RescaleBig returns v (at scale from) at scale to, and whether that was exact; when not
// exact the result is the floor.
func RescaleBig(v *big.Int, from, to int) (*big.Int, bool) {
	if from == to {
		return v, true
	}
	if from < to {
		m := new(big.Int).Exp(bigTen, big.NewInt(int64(to-from)), nil)
		return new(big.Int).Mul(v, m), true
	}
	m := new(big.Int).Exp(bigTen, big.NewInt(int64(from-to)), nil)
	q, r := new(big.Int).DivMod(v, m, new(big.Int)) // Euclidean: floor for positive m
	return q, r.Sign() == 0
}

// ParseDecimal parses s exactly into a decimal128 of the given precision and scale. Extra
// fractional digits are allowed only when they are zeros; a value with more integer digits
// than precision-scale is rejected. Exponents ("1.5E+2") are accepted.
func ParseDecimal(s string, precision, scale int32) (decimal128.Num, error) {
	v, sc, err := ParseDecimalBig(s)
	if err != nil {
		return decimal128.Num{}, err
	}
	r, exact := RescaleBig(v, sc, int(scale))
	if !exact {
		return decimal128.Num{}, fmt.Errorf("decimal %q has more than %d digits after the point", s, scale)
	}
	lim := new(big.Int).Exp(bigTen, big.NewInt(int64(precision)), nil)
	if new(big.Int).Abs(r).Cmp(lim) >= 0 {
		return decimal128.Num{}, fmt.Errorf("decimal %q does not fit decimal(%d,%d)", s, precision, scale)
	}
	return decimal128.FromBigInt(r), nil
}
