package deltalog

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every shared table opens and snapshots at the latest version and at every version that can
// be rebuilt; versions that cannot are refused with ErrVersionNotFound. Stats agree with the
// data files' footers.
func TestAllTablesSnapshot(t *testing.T) {
	ctx := context.Background()
	forEachRealTable(t, func(t *testing.T, name, _ string, tbl *Table, l *logListing) {
		latest, err := tbl.LatestVersion(ctx)
		require.NoError(t, err)
		snap, err := tbl.Snapshot(ctx, -1)
		require.NoError(t, err)
		assert.Equal(t, latest, snap.Version)
		again, err := tbl.Snapshot(ctx, latest)
		require.NoError(t, err)
		assert.Same(t, snap, again, "the latest snapshot is cached")

		for v := int64(0); v <= latest; v++ {
			s, err := tbl.Snapshot(ctx, v)
			if !l.recreatable(v) {
				require.Error(t, err, "version %d", v)
				assert.True(t, errors.Is(err, ErrVersionNotFound), "%v", err)
				assert.Contains(t, err.Error(), "earliest readable version")
				continue
			}
			require.NoError(t, err, "version %d", v)
			assert.Equal(t, v, s.Version)
			assert.False(t, s.Timestamp.IsZero())
			require.NotNil(t, s.Protocol)
			require.NotNil(t, s.Metadata)
			noData := name == "delta-rs/checkpoint_with_partitions" || name == "delta-rs/checkpoints_vacuumed"
			checkFiles(t, tbl, s, noData, v == latest)
		}
	})
}

// checkFiles checks order, uniqueness and, unless the table has no data files, that each
// file's numRecords matches its footer.
func checkFiles(t *testing.T, tbl *Table, s *Snapshot, noData, latest bool) {
	t.Helper()
	seen := map[string]bool{}
	for i, f := range s.Files {
		k := fileKey(f)
		assert.False(t, seen[k], "duplicate live file %s", k)
		seen[k] = true
		if i > 0 {
			prev := s.Files[i-1]
			assert.True(t, decodePath(prev.Path) < decodePath(f.Path) ||
				(decodePath(prev.Path) == decodePath(f.Path) && dvID(prev.DeletionVector) < dvID(f.DeletionVector)), "files not sorted")
		}
		if noData {
			continue
		}
		p, err := tbl.AbsPath(f.Path)
		require.NoError(t, err)
		if _, err := os.Stat(p); err != nil && !latest {
			continue // data files of old versions may have been vacuumed (dat/no_replay)
		}
		rows := footerRows(t, tbl, f)
		if n, ok := numRecords(f); ok {
			assert.Equal(t, rows, n, "numRecords of %s", f.Path)
		}
		if f.DeletionVector != nil {
			assert.LessOrEqual(t, f.DeletionVector.Cardinality, rows)
			if f.DeletionVector.StorageType == "u" {
				rel, err := delta.DeletionVectorPath(f.DeletionVector)
				require.NoError(t, err)
				p, err := tbl.AbsPath(rel)
				require.NoError(t, err)
				assert.FileExists(t, p)
			}
		}
	}
}

