package formats

import (
	"bytes"
	"io"
	"runtime"
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

// The parallel text tests lower the thresholds of the parallel path to a 32nd of the defaults
// (8192 and 4096 rows): the code paths are the same (sequential below minRows, a worker per
// perWorker rows above, workers' buffers queued after what the sink holds or handed to the
// writer goroutine, flushes of 256 KiB), on records of hundreds of rows instead of tens of
// thousands, which the race detector formats in a fraction of the time. TestTextWorkerCount
// checks the default thresholds.
const (
	minRows   = 256 // parallelMinRows in the parallel tests
	perWorker = 128 // rowsPerWorker in the parallel tests
)

// withSmallThresholds sets parallelMinRows and rowsPerWorker to minRows and perWorker for the
// rest of the test.
func withSmallThresholds(t *testing.T) {
	m, w := parallelMinRows, rowsPerWorker
	parallelMinRows, rowsPerWorker = minRows, perWorker
	t.Cleanup(func() { parallelMinRows, rowsPerWorker = m, w })
}

// TestTextWorkerCount checks how many goroutines format a record at the default thresholds:
// none below 8192 rows, then one per 4096 rows up to maxFormatWorkers (GOMAXPROCS when 0).
func TestTextWorkerCount(t *testing.T) {
	require.Equal(t, 8192, parallelMinRows)
	require.Equal(t, 4096, rowsPerWorker)
	var p textWorkers
	withWorkers(t, 3)
	for _, c := range []struct{ rows, want int }{
		{0, 1}, {1, 1}, {4096, 1}, {8191, 1}, {8192, 2}, {12287, 2}, {12288, 3}, {1 << 20, 3},
	} {
		assert.Equal(t, c.want, p.count(c.rows), "%d rows, at most 3 workers", c.rows)
	}
	maxFormatWorkers = 1
	assert.Equal(t, 1, p.count(1<<20), "one worker: the sequential path")
	maxFormatWorkers = 0
	procs := runtime.GOMAXPROCS(0)
	assert.Equal(t, min(procs, 2), p.count(8192), "GOMAXPROCS workers at most")
	assert.Equal(t, procs, p.count(procs*4096), "GOMAXPROCS workers")
}

// TestTextParallelIdentical formats large records of every type on several goroutines and
// checks the output is byte for byte the one of the sequential path, whatever the record sizes
// (below, at and above the parallel threshold), the number of workers (including more than
// there are cores, and ranges that do not divide evenly) and the text format.
func TestTextParallelIdentical(t *testing.T) {
	withWorkers(t, 0) // restored when the test ends
	withSmallThresholds(t)
	mem := checkedMem(t)
	small := allTypesRecord(t, mem)
	defer small.Release()
	allTypes := repeatRecord(t, mem, small, 5*minRows) // 5 * 2^8 = 1280 rows
	defer allTypes.Release()
	// Over 256 KiB of text in every format: the sink's writer goroutine runs.
	wide := wideRecord(t, mem, 0, 4*minRows+76, true)
	defer wide.Release()

	// The options of the golden files, and JSON with NaN as a string.
	opts := append(goldenCases[:len(goldenCases):len(goldenCases)], struct {
		file string
		opts Options
	}{"alltypes_nanstring.json", Options{Format: JSON, NaN: NaNString}})
	cases := []struct {
		name  string
		rec   arrow.Record
		sizes []int64
		opts  []int // indexes in opts; nil for all
	}{
		// Below, at and above the threshold; a first record of one row (the JSON array's
		// opening bracket is on the sequential path) and of many (on the parallel path, with 3
		// workers when maxFormatWorkers allows, on rows not divisible by 3).
		{"alltypes", allTypes, []int64{1, minRows - 1, minRows, 3, allTypes.NumRows() - 2*minRows - 3}, []int{0, 3, 5}},
		{"alltypes_first_large", allTypes, []int64{3*perWorker + 64, 1, minRows + 1}, []int{1, 2, 4, 6}},
		// Many distinct dates and timestamps: the workers' day caches start cold.
		{"wide", wide, []int64{wide.NumRows()}, []int{0, 3}},
	}
	for _, c := range cases {
		parts := slices(c.rec, c.sizes...)
		for i, o := range opts {
			if c.opts != nil && !containsInt(c.opts, i) {
				continue
			}
			t.Run(c.name+"/"+o.file, func(t *testing.T) {
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
	withSmallThresholds(t)
	mem := checkedMem(t)
	wide := wideRecord(t, mem, 0, 5*minRows, false)
	defer wide.Release()
	parts := slices(wide, minRows-1, 4*minRows+1) // sequential, then parallel
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
	withSmallThresholds(t)
	mem := checkedMem(t)
	wide := wideRecord(t, mem, 0, 5*minRows, false) // over 256 KiB of text per Write
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
