package deltalog

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/deltashare/deltashare/internal/sharedtest"
	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/deltashare/deltashare/sharing/server/demo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cacheTable writes a change-data-feed table of commits versions (one append of two rows each)
// and returns it open for more commits.
func cacheTable(t *testing.T, dir string, commits int) *demo.Table {
	return cacheTableNamed(t, dir, "c", commits)
}

func cacheTableNamed(t *testing.T, dir, name string, commits int) *demo.Table {
	t.Helper()
	tbl, err := demo.CreateIDTable(dir, name)
	require.NoError(t, err)
	for i := 0; i < commits; i++ {
		appendRows(t, tbl)
	}
	return tbl
}

func appendRows(t *testing.T, tbl *demo.Table) *delta.Add {
	t.Helper()
	add, err := tbl.AppendIDs()
	require.NoError(t, err)
	return add
}

// ageLog sets the modification time of _delta_log an hour back, as a table nobody wrote to
// lately: the Table then keeps its listing.
func ageLog(t *testing.T, dir string) time.Time {
	t.Helper()
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	require.NoError(t, os.Chtimes(filepath.Join(dir, "_delta_log"), old, old))
	return old
}

func hasFile(s *Snapshot, path string) bool {
	for _, f := range s.Files {
		if f.Path == path {
			return true
		}
	}
	return false
}

// A cached listing and cached states never hide a new commit: the latest version, the latest
// snapshot and the change data see it, whether the new commit changed the directory's
// modification time or (as two writes within one clock tick of the file system can) left it
// as it was.
func TestCacheSeesNewCommit(t *testing.T) {
	for _, sameDirTime := range []bool{false, true} {
		name := map[bool]string{false: "new directory time", true: "same directory time"}[sameDirTime]
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			w := cacheTable(t, dir, 3)
			old := ageLog(t, dir)
			tbl := mustOpen(t, dir)

			// Warm every cache, and check the listing is reused while nothing changes.
			v, err := tbl.LatestVersion(ctx)
			require.NoError(t, err)
			require.EqualValues(t, 2, v)
			snap, err := tbl.Snapshot(ctx, -1)
			require.NoError(t, err)
			require.Len(t, snap.Files, 3)
			ch, err := tbl.Changes(ctx, 0, -1)
			require.NoError(t, err)
			require.Len(t, ch, 3)
			_, err = tbl.VersionAt(ctx, snap.Timestamp)
			require.NoError(t, err)
			n := tbl.listings.Load()
			_, err = tbl.LatestVersion(ctx)
			require.NoError(t, err)
			_, err = tbl.Snapshot(ctx, 1)
			require.NoError(t, err)
			assert.Equal(t, n, tbl.listings.Load(), "an unchanged log is not listed again")

			add := appendRows(t, w)
			if sameDirTime {
				require.NoError(t, os.Chtimes(filepath.Join(dir, "_delta_log"), old, old))
			}

			v, err = tbl.LatestVersion(ctx)
			require.NoError(t, err)
			assert.EqualValues(t, 3, v)
			snap, err = tbl.Snapshot(ctx, -1)
			require.NoError(t, err)
			assert.EqualValues(t, 3, snap.Version)
			assert.Len(t, snap.Files, 4)
			assert.True(t, hasFile(snap, add.Path), "the new file is live")
			ch, err = tbl.Changes(ctx, 2, -1)
			require.NoError(t, err)
			require.Len(t, ch, 2)
			assert.EqualValues(t, 3, ch[1].Version)
			assert.Equal(t, add.Path, ch[1].Add.Path)
			ts, err := tbl.CommitTimestamp(ctx, 3)
			require.NoError(t, err)
			got, err := tbl.VersionAt(ctx, ts)
			require.NoError(t, err)
			assert.EqualValues(t, 3, got, "time travel by timestamp reaches the new version")
			prev, err := tbl.Snapshot(ctx, 2)
			require.NoError(t, err)
			assert.Len(t, prev.Files, 3, "older versions are unchanged")
		})
	}
}

// A table replaced under the same path with a shorter history is not answered from the states
// of the old one.
func TestCacheDroppedWhenTableReplaced(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cacheTable(t, dir, 4)
	ageLog(t, dir)
	tbl := mustOpen(t, dir)
	snap, err := tbl.Snapshot(ctx, -1)
	require.NoError(t, err)
	require.EqualValues(t, 3, snap.Version)

	require.NoError(t, os.RemoveAll(dir))
	w := cacheTableNamed(t, dir, "other", 2) // other file names
	ageLog(t, dir)
	snap, err = tbl.Snapshot(ctx, -1)
	require.NoError(t, err)
	assert.EqualValues(t, 1, snap.Version)
	want := w.Files()
	require.Len(t, snap.Files, len(want))
	for i := range want {
		assert.Equal(t, want[i].Path, snap.Files[i].Path)
	}
}

