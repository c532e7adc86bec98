package formats

import (
	"bytes"
	"fmt"
	"math"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParquetFloatsWithNulls: floating-point columns with nulls are written as their valid
// values (not with gaps, as pqarrow does): the file must be pqarrow's byte for byte, page
// statistics included, with NaN, infinities and signed zeros among the values, a slice with
// an offset, and pages and batches that end between nulls.
func TestParquetFloatsWithNulls(t *testing.T) {
	smallDictionaryLimits(t)
	mem := checkedMem(t)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "f64", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "f32", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "f64few", Type: arrow.PrimitiveTypes.Float64, Nullable: true}, // dictionary-encoded
		{Name: "f64all", Type: arrow.PrimitiveTypes.Float64, Nullable: true}, // only nulls
		{Name: "f64req", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	const n = 5000
	special := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1)}
	for r := range n {
		v := float64(r)*1.5 - 2000
		if r%97 == 0 {
			v = special[(r/97)%len(special)]
		}
		if r%7 == 3 || (r >= 1000 && r < 1400) {
			b.Field(0).AppendNull()
			b.Field(1).AppendNull()
		} else {
			b.Field(0).(*array.Float64Builder).Append(v)
			b.Field(1).(*array.Float32Builder).Append(float32(v))
		}
		if r%5 == 1 {
			b.Field(2).AppendNull()
		} else {
			b.Field(2).(*array.Float64Builder).Append(float64(r % 9))
		}
		b.Field(3).AppendNull()
		b.Field(4).(*array.Float64Builder).Append(v)
	}
	whole := b.NewRecord()
	defer whole.Release()
	rdr, seq := roundTripInTwoParts(t, mem, schema, whole)
	assertSameChunks(t, mem, seq, rdr, true)

	// The same pages as pqarrow's: compare the files' column chunks byte for byte.
	sr, err := file.NewParquetReader(bytes.NewReader(seq))
	require.NoError(t, err)
	defer sr.Close()
	for g := range rdr.NumRowGroups() {
		for c := range schema.NumFields() {
			want := chunkPages(t, sr, g, c)
			got := chunkPages(t, rdr, g, c)
			assert.Equal(t, want, got, "pages of column %d in group %d", c, g)
		}
	}
}

// chunkPages describes the pages of a column chunk: type, encoding, values and statistics,
// and the page's bytes.
func chunkPages(t *testing.T, r *file.Reader, g, c int) []string {
	t.Helper()
	pr, err := r.RowGroup(g).GetColumnPageReader(c)
	require.NoError(t, err)
	var out []string
	for pr.Next() {
		p := pr.Page()
		desc := fmt.Sprintf("%v %v %d values %x", p.Type(), p.Encoding(), p.NumValues(), p.Data())
		if dp, ok := p.(file.DataPage); ok {
			st := dp.Statistics()
			desc += fmt.Sprintf(" nulls %d min %x max %x", st.NullCount, st.Min, st.Max)
		}
		out = append(out, desc)
	}
	require.NoError(t, pr.Err())
	return out
}

