package export

import (
	"context"
	"sync"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/deltashare/deltashare/formats"
)

const benchRows = 1 << 20

var (
	benchOnce sync.Once
	benchRecs []arrow.Record
)

// benchRecords returns 1M rows in 16 records, built once.
func benchRecords(b *testing.B) []arrow.Record {
	benchOnce.Do(func() {
		sizes := make([]int, 16)
		for i := range sizes {
			sizes[i] = benchRows / 16
		}
		benchRecs = makeRecords(b, memory.DefaultAllocator, 0, sizes, nil)
	})
	return benchRecs
}

// BenchmarkRun exports 1M rows from memory to a local directory; rows/s is the figure to watch.
func BenchmarkRun(b *testing.B) {
	recs := benchRecords(b)
	cases := []struct {
		name string
		opts Options
	}{
		{"csv", Options{Format: formats.Options{Format: formats.CSV}}},
		{"ndjson", Options{Format: formats.Options{Format: formats.NDJSON}}},
		{"parquet", Options{Format: formats.Options{Format: formats.Parquet}}},
		{"csv/partitioned-interleaved", Options{Format: formats.Options{Format: formats.CSV}, PartitionBy: []string{"region"}}},
		{"csv/max-rows-100k", Options{Format: formats.Options{Format: formats.CSV}, MaxRowsPerFile: 100_000}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var bytes int64
			b.ResetTimer()
			for range b.N {
				sum, err := Run(context.Background(), newSource(recs), NewLocalSink(b.TempDir()), c.opts)
				if err != nil {
					b.Fatal(err)
				}
				bytes = sum.Bytes
			}
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(benchRows)*float64(b.N)/secs, "rows/s")
			b.ReportMetric(float64(bytes)*float64(b.N)/secs/(1<<20), "MB/s")
		})
	}
}
