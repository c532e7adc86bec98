package export_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/export"
	"github.com/deltashare/deltashare/formats"
	"github.com/deltashare/deltashare/internal/sharingtest"
	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/reader"
)

// Crash tests of the delta format: a run in a child process (this test binary) is killed with
// os.Exit at a step of the run or at its Nth write to the destination; the table must be valid
// at the previous or the new version, and the next run must end with a correct table and no
// data file that the log does not reference.

const (
	envHelper   = "DELTASHARE_LAKE_HELPER"
	envProfile  = "DELTASHARE_LAKE_PROFILE"
	envTable    = "DELTASHARE_LAKE_TABLE"
	envDest     = "DELTASHARE_LAKE_DEST"
	envKillStep = "DELTASHARE_LAKE_KILL_STEP"
	envKillAt   = "DELTASHARE_LAKE_KILL_AT"
	killedCode  = 7
)

// TestSyncDeltaHelperProcess is the child: one sync, killed where the environment says.
func TestSyncDeltaHelperProcess(t *testing.T) {
	if os.Getenv(envHelper) != "1" {
		t.Skip("the child process of the kill tests")
	}
	p, err := sharing.LoadProfile(os.Getenv(envProfile), nil)
	require.NoError(t, err)
	cl, err := sharing.NewClient(p)
	require.NoError(t, err)
	tbl := table(t, os.Getenv(envTable))
	o := export.SyncOptions{Table: tbl.String(), Endpoint: cl.Endpoint(), Format: formats.Options{Format: export.FormatDelta}}
	o.Lake.CheckpointInterval = 1
	step := os.Getenv(envKillStep)
	export.SetLakeHook(&o.Lake, func(s string) {
		if s == step {
			os.Exit(killedCode)
		}
	})
	var sink export.Sink = export.NewLocalSink(os.Getenv(envDest))
	if n, _ := strconv.Atoi(os.Getenv(envKillAt)); n > 0 {
		sink = &killSink{LocalSink: sink.(*export.LocalSink), at: int64(n)}
	}
	_, err = export.Sync(context.Background(), export.NewSharedTable(cl, tbl, reader.ReadOptions{Parallel: 1}), sink, o)
	require.NoError(t, err)
}

// killSink exits the process at its at-th write operation (object writes, commits, exclusive
// creates, removes).
type killSink struct {
	*export.LocalSink
	n, at int64
}

func (k *killSink) tick() {
	if atomic.AddInt64(&k.n, 1) == k.at {
		os.Exit(killedCode)
	}
}

func (k *killSink) Create(ctx context.Context, name string) (export.Object, error) {
	k.tick()
	o, err := k.LocalSink.Create(ctx, name)
	if err != nil {
		return nil, err
	}
	return &killObject{Object: o, k: k}, nil
}

func (k *killSink) Remove(ctx context.Context, name string) error {
	k.tick()
	return k.LocalSink.Remove(ctx, name)
}

func (k *killSink) CreateExclusive(ctx context.Context, name string, data []byte) (bool, error) {
	k.tick()
	if err := os.MkdirAll(filepath.Dir(filepath.Join(k.Dir, filepath.FromSlash(name))), 0o755); err != nil {
		return false, err
	}
	return k.LocalSink.CreateExclusive(ctx, name, data)
}

type killObject struct {
	export.Object
	k *killSink
}

func (o *killObject) Write(p []byte) (int, error) {
	o.k.tick()
	return o.Object.Write(p)
}

func (o *killObject) Commit() error {
	o.k.tick()
	return o.Object.Commit()
}

// runChild runs one sync in a child process; it reports whether the child was killed.
func runChild(t *testing.T, profile, tbl, dest, step string, at int) bool {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSyncDeltaHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), envHelper+"=1", envProfile+"="+profile, envTable+"="+tbl, envDest+"="+dest,
		envKillStep+"="+step, envKillAt+"="+strconv.Itoa(at))
	out, err := cmd.CombinedOutput()
	if err == nil {
		return false
	}
	ee, ok := err.(*exec.ExitError)
	require.True(t, ok && ee.ExitCode() == killedCode, "child failed: %v\n%s", err, out)
	return true
}

