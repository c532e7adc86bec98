package reader

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/deltashare/deltashare/sharing/predicate"
)

// ParsePartitionValue parses one serialized partition value (an entry of an add file's
// partitionValues) as the column's Delta type. A missing entry (present false) or an empty
// string is null, for every type including string, and yields nil.
//
// The Go value is: byte int8, short int16, integer int32, long int64, float float32,
// double float64, boolean bool, string string, binary []byte (the string's raw bytes),
// date arrow.Date32 (days since 1970-01-01), timestamp and timestamp_ntz arrow.Timestamp
// (microseconds since the epoch; a timestamp without zone is read as UTC), decimal(p,s)
// decimal128.Num at scale s (exact; extra non-zero digits are an error), void nil.
func ParsePartitionValue(t delta.DataType, s string, present bool) (any, error) {
	if !present || s == "" {
		return nil, nil
	}
	v, err := parsePartition(t, s)
	if err != nil {
		return nil, fmt.Errorf("sharing: partition value %q is not a valid %s: %w", s, typeName(t), err)
	}
	return v, nil
}

func typeName(t delta.DataType) string {
	if t == nil {
		return "<no type>"
	}
	return t.String()
}

func parsePartition(t delta.DataType, s string) (any, error) {
	switch v := t.(type) {
	case *delta.DecimalType:
		return predicate.ParseDecimal(s, int32(v.Precision), int32(v.Scale))
	case *delta.PrimitiveType:
		switch v.Name {
		case delta.TypeString:
			return s, nil
		case delta.TypeBinary:
			return []byte(s), nil
		case delta.TypeBoolean:
			switch {
			case strings.EqualFold(s, "true"):
				return true, nil
			case strings.EqualFold(s, "false"):
				return false, nil
			}
			return nil, fmt.Errorf("want true or false")
		case delta.TypeByte:
			n, err := strconv.ParseInt(s, 10, 8)
			return int8(n), numErr(err, "-128..127")
		case delta.TypeShort:
			n, err := strconv.ParseInt(s, 10, 16)
			return int16(n), numErr(err, "-32768..32767")
		case delta.TypeInteger:
			n, err := strconv.ParseInt(s, 10, 32)
			return int32(n), numErr(err, "-2147483648..2147483647")
		case delta.TypeLong:
			n, err := strconv.ParseInt(s, 10, 64)
			return n, numErr(err, "-9223372036854775808..9223372036854775807")
		case delta.TypeFloat:
			f, err := parseFloat(s, 32)
			return float32(f), err
		case delta.TypeDouble:
			return parseFloat(s, 64)
		case delta.TypeDate:
			d, err := predicate.ParseDate(s)
			return arrow.Date32(d), err
		case delta.TypeTimestamp:
			ts, err := predicate.ParseTimestamp(s, false)
			return arrow.Timestamp(ts), err
		case delta.TypeTimestampNTZ:
			ts, err := predicate.ParseTimestamp(s, true)
			return arrow.Timestamp(ts), err
		case delta.TypeVoid:
			return nil, nil
		}
	}
	return nil, fmt.Errorf("%s cannot be a partition column type", typeName(t))
}

func numErr(err error, rng string) error {
	if err == nil {
		return nil
	}
	if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		return fmt.Errorf("out of range %s", rng)
	}
	return fmt.Errorf("want a whole number in %s", rng)
}

func parseFloat(s string, bits int) (float64, error) {
	// strconv accepts "NaN", "Inf", "+Infinity" and the rest in any case, as Spark writes
	// them; it also accepts hex floats and underscores, which no Delta writer produces.
	if strings.ContainsAny(s, "_xX") {
		return 0, fmt.Errorf("want a decimal number")
	}
	f, err := strconv.ParseFloat(s, bits)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange && !math.IsInf(f, 0) {
			return f, nil // underflow to zero: keep the nearest value
		}
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, fmt.Errorf("out of range for float%d", bits)
		}
		return 0, fmt.Errorf("want a number, NaN or Infinity")
	}
	return f, nil
}

// PartitionArray builds a column of n rows that all hold one partition value: the Arrow type
// is ArrowType(t); value nil or "" gives a column of nulls. The caller releases the result.
func PartitionArray(mem memory.Allocator, t delta.DataType, value *string, n int) (arrow.Array, error) {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	if n < 0 {
		return nil, fmt.Errorf("sharing: negative row count %d for a partition column", n)
	}
	at, err := ArrowType(t, ArrowOptions{})
	if err != nil {
		return nil, err
	}
	var s string
	if value != nil {
		s = *value
	}
	v, err := ParsePartitionValue(t, s, value != nil)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return array.MakeArrayOfNull(mem, at, n), nil
	}
	b := array.NewBuilder(mem, at)
	defer b.Release()
	b.Reserve(n)
	switch bb := b.(type) {
	case *array.Int8Builder:
		appendN(bb, v.(int8), n)
	case *array.Int16Builder:
		appendN(bb, v.(int16), n)
	case *array.Int32Builder:
		appendN(bb, v.(int32), n)
	case *array.Int64Builder:
		appendN(bb, v.(int64), n)
	case *array.Float32Builder:
		appendN(bb, v.(float32), n)
	case *array.Float64Builder:
		appendN(bb, v.(float64), n)
	case *array.BooleanBuilder:
		appendN(bb, v.(bool), n)
	case *array.Date32Builder:
		appendN(bb, v.(arrow.Date32), n)
	case *array.TimestampBuilder:
		appendN(bb, v.(arrow.Timestamp), n)
	case *array.Decimal128Builder:
		appendN(bb, v.(decimal128.Num), n)
	case *array.StringBuilder:
		x := v.(string)
		bb.ReserveData(len(x) * n)
		for range n {
			bb.Append(x)
		}
	case *array.BinaryBuilder:
		x := v.([]byte)
		bb.ReserveData(len(x) * n)
		for range n {
			bb.Append(x)
		}
	default:
		return nil, fmt.Errorf("sharing: cannot build a partition column of type %s", typeName(t))
	}
	return b.NewArray(), nil
}

// appendN appends x to b n times; b has room for them (Reserve).
func appendN[T any](b interface{ UnsafeAppend(T) }, x T, n int) {
	for range n {
		b.UnsafeAppend(x)
	}
}
