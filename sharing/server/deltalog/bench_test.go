package deltalog

import (
	"context"
	"testing"
)

func benchSnapshot(b *testing.B, table string, cached bool) {
	ctx := context.Background()
	dir := realTables(b)[table]
	tbl := mustOpen(b, dir)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !cached {
			tbl = mustOpen(b, dir)
		}
		s, err := tbl.Snapshot(ctx, -1)
		if err != nil || len(s.Files) == 0 {
			b.Fatal(err)
		}
	}
}

// A fresh Table per iteration: full log replay (and timestamps).
func BenchmarkSnapshotCOVID19NYT(b *testing.B) { benchSnapshot(b, "delta-rs/COVID-19_NYT", false) }
func BenchmarkSnapshotV2CheckpointTable(b *testing.B) {
	benchSnapshot(b, "delta-rs/checkpoint-v2-table", false)
}
func BenchmarkSnapshotClassicCheckpoint(b *testing.B) {
	benchSnapshot(b, "delta-rs/table_with_deletion_logs", false)
}

// The same Table: a re-list of the log and the cached snapshot.
func BenchmarkSnapshotCachedClassicCheckpoint(b *testing.B) {
	benchSnapshot(b, "delta-rs/table_with_deletion_logs", true)
}