// killEnv is a lakeEnv with a profile file for the child.
type killEnv struct {
	*lakeEnv
	profile string
}

func newKillEnv(t *testing.T, src string) *killEnv {
	g := newGrower(t, src)
	g.advance(t)
	env := sharingtest.Start(t, sharingtest.Options{Tables: map[string]string{"src.s.t": g.dir}})
	e := &lakeEnv{src: g, dest: filepath.Join(t.TempDir(), "lake"), client: env.Client(t), table: env.Table("src.s.t")}
	return &killEnv{lakeEnv: e, profile: env.ProfileFile(t)}
}

// later is a run an hour on, with a minute of grace: what a killed run left is old enough.
func (e *killEnv) later() export.SyncOptions {
	o := e.opts()
	o.Now = func() time.Time { return time.Now().Add(time.Hour) }
	o.Lake.OrphanGrace = time.Minute
	o.Lake.CheckpointInterval = 1
	return o
}

// checkNoOrphans requires every file of the lake table to be the log, a data file the log
// references, or nothing else.
func checkNoOrphans(t *testing.T, dest string) {
	t.Helper()
	st := replayLogAll(t, dest)
	entries, err := os.ReadDir(dest)
	require.NoError(t, err)
	for _, en := range entries {
		if en.Name() == "_delta_log" {
			continue
		}
		require.True(t, st[en.Name()], "%s is referenced by the log", en.Name())
	}
	logs, err := os.ReadDir(filepath.Join(dest, "_delta_log"))
	require.NoError(t, err)
	for _, en := range logs {
		require.False(t, strings.Contains(en.Name(), export.TempMarker), "temporary file %s left in the log", en.Name())
	}
}

// commitLines are the lines (actions) of every commit file of the log at dest, in file-name
// order.
func commitLines(t *testing.T, dest string) []string {
	names, err := filepath.Glob(filepath.Join(dest, "_delta_log", "*.json"))
	require.NoError(t, err)
	var out []string
	for _, n := range names {
		b, err := os.ReadFile(n)
		require.NoError(t, err)
		out = append(out, strings.Split(strings.TrimSpace(string(b)), "\n")...)
	}
	return out
}

// replayLogAll are the paths that any commit of the log adds or removes.
func replayLogAll(t *testing.T, dest string) map[string]bool {
	out := map[string]bool{}
	for _, line := range commitLines(t, dest) {
		for _, k := range []string{`"add":{"path":"`, `"remove":{"path":"`} {
			if i := strings.Index(line, k); i >= 0 {
				rest := line[i+len(k):]
				out[rest[:strings.IndexByte(rest, '"')]] = true
			}
		}
	}
	return out
}

func TestSyncDeltaKilledAtEachStep(t *testing.T) {
	src := lakeSource(t, "kernel-cdf/cdf-table")
	for _, step := range []string{"data", "commit", "checkpoint"} {
		t.Run(step, func(t *testing.T) {
			e := newKillEnv(t, src)
			o := e.opts()
			o.Lake.CheckpointInterval = 1
			e.sync(t, o)
			v1, ok := e.src.advance(t)
			require.True(t, ok)
			require.True(t, runChild(t, e.profile, e.table.String(), e.dest, step, 0), "killed at %s", step)
			// The table is valid: at version 0 when killed before the commit, else at v1.
			want := int64(0)
			if step != "data" {
				want = v1
			}
			e.checkMirror(t, want)
			res := e.sync(t, e.later())
			if step == "data" {
				require.Equal(t, "changes", res.Action)
				require.NotEmpty(t, res.Cleaned, "the killed run's data files are removed after the grace period")
			} else {
				require.Equal(t, "up-to-date", res.Action, "a rerun after the commit applies nothing twice")
			}
			e.checkMirror(t, v1)
			checkNoOrphans(t, e.dest)
		})
	}
}

