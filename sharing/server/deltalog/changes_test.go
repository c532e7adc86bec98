package deltalog

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawCommit reads a commit file directly (independently of the package's reader).
func rawCommit(t *testing.T, dir string, v int64) []*delta.Action {
	f, err := os.Open(filepath.Join(dir, "_delta_log", fmt.Sprintf("%020d.json", v)))
	require.NoError(t, err)
	defer f.Close()
	var out []*delta.Action
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		a, err := delta.ParseAction(sc.Bytes())
		require.NoError(t, err)
		out = append(out, a)
	}
	require.NoError(t, sc.Err())
	return out
}

func TestChangesCDFTables(t *testing.T) {
	ctx := context.Background()
	tables := realTables(t)
	names := []string{"delta-rs/cdf-table", "delta-rs/cdf-table-non-partitioned", "delta-rs/cdf-table-with-cdc-and-dvs",
		"delta-rs/checkpoint-cdf-table", "r-fixtures/cdf"}
	for _, n := range sortedKeys(tables) {
		if len(n) > len("kernel-cdf/") && n[:len("kernel-cdf/")] == "kernel-cdf/" {
			names = append(names, n)
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			dir := tables[name]
			tbl := mustOpen(t, dir)
			l, err := list(ctx, tbl.s)
			require.NoError(t, err)
			start, end := l.minCommit, l.maxCommit
			changes, err := tbl.Changes(ctx, start, -1)
			require.NoError(t, err)

			type vk struct {
				v int64
				k ChangeKind
			}
			got := map[vk]int{}
			var prevTS time.Time
			prevV := int64(-1)
			for _, c := range changes {
				got[vk{c.Version, c.Kind}]++
				require.NotNil(t, c.Metadata)
				require.NotNil(t, c.Protocol)
				switch c.Kind {
				case ChangeCDC:
					require.NotNil(t, c.CDC)
					p, err := tbl.AbsPath(c.CDC.Path)
					require.NoError(t, err)
					assert.FileExists(t, p)
				case ChangeAdd:
					require.NotNil(t, c.Add)
					assert.True(t, c.Add.DataChange)
				case ChangeRemove:
					require.NotNil(t, c.Remove)
					assert.True(t, c.Remove.DataChange)
				}
				if c.Version != prevV {
					assert.Greater(t, c.Version, prevV)
					assert.True(t, c.Timestamp.After(prevTS), "timestamps increase: v%d %s after %s", c.Version, c.Timestamp, prevTS)
					prevV, prevTS = c.Version, c.Timestamp
				} else {
					assert.Equal(t, prevTS, c.Timestamp)
				}
			}
			want := map[vk]int{}
			for v := start; v <= end; v++ {
				acts := rawCommit(t, dir, v)
				cdc := 0
				for _, a := range acts {
					if a.CDC != nil {
						cdc++
					}
				}
				if cdc > 0 {
					want[vk{v, ChangeCDC}] = cdc
					continue
				}
				for _, a := range acts {
					if a.Add != nil && a.Add.DataChange {
						want[vk{v, ChangeAdd}]++
					}
					if a.Remove != nil && a.Remove.DataChange {
						want[vk{v, ChangeRemove}]++
					}
				}
			}
			assert.Equal(t, want, got)
			assert.NotEmpty(t, changes)

			// A sub-range has the protocol/metadata in effect from before it.
			if end > start {
				sub, err := tbl.Changes(ctx, end, end)
				require.NoError(t, err)
				for _, c := range sub {
					assert.Equal(t, end, c.Version)
					require.NotNil(t, c.Metadata)
				}
			}
		})
	}
}

func TestChangesErrors(t *testing.T) {
	ctx := context.Background()
	tables := realTables(t)
	tbl := mustOpen(t, tables["delta-rs/checkpoints_vacuumed"])
	_, err := tbl.Changes(ctx, 2, 6)
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrVersionNotFound), "%v", err)
	assert.Contains(t, err.Error(), "earliest commit is 5")
	_, err = tbl.Changes(ctx, 6, 99)
	assert.True(t, errors.Is(err, ErrVersionNotFound), "%v", err)
	_, err = tbl.Changes(ctx, 8, 7)
	assert.Error(t, err)
	cs, err := tbl.Changes(ctx, 6, 12)
	require.NoError(t, err)
	assert.NotEmpty(t, cs)
}