// TestParquetStringDictionaryAcrossGroups: a string column's known values outlive the row
// group while they recur, and are dropped when they stop recurring. Every row group must hold
// the pages that the same rows written alone (with a fresh dictionary) make, byte for byte: a
// vocabulary that recurs in every group, one that drifts (new values in every group), one that
// is replaced halfway, and one that outgrows the dictionary in some groups only.
func TestParquetStringDictionaryAcrossGroups(t *testing.T) {
	smallDictionaryLimits(t)
	mem := checkedMem(t)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "recurring", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "drifting", Type: arrow.BinaryTypes.String},
		{Name: "replaced", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "sometimes", Type: arrow.BinaryTypes.String},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	const n, group = 12000, 2000
	for r := range n {
		if r%13 == 4 {
			b.Field(0).AppendNull()
		} else {
			b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("word-%d", (r*31)%40))
		}
		b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("d%05d", r/20))
		if r%17 == 0 {
			b.Field(2).AppendNull()
		} else {
			b.Field(2).(*array.BinaryBuilder).Append([]byte(fmt.Sprintf("%d:%d", r*2/n, r%25)))
		}
		// groups 1 and 4 have 500 distinct values of 8 bytes: more than the 2 KiB dictionary
		v := fmt.Sprintf("s%03d", r%30)
		if g := r / group; g == 1 || g == 4 {
			v = fmt.Sprintf("many%04d", r%500)
		}
		b.Field(3).(*array.StringBuilder).Append(v)
	}
	whole := b.NewRecord()
	defer whole.Release()
	// Parts of whole row chunks (500 rows): the chunks of a group are those of the group alone.
	parts := []arrow.Record{whole.NewSlice(0, 2500), whole.NewSlice(2500, 9000), whole.NewSlice(9000, n)}
	defer func() {
		for _, p := range parts {
			p.Release()
		}
	}()
	opts := Options{Format: Parquet, Allocator: mem, RowGroupRows: group}
	data := encodeAll(t, schema, opts, parts...)
	rdr, got := readParquet(t, mem, data)
	defer got.Release()
	assert.True(t, array.RecordEqual(whole, got), "records equal")
	require.Equal(t, n/group, rdr.NumRowGroups())
	assertPageStats(t, rdr, whole)
	for g := range rdr.NumRowGroups() {
		alone := whole.NewSlice(int64(g*group), int64((g+1)*group))
		one, err := file.NewParquetReader(bytes.NewReader(encodeAll(t, schema, opts, alone)))
		alone.Release()
		require.NoError(t, err)
		require.Equal(t, 1, one.NumRowGroups())
		for c := range schema.NumFields() {
			assert.Equal(t, chunkPages(t, one, 0, c), chunkPages(t, rdr, g, c), "pages of column %d in group %d", c, g)
		}
		require.NoError(t, one.Close())
	}
	parquetColumnParallel = false
	seq := encodeAll(t, schema, opts, parts...)
	parquetColumnParallel = true
	assertSameChunks(t, mem, seq, rdr, true)
}

// TestStringDictKeepsRecurringValues: the known values stay from row group to row group while
// most of them recur (no value hashed into the table twice), and are dropped once most of them
// stop recurring; each group's dictionary is its own values in first-seen order either way.
func TestStringDictKeepsRecurringValues(t *testing.T) {
	d := newStringDict(arrow.BinaryTypes.String)
	group := func(values ...string) []string {
		for _, v := range values {
			require.True(t, d.addString(v))
		}
		dict := d.dictionary()
		defer dict.Release()
		// The known values in byte order, kept up to date by merging in the new ones.
		d.sort()
		require.Len(t, d.sorted, len(d.hashes))
		for r, k := range d.sorted {
			require.Equal(t, int32(r), d.rank[k])
			if r > 0 {
				require.Less(t, string(d.value(d.sorted[r-1])), string(d.value(k)))
			}
		}
		var out []string
		for j := range dict.Len() {
			out = append(out, dict.(*array.String).Value(j))
		}
		d.idx = d.idx[:0]
		d.reset()
		return out
	}
	assert.Equal(t, []string{"a", "b", "c"}, group("a", "b", "a", "c"))
	assert.Equal(t, []string{"c", "a", "b"}, group("c", "a", "c", "b"))
	assert.Equal(t, 3, len(d.hashes), "known values kept")
	assert.Equal(t, []string{"b", "d"}, group("b", "d", "b"))
	assert.Equal(t, 4, len(d.hashes), "half of the known values recurred: kept")
	assert.Equal(t, []string{"e"}, group("e"))
	assert.Equal(t, 0, len(d.hashes), "most known values did not recur: dropped")
	assert.Equal(t, []string{"a", "e"}, group("a", "e"))
	// Many values grow the table; every one is found again.
	var many []string
	for j := range 1000 {
		many = append(many, fmt.Sprintf("v%d", j))
	}
	assert.Equal(t, many, group(many...))
	assert.Equal(t, many, group(many...))
	assert.Equal(t, 1002, len(d.hashes), "a and e, then the many values")
}

