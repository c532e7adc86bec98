package export

// Lock ownership, takeover and lost locks (issue: stuck lock after kill -9; a paused run's
// duplicate change rows; leftovers on an "up to date" run). See docs/reliability.md.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"

	"github.com/deltashare/deltashare/formats"
)

// syncDest is a sync destination of one kind: a local directory or a bucket prefix.
type syncDest struct {
	newSink func() Sink // a new sink on the destination (as a new process would open)
	temps   func() []string
}

func localDest(t *testing.T) syncDest {
	dir := t.TempDir()
	return syncDest{newSink: func() Sink { return NewLocalSink(dir) }, temps: func() []string { return tempsUnder(t, dir) }}
}

func bucketDest(t *testing.T, b *blob.Bucket) syncDest {
	ctx := context.Background()
	return syncDest{
		newSink: func() Sink { return NewBlobSink(b, "dest/", "bucket://dest") },
		temps: func() []string {
			var out []string
			it := b.List(&blob.ListOptions{Prefix: "dest/" + BlobTempDir})
			for {
				obj, err := it.Next(ctx)
				if err != nil {
					break
				}
				out = append(out, obj.Key)
			}
			return out
		},
	}
}

// forEachSyncDest runs test as a subtest against each kind of destination the lock tests cover:
// a local directory, an in-memory bucket, and an S3 bucket of the in-process fake S3 server.
func forEachSyncDest(t *testing.T, test func(t *testing.T, d syncDest)) {
	for _, dc := range []struct {
		name string
		open func(t *testing.T) syncDest
	}{
		{"local", localDest},
		{"memblob", func(t *testing.T) syncDest {
			b := memblob.OpenBucket(nil)
			t.Cleanup(func() { b.Close() })
			return bucketDest(t, b)
		}},
		{"s3", func(t *testing.T) syncDest {
			_, s, _ := fakeS3Sink(t, "")
			return bucketDest(t, s.Bucket)
		}},
	} {
		t.Run(dc.name, func(t *testing.T) { test(t, dc.open(t)) })
	}
}

// namesOf lists the committed objects of a sink.
func namesOf(t *testing.T, s Sink) []string {
	names, err := s.List(context.Background(), "")
	require.NoError(t, err)
	return names
}

// changeRows reads every change row under changes/ of a sink.
func changeRows(t *testing.T, s Sink) []map[string]string {
	var rows []map[string]string
	for _, n := range namesOf(t, s) {
		if !strings.HasPrefix(n, "changes/") {
			continue
		}
		b, err := s.(ObjectReader).ReadObject(context.Background(), n)
		require.NoError(t, err)
		_, r := decodeRows(t, "ndjson", b)
		rows = append(rows, r...)
	}
	return rows
}

// A run paused past its lock's time to live (a stopped process, a suspended machine) while
// another run takes the lock over, exports a larger range and finishes: when the paused run
// resumes, it commits none of its files (they would duplicate the winner's rows), records
// nothing and leaves no temporary file; the winner's files and state stand.
func TestSyncPausedPastLockTTLCommitsNothing(t *testing.T) {
	forEachSyncDest(t, func(t *testing.T, d syncDest) {
		ctx := context.Background()
		ft := peopleTable(t, 1, true)
		clock := newClock()
		opts := syncOpts(formats.NDJSON, clock)
		doSync(t, ft, d.newSink(), opts)

		ft.publish(3)
		var winner *SyncResult
		var winnerErr error
		paused := false
		ft.beforeRecord = func(file, rec int) {
			if paused {
				return
			}
			paused = true
			// The run stops here for longer than the lock's time to live; meanwhile the
			// table moves on and another run takes the expired lock over.
			clock.Add(DefaultLockTTL + time.Minute)
			ft.publish(4)
			winner, winnerErr = Sync(ctx, ft, d.newSink(), opts)
		}
		res, err := Sync(ctx, ft, d.newSink(), opts)
		require.NoError(t, winnerErr)
		require.ErrorIs(t, err, ErrLocked)
		assert.Nil(t, res)
		assert.Contains(t, err.Error(), "this run lost the lock")
		require.NotNil(t, winner.LockTakenOver)
		assert.Equal(t, "expired", winner.LockTakenOver.Reason)
		assert.Equal(t, "changes", winner.Action)
		assert.Equal(t, int64(4), winner.ToVersion)

		sink := d.newSink()
		st, err := ReadState(ctx, sink, "_deltashare_state.json")
		require.NoError(t, err)
		assert.Equal(t, int64(4), st.LastVersion, "the winner's state")
		assert.Equal(t, append([]string{"_deltashare_state.json"}, recorded(st)...), namesOf(t, sink),
			"only the recorded files: none of the paused run's (changes 2-3) next to the winner's (changes 2-4); no lock")
		assert.Equal(t, fakeKeys(ft.changeFiles(2, 4)), rowKeys(changeRows(t, sink)), "no change row twice")
		assert.Empty(t, d.temps(), "no temporary file")
		assert.True(t, ft.allReleased())

		// The next run has nothing to do and nothing to clean.
		ft.beforeRecord = nil
		res = doSync(t, ft, sink, opts)
		assert.Equal(t, "up-to-date", res.Action)
		assert.Empty(t, res.Cleaned)
	})
}

