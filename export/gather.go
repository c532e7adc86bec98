package export

import (
	"context"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/compute"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// gather returns a record with the given rows of rec, in order; the caller releases it.
//
// String and binary columns are copied here with their data size reserved up front: the take
// kernel of arrow/compute v17 grows its data buffer by each value's size, which is quadratic on
// a large record. Other columns use compute.TakeArray.
func gather(mem memory.Allocator, rec arrow.Record, rows []int64) (arrow.Record, error) {
	var idx arrow.Array // made on first use
	defer func() {
		if idx != nil {
			idx.Release()
		}
	}()
	cols := make([]arrow.Array, 0, rec.NumCols())
	release := func() {
		for _, c := range cols {
			c.Release()
		}
	}
	for _, col := range rec.Columns() {
		if c := gatherBinary(mem, col, rows); c != nil {
			cols = append(cols, c)
			continue
		}
		if idx == nil {
			b := array.NewInt64Builder(mem)
			b.AppendValues(rows, nil)
			idx = b.NewArray()
			b.Release()
		}
		c, err := compute.TakeArray(compute.WithAllocator(context.Background(), mem), col, idx)
		if err != nil {
			release()
			return nil, err
		}
		cols = append(cols, c)
	}
	out := array.NewRecord(rec.Schema(), cols, int64(len(rows)))
	release()
	return out, nil
}

// gatherBinary copies the rows of a string or binary column, or returns nil for other types.
func gatherBinary(mem memory.Allocator, col arrow.Array, rows []int64) arrow.Array {
	type binaryArray interface {
		arrow.Array
		ValueLen(int) int
	}
	var size int
	a, ok := col.(binaryArray)
	if !ok {
		return nil
	}
	switch col.(type) {
	case *array.String, *array.LargeString, *array.Binary, *array.LargeBinary:
	default:
		return nil
	}
	for _, r := range rows {
		size += a.ValueLen(int(r))
	}
	switch a := col.(type) {
	case *array.String:
		return gatherValues(array.NewStringBuilder(mem), a, rows, size, a.Value)
	case *array.LargeString:
		return gatherValues(array.NewLargeStringBuilder(mem), a, rows, size, a.Value)
	case *array.Binary:
		return gatherValues(array.NewBinaryBuilder(mem, a.DataType().(arrow.BinaryDataType)), a, rows, size, a.Value)
	case *array.LargeBinary:
		return gatherValues(array.NewBinaryBuilder(mem, a.DataType().(arrow.BinaryDataType)), a, rows, size, a.Value)
	}
	return nil
}

// valueBuilder is what gatherValues needs of a string or binary builder.
type valueBuilder[T any] interface {
	Reserve(int)
	ReserveData(int)
	AppendNull()
	Append(T)
	NewArray() arrow.Array
	Release()
}

// gatherValues copies the rows of a (value gives a row's value; size is their total bytes)
// into b, and releases b.
func gatherValues[T any](b valueBuilder[T], a arrow.Array, rows []int64, size int, value func(int) T) arrow.Array {
	defer b.Release()
	b.Reserve(len(rows))
	b.ReserveData(size)
	for _, r := range rows {
		if a.IsNull(int(r)) {
			b.AppendNull()
		} else {
			b.Append(value(int(r)))
		}
	}
	return b.NewArray()
}
