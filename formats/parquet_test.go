package formats

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/apache/arrow/go/v17/parquet/schema"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/internal/arrowtest"
)

func nan() float64 { return math.NaN() }

func decompress(t testing.TB, c Compression, data []byte) []byte {
	t.Helper()
	var r io.Reader
	switch c {
	case Gzip:
		zr, err := gzip.NewReader(bytes.NewReader(data))
		require.NoError(t, err)
		r = zr
	case Zstd:
		zr, err := zstd.NewReader(bytes.NewReader(data))
		require.NoError(t, err)
		defer zr.Close()
		r = zr
	default:
		return data
	}
	out, err := io.ReadAll(r)
	require.NoError(t, err)
	return out
}

// deltaSchema has the types a Delta Sharing table produces.
func deltaSchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "amount", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "ts", Type: tsUTC(arrow.Microsecond), Nullable: true},
		{Name: "ts_ntz", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
		{Name: "price", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}, Nullable: true},
		{Name: "big", Type: &arrow.Decimal128Type{Precision: 38, Scale: 6}, Nullable: true},
		{Name: "flag", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "payload", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "info", Type: arrow.StructOf(
			arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
			arrow.Field{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true},
		), Nullable: true},
		{Name: "nums", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true},
		{Name: "attrs", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.BinaryTypes.String), Nullable: true},
	}, nil)
}

var names = []string{"alpha", "beta", "gamma, delta", "ünïcödé", `q"uote`, ""}

// deltaRecord returns n rows of deltaSchema with nulls sprinkled in every nullable column.
func deltaRecord(t testing.TB, mem memory.Allocator, n int) arrow.Record {
	b := array.NewRecordBuilder(mem, deltaSchema())
	defer b.Release()
	id := b.Field(0).(*array.Int64Builder)
	amount := b.Field(1).(*array.Float64Builder)
	name := b.Field(2).(*array.StringBuilder)
	day := b.Field(3).(*array.Date32Builder)
	ts := b.Field(4).(*array.TimestampBuilder)
	ntz := b.Field(5).(*array.TimestampBuilder)
	price := b.Field(6).(*array.Decimal128Builder)
	big := b.Field(7).(*array.Decimal128Builder)
	flag := b.Field(8).(*array.BooleanBuilder)
	payload := b.Field(9).(*array.BinaryBuilder)
	info := b.Field(10).(*array.StructBuilder)
	nums := b.Field(11).(*array.ListBuilder)
	attrs := b.Field(12).(*array.MapBuilder)
	b.Reserve(n)
	for i := 0; i < n; i++ {
		null := i%7 == 3
		id.Append(int64(i) * 1_000_003)
		if null {
			amount.AppendNull()
			name.AppendNull()
			day.AppendNull()
			ts.AppendNull()
			ntz.AppendNull()
			price.AppendNull()
			big.AppendNull()
			flag.AppendNull()
			payload.AppendNull()
			info.AppendNull()
			nums.AppendNull()
			attrs.AppendNull()
			continue
		}
		amount.Append(float64(i)*1.25 - 1000)
		name.Append(names[i%len(names)])
		day.Append(arrow.Date32(18000 + i%3000))
		ts.Append(arrow.Timestamp(1_600_000_000_000_000 + int64(i)*1_234_567))
		ntz.Append(arrow.Timestamp(1_600_000_000_000_000 + int64(i)*1_000_000))
		price.Append(decimal128.FromI64(int64(i)*37 - 5000))
		big.Append(decimal128.New(int64(i%5)-2, uint64(i)*0x9e3779b97f4a7c15))
		flag.Append(i%2 == 0)
		payload.Append([]byte{byte(i), byte(i >> 8), 0xff})
		info.Append(true)
		info.FieldBuilder(0).(*array.Int32Builder).Append(int32(i))
		info.FieldBuilder(1).(*array.StringBuilder).Append(names[(i+1)%len(names)])
		nums.Append(true)
		for j := 0; j < i%4; j++ {
			nums.ValueBuilder().(*array.Int32Builder).Append(int32(j))
		}
		attrs.Append(true)
		if i%3 == 0 {
			attrs.KeyBuilder().(*array.StringBuilder).Append("k")
			attrs.ItemBuilder().(*array.StringBuilder).Append(names[i%len(names)])
		}
	}
	return b.NewRecord()
}