// Leftovers are removed even when the table has nothing new: a part file that no state records
// (a run that lost its lock after committing it) and the temporary file of a state write killed
// just before its rename (or, in a bucket, its copy), and the temporary files of part files.
func TestSyncUpToDateStillCleansLeftovers(t *testing.T) {
	forEachSyncDest(t, func(t *testing.T, d syncDest) {
		ctx := context.Background()
		ft := peopleTable(t, 2, true)
		opts := syncOpts(formats.NDJSON, newClock())
		doSync(t, ft, d.newSink(), opts)
		sink := d.newSink()
		before := namesOf(t, sink)

		// A killed run's leftovers: written through another sink (another process), one
		// committed part, and a part and a state left at their temporary names.
		other := d.newSink()
		write := func(name string, commit bool) {
			o, err := other.Create(ctx, name)
			require.NoError(t, err)
			_, err = o.Write([]byte(`{"id":1,"name":"a","_change_type":"insert","_commit_version":3}` + "\n"))
			require.NoError(t, err)
			if commit {
				require.NoError(t, o.Commit())
			} else {
				require.NoError(t, o.(interface{ Close() error }).Close())
			}
		}
		write("changes/v=00000003-00000003/part-00000.ndjson", true)
		write("changes/v=00000003-00000003/part-00001.ndjson", false)
		write("_deltashare_state.json", false)
		// Another shard's temporary state is not this run's to remove.
		write("_deltashare_state.shard-1-of-2.json", false)
		require.Len(t, d.temps(), 3)

		res := doSync(t, ft, sink, opts)
		assert.Equal(t, "up-to-date", res.Action)
		assert.Len(t, res.Cleaned, 3, "%v", res.Cleaned)
		assert.Contains(t, res.Text(), "up to date at version 2; removed 3 files left by an interrupted run")
		var after []string
		for _, n := range namesOf(t, sink) {
			if !strings.Contains(n, TempMarker) {
				after = append(after, n)
			}
		}
		assert.Equal(t, before, after)
		temps := d.temps()
		require.Len(t, temps, 1, "only the other shard's temporary state is left")
		assert.Contains(t, temps[0], "_deltashare_state.shard-1-of-2.json")
	})
}

// TestLockHolderProcess is not a test: run as a child process (DELTASHARE_TEST_LOCK_DIR set),
// it takes the sync lock of that directory, says "locked" and waits to be killed.
func TestLockHolderProcess(t *testing.T) {
	dir := os.Getenv("DELTASHARE_TEST_LOCK_DIR")
	if dir == "" {
		t.Skip("only run as the child process of TestSyncTakesOverTheLockOfAKilledRun")
	}
	_, err := acquireLock(context.Background(), NewLocalSink(dir), "_deltashare_state.lock", testTable, time.Hour, time.Now)
	if err != nil {
		os.Stdout.WriteString("error: " + err.Error() + "\n")
		os.Exit(1)
	}
	os.Stdout.WriteString("locked\n")
	select {}
}

