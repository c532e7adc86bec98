package reader

import (
	"context"
	"testing"

	"github.com/deltashare/deltashare/internal/sharedtest"
	"github.com/deltashare/deltashare/internal/sharingtest"
	"github.com/deltashare/deltashare/sharing/protocol"
)

// BenchmarkReadCOVID reads delta-rs COVID-19_NYT (1.1M rows) through our server on
// loopback and reports rows/s.
func BenchmarkReadCOVID(b *testing.B) {
	dir := sharedtest.Path(b, "delta", "delta-rs", "COVID-19_NYT")
	env := startServer(b, sharingtest.Options{Tables: map[string]string{"covid": dir}})
	c := client(b, env)
	for _, p := range []int{1, 4} {
		b.Run("parallel"+string(rune('0'+p)), func(b *testing.B) {
			var rows, bytes int64
			for b.Loop() {
				r, err := Open(context.Background(), c, protocol.Table{Share: "s", Schema: "d", Name: "covid"}, ReadOptions{Parallel: p})
				if err != nil {
					b.Fatal(err)
				}
				for r.Next() {
				}
				if err := r.Err(); err != nil {
					b.Fatal(err)
				}
				n, by := r.Done()
				rows += n
				bytes += by
				r.Release()
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(bytes)/b.Elapsed().Seconds()/1e6, "MB/s")
		})
	}
}