// readParquet reads a whole Parquet file back as one record.
func readParquet(t testing.TB, mem memory.Allocator, data []byte) (*file.Reader, arrow.Record) {
	t.Helper()
	rdr, err := file.NewParquetReader(bytes.NewReader(data), file.WithReadProps(parquet.NewReaderProperties(mem)))
	require.NoError(t, err)
	t.Cleanup(func() { rdr.Close() })
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: 1 << 16}, mem)
	require.NoError(t, err)
	tbl, err := fr.ReadTable(context.Background())
	require.NoError(t, err)
	defer tbl.Release()
	cols := arrowtest.Columns(t, tbl, mem)
	rec := array.NewRecord(tbl.Schema(), cols, tbl.NumRows())
	for _, c := range cols {
		c.Release()
	}
	return rdr, rec
}

// concatRecords concatenates records with the same schema.
func concatRecords(t testing.TB, mem memory.Allocator, recs ...arrow.Record) arrow.Record {
	t.Helper()
	schema := recs[0].Schema()
	cols := make([]arrow.Array, schema.NumFields())
	var rows int64
	for _, r := range recs {
		rows += r.NumRows()
	}
	for i := range cols {
		var parts []arrow.Array
		for _, r := range recs {
			parts = append(parts, r.Column(i))
		}
		c, err := array.Concatenate(parts, mem)
		require.NoError(t, err)
		cols[i] = c
	}
	rec := array.NewRecord(schema, cols, rows)
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// assertSameSchema compares names, nullability and types. It ignores field metadata (the
// reader adds PARQUET:field_id) and list element names (Parquet calls them "element" or "list").
func assertSameSchema(t *testing.T, want, got *arrow.Schema) {
	t.Helper()
	require.Equal(t, want.NumFields(), got.NumFields())
	for i, w := range want.Fields() {
		g := got.Field(i)
		assert.Equal(t, w.Name, g.Name)
		assert.Equal(t, w.Nullable, g.Nullable, w.Name)
		if wl, ok := w.Type.(*arrow.ListType); ok {
			gl, ok := g.Type.(*arrow.ListType)
			require.True(t, ok, "%s: got %s", w.Name, g.Type)
			assert.True(t, arrow.TypeEqual(wl.Elem(), gl.Elem()), "%s: got %s want %s", w.Name, g.Type, w.Type)
			continue
		}
		assert.True(t, arrow.TypeEqual(w.Type, g.Type), "%s: got %s want %s", w.Name, g.Type, w.Type)
	}
}

func TestParquetRoundTrip(t *testing.T) {
	t.Parallel()
	for _, c := range []Compression{CompressionDefault, None, Snappy, Gzip, Zstd} {
		t.Run(string(c), func(t *testing.T) {
			mem := checkedMem(t)
			rec1 := deltaRecord(t, mem, 1000)
			defer rec1.Release()
			rec2 := deltaRecord(t, mem, 37)
			defer rec2.Release()
			data := encodeAll(t, rec1.Schema(), Options{Format: Parquet, Compression: c, Allocator: mem}, rec1, rec2)
			want := concatRecords(t, mem, rec1, rec2)
			defer want.Release()

			rdr, got := readParquet(t, mem, data)
			defer got.Release()
			assertSameSchema(t, want.Schema(), got.Schema())
			assert.True(t, array.RecordEqual(want, got), "records equal")

			codec := map[Compression]compress.Compression{
				CompressionDefault: compress.Codecs.Snappy, None: compress.Codecs.Uncompressed,
				Snappy: compress.Codecs.Snappy, Gzip: compress.Codecs.Gzip, Zstd: compress.Codecs.Zstd,
			}[c]
			md := rdr.MetaData()
			assert.NotNil(t, md.KeyValueMetadata().FindValue("ARROW:schema"), "the Arrow schema is stored")
			rg := md.RowGroup(0)
			for i := 0; i < rg.NumColumns(); i++ {
				cc, err := rg.ColumnChunk(i)
				require.NoError(t, err)
				assert.Equal(t, codec, cc.Compression(), "column %d", i)
			}
			nameCol, err := rg.ColumnChunk(md.Schema.ColumnIndexByName("name"))
			require.NoError(t, err)
			assert.True(t, nameCol.HasDictionaryPage(), "strings are dictionary encoded")

			for col, utc := range map[string]bool{"ts": true, "ts_ntz": false} {
				lt, ok := md.Schema.Column(md.Schema.ColumnIndexByName(col)).LogicalType().(*schema.TimestampLogicalType)
				require.True(t, ok, col)
				assert.Equal(t, utc, lt.IsAdjustedToUTC(), "%s isAdjustedToUTC", col)
				assert.Equal(t, schema.TimeUnitMicros, lt.TimeUnit(), col)
			}
			_, ok := md.Schema.Column(md.Schema.ColumnIndexByName("price")).LogicalType().(*schema.DecimalLogicalType)
			assert.True(t, ok, "decimals stay decimal")
		})
	}
}

func TestParquetRowGroups(t *testing.T) {
	mem := checkedMem(t)
	rec := deltaRecord(t, mem, 10)
	defer rec.Release()

	// By rows: 4 writes of 10 rows, 15 rows per group.
	data := encodeAll(t, rec.Schema(), Options{Format: Parquet, RowGroupRows: 15, Allocator: mem}, rec, rec, rec, rec)
	rdr, got := readParquet(t, mem, data)
	defer got.Release()
	var sizes []int64
	for i := 0; i < rdr.NumRowGroups(); i++ {
		sizes = append(sizes, rdr.MetaData().RowGroup(i).NumRows())
	}
	assert.Equal(t, []int64{15, 15, 10}, sizes)
	want := concatRecords(t, mem, rec, rec, rec, rec)
	defer want.Release()
	assert.True(t, array.RecordEqual(want, got))

	// By bytes: one large write is checked every parquetChunkRows rows. Small chunks and
	// pages keep the test fast; the logic is the same as with the defaults.
	defer func(c, p int64) { parquetChunkRows, parquetPageSize = c, p }(parquetChunkRows, parquetPageSize)
	parquetChunkRows, parquetPageSize = 1000, 8<<10
	big := deltaRecord(t, mem, 10*1000+5)
	defer big.Release()
	data = encodeAll(t, big.Schema(), Options{Format: Parquet, Compression: None, RowGroupBytes: 100 << 10, Allocator: mem}, big)
	rdr, got2 := readParquet(t, mem, data)
	defer got2.Release()
	sizes = sizes[:0]
	for i := 0; i < rdr.NumRowGroups(); i++ {
		sizes = append(sizes, rdr.MetaData().RowGroup(i).NumRows())
	}
	t.Logf("row groups: %v", sizes)
	assert.True(t, array.RecordEqual(big, got2))
	// The size is checked between chunks and counts the pages flushed so far, so the split
	// points are approximate; they fall on chunk boundaries.
	require.Greater(t, len(sizes), 2, "row groups split by size: %v", sizes)
	for _, n := range sizes[:len(sizes)-1] {
		assert.Zero(t, n%1000, "row groups end on a chunk boundary: %v", sizes)
	}
	for i := 0; i < rdr.NumRowGroups()-1; i++ {
		size := rdr.MetaData().RowGroup(i).TotalByteSize()
		assert.Less(t, size, int64(400<<10), "row group %d is near the target size: %d bytes", i, size)
	}
	data = encodeAll(t, big.Schema(), Options{Format: Parquet, Compression: None, Allocator: mem}, big)
	rdr, got3 := readParquet(t, mem, data)
	defer got3.Release()
	assert.Equal(t, 1, rdr.NumRowGroups(), "the defaults keep this file in one row group")
}

func TestParquetZeroRecords(t *testing.T) {
	mem := checkedMem(t)
	data := encodeAll(t, deltaSchema(), Options{Format: Parquet, Allocator: mem})
	rdr, got := readParquet(t, mem, data)
	defer got.Release()
	assert.Equal(t, 0, rdr.NumRowGroups())
	assert.Equal(t, int64(0), got.NumRows())
	assertSameSchema(t, deltaSchema(), got.Schema())
}

func TestParquetTimestampUnits(t *testing.T) {
	mem := checkedMem(t)
	s := arrow.NewSchema([]arrow.Field{
		{Name: "s", Type: tsUTC(arrow.Second)},
		{Name: "ms", Type: &arrow.TimestampType{Unit: arrow.Millisecond}},
		{Name: "ns", Type: tsUTC(arrow.Nanosecond)},
	}, nil)
	b := array.NewRecordBuilder(mem, s)
	defer b.Release()
	b.Field(0).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{1, -1}, nil)
	b.Field(1).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{1, -1}, nil)
	b.Field(2).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{1000, -2000}, nil)
	rec := b.NewRecord()
	defer rec.Release()
	data := encodeAll(t, s, Options{Format: Parquet, Allocator: mem}, rec)
	rdr, got := readParquet(t, mem, data)
	defer got.Release()
	for i, utc := range []bool{true, false, true} {
		lt := rdr.MetaData().Schema.Column(i).LogicalType().(*schema.TimestampLogicalType)
		assert.Equal(t, schema.TimeUnitMicros, lt.TimeUnit(), "column %d stored as micros", i)
		assert.Equal(t, utc, lt.IsAdjustedToUTC(), "column %d", i)
	}
	// Whatever unit the reader gives back, the instants are the same.
	for i := 0; i < 3; i++ {
		want := rec.Column(i).(*array.Timestamp)
		gotc := got.Column(i).(*array.Timestamp)
		wu := want.DataType().(*arrow.TimestampType).Unit
		gu := gotc.DataType().(*arrow.TimestampType).Unit
		for r := 0; r < want.Len(); r++ {
			assert.Equal(t, want.Value(r).ToTime(wu), gotc.Value(r).ToTime(gu), "column %d row %d", i, r)
		}
	}

	// A nanosecond value that is not a whole microsecond is refused, not truncated.
	nsOnly := arrow.NewSchema([]arrow.Field{{Name: "ns", Type: tsUTC(arrow.Nanosecond)}}, nil)
	nb := array.NewTimestampBuilder(mem, nsOnly.Field(0).Type.(*arrow.TimestampType))
	defer nb.Release()
	nb.Append(1001)
	arr := nb.NewArray()
	defer arr.Release()
	nrec := array.NewRecord(nsOnly, []arrow.Array{arr}, 1)
	defer nrec.Release()
	enc, err := New(io.Discard, nsOnly, Options{Format: Parquet, Allocator: mem})
	require.NoError(t, err)
	err = enc.Write(nrec)
	if err == nil {
		err = enc.Close()
	}
	require.Error(t, err)
	assert.Contains(t, err.Error(), "lose data")
	_ = enc.Close()
}

