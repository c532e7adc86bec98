package reader

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/deltashare/deltashare/sharing/delta"
)

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
	v, err := delta.ParsePartitionValue(t, s, value != nil)
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
		return nil, fmt.Errorf("sharing: cannot build a partition column of type %s", delta.TypeName(t))
	}
	return b.NewArray(), nil
}

// appendN appends x to b n times; b has room for them (Reserve).
func appendN[T any](b interface{ UnsafeAppend(T) }, x T, n int) {
	for range n {
		b.UnsafeAppend(x)
	}
}