// Replays that start from a cached state give the same snapshot as a fresh Table, whatever
// order the versions are asked in; a long replay keeps states on the way, so an older version
// asked later replays fewer than replayStride commits.
func TestCachedReplayMatchesFresh(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	w := cacheTable(t, dir, 3*replayStride+5)
	// Some removes, so states differ by more than appends.
	for i, f := range w.Files() {
		if i%7 != 0 {
			continue
		}
		tx, err := w.Begin("DELETE", nil)
		require.NoError(t, err)
		require.NoError(t, tx.Remove(f.Path))
		_, err = tx.Commit()
		require.NoError(t, err)
	}
	ageLog(t, dir)
	latest := w.Version()
	warm := mustOpen(t, dir)
	_, err := warm.Snapshot(ctx, -1)
	require.NoError(t, err)
	warm.mu.Lock()
	strides := 0
	for v, e := range warm.states.byVersion {
		if e.stride {
			strides++
			assert.Zero(t, v%replayStride)
		}
	}
	warm.mu.Unlock()
	assert.Equal(t, int(latest/replayStride)+1, strides, "one state per stride version passed (0 included)")

	rng := rand.New(rand.NewPCG(1, 2))
	for _, v := range rng.Perm(int(latest + 1)) {
		got, err := warm.Snapshot(ctx, int64(v))
		require.NoError(t, err)
		want, err := mustOpen(t, dir).Snapshot(ctx, int64(v))
		require.NoError(t, err)
		require.Equal(t, len(want.Files), len(got.Files), "version %d", v)
		for i := range want.Files {
			assert.Equal(t, want.Files[i].Path, got.Files[i].Path, "version %d", v)
		}
		assert.Equal(t, want.Timestamp, got.Timestamp)
		ch, err := warm.Changes(ctx, int64(v), min(int64(v)+3, latest))
		require.NoError(t, err)
		fresh, err := mustOpen(t, dir).Changes(ctx, int64(v), min(int64(v)+3, latest))
		require.NoError(t, err)
		require.Equal(t, len(fresh), len(ch))
		for i := range fresh {
			assert.Equal(t, fresh[i].Version, ch[i].Version)
			assert.Equal(t, fresh[i].Kind, ch[i].Kind)
			assert.Equal(t, fresh[i].Timestamp, ch[i].Timestamp)
			assert.Equal(t, fresh[i].Metadata, ch[i].Metadata)
		}
	}
}

// A snapshot started from a checkpoint (as Snapshot does) equals one replayed from version 0
// over the JSON commits, at every version of every shared table that has checkpoints and all
// its commits; and snapshots started from cached states (asked newest first, then oldest
// first, on one Table) equal both.
func TestCheckpointStartMatchesReplayFromZero(t *testing.T) {
	ctx := context.Background()
	tables := realTables(t)
	compared := 0
	for _, name := range sortedKeys(tables) {
		dir := tables[name]
		tbl := mustOpen(t, dir)
		l, err := list(ctx, tbl.s)
		require.NoError(t, err)
		if len(l.checkpoints) == 0 || l.minCommit != 0 {
			continue
		}
		t.Run(name, func(t *testing.T) {
			jsonOnly := &logListing{commits: l.commits, checkpoints: map[int64][]checkpoint{}, minCommit: l.minCommit, maxCommit: l.maxCommit}
			cached := mustOpen(t, dir)
			for _, order := range [][2]int64{{l.maxCommit, -1}, {0, 1}} {
				for v := order[0]; v >= 0 && v <= l.maxCommit; v += order[1] {
					if !l.hasCommits(0, v) {
						continue
					}
					fresh := mustOpen(t, dir)
					fromCP, err := fresh.Snapshot(ctx, v)
					require.NoError(t, err, "version %d", v)
					zero, err := fresh.buildState(ctx, jsonOnly, v, true, nil)
					require.NoError(t, err, "version %d", v)
					zeroSnap, err := fresh.snapshotOf(ctx, l, zero)
					require.NoError(t, err)
					fromCache, err := cached.Snapshot(ctx, v)
					require.NoError(t, err)
					for _, got := range []*Snapshot{fromCP, fromCache} {
						require.Equal(t, len(zeroSnap.Files), len(got.Files), "version %d", v)
						for i, f := range zeroSnap.Files {
							g := got.Files[i]
							assert.Equal(t, fileKey(f), fileKey(g), "version %d", v)
							assert.Equal(t, f.Size, g.Size)
							assert.Equal(t, f.PartitionValues, g.PartitionValues)
							fr, fok := numRecords(f)
							gr, gok := numRecords(g)
							if fok && gok {
								assert.Equal(t, fr, gr, "numRecords of %s at %d", f.Path, v)
							}
						}
						assert.Equal(t, zeroSnap.Protocol, got.Protocol)
						assert.Equal(t, zeroSnap.Metadata.SchemaString, got.Metadata.SchemaString)
						assert.Equal(t, zeroSnap.Metadata.Configuration, got.Metadata.Configuration)
						assert.Equal(t, zeroSnap.Timestamp, got.Timestamp)
					}
					compared++
				}
			}
		})
	}
	assert.Positive(t, compared, "no shared table with checkpoints and all commits")
}

