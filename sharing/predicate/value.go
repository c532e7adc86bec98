package predicate

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/deltashare/deltashare/sharing/delta"
)

// value is a typed scalar used by Bind checks and MightMatch.
type value struct {
	t     ValueType
	i     int64   // int, long, bool (0/1), date (days), timestamp and timestamp_ntz (µs)
	f     float64 // float, double
	s     string  // string
	d     *big.Int
	scale int // decimal: d × 10^-scale
}

// parseValue parses text as a value of type t.
func parseValue(v string, t ValueType) (value, error) {
	out := value{t: t}
	switch t {
	case TypeBool:
		switch strings.ToLower(v) {
		case "true":
			out.i = 1
		case "false":
		default:
			return out, fmt.Errorf("want true or false")
		}
	case TypeInt:
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			return out, fmt.Errorf("want a whole number in the int range")
		}
		out.i = n
	case TypeLong:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return out, fmt.Errorf("want a whole number in the long range")
		}
		out.i = n
	case TypeFloat, TypeDouble:
		bits := 64
		if t == TypeFloat {
			bits = 32
		}
		if strings.ContainsAny(v, "_xXpP") || v == "" {
			return out, fmt.Errorf("want a decimal number")
		}
		f, err := strconv.ParseFloat(v, bits)
		if err != nil {
			ne, ok := err.(*strconv.NumError)
			if !ok || ne.Err != strconv.ErrRange || math.IsInf(f, 0) { // underflow to 0 is fine
				return out, fmt.Errorf("want a number in the %s range, NaN or Infinity", t)
			}
		}
		out.f = f
	case TypeString:
		out.s = v
	case TypeDate:
		d, err := delta.ParseDate(v)
		if err != nil {
			return out, err
		}
		out.i = int64(d)
	case TypeTimestamp, TypeTimestampNTZ:
		ts, err := delta.ParseTimestamp(v, t == TypeTimestampNTZ)
		if err != nil {
			return out, err
		}
		out.i = ts
	case TypeDecimal:
		d, sc, err := delta.ParseDecimalBig(v)
		if err != nil {
			return out, err
		}
		out.d, out.scale = d, sc
	default:
		return out, fmt.Errorf("unknown value type %q", t)
	}
	return out, nil
}

// compareValues orders a and b of the same type; ok is false when they cannot be ordered
// (NaN, or different types).
func compareValues(a, b value) (c int, ok bool) {
	if a.t != b.t {
		// int and long order alike.
		if !(isIntegral(a.t) && isIntegral(b.t)) {
			return 0, false
		}
	}
	switch a.t {
	case TypeString:
		return strings.Compare(a.s, b.s), true
	case TypeFloat, TypeDouble:
		if math.IsNaN(a.f) || math.IsNaN(b.f) {
			return 0, false
		}
		return cmp.Compare(a.f, b.f), true
	case TypeDecimal:
		x, y := a.d, b.d
		switch {
		case a.scale < b.scale:
			x, _ = delta.RescaleBig(a.d, a.scale, b.scale)
		case a.scale > b.scale:
			y, _ = delta.RescaleBig(b.d, b.scale, a.scale)
		}
		return x.Cmp(y), true
	}
	return cmp.Compare(a.i, b.i), true
}

func isIntegral(t ValueType) bool { return t == TypeInt || t == TypeLong }