func TestSyncDeltaKilledAtRandomPoints(t *testing.T) {
	src := lakeSource(t, "kernel-cdf/cdf-table-with-dv")
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 14))
	for i := 0; i < 6; i++ {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			e := newKillEnv(t, src)
			var versions []int64
			versions = append(versions, 0)
			for {
				v, ok := e.src.advance(t)
				if !ok {
					break
				}
				versions = append(versions, v)
			}
			at := 1 + rng.IntN(30)
			killed := runChild(t, e.profile, e.table.String(), e.dest, "", at)
			t.Logf("kill at write %d: killed %v", at, killed)
			if _, err := os.Stat(filepath.Join(e.dest, "_delta_log", padVersion(0)+".json")); err == nil {
				st := replayLog(t, e.dest)
				e.checkMirror(t, st.txn[firstKey(st.txn)])
			}
			res := e.sync(t, e.later())
			last := versions[len(versions)-1]
			require.Equal(t, last, res.ToVersion)
			e.checkMirror(t, last)
			checkNoOrphans(t, e.dest)
		})
	}
}

// Two runs on one destination at once (a folder; a bucket prefix of the fake S3): the
// conditional commit write lets one commit each source version; the other finds the work done.
func TestSyncDeltaConcurrentRuns(t *testing.T) {
	type opener func(ctx context.Context, e *lakeEnv) (sink export.Sink, closeSink func(), err error)
	for _, tc := range []struct {
		name string
		// dest prepares the destination and says how each run opens it.
		dest func(t *testing.T) opener
		// check asserts what a round left at the destination (nil: nothing more).
		check func(t *testing.T, e *lakeEnv, round int64)
	}{
		{
			name: "folder",
			dest: func(*testing.T) opener {
				return func(_ context.Context, e *lakeEnv) (export.Sink, func(), error) {
					return export.NewLocalSink(e.dest), func() {}, nil
				}
			},
			check: func(t *testing.T, e *lakeEnv, round int64) {
				st := replayLog(t, e.dest)
				require.Equal(t, round, st.version, "one commit per source version")
				e.checkMirror(t, st.txn[firstKey(st.txn)])
				checkNoOrphans(t, e.dest)
			},
		},
		{
			name: "s3",
			dest: func(t *testing.T) opener {
				_, query := export.FakeS3(t)
				return func(ctx context.Context, _ *lakeEnv) (export.Sink, func(), error) {
					sink, _, err := export.OpenBlobSink(ctx, "s3://lake/race/"+query)
					if err != nil {
						return nil, nil, err
					}
					return sink, func() { sink.Close() }, nil
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			open := tc.dest(t)
			e := newLakeEnv(t, lakeSource(t, "kernel-cdf/cdf-table"), false)
			ctx := context.Background()
			for round := int64(0); ; round++ {
				var wg sync.WaitGroup
				results := make([]*export.SyncResult, 2)
				errs := make([]error, 2)
				for i := range 2 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						sink, closeSink, err := open(ctx, e)
						if err != nil {
							errs[i] = err
							return
						}
						defer closeSink()
						results[i], errs[i] = export.Sync(ctx, export.NewSharedTable(e.client, e.table, reader.ReadOptions{}), sink, e.opts())
					}()
				}
				wg.Wait()
				require.NoError(t, errs[0])
				require.NoError(t, errs[1])
				committed := 0
				for _, r := range results {
					if r.Lake.CommitVersion != nil {
						committed++
						require.Equal(t, round, *r.Lake.CommitVersion)
					}
				}
				require.Equal(t, 1, committed, "round %d: exactly one run commits the new source version", round)
				if tc.check != nil {
					tc.check(t, e, round)
				}
				if _, ok := e.src.advance(t); !ok {
					break
				}
			}
		})
	}
}

func TestSyncDeltaRefusesShards(t *testing.T) {
	e := newLakeEnv(t, lakeSource(t, "dat/basic_append"), false)
	o := e.opts()
	var err error
	o.Shard, err = export.ParseShard("0/2")
	require.NoError(t, err)
	_, err = export.Sync(context.Background(), export.NewSharedTable(e.client, e.table, reader.ReadOptions{}), export.NewLocalSink(e.dest), o)
	require.ErrorContains(t, err, "drop the shard")
	_, statErr := os.Stat(e.dest)
	require.True(t, os.IsNotExist(statErr), "nothing written")
}