// The caches stay within their bounds, and the newest state put is always kept.
func TestCacheBounds(t *testing.T) {
	var c stateCache
	big := func(v int64, n int, stride bool) {
		st := &state{version: v, files: make(map[string][]*delta.Add, n)}
		for i := 0; i < n; i++ {
			st.files[strconv.Itoa(i)] = nil
		}
		c.put(st, stride)
	}
	for v := int64(0); v < 3*maxCachedStates; v++ {
		big(v, 10, v%2 == 0)
	}
	assert.Len(t, c.byVersion, maxCachedStates)
	assert.NotNil(t, c.byVersion[3*maxCachedStates-1], "the newest state is kept")
	// Stride states outlive other states: every odd (non-stride) one but the newest went first.
	for v, e := range c.byVersion {
		assert.True(t, e.stride || v == 3*maxCachedStates-1, "version %d", v)
	}
	huge := int64(10_000)
	big(huge, maxCachedFiles+1, false)
	assert.Len(t, c.byVersion, 1, "a state over the budget alone evicts the rest")
	assert.NotNil(t, c.byVersion[huge])
	assert.Same(t, c.byVersion[huge].st, c.nearest(huge+5))
	assert.Nil(t, c.nearest(huge-1))

	var cc commitCache
	for v := int64(0); v < 2*maxCachedCommits; v++ {
		cc.put(v, FileInfo{Name: "x", Size: 100}, nil)
		require.LessOrEqual(t, len(cc.byVersion), maxCachedCommits)
		require.LessOrEqual(t, cc.bytes, int64(maxCachedCommitBytes))
	}
	_, ok := cc.get(2*maxCachedCommits-1, FileInfo{Name: "x", Size: 100})
	assert.True(t, ok)
	_, ok = cc.get(2*maxCachedCommits-1, FileInfo{Name: "x", Size: 101})
	assert.False(t, ok, "a rewritten commit file is read again")
}

// damagedCheckpointTable copies a shared table with a checkpoint at version 10 into a
// temporary directory, removes the commits before the checkpoint (as log cleanup does) and
// damages the checkpoint with corrupt.
func damagedCheckpointTable(t *testing.T, corrupt func([]byte) []byte) string {
	t.Helper()
	dst := sharedtest.CopyAfterCleanup(t, realTables(t)["delta-rs/simple_table_with_checkpoint"], 10)
	cp := filepath.Join(dst, "_delta_log", "00000000000000000010.checkpoint.parquet")
	b, err := os.ReadFile(cp)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(cp, corrupt(b), 0o644))
	return dst
}

// CheckpointDamages are ways to damage a Parquet checkpoint: its footer, its page bytes, its
// length.
var CheckpointDamages = map[string]func([]byte) []byte{
	"footer overwritten": func(b []byte) []byte {
		for i := len(b) - 200; i < len(b)-8; i++ {
			b[i] ^= 0x5a
		}
		return b
	},
	"pages overwritten": func(b []byte) []byte {
		for i := 4; i < len(b)/2; i++ {
			b[i] = byte(i * 31)
		}
		return b
	},
	"truncated": func(b []byte) []byte { return b[:len(b)/3] },
}

