package formats

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
// flat schemas, encoded column by column in parallel (string and binary columns through their
// own dictionaries), every column chunk must also hold what pqarrow's sequential writer puts
// there: the same encodings, dictionary and statistics; for nested schemas the file is
// pqarrow's, byte for byte.
//
// The cases run concurrently, in two rounds: first every case's file from pqarrow's sequential
// writer (parquetColumnParallel off), then every case on the column-parallel path, checked and
// compared with its sequential file. Encoders only read the package variables, which change
// between the rounds only.
func TestParquetColumnParallel(t *testing.T) {
	defer func(c, p int64, w int, par bool) {
		parquetChunkRows, parquetPageSize, parquetWorkers, parquetColumnParallel = c, p, w, par
	}(parquetChunkRows, parquetPageSize, parquetWorkers, parquetColumnParallel)
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
	// encode writes a case's 3000 rows in batches of 1000 + 1 + 1499 + 500 rows, the last a
	// slice with an offset, with mem; it returns the rows (released with the test), the options
	// and the file.
	encode := func(t *testing.T, mem memory.Allocator, nested bool, caseOpts Options) (arrow.Record, Options, []byte) {
		whole := wideRecord(t, mem, 0, 3000, nested)
		t.Cleanup(whole.Release)
		parts := []arrow.Record{whole.NewSlice(0, 1000), whole.NewSlice(1000, 1001), whole.NewSlice(1001, 2500), whole.NewSlice(2500, 3000)}
		defer func() {
			for _, r := range parts {
				r.Release()
			}
		}()
		opts := caseOpts
		opts.Format, opts.Allocator = Parquet, mem
		return whole, opts, encodeAll(t, whole.Schema(), opts, parts...)
	}

	seq := make([][]byte, len(tests))
	parquetColumnParallel = false
	t.Run("sequential", func(t *testing.T) {
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				_, _, seq[i] = encode(t, checkedMem(t), tc.nested, tc.opts)
			})
		}
	})
	parquetColumnParallel = true

	t.Run("parallel", func(t *testing.T) {
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				mem := checkedMem(t)
				whole, opts, data := encode(t, mem, tc.nested, tc.opts)
				rdr, got := readParquet(t, mem, data)
				defer got.Release()
				assertSameSchema(t, whole.Schema(), got.Schema())
				assert.True(t, array.RecordEqual(whole, got), "records equal")
				assert.GreaterOrEqual(t, rdr.NumRowGroups(), tc.groups)
				var rows int64
				for g := 0; g < rdr.NumRowGroups(); g++ {
					rows += rdr.MetaData().RowGroup(g).NumRows()
					if opts.RowGroupRows > 0 {
						assert.LessOrEqual(t, rdr.MetaData().RowGroup(g).NumRows(), opts.RowGroupRows)
					}
				}
				assert.Equal(t, whole.NumRows(), rows)

				require.NotNil(t, seq[i], "the sequential writer's file (failed above)")
				if tc.nested {
					assert.Equal(t, seq[i], data, "nested schemas go through pqarrow either way")
					return
				}
				// By bytes, row groups end where each writer's size estimate says: compare those of
				// the row-count cases only.
				assertSameChunks(t, mem, seq[i], rdr, opts.RowGroupBytes == 0)
			})
		}
	})
}

// assertSameChunks compares two Parquet files column chunk by column chunk: encodings,
// dictionary page, value counts and statistics; with groups, also the row groups. want is read
// back whole; gr is a reader of the other file, which the caller has read back already.
func assertSameChunks(t *testing.T, mem memory.Allocator, want []byte, gr *file.Reader, groups bool) {
	t.Helper()
	wr, wrec := readParquet(t, mem, want)
	defer wrec.Release()
	wm, gm := wr.MetaData(), gr.MetaData()
	if !groups {
		return
	}
	require.Equal(t, len(wm.RowGroups), len(gm.RowGroups), "row groups")
	for g := range len(wm.RowGroups) {
		wg, gg := wm.RowGroup(g), gm.RowGroup(g)
		require.Equal(t, wg.NumRows(), gg.NumRows(), "rows of group %d", g)
		for c := 0; c < wg.NumColumns(); c++ {
			wc, err := wg.ColumnChunk(c)
			require.NoError(t, err)
			gc, err := gg.ColumnChunk(c)
			require.NoError(t, err)
			name := wc.PathInSchema().String()
			assert.Equal(t, wc.Encodings(), gc.Encodings(), "encodings of %s in group %d", name, g)
			assert.Equal(t, wc.HasDictionaryPage(), gc.HasDictionaryPage(), "dictionary page of %s in group %d", name, g)
			assert.Equal(t, wc.NumValues(), gc.NumValues(), "values of %s in group %d", name, g)
			ws, err := wc.StatsSet()
			require.NoError(t, err)
			gs, err := gc.StatsSet()
			require.NoError(t, err)
			require.Equal(t, ws, gs, "statistics of %s in group %d", name, g)
			if ws {
				wst, err := wc.Statistics()
				require.NoError(t, err)
				gst, err := gc.Statistics()
				require.NoError(t, err)
				we, err := wst.Encode()
				require.NoError(t, err)
				ge, err := gst.Encode()
				require.NoError(t, err)
				assert.Equal(t, we, ge, "statistics of %s in group %d", name, g)
			}
		}
	}
	for _, r := range []interface{ Close() error }{wr, gr} {
		require.NoError(t, r.Close())
	}
}

