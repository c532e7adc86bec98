package formats

import (
	"bytes"
	"io"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// repeatRecord returns rec repeated until it has at least n rows (by doubling).
func repeatRecord(t testing.TB, mem memory.Allocator, rec arrow.Record, n int64) arrow.Record {
	t.Helper()
	rec.Retain()
	for rec.NumRows() < n {
		cols := make([]arrow.Array, rec.NumCols())
		for i := range cols {
			c, err := array.Concatenate([]arrow.Array{rec.Column(i), rec.Column(i)}, mem)
			require.NoError(t, err)
			cols[i] = c
		}
		next := array.NewRecord(rec.Schema(), cols, 2*rec.NumRows())
		for _, c := range cols {
			c.Release()
		}
		rec.Release()
		rec = next
	}
	return rec
}

// withWorkers sets maxFormatWorkers for the rest of the test.
func withWorkers(t *testing.T, k int) {
	old := maxFormatWorkers
	maxFormatWorkers = k
	t.Cleanup(func() { maxFormatWorkers = old })
}

// TestTextParallelIdentical formats large records of every type on several goroutines and
// checks the output is byte for byte the one of the sequential path, whatever the record sizes
// (below, at and above the parallel threshold), the number of workers (including more than
// there are cores, and ranges that do not divide evenly) and the text format.
func TestTextParallelIdentical(t *testing.T) {
	withWorkers(t, 0) // restored when the test ends
	mem := checkedMem(t)
	small := allTypesRecord(t, mem)
	defer small.Release()
	allTypes := repeatRecord(t, mem, small, 20_000) // 5 * 2^12 = 20480 rows
	defer allTypes.Release()
	wide := wideRecord(t, mem, 0, 9_000, true)
	defer wide.Release()

	opts := []struct {
		name string
		opts Options
	}{
		{"csv", Options{Format: CSV}},
		{"csv_tab_crlf_null", Options{Format: CSV, Delimiter: '\t', CRLF: true, Null: "NULL"}},
		{"csv_colon_noheader_nan", Options{Format: CSV, Delimiter: ':', NoHeader: true, Null: "NaN"}},
		{"ndjson", Options{Format: NDJSON}},
		{"ndjson_nanstring", Options{Format: NDJSON, NaN: NaNString}},
		{"json", Options{Format: JSON}},
		{"json_nanstring", Options{Format: JSON, NaN: NaNString}},
	}
	cases := []struct {
		name  string
		rec   arrow.Record
		sizes []int64
		opts  []int // indexes in opts; nil for all
	}{
		// Below, at and above the threshold; a first record of one row (the JSON array's
		// opening bracket is on the sequential path) and of many (on the parallel path).
		{"alltypes", allTypes, []int64{1, 8191, 8192, 3, allTypes.NumRows() - 16_387}, []int{0, 3, 5}},
		{"alltypes_first_large", allTypes, []int64{12_000, 1, 8193}, []int{1, 2, 4, 6}},
		// Many distinct dates and timestamps: the workers' day caches start cold.
		{"wide", wide, []int64{wide.NumRows()}, []int{0, 3}},
	}
	for _, c := range cases {
		parts := slices(c.rec, c.sizes...)
		for i, o := range opts {
			if c.opts != nil && !containsInt(c.opts, i) {
				continue
			}
			t.Run(c.name+"/"+o.name, func(t *testing.T) {
				maxFormatWorkers = 1
				want := encodeAll(t, c.rec.Schema(), o.opts, parts...)
				for _, k := range []int{0, 3} {
					maxFormatWorkers = k
					got := encodeAll(t, c.rec.Schema(), o.opts, parts...)
					if !bytes.Equal(want, got) { // not assert.Equal: the outputs are megabytes
						t.Errorf("%d workers: parallel output (%d bytes) differs from sequential (%d bytes) at byte %d",
							k, len(got), len(want), firstDiff(want, got))
					}
				}
			})
		}
		for _, p := range parts {
			p.Release()
		}
	}
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestTextParallelCompressed checks that compressed output of the parallel path decompresses to
// the sequential text.
func TestTextParallelCompressed(t *testing.T) {
	mem := checkedMem(t)
	wide := wideRecord(t, mem, 0, 20_000, false)
	defer wide.Release()
	parts := slices(wide, 5_000, 15_000)
	defer func() {
		for _, p := range parts {
			p.Release()
		}
	}()
	withWorkers(t, 1)
	want := encodeAll(t, wide.Schema(), Options{Format: NDJSON}, parts...)
	maxFormatWorkers = 2
	z := encodeAll(t, wide.Schema(), Options{Format: NDJSON, Compression: Zstd}, parts...)
	zr, err := zstd.NewReader(bytes.NewReader(z))
	require.NoError(t, err)
	defer zr.Close()
	got, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(want, got), "decompressed parallel output differs from the sequential text")
}

// TestTextParallelWriteError checks that an output failure on the parallel path is returned
// (output is written by a goroutine of its own: by a later Write at the latest, or by Close)
// and sticks.
func TestTextParallelWriteError(t *testing.T) {
	mem := checkedMem(t)
	wide := wideRecord(t, mem, 0, 20_000, false)
	defer wide.Release()
	withWorkers(t, 2)
	for _, f := range []Format{CSV, NDJSON, JSON} {
		enc, err := New(&failWriter{}, wide.Schema(), Options{Format: f})
		require.NoError(t, err)
		for i := 0; i < 5 && err == nil; i++ {
			err = enc.Write(wide)
		}
		require.Error(t, err, f)
		assert.Contains(t, err.Error(), "write output")
		assert.Equal(t, err, enc.Write(wide), f)
		assert.Equal(t, err, enc.Close(), f)
	}
}