// Checkpoints give the same live files (with the same sizes, partition values, deletion
// vectors and record counts) as replaying the JSON commits, or as another checkpoint.
func TestCheckpointMatchesJSONReplay(t *testing.T) {
	ctx := context.Background()
	tables := realTables(t)
	for _, name := range []string{
		"delta-rs/simple_table_with_checkpoint", "delta-rs/checkpoint-v2-table", "delta-rs/table_with_deletion_logs",
		"delta-rs/checkpoints_vacuumed", "delta-rs/checkpoint_with_partitions", "delta-rs/checkpoint-cdf-table",
		"dat/with_checkpoint", "dat/no_stats", "dat/stats_as_struct", "dat/no_replay", "r-fixtures/cdf",
	} {
		t.Run(name, func(t *testing.T) {
			tbl := mustOpen(t, tables[name])
			l, err := list(ctx, tbl.s)
			require.NoError(t, err)
			require.NotEmpty(t, l.checkpoints, "table should have checkpoints")
			compared := 0
			for cv, cps := range l.checkpoints {
				for _, cp := range cps {
					fromCP, err := tbl.readCheckpoint(ctx, cp, true)
					require.NoError(t, err, cp.files[0].Name)
					// The same version another way: JSON only, or an older checkpoint plus commits.
					var other *state
					if l.hasCommits(0, cv) {
						jsonOnly := &logListing{commits: l.commits, checkpoints: map[int64][]checkpoint{}}
						other, err = tbl.buildState(ctx, jsonOnly, cv, true, nil)
						require.NoError(t, err)
					} else {
						for ov, ocps := range l.checkpoints {
							if ov < cv && l.hasCommits(ov+1, cv) {
								older := &logListing{commits: l.commits, checkpoints: map[int64][]checkpoint{ov: ocps}}
								other, err = tbl.buildState(ctx, older, cv, true, nil)
								require.NoError(t, err)
							}
						}
					}
					if other == nil {
						t.Logf("checkpoint %d: no other way to build the version (its earlier commits are gone); checked alone", cv)
						assert.NotNil(t, fromCP.metadata)
						assert.NotNil(t, fromCP.protocol)
						continue
					}
					compareStates(t, other, fromCP)
					assert.Equal(t, other.protocol, fromCP.protocol)
					assert.Equal(t, other.metadata.SchemaString, fromCP.metadata.SchemaString)
					assert.Equal(t, other.metadata.Configuration, fromCP.metadata.Configuration)
					assert.Equal(t, other.metadata.PartitionColumns, fromCP.metadata.PartitionColumns)
					compared++
				}
			}
			if name != "delta-rs/checkpoint_with_partitions" && name != "delta-rs/checkpoint-cdf-table" &&
				name != "dat/no_replay" && name != "r-fixtures/cdf" {
				assert.Positive(t, compared)
			}
		})
	}
}

func compareStates(t *testing.T, want, got *state) {
	t.Helper()
	wf, gf := flatten(want), flatten(got)
	require.Equal(t, sortedKeys(wf), sortedKeys(gf), "live file sets differ")
	for k, w := range wf {
		g := gf[k]
		assert.Equal(t, w.Size, g.Size, k)
		assert.Equal(t, w.PartitionValues, g.PartitionValues, k)
		assert.Equal(t, w.DeletionVector, g.DeletionVector, k)
		assert.Equal(t, w.ModificationTime, g.ModificationTime, k)
		wn, wok := numRecords(w)
		gn, gok := numRecords(g)
		if wok && gok {
			assert.Equal(t, wn, gn, k)
		}
		if wok && gok {
			var ws, gs struct {
				NullCount map[string]any `json:"nullCount"`
			}
			require.NoError(t, json.Unmarshal([]byte(w.Stats), &ws))
			require.NoError(t, json.Unmarshal([]byte(g.Stats), &gs))
			assert.Equal(t, ws.NullCount, gs.NullCount, k)
		}
	}
}

func flatten(s *state) map[string]*delta.Add {
	out := map[string]*delta.Add{}
	for _, m := range s.files {
		for _, a := range m {
			out[fileKey(a)] = a
		}
	}
	return out
}

// Concurrent requests on one Table (run with -race).
func TestConcurrentSnapshots(t *testing.T) {
	ctx := context.Background()
	tbl := mustOpen(t, realTables(t)["delta-rs/table_with_deletion_logs"])
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func(i int) {
			v := int64(-1)
			if i%2 == 1 {
				v = int64(10 + i)
			}
			_, err := tbl.Snapshot(ctx, v)
			if err == nil {
				_, err = tbl.VersionAt(ctx, time.UnixMilli(1690885085712))
			}
			errs <- err
		}(i)
	}
	for i := 0; i < 8; i++ {
		assert.NoError(t, <-errs)
	}
}