// A run killed with SIGKILL leaves its lock; the next run on the same host sees that the process
// that wrote it no longer runs and takes it over at once, without waiting for it to expire. While
// the process runs, its lock holds.
func TestSyncTakesOverTheLockOfAKilledRun(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGKILL")
	}
	dest := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHolderProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "DELTASHARE_TEST_LOCK_DIR="+dest)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	killed := false
	t.Cleanup(func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "locked\n", line)

	ft := peopleTable(t, 2, true)
	opts := syncOpts(formats.CSV, newClock())
	// The child's lock expires an hour after the real time, long after the test clock's time.
	_, err = Sync(context.Background(), ft, NewLocalSink(dest), opts)
	require.ErrorIs(t, err, ErrLocked, "the owner runs")
	if runtime.GOOS == "linux" {
		assert.Contains(t, err.Error(), "that run is still going on this host")
	}

	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	if runtime.GOOS == "linux" {
		// Not reaped yet (a zombie): gone all the same.
		stat := fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid)
		require.Eventually(t, func() bool { b, _ := os.ReadFile(stat); return statState(b) == "Z" }, time.Minute, time.Millisecond)
		defer cmd.Wait()
	} else {
		_ = cmd.Wait()
	}
	killed = true
	b, err := os.ReadFile(filepath.Join(dest, "_deltashare_state.lock"))
	require.NoError(t, err, "the killed run left its lock")
	var li lockInfo
	require.NoError(t, json.Unmarshal(b, &li))
	assert.Equal(t, cmd.Process.Pid, li.PID)

	res := doSync(t, ft, NewLocalSink(dest), opts)
	assert.Equal(t, "snapshot", res.Action)
	require.NotNil(t, res.LockTakenOver)
	host, _ := os.Hostname()
	assert.Equal(t, LockTakeover{Host: host, PID: cmd.Process.Pid, Since: li.Since, Reason: "ownerGone"}, *res.LockTakenOver)
	assert.Contains(t, res.Text(), "(its process no longer runs)")
	assert.NoFileExists(t, filepath.Join(dest, "_deltashare_state.lock"))
}

// The owner of a lock is judged only on its own host, boot and pid namespace; a lock of another
// host (or one that cannot be judged) holds until it expires, or until BreakLock removes it.
func TestSyncLockOfAnotherHost(t *testing.T) {
	t.Parallel()
	host, _ := os.Hostname()
	self := selfIdentity()
	gonePID := 1 << 30 // above any pid_max
	for _, tc := range []struct {
		name   string
		lock   lockInfo
		locked bool // without BreakLock
	}{
		{"another host", lockInfo{Host: "elsewhere", PID: gonePID}, true},
		{"another boot of this host", lockInfo{Host: host, PID: gonePID, BootID: "another-boot", PIDNamespace: self.PIDNamespace, ProcessStart: "1"}, true},
		{"another pid namespace", lockInfo{Host: host, PID: gonePID, BootID: self.BootID, PIDNamespace: "pid:[1]", ProcessStart: "1"}, true},
		{"this host, process gone", lockInfo{Host: host, PID: gonePID, BootID: self.BootID, PIDNamespace: self.PIDNamespace, ProcessStart: "1"}, false},
		{"this host, pid reused by another process", lockInfo{Host: host, PID: os.Getpid(), BootID: self.BootID, PIDNamespace: self.PIDNamespace, ProcessStart: "1"}, runtime.GOOS != "linux"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ft := peopleTable(t, 2, true)
			dest := t.TempDir()
			opts := syncOpts(formats.CSV, newClock())
			li := tc.lock
			li.Owner, li.Table, li.Since, li.Expires = "someone-else", testTable, t0.Add(-time.Minute), t0.Add(time.Hour)
			b, err := json.Marshal(li)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dest, "_deltashare_state.lock"), b, 0o644))

			res, err := Sync(context.Background(), ft, NewLocalSink(dest), opts)
			if !tc.locked {
				require.NoError(t, err)
				assert.Equal(t, "ownerGone", res.LockTakenOver.Reason)
				return
			}
			require.ErrorIs(t, err, ErrLocked)
			assert.Contains(t, err.Error(), "use the BreakLock option to remove its lock")
			got, err := os.ReadFile(filepath.Join(dest, "_deltashare_state.lock"))
			require.NoError(t, err)
			assert.Equal(t, string(b), string(got), "left alone")

			opts.BreakLock = true
			res = doSync(t, ft, NewLocalSink(dest), opts)
			assert.Equal(t, &LockTakeover{Host: li.Host, PID: li.PID, Since: li.Since, Reason: "broken"}, res.LockTakenOver)
			assert.Contains(t, res.Text(), "(the lock was broken on request)")
			assert.NoFileExists(t, filepath.Join(dest, "_deltashare_state.lock"))
		})
	}
}