// A checkpoint that does not read, with no other way to its version, is a damaged log
// (ErrLogDamaged naming the checkpoint's error), not a version the caller asked wrongly for.
func TestDamagedCheckpointIsLogDamaged(t *testing.T) {
	ctx := context.Background()
	for name, corrupt := range CheckpointDamages {
		t.Run(name, func(t *testing.T) {
			tbl := mustOpen(t, damagedCheckpointTable(t, corrupt))
			_, err := tbl.Snapshot(ctx, -1)
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrLogDamaged), "%v", err)
			assert.False(t, errors.Is(err, ErrVersionNotFound), "%v", err)
			assert.Contains(t, err.Error(), "checkpoint")
			assert.NotContains(t, err.Error(), "earliest readable version")
			_, _, _, err = tbl.Head(ctx, -1)
			assert.True(t, errors.Is(err, ErrLogDamaged), "%v", err)
		})
	}
}

// Head (protocol and metadata from the nearest cached state, checkpoint or metadata-only state)
// gives what a full snapshot gives, at every readable version of every shared table, asked
// newest first then oldest first on one Table; and the latest version's head is cached.
func TestHeadMatchesSnapshot(t *testing.T) {
	ctx := context.Background()
	forEachRealTable(t, func(t *testing.T, _, dir string, tbl *Table, l *logListing) {
		latest := l.latest()
		for _, order := range [][2]int64{{latest, -1}, {0, 1}} {
			for v := order[0]; v >= 0 && v <= latest; v += order[1] {
				if !l.recreatable(v) {
					continue
				}
				gotV, p, m, err := tbl.Head(ctx, v)
				require.NoError(t, err, "version %d", v)
				want, err := mustOpen(t, dir).Snapshot(ctx, v)
				require.NoError(t, err)
				assert.Equal(t, v, gotV)
				assert.Equal(t, want.Protocol, p, "version %d", v)
				assert.Equal(t, want.Metadata, m, "version %d", v)
			}
		}
		v, _, _, err := tbl.Head(ctx, -1)
		require.NoError(t, err)
		assert.Equal(t, latest, v)
		tbl.mu.Lock()
		_, cached := tbl.metas.byVersion[latest]
		tbl.mu.Unlock()
		assert.True(t, cached, "the latest version's protocol and metadata are cached")
	})
}

// After log cleanup removes the commits before a checkpoint, a version that was cached before
// is refused like any version that cannot be rebuilt, and the checkpoint's versions still read.
func TestCachedVersionRemovedByLogCleanup(t *testing.T) {
	ctx := context.Background()
	dir := damagedCheckpointTable(t, func(b []byte) []byte { return b }) // commits 0-9 removed, checkpoint intact
	// Put the commits back for the first part of the test.
	src := realTables(t)["delta-rs/simple_table_with_checkpoint"]
	for v := int64(0); v < 10; v++ {
		b, err := os.ReadFile(filepath.Join(src, filepath.FromSlash(commitName(v))))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.FromSlash(commitName(v))), b, 0o644))
	}
	tbl := mustOpen(t, dir)
	old, err := tbl.Snapshot(ctx, 5)
	require.NoError(t, err)
	latest, err := tbl.Snapshot(ctx, -1)
	require.NoError(t, err)

	for v := int64(0); v < 10; v++ {
		require.NoError(t, os.Remove(filepath.Join(dir, filepath.FromSlash(commitName(v)))))
	}
	_, err = tbl.Snapshot(ctx, 5)
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrVersionNotFound), "%v", err)
	assert.Contains(t, err.Error(), "earliest readable version is 10")
	_, _, _, err = tbl.Head(ctx, 5)
	assert.True(t, errors.Is(err, ErrVersionNotFound), "%v", err)
	again, err := tbl.Snapshot(ctx, -1)
	require.NoError(t, err)
	assert.Equal(t, len(latest.Files), len(again.Files))
	assert.NotEmpty(t, old.Files)
}

// A long replay reads commits ahead on several goroutines: a commit in the middle that does not
// parse still fails the replay with its own error, and the versions before it still read.
func TestStreamedReplayStopsAtDamagedCommit(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cacheTable(t, dir, 3*streamMin)
	name := filepath.Join(dir, filepath.FromSlash(commitName(streamMin+3)))
	require.NoError(t, os.WriteFile(name, []byte("{\"add\": nope}\n"), 0o644))
	for i := 0; i < 3; i++ {
		tbl := mustOpen(t, dir)
		_, err := tbl.Snapshot(ctx, -1)
		require.Error(t, err)
		assert.True(t, errors.Is(err, ErrLogDamaged), "%v", err)
		assert.Contains(t, err.Error(), filepath.Base(name))
		s, err := tbl.Snapshot(ctx, streamMin+2)
		require.NoError(t, err)
		assert.Len(t, s.Files, streamMin+3)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err := mustOpen(t, dir).Snapshot(cancelled, streamMin+2)
	assert.ErrorIs(t, err, context.Canceled)
}