func TestParquetDoesNotCloseWriter(t *testing.T) {
	mem := checkedMem(t)
	rec := deltaRecord(t, mem, 5)
	defer rec.Release()
	var buf bytes.Buffer
	w := &closeRecorder{Writer: &buf}
	enc, err := New(w, rec.Schema(), Options{Format: Parquet, Allocator: mem})
	require.NoError(t, err)
	require.NoError(t, enc.Write(rec))
	require.NoError(t, enc.Close())
	assert.False(t, w.closed)
	assert.True(t, bytes.HasPrefix(buf.Bytes(), []byte("PAR1")) && bytes.HasSuffix(buf.Bytes(), []byte("PAR1")))
}

// TestParquetDictionaryFallback checks the dictionary policy: a column of few distinct values
// keeps its dictionary, a column of distinct values falls back to plain encoding once the
// dictionary passes parquetDictLimit (instead of hashing every value of the row group).
func TestParquetDictionaryFallback(t *testing.T) {
	t.Parallel()
	mem := checkedMem(t)
	const n = 100_000 // 800 KB of distinct longs: past the 128 KiB limit, under parquet's 1 MiB default
	sch := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "category", Type: arrow.BinaryTypes.String},
		{Name: "serial", Type: arrow.PrimitiveTypes.Int64},
		{Name: "note", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, sch)
	defer b.Release()
	cats := []string{"books", "music", "garden", "toys"}
	for i := range n {
		// id repeats 100 values over the sampled rows (so it starts with a dictionary), then
		// is distinct; serial is distinct from the start.
		id := int64(i) * 7919
		if int64(i) < parquetSampleRows {
			id = int64(i % 100)
		}
		b.Field(0).(*array.Int64Builder).Append(id)
		b.Field(1).(*array.StringBuilder).Append(cats[i%len(cats)])
		b.Field(2).(*array.Int64Builder).Append(int64(i))
		// distinct strings, mostly null: their dictionary would outgrow its limit
		if i%10 == 0 {
			b.Field(3).(*array.StringBuilder).Append(fmt.Sprintf("note #%d", i))
		} else {
			b.Field(3).AppendNull()
		}
	}
	rec := b.NewRecord()
	defer rec.Release()
	data := encodeAll(t, sch, Options{Format: Parquet, Allocator: mem}, rec)
	rdr, got := readParquet(t, mem, data)
	defer got.Release()
	assert.True(t, array.RecordEqual(rec, got))
	require.Equal(t, 1, rdr.NumRowGroups())
	rg := rdr.MetaData().RowGroup(0)
	// plainDataPages reports whether a column chunk has data pages (not the dictionary page,
	// page type 2) in PLAIN encoding: the pages written after a dictionary fallback.
	plainDataPages := func(col int) bool {
		cc, err := rg.ColumnChunk(col)
		require.NoError(t, err)
		require.True(t, cc.HasDictionaryPage(), "column %d starts dictionary-encoded", col)
		for _, st := range cc.EncodingStats() {
			if int(st.PageType) != 2 && st.Encoding == parquet.Encodings.Plain {
				return true
			}
		}
		return false
	}
	assert.True(t, plainDataPages(0), "the distinct longs fall back to plain encoding")
	assert.False(t, plainDataPages(1), "the four categories keep their dictionary")
	cc, err := rg.ColumnChunk(2)
	require.NoError(t, err)
	assert.False(t, cc.HasDictionaryPage(), "longs distinct from the first rows are written plain, without a dictionary")
	cc, err = rg.ColumnChunk(3)
	require.NoError(t, err)
	assert.False(t, cc.HasDictionaryPage(), "strings distinct from the first rows are written plain, without a dictionary")
}

