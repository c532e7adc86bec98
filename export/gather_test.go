package export

import (
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGather(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "ls", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		{Name: "b", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "lb", Type: arrow.BinaryTypes.LargeBinary, Nullable: true},
		{Name: "i", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "l", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
		{Name: "st", Type: arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true}), Nullable: true},
	}, nil)
	rb := array.NewRecordBuilder(mem, schema)
	defer rb.Release()
	const n = 50
	for i := 0; i < n; i++ {
		if i%6 == 5 {
			for _, f := range rb.Fields() {
				f.AppendNull()
			}
			continue
		}
		v := string(rune('a'+i%26)) + "xyz"[:i%4]
		rb.Field(0).(*array.StringBuilder).Append(v)
		rb.Field(1).(*array.LargeStringBuilder).Append(v)
		rb.Field(2).(*array.BinaryBuilder).Append([]byte(v))
		rb.Field(3).(*array.BinaryBuilder).Append([]byte(v))
		rb.Field(4).(*array.Int32Builder).Append(int32(i))
		lb := rb.Field(5).(*array.ListBuilder)
		lb.Append(true)
		lb.ValueBuilder().(*array.StringBuilder).AppendValues([]string{v, v}, nil)
		sb := rb.Field(6).(*array.StructBuilder)
		sb.Append(true)
		sb.FieldBuilder(0).(*array.Float64Builder).Append(float64(i) / 2)
	}
	rec := rb.NewRecord()
	defer rec.Release()
	src := rec.NewSlice(3, n) // offsets must be honoured
	defer src.Release()

	rows := []int64{0, 2, 4, 6, 7, 8, 40, 1, 45, 46}
	got, err := gather(mem, src, rows)
	require.NoError(t, err)
	defer got.Release()
	require.EqualValues(t, len(rows), got.NumRows())
	for c := 0; c < int(src.NumCols()); c++ {
		var parts []arrow.Array
		for _, r := range rows {
			parts = append(parts, array.NewSlice(src.Column(c), r, r+1))
		}
		want, err := array.Concatenate(parts, mem)
		require.NoError(t, err)
		for _, p := range parts {
			p.Release()
		}
		assert.True(t, array.Equal(want, got.Column(c)), "column %s:\nwant %v\ngot  %v", schema.Field(c).Name, want, got.Column(c))
		want.Release()
	}
}
