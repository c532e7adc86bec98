package export

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// valueAppender appends the serialized partition value of row i to dst; ok is false for null.
type valueAppender func(dst []byte, i int) (out []byte, ok bool)

// checkPartitionType reports whether a column of type dt can be a partition column.
func checkPartitionType(dt arrow.DataType) error {
	switch t := dt.(type) {
	case *arrow.DictionaryType:
		return checkPartitionType(t.ValueType)
	case *arrow.BooleanType, *arrow.Int8Type, *arrow.Int16Type, *arrow.Int32Type, *arrow.Int64Type,
		*arrow.Uint8Type, *arrow.Uint16Type, *arrow.Uint32Type, *arrow.Uint64Type,
		*arrow.Float32Type, *arrow.Float64Type, *arrow.Decimal128Type, *arrow.Decimal256Type,
		*arrow.StringType, *arrow.LargeStringType, *arrow.StringViewType,
		*arrow.Date32Type, *arrow.Date64Type, *arrow.TimestampType:
		return nil
	}
	return fmt.Errorf("type %s cannot be a partition column: use a string, number, boolean, date or timestamp column", dt)
}

// newValueAppender returns the appender for an array whose type passed checkPartitionType.
func newValueAppender(arr arrow.Array) valueAppender {
	notNull := func(f func(dst []byte, i int) []byte) valueAppender {
		return func(dst []byte, i int) ([]byte, bool) {
			if arr.IsNull(i) {
				return dst, false
			}
			return f(dst, i), true
		}
	}
	switch a := arr.(type) {
	case *array.Dictionary:
		inner := newValueAppender(a.Dictionary())
		return func(dst []byte, i int) ([]byte, bool) {
			if a.IsNull(i) {
				return dst, false
			}
			return inner(dst, a.GetValueIndex(i))
		}
	case *array.Boolean:
		return notNull(func(d []byte, i int) []byte { return strconv.AppendBool(d, a.Value(i)) })
	case *array.Int8:
		return notNull(func(d []byte, i int) []byte { return strconv.AppendInt(d, int64(a.Value(i)), 10) })
	case *array.Int16:
		return notNull(func(d []byte, i int) []byte { return strconv.AppendInt(d, int64(a.Value(i)), 10) })
	case *array.Int32:
		return notNull(func(d []byte, i int) []byte { return strconv.AppendInt(d, int64(a.Value(i)), 10) })
	case *array.Int64:
		return notNull(func(d []byte, i int) []byte { return strconv.AppendInt(d, a.Value(i), 10) })
	case *array.Uint8:
		return notNull(func(d []byte, i int) []byte { return strconv.AppendUint(d, uint64(a.Value(i)), 10) })
	case *array.Uint16:
		return notNull(func(d []byte, i int) []byte { return strconv.AppendUint(d, uint64(a.Value(i)), 10) })
	case *array.Uint32:
		return notNull(func(d []byte, i int) []byte { return strconv.AppendUint(d, uint64(a.Value(i)), 10) })
	case *array.Uint64:
		return notNull(func(d []byte, i int) []byte { return strconv.AppendUint(d, a.Value(i), 10) })
	case *array.Float32:
		return notNull(func(d []byte, i int) []byte { return appendFloat(d, float64(a.Value(i)), 32) })
	case *array.Float64:
		return notNull(func(d []byte, i int) []byte { return appendFloat(d, a.Value(i), 64) })
	case *array.Decimal128:
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		return notNull(func(d []byte, i int) []byte { return appendDecimal(d, a.Value(i).BigInt(), scale) })
	case *array.Decimal256:
		scale := a.DataType().(*arrow.Decimal256Type).Scale
		return notNull(func(d []byte, i int) []byte { return appendDecimal(d, a.Value(i).BigInt(), scale) })
	case *array.String:
		return notNull(func(d []byte, i int) []byte { return append(d, a.Value(i)...) })
	case *array.LargeString:
		return notNull(func(d []byte, i int) []byte { return append(d, a.Value(i)...) })
	case *array.StringView:
		return notNull(func(d []byte, i int) []byte { return append(d, a.Value(i)...) })
	case *array.Date32:
		return notNull(func(d []byte, i int) []byte {
			return time.Unix(int64(a.Value(i))*86400, 0).UTC().AppendFormat(d, time.DateOnly)
		})
	case *array.Date64:
		return notNull(func(d []byte, i int) []byte {
			return time.UnixMilli(int64(a.Value(i))).UTC().AppendFormat(d, time.DateOnly)
		})
	case *array.Timestamp:
		tt := a.DataType().(*arrow.TimestampType)
		// Delta Kernel's forms: UTC with a "T" and "Z" for instants, a space for wall-clock
		// times (timestamp_ntz); microseconds, or nanoseconds when the value has them.
		micro, nano := "2006-01-02 15:04:05.000000", "2006-01-02 15:04:05.000000000"
		if tt.TimeZone != "" {
			micro, nano = "2006-01-02T15:04:05.000000Z", "2006-01-02T15:04:05.000000000Z"
		}
		return notNull(func(d []byte, i int) []byte {
			t := a.Value(i).ToTime(tt.Unit)
			if t.Nanosecond()%1000 == 0 {
				return t.AppendFormat(d, micro)
			}
			return t.AppendFormat(d, nano)
		})
	}
	// checkPartitionType keeps other types out.
	panic(fmt.Sprintf("export: no partition value writer for %s", arr.DataType()))
}

// appendFloat writes the shortest text that reads back to v: fixed notation when
// 1e-6 <= |v| < 1e21 (or v is 0), exponent notation otherwise; NaN, Infinity, -Infinity.
func appendFloat(dst []byte, v float64, bits int) []byte {
	switch {
	case math.IsNaN(v):
		return append(dst, "NaN"...)
	case math.IsInf(v, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(v, -1):
		return append(dst, "-Infinity"...)
	}
	if abs := math.Abs(v); abs == 0 || (abs >= 1e-6 && abs < 1e21) {
		return strconv.AppendFloat(dst, v, 'f', -1, bits)
	}
	return strconv.AppendFloat(dst, v, 'e', -1, bits)
}

// appendDecimal writes an unscaled integer with scale digits after the point, exactly.
func appendDecimal(dst []byte, unscaled *big.Int, scale int32) []byte {
	s := unscaled.String()
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
		dst = append(dst, '-')
	}
	if scale <= 0 {
		dst = append(dst, s...)
		for range -scale {
			if s == "0" {
				break
			}
			dst = append(dst, '0')
		}
		return dst
	}
	if len(s) <= int(scale) {
		s = strings.Repeat("0", int(scale)-len(s)+1) + s
	}
	p := len(s) - int(scale)
	dst = append(dst, s[:p]...)
	dst = append(dst, '.')
	return append(dst, s[p:]...)
}