// TestParquetStringDictionary covers the string and binary columns' own dictionaries: a
// dictionary that outgrows its limit in the middle of a row group (the rest of the group
// falls back to plain encoding, as pqarrow's writer does), empty strings and nulls, and page
// statistics with several pages per column chunk.
func TestParquetStringDictionary(t *testing.T) {
	smallDictionaryLimits(t)
	mem := checkedMem(t)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "few", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "many", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "bin", Type: arrow.BinaryTypes.Binary},
		{Name: "sorted", Type: arrow.BinaryTypes.String},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	const n = 5000
	for r := 0; r < n; r++ {
		switch r % 7 {
		case 3:
			b.Field(0).AppendNull()
		case 5:
			b.Field(0).(*array.StringBuilder).Append("")
		default:
			b.Field(0).(*array.StringBuilder).Append(names[r%len(names)])
		}
		if r%11 == 0 {
			b.Field(1).AppendNull()
		} else {
			// 1,000 values (not mostly distinct, so dictionary-encoded from the start): the
			// dictionary fills up after about 140 of them
			b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("value-%05d", (r*7919)%1000))
		}
		b.Field(2).(*array.BinaryBuilder).Append([]byte{byte(r % 13), 0, byte(r % 3)})
		// each write part of a row group holds other values: its page minimum and maximum are
		// not the dictionary's
		b.Field(3).(*array.StringBuilder).Append(fmt.Sprintf("s%03d", r/100))
	}
	whole := b.NewRecord()
	defer whole.Release()
	rdr, seq := roundTripInTwoParts(t, mem, schema, whole)
	for g := 0; g < rdr.NumRowGroups(); g++ {
		rg := rdr.MetaData().RowGroup(g)
		for c, fallback := range []bool{false, true, false, false} {
			cc, err := rg.ColumnChunk(c)
			require.NoError(t, err)
			assert.True(t, cc.HasDictionaryPage(), "column %d group %d has a dictionary", c, g)
			plainPages := false
			for _, st := range cc.EncodingStats() {
				if st.PageType.String() == "DATA_PAGE" && st.Encoding == parquet.Encodings.Plain {
					plainPages = true
				}
			}
			assert.Equal(t, fallback, plainPages, "column %d group %d has plain data pages: %v", c, g, cc.EncodingStats())
		}
	}
	assertPageStats(t, rdr, whole)
	assertSameChunks(t, mem, seq, rdr, true)
}

// assertPageStats checks the statistics of every data page of the byte array columns against
// the rows the page holds: null count, minimum and maximum in byte order.
func assertPageStats(t *testing.T, rdr *file.Reader, rec arrow.Record) {
	t.Helper()
	for c := 0; c < int(rec.NumCols()); c++ {
		col := rec.Column(c).(array.BinaryLike)
		value := func(j int) []byte {
			switch a := col.(type) {
			case *array.String:
				return []byte(a.Value(j))
			case *array.Binary:
				return a.Value(j)
			}
			t.Fatalf("column %d: %T", c, col)
			return nil
		}
		assertColumnPageStats(t, rdr, c, col, value, func(a, b []byte) int { return bytes.Compare(a, b) },
			func(v []byte) string { return string(v) })
	}
}

// assertColumnPageStats checks the statistics of every data page of column c against the rows
// of col the page holds: null count, and the minimum and maximum under compare, as plain-encoded
// by encode. The column must span more than 6 pages.
func assertColumnPageStats[T any](t *testing.T, rdr *file.Reader, c int, col arrow.Array, value func(j int) T,
	compare func(a, b T) int, encode func(T) string) {
	t.Helper()
	row, pages := 0, 0
	for g := 0; g < rdr.NumRowGroups(); g++ {
		pr, err := rdr.RowGroup(g).GetColumnPageReader(c)
		require.NoError(t, err)
		for pr.Next() {
			dp, ok := pr.Page().(file.DataPage)
			if !ok {
				continue
			}
			pages++
			n := int(dp.NumValues())
			var nulls int64
			var lo, hi T
			seen := false
			for j := row; j < row+n; j++ {
				if col.IsNull(j) {
					nulls++
					continue
				}
				v := value(j)
				if !seen || compare(v, lo) < 0 {
					lo = v
				}
				if !seen || compare(v, hi) > 0 {
					hi = v
				}
				seen = true
			}
			st := dp.Statistics()
			assert.Equal(t, nulls, st.NullCount, "nulls of column %d rows %d-%d", c, row, row+n)
			if seen {
				assert.Equal(t, encode(lo), string(st.Min), "min of column %d rows %d-%d", c, row, row+n)
				assert.Equal(t, encode(hi), string(st.Max), "max of column %d rows %d-%d", c, row, row+n)
			}
			row += n
		}
		require.NoError(t, pr.Err())
	}
	assert.Equal(t, col.Len(), row, "rows of column %d", c)
	assert.Greater(t, pages, 6, "pages of column %d", c)
}