// Time travel by timestamp over every table: each version's own timestamp maps back to it,
// timestamps between commits map to the earlier (VersionAt) or later (VersionAtOrAfter) one,
// and timestamps outside the history are refused.
func TestVersionAtTimestamp(t *testing.T) {
	ctx := context.Background()
	forEachRealTable(t, func(t *testing.T, _, _ string, tbl *Table, l *logListing) {
		var vs []int64
		var ts []time.Time
		for _, v := range l.versions() {
			if v < l.earliest() {
				continue
			}
			c, err := tbl.CommitTimestamp(ctx, v)
			require.NoError(t, err)
			vs, ts = append(vs, v), append(ts, c)
		}
		require.NotEmpty(t, vs)
		for i, v := range vs {
			got, err := tbl.VersionAt(ctx, ts[i])
			require.NoError(t, err)
			assert.Equal(t, v, got, "VersionAt(own timestamp of %d)", v)
			got, err = tbl.VersionAtOrAfter(ctx, ts[i])
			require.NoError(t, err)
			assert.Equal(t, v, got)
			if i > 0 {
				assert.True(t, ts[i].After(ts[i-1]))
			}
			if i+1 < len(vs) && ts[i+1].Sub(ts[i]) > time.Millisecond {
				mid := ts[i].Add(time.Millisecond)
				got, err = tbl.VersionAt(ctx, mid)
				require.NoError(t, err)
				assert.Equal(t, v, got, "between %d and %d", v, vs[i+1])
				got, err = tbl.VersionAtOrAfter(ctx, mid)
				require.NoError(t, err)
				assert.Equal(t, vs[i+1], got)
			}
		}
		_, err := tbl.VersionAt(ctx, ts[0].Add(-time.Millisecond))
		assert.True(t, errors.Is(err, ErrTimestampBeforeFirstCommit), "%v", err)
		got, err := tbl.VersionAtOrAfter(ctx, ts[0].Add(-time.Hour))
		require.NoError(t, err)
		assert.Equal(t, vs[0], got)
		after := ts[len(ts)-1].Add(time.Millisecond)
		_, err = tbl.VersionAt(ctx, after)
		assert.True(t, errors.Is(err, ErrTimestampAfterLatestCommit), "%v", err)
		_, err = tbl.VersionAtOrAfter(ctx, after)
		assert.True(t, errors.Is(err, ErrTimestampAfterLatestCommit), "%v", err)
	})
}

// Timestamps come from commitInfo: known values from the logs.
func TestCommitTimestampValues(t *testing.T) {
	ctx := context.Background()
	tables := realTables(t)
	for _, tc := range []struct {
		table string
		v     int64
		ms    int64
	}{
		{"delta-rs/checkpoint-v2-table", 9, 1754751134954},
		{"dat/basic_append", 1, 1673493625021},
	} {
		tbl := mustOpen(t, tables[tc.table])
		got, err := tbl.CommitTimestamp(ctx, tc.v)
		require.NoError(t, err)
		assert.Equal(t, tc.ms, got.UnixMilli(), tc.table)
		snap, err := tbl.Snapshot(ctx, tc.v)
		require.NoError(t, err)
		assert.Equal(t, got, snap.Timestamp)
	}
}

// In-commit timestamps win over commitInfo.timestamp and file times, and non-increasing
// timestamps are made increasing.
func TestInCommitTimestampAndMonotonic(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeCommit(t, dir, 0, `{"commitInfo":{"timestamp":5000,"inCommitTimestamp":1000}}`,
		`{"protocol":{"minReaderVersion":1,"minWriterVersion":7,"writerFeatures":["inCommitTimestamp"]}}`,
		`{"metaData":{"id":"x","format":{"provider":"parquet"},"schemaString":"{\"type\":\"struct\",\"fields\":[]}","partitionColumns":[],"configuration":{"delta.enableInCommitTimestamps":"true"}}}`)
	writeCommit(t, dir, 1, `{"commitInfo":{"timestamp":9000,"inCommitTimestamp":2000}}`)
	writeCommit(t, dir, 2, `{"commitInfo":{"timestamp":1500}}`) // clock went back
	tbl := mustOpen(t, dir)
	for v, want := range []int64{1000, 2000, 2001} {
		got, err := tbl.CommitTimestamp(ctx, int64(v))
		require.NoError(t, err)
		assert.Equal(t, want, got.UnixMilli(), "version %d", v)
	}
	v, err := tbl.VersionAt(ctx, time.UnixMilli(2000))
	require.NoError(t, err)
	assert.Equal(t, int64(1), v)
}

func writeCommit(t *testing.T, dir string, v int64, lines ...string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "_delta_log"), 0o755))
	var b []byte
	for _, l := range lines {
		b = append(b, l...)
		b = append(b, '\n')
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "_delta_log", fmt.Sprintf("%020d.json", v)), b, 0o644))
}