// A run whose lock was broken (BreakLock by another run) stops before its next commit.
func TestSyncBrokenLockStopsTheRun(t *testing.T) {
	t.Parallel()
	ft, dest, opts := syncedOnce(t, 1, true, formats.NDJSON)
	ft.publish(3)
	var other *SyncResult
	done := false
	ft.beforeRecord = func(file, rec int) {
		if done {
			return
		}
		done = true
		o := opts
		o.BreakLock = true
		var err error
		other, err = Sync(context.Background(), ft, NewLocalSink(dest), o)
		require.NoError(t, err)
	}
	_, err := Sync(context.Background(), ft, NewLocalSink(dest), opts)
	require.ErrorIs(t, err, ErrLocked)
	assert.Equal(t, "broken", other.LockTakenOver.Reason)
	st, _ := stateOf(t, dest, "_deltashare_state.json")
	assert.Equal(t, append([]string{"_deltashare_state.json"}, recorded(st)...), listFiles(t, dest))
	assert.Equal(t, fakeKeys(ft.changeFiles(2, 3)), rowKeys(changeRows(t, NewLocalSink(dest))))
}

func TestStatStart(t *testing.T) {
	t.Parallel()
	// The command name may hold spaces and parentheses.
	line := "4242 (a b) (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 18446744073709551615"
	assert.Equal(t, "987654", statStart([]byte(line)))
	assert.Equal(t, "", statStart([]byte("4242 (x) S 1 2")))
	assert.Equal(t, "", statStart([]byte("garbage")))
	assert.Equal(t, "S", statState([]byte(line)))
	assert.Equal(t, "Z", statState([]byte("4242 (x) Z 1 2")))
	assert.Equal(t, "", statState([]byte("garbage")))
}

// afterCommitSink calls after once the first part file is committed through it.
type afterCommitSink struct {
	*LocalSink
	after func()
	done  bool
}

func (s *afterCommitSink) Unwrap() Sink { return s.LocalSink }

func (s *afterCommitSink) Create(ctx context.Context, name string) (Object, error) {
	o, err := s.LocalSink.Create(ctx, name)
	if err != nil {
		return nil, err
	}
	return &afterCommitObject{Object: o, s: s, part: strings.HasPrefix(name, "changes/")}, nil
}

type afterCommitObject struct {
	Object
	s    *afterCommitSink
	part bool
}

func (o *afterCommitObject) Close() error { return o.Object.(interface{ Close() error }).Close() }

func (o *afterCommitObject) Commit() error {
	err := o.Object.Commit()
	if err == nil && o.part && !o.s.done {
		o.s.done = true
		o.s.after()
	}
	return err
}

// A run that loses its lock between its last file commit and the state write (here: another run
// broke it) does not write the state, and does not remove the file it committed (that name may be
// the other run's now); the next run removes it and writes the range again.
func TestSyncLockLostBeforeTheStateWrite(t *testing.T) {
	t.Parallel()
	ft, dest, opts := syncedOnce(t, 1, true, formats.NDJSON)
	stateBefore := treeOf(t, dest)["_deltashare_state.json"]
	ft.publish(2) // one change file
	var lock string
	sink := &afterCommitSink{LocalSink: NewLocalSink(dest), after: func() {
		lock = writeLock(t, dest, "_deltashare_state.lock", t0.Add(time.Hour))
	}}
	_, err := Sync(context.Background(), ft, sink, opts)
	require.ErrorIs(t, err, ErrLocked)
	assert.Contains(t, err.Error(), "this run lost the lock")
	assert.Equal(t, stateBefore, treeOf(t, dest)["_deltashare_state.json"], "the state is not advanced")
	b, err := os.ReadFile(filepath.Join(dest, "_deltashare_state.lock"))
	require.NoError(t, err)
	assert.Equal(t, lock, string(b), "the other run's lock is left alone")
	left := under(listFiles(t, dest), "changes/")
	require.Len(t, left, 1)

	require.NoError(t, os.Remove(filepath.Join(dest, "_deltashare_state.lock")))
	res := doSync(t, ft, NewLocalSink(dest), opts)
	assert.Equal(t, locations(dest, left), res.Cleaned)
	assert.Equal(t, locations(dest, left), res.Files)
}
