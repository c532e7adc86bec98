package demo

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/deltashare/deltashare/internal/heaptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGenerateBench(t *testing.T) {
	dir := t.TempDir()
	const rows, files = 100_000, 10
	require.NoError(t, GenerateBench(dir, rows, files))
	log := readLog(t, dir)
	require.Len(t, log, 1)
	st := BenchSchema()
	var total int64
	var adds int
	days := map[string]bool{}
	for i, a := range log[0] {
		if a.Add == nil {
			continue
		}
		adds++
		var stats struct {
			NumRecords int64            `json:"numRecords"`
			NullCount  map[string]int64 `json:"nullCount"`
		}
		require.NoError(t, json.Unmarshal([]byte(a.Add.Stats), &stats))
		total += stats.NumRecords
		days[a.Add.PartitionValues["day"]] = true
		assert.Contains(t, a.Add.Path, "day="+a.Add.PartitionValues["day"]+"/part-")
		if i == 3 { // the first add: check every value against the stats
			raw := rawLines(t, dir, 0)
			schema, got := fullRows(t, dir, a.Add.Path, st, raw[i]["add"]["partitionValues"].(map[string]any))
			assert.Equal(t, 10, schema.NumFields())
			require.Len(t, got, rows/files)
			checkStats(t, st, []string{"day"}, a.Add.Stats, got)
			for j, r := range got {
				assert.Equal(t, int64(j), r[0], "ids are consecutive")
			}
			assert.Positive(t, stats.NullCount["name"])
			assert.Positive(t, stats.NullCount["price"])
		}
	}
	assert.Equal(t, files, adds)
	assert.Equal(t, int64(rows), total)
	assert.Len(t, days, 8)

	// Parquet-go agrees on the row counts.
	var n int64
	for _, f := range tblFiles(t, dir) {
		pf, _ := readParquetGo(t, f)
		n += pf.NumRows()
	}
	assert.Equal(t, int64(rows), n)

	// Same seed, same table.
	again := t.TempDir()
	require.NoError(t, GenerateBench(again, rows, files))
	a, b := treeFiles(t, dir), treeFiles(t, again)
	require.Equal(t, len(a), len(b))
	for name, x := range a {
		assert.Equal(t, x, b[name], name)
	}
}

func tblFiles(t *testing.T, dir string) []string {
	var out []string
	for _, a := range readLog(t, dir)[0] {
		if a.Add != nil {
			out = append(out, localPath(t, dir, a.Add.Path))
		}
	}
	return out
}

func TestGenerateBenchBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 200k rows")
	}
	dir := t.TempDir()
	const rows, files, rowGroup = 200_000, 2, 10_000
	h, err := heaptest.Measure(func() error { return generateBench(dir, rows, files, rowGroup) })
	require.NoError(t, err)

	var size int64
	for _, f := range tblFiles(t, dir) {
		pf, _ := readParquetGo(t, f)
		assert.Len(t, pf.RowGroups(), rows/files/rowGroup, "rows are streamed in row groups")
		st, err := os.Stat(f)
		require.NoError(t, err)
		size += st.Size()
	}
	t.Logf("peak heap in use %d MB for %d rows (%d MB of Parquet)", h.Peak>>20, rows, size>>20)
	// The whole table as Go values would be far larger; two files in flight hold one row group
	// each plus page buffers.
	assert.Less(t, h.Peak, uint64(96<<20), "memory must not grow with the table")
}

func BenchmarkGenerateBench(b *testing.B) {
	const rows, files = 1_000_000, 8
	var bytes int64
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		if err := GenerateBench(dir, rows, files); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() {
				bytes += fi.Size()
			}
			return nil
		})
		os.RemoveAll(dir)
		b.StartTimer()
	}
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(rows)*float64(b.N)/secs, "rows/s")
	b.ReportMetric(float64(bytes)/secs/1e6, "MB/s")
}