// TestParquetInt32Dictionary covers the int32 and date32 columns' own dictionaries (int32Dict):
// few values with nulls, a date column, a value far from the group's first one (out of the
// lookup table: the rest of the group goes value by value, the writer's dictionary continuing
// from ours), and a dictionary that outgrows its limit in the middle of a row group. Every
// column chunk must hold what pqarrow's sequential writer puts there, and every page's
// statistics describe its own rows.
func TestParquetInt32Dictionary(t *testing.T) {
	smallDictionaryLimits(t)
	mem := checkedMem(t)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "few", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "jump", Type: arrow.PrimitiveTypes.Int32},
		{Name: "many", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	const n = 5000
	for r := 0; r < n; r++ {
		if r%7 == 3 {
			b.Field(0).AppendNull()
		} else {
			b.Field(0).(*array.Int32Builder).Append(int32(r%13) - 6)
		}
		b.Field(1).(*array.Date32Builder).Append(arrow.Date32(19_000 + r/700))
		v := int32(r % 5)
		if r%2000 == 1500 {
			v = 1 << 20 // out of the table's range around the group's first value
		}
		b.Field(2).(*array.Int32Builder).Append(v)
		if r%11 == 0 {
			b.Field(3).AppendNull()
		} else {
			// 1,250 values: the 2 KiB dictionary fills up after 512 of them
			b.Field(3).(*array.Int32Builder).Append(int32((r * 7919) % 1250))
		}
	}
	whole := b.NewRecord()
	defer whole.Release()
	rdr, seq := roundTripInTwoParts(t, mem, schema, whole)
	for g := 0; g < rdr.NumRowGroups(); g++ {
		rg := rdr.MetaData().RowGroup(g)
		for c := range 4 {
			cc, err := rg.ColumnChunk(c)
			require.NoError(t, err)
			assert.True(t, cc.HasDictionaryPage(), "column %d group %d has a dictionary", c, g)
		}
	}
	// Page statistics: null count, minimum and maximum of each page's own rows.
	for c := range 4 {
		col := whole.Column(c)
		value := func(j int) int32 {
			if d, ok := col.(*array.Date32); ok {
				return int32(d.Value(j))
			}
			return col.(*array.Int32).Value(j)
		}
		assertColumnPageStats(t, rdr, c, col, value, cmp.Compare[int32],
			func(v int32) string { return string(binary.LittleEndian.AppendUint32(nil, uint32(v))) })
	}
	assertSameChunks(t, mem, seq, rdr, true)
}

// roundTripInTwoParts encodes whole (of more than 4,000 rows) handed to the writer in two
// slices, the first of 1,200 rows, in row groups of 2,000 rows, reads the file back, asserts
// the same rows (exactly; a NaN equals a NaN) in three row groups, and returns the file's reader and the same parts encoded
// with the columns written one after the other (to compare column chunks with).
func roundTripInTwoParts(t *testing.T, mem memory.Allocator, schema *arrow.Schema, whole arrow.Record) (*file.Reader, []byte) {
	t.Helper()
	parts := []arrow.Record{whole.NewSlice(0, 1200), whole.NewSlice(1200, whole.NumRows())}
	defer func() {
		for _, p := range parts {
			p.Release()
		}
	}()
	opts := Options{Format: Parquet, Allocator: mem, RowGroupRows: 2000}
	data := encodeAll(t, schema, opts, parts...)
	rdr, got := readParquet(t, mem, data)
	defer got.Release()
	assert.True(t, array.RecordApproxEqual(whole, got, array.WithNaNsEqual(true), array.WithAbsTolerance(0)), "records equal")
	assert.Equal(t, 3, rdr.NumRowGroups())
	parquetColumnParallel = false
	seq := encodeAll(t, schema, opts, parts...)
	parquetColumnParallel = true
	return rdr, seq
}

// smallDictionaryLimits sets row chunks of 500 rows, pages of 200 bytes, dictionaries of 2 KiB
// and write batches of 300 values for the test (restored after it), so that a few thousand
// rows span several pages, batches and dictionary fallbacks.
func smallDictionaryLimits(t *testing.T) {
	c, p, d, b := parquetChunkRows, parquetPageSize, parquetDictLimit, parquetWriteBatch
	t.Cleanup(func() { parquetChunkRows, parquetPageSize, parquetDictLimit, parquetWriteBatch = c, p, d, b })
	parquetChunkRows, parquetPageSize, parquetDictLimit, parquetWriteBatch = 500, 200, 2<<10, 300
}