// TestParquetColumnsClosedInOrder: closing a row group's columns as they are finished, while
// other columns are still being finished, writes the same file whatever the number of
// workers (one: each column finished and closed in turn) and however many columns may wait to
// be closed.
func TestParquetColumnsClosedInOrder(t *testing.T) {
	defer func(c, p int64, w, cw int) {
		parquetChunkRows, parquetPageSize, parquetWorkers, parquetCloseWindow = c, p, w, cw
	}(parquetChunkRows, parquetPageSize, parquetWorkers, parquetCloseWindow)
	parquetChunkRows, parquetPageSize = 300, 4<<10
	mem := checkedMem(t)
	whole := wideRecord(t, mem, 0, 3000, false)
	defer whole.Release()
	parts := []arrow.Record{whole.NewSlice(0, 1000), whole.NewSlice(1000, 1001), whole.NewSlice(1001, 3000)}
	defer func() {
		for _, p := range parts {
			p.Release()
		}
	}()
	opts := Options{Format: Parquet, Allocator: mem, RowGroupRows: 700, Compression: Zstd}
	var want []byte
	for _, workers := range []int{1, 2, 3, 8} {
		for _, window := range []int{1, 5, 100} {
			parquetWorkers, parquetCloseWindow = workers, window
			data := encodeAll(t, whole.Schema(), opts, parts...)
			if want == nil {
				want = data
				rdr, got := readParquet(t, mem, data)
				assert.True(t, array.RecordEqual(whole, got), "records equal")
				assert.Equal(t, 5, rdr.NumRowGroups())
				got.Release()
				continue
			}
			assert.Equal(t, want, data, "%d workers, %d columns waiting at most", workers, window)
		}
	}
}

// TestParquetWriteErrorClosingGroup: a write error while the columns of a row group are being
// closed (and others finished) is returned, by that call and the later ones, without a panic
// or a stuck worker. (The column writers of the failed row group are dropped with what they
// allocated: the encoder's allocator is not a checked one.)
func TestParquetWriteErrorClosingGroup(t *testing.T) {
	sch, recs := distinctLongs(t, checkedMem(t), 200, 4000, 500)
	for _, fails := range []int{0, 1, 2} {
		enc, err := New(&failWriter{n: fails}, sch, Options{Format: Parquet, Allocator: memory.NewGoAllocator(), Compression: None, RowGroupBytes: 512 << 10})
		require.NoError(t, err)
		for _, r := range recs {
			if err = enc.Write(r); err != nil {
				break
			}
		}
		if err == nil {
			err = enc.Close()
		} else {
			assert.ErrorContains(t, enc.Write(recs[0]), "disk full", "later writes fail too")
			assert.ErrorContains(t, enc.Close(), "disk full")
		}
		assert.ErrorContains(t, err, "disk full", "after %d writes", fails)
	}
}

// TestStringDictNoAllocationPerValue: collecting string and binary values of a known vocabulary
// allocates nothing per value once the scratch has grown (a Go map with a copy of every value
// did): at most a couple of allocations a call.
func TestStringDictNoAllocationPerValue(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation count")
	}
	mem := checkedMem(t)
	for _, dt := range []arrow.DataType{arrow.BinaryTypes.String, arrow.BinaryTypes.Binary} {
		b := array.NewBuilder(mem, dt)
		for r := range 2000 {
			if r%9 == 0 {
				b.AppendNull()
				continue
			}
			b.(interface{ AppendString(string) }).AppendString(fmt.Sprintf("value-%d", r%300))
		}
		arr := b.NewArray()
		b.Release()
		d := newStringDict(dt)
		run := func() {
			require.Equal(t, arr.Len(), d.collect(arr, 0, arr.Len(), false))
			d.idx, d.def, d.nulls = d.idx[:0], d.def[:0], 0
			d.reset()
		}
		run()
		assert.LessOrEqual(t, testing.AllocsPerRun(5, run), 2.0, "allocations per 2,000 %s values", dt)
		arr.Release()
	}
}