// distinctLongs is a table of cols nullable long columns c0000... of rows distinct values, in
// records of batch rows (released when the test ends).
func distinctLongs(t *testing.T, mem memory.Allocator, cols, rows, batch int) (*arrow.Schema, []arrow.Record) {
	fields := make([]arrow.Field, cols)
	for i := range fields {
		fields[i] = arrow.Field{Name: fmt.Sprintf("c%04d", i), Type: arrow.PrimitiveTypes.Int64, Nullable: true}
	}
	sch := arrow.NewSchema(fields, nil)
	var recs []arrow.Record
	for lo := 0; lo < rows; lo += batch {
		b := array.NewRecordBuilder(mem, sch)
		for c := range cols {
			for r := lo; r < lo+batch; r++ {
				b.Field(c).(*array.Int64Builder).Append(int64(r*cols + c))
			}
		}
		recs = append(recs, b.NewRecord())
		b.Release()
	}
	t.Cleanup(func() {
		for _, r := range recs {
			r.Release()
		}
	})
	return sch, recs
}

// Row groups of many columns, each below a page's worth of values, end by bytes too: the
// values the column writers hold in unfinished pages count (they were not counted, and a
// 1,000-column table became one row group of all its rows, every page built at its close).
func TestParquetRowGroupBytesCountUnfinishedPages(t *testing.T) {
	t.Parallel()
	mem := checkedMem(t)
	const cols, rows, batch = 200, 2000, 100
	sch, recs := distinctLongs(t, mem, cols, rows, batch)
	// 3.2 MB of longs, 16 KB a column: no column fills a page.
	data := encodeAll(t, sch, Options{Format: Parquet, Allocator: mem, Compression: None, RowGroupBytes: 256 << 10}, recs...)
	rdr, got := readParquet(t, mem, data)
	defer got.Release()
	assert.Equal(t, int64(rows), got.NumRows())
	assert.GreaterOrEqual(t, rdr.NumRowGroups(), 8, "row groups of about 256 KiB")
}

// Wide schemas get smaller row groups by default: the column writers' buffers of a row group
// grow with the columns, so the default byte size falls with them (never below 4 MiB).
func TestParquetWideRowGroupBytes(t *testing.T) {
	assert.Equal(t, DefaultRowGroupBytes, defaultRowGroupBytes(10))
	assert.Equal(t, DefaultRowGroupBytes, defaultRowGroupBytes(wideColumns))
	assert.Equal(t, DefaultRowGroupBytes/4, defaultRowGroupBytes(4*wideColumns))
	assert.Equal(t, int64(4<<20), defaultRowGroupBytes(100_000))

	t.Parallel()
	mem := checkedMem(t)
	const cols, rows, batch = 1024, 1500, 100
	sch, recs := distinctLongs(t, mem, cols, rows, batch)
	// 12.3 MB of distinct longs: one row group at DefaultRowGroupBytes, two at a quarter of it.
	data := encodeAll(t, sch, Options{Format: Parquet, Allocator: mem, Compression: None}, recs...)
	rdr, got := readParquet(t, mem, data)
	defer got.Release()
	assert.Equal(t, int64(rows), got.NumRows())
	assert.GreaterOrEqual(t, rdr.NumRowGroups(), 2, "row groups of about 8 MiB")
}
