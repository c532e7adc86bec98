package formats

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/assert"
)

// wideTypes are the flat column types of the wide test schema.
var wideTypes = []arrow.DataType{
	arrow.PrimitiveTypes.Int8, arrow.PrimitiveTypes.Int16, arrow.PrimitiveTypes.Int32,
	arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float32, arrow.PrimitiveTypes.Float64,
	arrow.BinaryTypes.String, arrow.BinaryTypes.Binary, arrow.FixedWidthTypes.Date32,
	tsUTC(arrow.Microsecond), &arrow.TimestampType{Unit: arrow.Microsecond}, arrow.BinaryTypes.LargeString,
	&arrow.Decimal128Type{Precision: 10, Scale: 2}, &arrow.Decimal128Type{Precision: 38, Scale: 6},
	arrow.FixedWidthTypes.Boolean,
}

// wideNulls are the null patterns of the wide test schema, cycled over its columns: a
// required column, nulls here and there, a nullable column without nulls, only nulls.
var wideNulls = []string{"required", "some", "none", "all"}

// wideRecord returns n rows of 36 flat columns of every type and null pattern, starting at row
// start; with nested it adds the struct, list and map columns of deltaRecord.
func wideRecord(t testing.TB, mem memory.Allocator, start, n int, nested bool) arrow.Record {
	t.Helper()
	var (
		fields []arrow.Field
		cols   []arrow.Array
	)
	for c := 0; c < 36; c++ {
		dt := wideTypes[c%len(wideTypes)]
		nulls := wideNulls[c%len(wideNulls)]
		fields = append(fields, arrow.Field{Name: fmt.Sprintf("c%02d_%s_%s", c, dt, nulls), Type: dt, Nullable: nulls != "required"})
		b := array.NewBuilder(mem, dt)
		for r := start; r < start+n; r++ {
			if nulls == "all" || (nulls == "some" && (r+c)%5 == 2) {
				b.AppendNull()
				continue
			}
			v := int64(r)*31 + int64(c)
			switch b := b.(type) {
			case *array.Int8Builder:
				b.Append(int8(v))
			case *array.Int16Builder:
				b.Append(int16(v))
			case *array.Int32Builder:
				b.Append(int32(v % 97)) // few distinct values: dictionary encoded
			case *array.Int64Builder:
				b.Append(v * 1_000_003)
			case *array.Float32Builder:
				b.Append(float32(v) / 3)
			case *array.Float64Builder:
				b.Append(float64(v) * 1.25)
			case *array.StringBuilder, *array.LargeStringBuilder:
				b.(array.StringLikeBuilder).Append(names[int(v)%len(names)])
			case *array.BinaryBuilder:
				b.Append([]byte{byte(v), byte(v >> 8), byte(v >> 16)})
			case *array.Date32Builder:
				b.Append(arrow.Date32(18000 + v%3000))
			case *array.TimestampBuilder:
				b.Append(arrow.Timestamp(1_600_000_000_000_000 + v*1_234_567))
			case *array.Decimal128Builder:
				b.Append(decimal128.FromI64(v*37 - 5000))
			case *array.BooleanBuilder:
				b.Append(v%3 == 0)
			default:
				t.Fatalf("no values for %T", b)
			}
		}
		cols = append(cols, b.NewArray())
		b.Release()
	}
	if nested {
		d := deltaRecord(t, mem, n)
		defer d.Release()
		for _, name := range []string{"info", "nums", "attrs"} {
			i := d.Schema().FieldIndices(name)[0]
			fields = append(fields, d.Schema().Field(i))
			c := d.Column(i)
			c.Retain()
			cols = append(cols, c)
		}
	}
	rec := array.NewRecord(arrow.NewSchema(fields, nil), cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// TestParquetColumnParallel writes wide records over several row groups, by rows and by bytes,
// with batches that straddle row groups and batches that are slices, and reads them back. For
// flat schemas, encoded column by column in parallel, the file must also be byte for byte the
// one pqarrow's sequential writer produces.
func TestParquetColumnParallel(t *testing.T) {
	defer func(c, p int64, w int) { parquetChunkRows, parquetPageSize, parquetWorkers = c, p, w }(parquetChunkRows, parquetPageSize, parquetWorkers)
	parquetChunkRows, parquetPageSize, parquetWorkers = 300, 4<<10, 4
	tests := []struct {
		name   string
		nested bool
		opts   Options
		groups int // minimum row groups
	}{
		{"flat by rows", false, Options{RowGroupRows: 700}, 4},
		{"flat by bytes", false, Options{Compression: None, RowGroupBytes: 8 << 10}, 2},
		{"flat zstd", false, Options{Compression: Zstd, RowGroupRows: 1000}, 3},
		{"flat gzip one group", false, Options{Compression: Gzip}, 1},
		{"nested by rows", true, Options{RowGroupRows: 700}, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := checkedMem(t)
			tc.opts.Format, tc.opts.Allocator = Parquet, mem
			whole := wideRecord(t, mem, 0, 3000, tc.nested)
			defer whole.Release()
			// 1000 + 1 + 1499 + 500 rows; the last batch is a slice with an offset.
			parts := []arrow.Record{whole.NewSlice(0, 1000), whole.NewSlice(1000, 1001), whole.NewSlice(1001, 2500), whole.NewSlice(2500, 3000)}
			defer func() {
				for _, p := range parts {
					p.Release()
				}
			}()
			data := encodeAll(t, whole.Schema(), tc.opts, parts...)
			rdr, got := readParquet(t, mem, data)
			defer got.Release()
			assertSameSchema(t, whole.Schema(), got.Schema())
			assert.True(t, array.RecordEqual(whole, got), "records equal")
			assert.GreaterOrEqual(t, rdr.NumRowGroups(), tc.groups)
			var rows int64
			for i := 0; i < rdr.NumRowGroups(); i++ {
				rows += rdr.MetaData().RowGroup(i).NumRows()
				if tc.opts.RowGroupRows > 0 {
					assert.LessOrEqual(t, rdr.MetaData().RowGroup(i).NumRows(), tc.opts.RowGroupRows)
				}
			}
			assert.Equal(t, whole.NumRows(), rows)

			parquetColumnParallel = false
			seq := encodeAll(t, whole.Schema(), tc.opts, parts...)
			parquetColumnParallel = true
			if !tc.nested {
				assert.True(t, bytes.Equal(seq, data), "same file as pqarrow's sequential writer (%d and %d bytes)", len(data), len(seq))
			} else {
				assert.Equal(t, seq, data, "nested schemas go through pqarrow either way")
			}
		})
	}
}
