package demo

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/deltashare/deltashare/sharing/delta"
)

// SerializePartitionValue renders a Go value of Delta type dt as a partition value string, as
// the Delta protocol's "Partition Value Serialization" section prescribes. It returns nil for a
// null value (nil, or the empty string, which Delta reads as null).
//
// Accepted Go values are those of [Row]; timestamps are written in the recommended ISO 8601
// UTC form (`2024-01-02T03:04:05.123456Z`), timestamp_ntz as `2024-01-02 03:04:05.123456`.
func SerializePartitionValue(dt delta.DataType, v any) (*string, error) {
	if v == nil {
		return nil, nil
	}
	var s string
	switch t := dt.(type) {
	case *delta.DecimalType:
		u, err := unscaledOf(v)
		if err != nil {
			return nil, err
		}
		s = formatDecimal(u, t.Scale)
	case *delta.PrimitiveType:
		switch t.Name {
		case delta.TypeString:
			x, ok := v.(string)
			if !ok {
				return nil, typeErr(dt, v)
			}
			s = x
		case delta.TypeBinary:
			x, ok := v.([]byte)
			if !ok {
				return nil, typeErr(dt, v)
			}
			s = string(x)
		case delta.TypeBoolean:
			x, ok := v.(bool)
			if !ok {
				return nil, typeErr(dt, v)
			}
			s = strconv.FormatBool(x)
		case delta.TypeLong, delta.TypeInteger, delta.TypeShort, delta.TypeByte:
			n, err := intOf(dt, v)
			if err != nil {
				return nil, err
			}
			s = strconv.FormatInt(n, 10)
		case delta.TypeFloat:
			x, ok := v.(float32)
			if !ok {
				return nil, typeErr(dt, v)
			}
			s = strconv.FormatFloat(float64(x), 'g', -1, 32)
		case delta.TypeDouble:
			x, ok := v.(float64)
			if !ok {
				return nil, typeErr(dt, v)
			}
			s = strconv.FormatFloat(x, 'g', -1, 64)
		case delta.TypeDate:
			x, ok := v.(time.Time)
			if !ok {
				return nil, typeErr(dt, v)
			}
			s = x.Format(time.DateOnly)
		case delta.TypeTimestamp:
			x, ok := v.(time.Time)
			if !ok {
				return nil, typeErr(dt, v)
			}
			s = x.UTC().Format("2006-01-02T15:04:05.000000Z")
		case delta.TypeTimestampNTZ:
			x, ok := v.(time.Time)
			if !ok {
				return nil, typeErr(dt, v)
			}
			s = x.Format("2006-01-02 15:04:05.000000")
		default:
			return nil, fmt.Errorf("demo: type %s cannot be a partition column", dt)
		}
	default:
		return nil, fmt.Errorf("demo: type %s cannot be a partition column", dt)
	}
	if s == "" {
		return nil, nil
	}
	return &s, nil
}

// escapeURIPath turns a relative file path into the URI path Delta records in the log (RFC 2396,
// as java.net.URI quotes it): ASCII characters outside the unreserved and path punctuation sets,
// '%' included, become %XX; non-ASCII UTF-8 is kept as it is.
func escapeURIPath(p string) string {
	const allowed = "-_.!~*'();:@&=+$,/"
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c >= 0x80 || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte(allowed, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// DeterministicUUID returns a version-4-shaped UUID derived from the parts (SHA-256 of them),
// so generated ids and file names are stable across runs.
func DeterministicUUID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	x := hex.EncodeToString(h[:16])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

func typeErr(dt delta.DataType, v any) error {
	return fmt.Errorf("demo: a %s value must be %s, got %T", dt, goTypeFor(dt), v)
}

func goTypeFor(dt delta.DataType) string {
	switch t := dt.(type) {
	case *delta.DecimalType:
		return "int64 or *big.Int (the unscaled value)"
	case *delta.StructType:
		return "demo.Row or []any (the fields in order)"
	case *delta.ArrayType:
		return "[]any"
	case *delta.PrimitiveType:
		switch t.Name {
		case delta.TypeLong:
			return "int64"
		case delta.TypeInteger:
			return "int32"
		case delta.TypeShort:
			return "int16"
		case delta.TypeByte:
			return "int8"
		case delta.TypeFloat:
			return "float32"
		case delta.TypeDouble:
			return "float64"
		case delta.TypeBoolean:
			return "bool"
		case delta.TypeString:
			return "string"
		case delta.TypeBinary:
			return "[]byte"
		case delta.TypeDate, delta.TypeTimestamp, delta.TypeTimestampNTZ:
			return "time.Time"
		}
	}
	return "a supported value"
}

// intOf accepts the exact Go integer type of the Delta type, or int when it fits.
func intOf(dt delta.DataType, v any) (int64, error) {
	name := dt.(*delta.PrimitiveType).Name
	var n int64
	switch x := v.(type) {
	case int64:
		if name != delta.TypeLong {
			return 0, typeErr(dt, v)
		}
		n = x
	case int32:
		if name != delta.TypeInteger {
			return 0, typeErr(dt, v)
		}
		n = int64(x)
	case int16:
		if name != delta.TypeShort {
			return 0, typeErr(dt, v)
		}
		n = int64(x)
	case int8:
		if name != delta.TypeByte {
			return 0, typeErr(dt, v)
		}
		n = int64(x)
	case int:
		n = int64(x)
		lim := map[string]int64{delta.TypeLong: math.MaxInt64, delta.TypeInteger: math.MaxInt32,
			delta.TypeShort: math.MaxInt16, delta.TypeByte: math.MaxInt8}[name]
		if n > lim || n < -lim-1 {
			return 0, fmt.Errorf("demo: %d overflows %s", x, name)
		}
	default:
		return 0, typeErr(dt, v)
	}
	return n, nil
}

// unscaledOf returns the unscaled integer of a decimal value (int64 or *big.Int).
func unscaledOf(v any) (*big.Int, error) {
	switch x := v.(type) {
	case int64:
		return big.NewInt(x), nil
	case int:
		return big.NewInt(int64(x)), nil
	case *big.Int:
		if x == nil {
			return nil, fmt.Errorf("demo: nil *big.Int decimal")
		}
		return x, nil
	}
	return nil, fmt.Errorf("demo: a decimal value must be int64 or *big.Int (the unscaled value), got %T", v)
}

// formatDecimal renders unscaled·10^-scale with exactly scale fractional digits.
func formatDecimal(u *big.Int, scale int) string {
	s := new(big.Int).Abs(u).String()
	neg := u.Sign() < 0
	if scale > 0 {
		if len(s) <= scale {
			s = strings.Repeat("0", scale-len(s)+1) + s
		}
		s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	}
	if neg {
		s = "-" + s
	}
	return s
}
