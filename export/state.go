package export

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/deltashare/deltashare/internal/atomicfile"
	"github.com/deltashare/deltashare/internal/hint"
)

// StateFormatVersion is the version of the state file format this package writes and reads.
const StateFormatVersion = 1

// Column is one top-level column of a table schema, as the sync state records it.
type Column struct {
	Name     string `json:"name"`
	Type     string `json:"type"` // Delta type: long, string, decimal(10,2), struct<a:int>, ...
	Nullable bool   `json:"nullable"`
}

// SchemaFingerprint is a short hash of the columns (names, types, nullability, in order).
func SchemaFingerprint(cols []Column) string {
	h := sha256.New()
	for _, c := range cols {
		fmt.Fprintf(h, "%s\x00%s\x00%t\n", c.Name, c.Type, c.Nullable)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)[:16])
}

// State is what a sync destination remembers between runs: which table it follows, up to
// which version it holds the data, with which schema, and the files each run wrote. It is
// stored as JSON in the object named by Shard.StateName at the destination root, and replaced
// (atomically) only after every file of a run is in place.
type State struct {
	FormatVersion int       `json:"formatVersion"`
	Table         string    `json:"table"`             // share.schema.table
	Endpoint      string    `json:"endpoint"`          // the profile's endpoint
	TableID       string    `json:"tableId,omitempty"` // the Delta table id (metaData.id)
	Shard         string    `json:"shard,omitempty"`   // "I/N" for a sharded sync
	Format        string    `json:"format"`            // parquet, csv or ndjson
	LastVersion   int64     `json:"lastVersion"`       // the table version the destination is at
	Schema        []Column  `json:"schema"`
	Fingerprint   string    `json:"schemaFingerprint"`
	Generation    int64     `json:"generation"` // 1 after the first run, +1 per run
	UpdatedAt     time.Time `json:"updatedAt"`
	Runs          []RunInfo `json:"runs"` // every run, oldest first
}

// RunKind says what a sync run exported.
type RunKind string

// Kinds of sync runs.
const (
	RunSnapshot RunKind = "snapshot" // the table at one version
	RunChanges  RunKind = "changes"  // the change data of a range of versions
)

// RunInfo is one completed run in the state.
type RunInfo struct {
	Kind        RunKind   `json:"kind"`
	FromVersion int64     `json:"fromVersion"` // equal to ToVersion for a snapshot
	ToVersion   int64     `json:"toVersion"`
	Dir         string    `json:"dir"`   // snapshot/v=00000012/ or changes/v=00000013-00000015/
	Files       []string  `json:"files"` // names relative to the destination root
	Rows        int64     `json:"rows"`
	Bytes       int64     `json:"bytes"`
	Completed   time.Time `json:"completed"`
}

// files returns every file name the state records.
func (s *State) files() map[string]bool {
	m := map[string]bool{}
	if s == nil {
		return m
	}
	for _, r := range s.Runs {
		for _, f := range r.Files {
			m[f] = true
		}
	}
	return m
}

// ObjectReader is implemented by sinks whose objects can be read back: the sync state and lock
// are kept in the sink. LocalSink and BlobSink implement it.
type ObjectReader interface {
	// ReadObject returns the content of name; a missing object gives an error wrapping
	// fs.ErrNotExist.
	ReadObject(ctx context.Context, name string) ([]byte, error)
}

// ExclusiveCreator is implemented by sinks that can create an object only when the name is
// free, atomically (used for the sync lock).
type ExclusiveCreator interface {
	CreateExclusive(ctx context.Context, name string, data []byte) (created bool, err error)
}

// ReadObject returns the content of the file name.
func (s *LocalSink) ReadObject(ctx context.Context, name string) ([]byte, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(s.path(name))
	if errors.Is(err, syscall.ENOTDIR) {
		if nf := fileInPath(filepath.Dir(s.path(name))); nf != nil {
			return nil, nf
		}
	}
	return data, err
}

// CreateExclusive writes the file name with data unless it exists, creating its folders. It is
// atomic: data goes to a temporary file, synced, then hard-linked to name (which fails if name
// exists), so a crash never leaves a partial file under name (a Delta commit that every later
// run reads, a lock). Where the file system has no hard links, name is created in place with
// O_EXCL and then written.
func (s *LocalSink) CreateExclusive(ctx context.Context, name string, data []byte) (bool, error) {
	if err := ValidName(name); err != nil {
		return false, err
	}
	p := s.path(name)
	dir := filepath.Dir(p)
	if err := s.mkdirAll(dir); err != nil {
		return false, err
	}
	if _, err := os.Lstat(p); err == nil {
		return false, nil
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:]) // crypto/rand.Read never fails
	tmp := filepath.Join(dir, "."+filepath.Base(p)+TempMarker+hex.EncodeToString(rnd[:]))
	if err := writeSynced(tmp, data); err != nil {
		return false, err
	}
	err := os.Link(tmp, p)
	_ = os.Remove(tmp)
	switch {
	case errors.Is(err, fs.ErrExist):
		return false, nil
	case err != nil:
		// No hard links here (some network and FUSE file systems): claim the name in place.
		if err := writeSynced(p, data); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return false, nil
			}
			return false, err
		}
	}
	_ = atomicfile.SyncDir(dir)
	return true, nil
}

// writeSynced creates the file path (O_EXCL) with data and syncs it; on a failed write the
// file is removed.
func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, DefaultFileMode)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("create %s: %w", path, err)
	}
	_, err = f.Write(data)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// tempsOf returns the temporary files of name (see TempMarker) in its directory: files that a
// write of name, killed before its commit, left. It reads that one directory only.
func (s *LocalSink) tempsOf(name string) ([]string, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	dir, base := path.Split(name)
	ents, err := os.ReadDir(s.path(dir + "."))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), "."+base+TempMarker) {
			out = append(out, dir+e.Name())
		}
	}
	return out, nil
}

// ReadState reads the sync state named name from sink; (nil, nil) when there is none.
func ReadState(ctx context.Context, sink Sink, name string) (*State, error) {
	data, found, err := readIfExists(ctx, sink, name)
	if err != nil || !found {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("the sync state %s is damaged (%v): restore it from a backup, or remove it and the exported files to start over", location(sink, name), err)
	}
	if st.FormatVersion != StateFormatVersion {
		return nil, fmt.Errorf("the sync state %s has format version %d; this deltashare reads version %d: use a matching deltashare", location(sink, name), st.FormatVersion, StateFormatVersion)
	}
	return &st, nil
}

// readIfExists reads the object name of the sink; found is false when there is none.
func readIfExists(ctx context.Context, sink Sink, name string) (data []byte, found bool, err error) {
	r, ok := sink.(ObjectReader)
	if !ok {
		return nil, false, fmt.Errorf("this output (%T) cannot hold a sync state: sync to a local directory or an object store", sink)
	}
	data, err = r.ReadObject(ctx, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	return data, err == nil, err
}

// writeObject writes data under name atomically through the sink (temporary name, then commit:
// a rename for a local directory, a copy for an object store).
func writeObject(ctx context.Context, sink Sink, name string, data []byte) error {
	obj, err := sink.Create(ctx, name)
	if err != nil {
		return err
	}
	if _, err := obj.Write(data); err != nil {
		_ = obj.Abort()
		return fmt.Errorf("write %s: %w", location(sink, name), err)
	}
	if err := obj.Commit(); err != nil {
		_ = obj.Abort()
		return err
	}
	return nil
}

// WriteState writes st under name, atomically.
func WriteState(ctx context.Context, sink Sink, name string, st *State) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return writeObject(ctx, sink, name, append(data, '\n'))
}

// SchemaDiff is the difference between two schemas.
type SchemaDiff struct {
	Added   []Column     `json:"added,omitempty"`
	Removed []Column     `json:"removed,omitempty"`
	Changed []ColumnDiff `json:"changed,omitempty"`
}

// ColumnDiff is a column whose type or nullability changed.
type ColumnDiff struct {
	Name string `json:"name"`
	From Column `json:"from"`
	To   Column `json:"to"`
}

// Empty reports whether the schemas are the same (column order aside).
func (d SchemaDiff) Empty() bool { return len(d.Added)+len(d.Removed)+len(d.Changed) == 0 }

// String lists the differences: "added column note (string); removed column x (int);
// changed column amount: int -> long".
func (d SchemaDiff) String() string {
	var parts []string
	for _, c := range d.Added {
		parts = append(parts, fmt.Sprintf("added column %s (%s)", c.Name, c.Type))
	}
	for _, c := range d.Removed {
		parts = append(parts, fmt.Sprintf("removed column %s (%s)", c.Name, c.Type))
	}
	for _, c := range d.Changed {
		from, to := c.From.Type, c.To.Type
		if from == to {
			from, to = nullability(c.From), nullability(c.To)
		}
		parts = append(parts, fmt.Sprintf("changed column %s: %s -> %s", c.Name, from, to))
	}
	return strings.Join(parts, "; ")
}

func nullability(c Column) string {
	if c.Nullable {
		return "nullable"
	}
	return "not null"
}

// DiffSchemas compares two schemas by column name (case-insensitively, as Delta does).
func DiffSchemas(old, cur []Column) SchemaDiff {
	var d SchemaDiff
	byName := map[string]Column{}
	for _, c := range old {
		byName[strings.ToLower(c.Name)] = c
	}
	seen := map[string]bool{}
	for _, c := range cur {
		k := strings.ToLower(c.Name)
		seen[k] = true
		o, ok := byName[k]
		switch {
		case !ok:
			d.Added = append(d.Added, c)
		case o.Type != c.Type || o.Nullable != c.Nullable:
			d.Changed = append(d.Changed, ColumnDiff{Name: c.Name, From: o, To: c})
		}
	}
	for _, c := range old {
		if !seen[strings.ToLower(c.Name)] {
			d.Removed = append(d.Removed, c)
		}
	}
	return d
}

// lockInfo is the content of a sync lock object. Besides host and pid it records, where the
// system tells, the boot, pid namespace and start time of the process (see processIdentity), so
// that a run on the same host can take over the lock of a run that was killed.
type lockInfo struct {
	Owner        string    `json:"owner"` // random id of the run
	Host         string    `json:"host"`
	PID          int       `json:"pid"`
	BootID       string    `json:"bootId,omitempty"`
	PIDNamespace string    `json:"pidNamespace,omitempty"`
	ProcessStart string    `json:"processStart,omitempty"` // clock ticks after boot (Linux)
	Table        string    `json:"table"`
	Since        time.Time `json:"since"`
	Expires      time.Time `json:"expires"`
}

// ErrLocked is returned (wrapped) when another sync run holds the destination's lock.
var ErrLocked = errors.New("sync destination is locked")

// LockTakeover describes a lock that a sync run took over from another run.
type LockTakeover struct {
	Host  string    `json:"host"`
	PID   int       `json:"pid"`
	Since time.Time `json:"since"`
	// Reason is "expired" (not refreshed within its time to live), "ownerGone" (its process on
	// this host no longer runs), "unreadable" (cut short while written) or "broken" (BreakLock).
	Reason string `json:"reason"`
}

// syncLock is a held lock.
type syncLock struct {
	sink     Sink
	name     string
	info     lockInfo
	ttl      time.Duration
	now      func() time.Time
	took     *LockTakeover // the lock this run replaced, if any
	stop     chan struct{}
	done     chan struct{}
	mu       sync.Mutex // serialises refreshes and holds
	released bool
}

func newOwner() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// acquireLock is takeLock without breaking a held lock.
func acquireLock(ctx context.Context, sink Sink, name, table string, ttl time.Duration, now func() time.Time) (*syncLock, error) {
	return takeLock(ctx, sink, name, table, ttl, now, false)
}

// takeLock takes the lock object name in sink, or fails with ErrLocked when another run holds
// it. A lock is taken over when it expired (its run died, or stopped refreshing it), when it was
// written on this host by a process that no longer runs (a run killed with SIGKILL), or, with
// breakLock, whoever holds it. While held, the lock is refreshed every ttl/3 until release.
func takeLock(ctx context.Context, sink Sink, name, table string, ttl time.Duration, now func() time.Time, breakLock bool) (*syncLock, error) {
	host, _ := os.Hostname()
	self := selfIdentity()
	t := now()
	l := &syncLock{sink: sink, name: name, ttl: ttl, now: now,
		info: lockInfo{Owner: newOwner(), Host: host, PID: os.Getpid(), BootID: self.BootID, PIDNamespace: self.PIDNamespace,
			ProcessStart: self.Start, Table: table, Since: t.UTC(), Expires: t.Add(ttl).UTC()}}
	data, _ := json.Marshal(l.info)
	for attempt := 0; attempt < 2; attempt++ {
		// Look first: a store that ignores conditional writes would otherwise let us replace a
		// lock that is held.
		cur, err := readLock(ctx, sink, name)
		if err != nil {
			return nil, err
		}
		if cur != nil {
			var reason string
			switch {
			case cur.Owner == "" && cur.Host == unreadableLock:
				reason = "unreadable"
			case !now().Before(cur.Expires):
				reason = "expired"
			case lockOwnerState(cur) == ownerGone:
				reason = "ownerGone"
			case breakLock:
				reason = "broken"
			default:
				return nil, lockedError(sink, name, cur)
			}
			if err := sink.Remove(ctx, name); err != nil {
				return nil, err
			}
			l.took = &LockTakeover{Host: cur.Host, PID: cur.PID, Since: cur.Since, Reason: reason}
		}
		created, err := createExclusive(ctx, sink, name, data)
		if err != nil {
			return nil, fmt.Errorf("take the sync lock %s: %w", location(sink, name), err)
		}
		if created {
			// Read it back: on a store without conditional writes two runs could both "create".
			cur, err := readLock(ctx, sink, name)
			if err != nil {
				return nil, err
			}
			if cur == nil || cur.Owner != l.info.Owner {
				return nil, fmt.Errorf("%w: another sync run took the lock %s at the same time", ErrLocked, location(sink, name))
			}
			l.startRefresh()
			return l, nil
		}
		// Another run created it between our look and our write: look again.
	}
	return nil, fmt.Errorf("%w: could not take the lock %s; try again", ErrLocked, location(sink, name))
}

func lockedError(sink Sink, name string, cur *lockInfo) error {
	err := fmt.Errorf("%w: another sync run (host %s, pid %d, since %s) holds %s until %s",
		ErrLocked, cur.Host, cur.PID, cur.Since.Format(time.RFC3339), location(sink, name), cur.Expires.Format(time.RFC3339))
	if lockOwnerState(cur) == ownerAlive {
		return hint.New(err, "that run is still going on this host: wait for it to finish")
	}
	return hint.New(err, "if that run died, wait until then, or use {BreakLock} to remove its lock (a run still going then stops before its next write)")
}

func createExclusive(ctx context.Context, sink Sink, name string, data []byte) (bool, error) {
	if ec, ok := sink.(ExclusiveCreator); ok {
		return ec.CreateExclusive(ctx, name, data)
	}
	ok, err := sink.Exists(ctx, name)
	if err != nil || ok {
		return false, err
	}
	return true, writeObject(ctx, sink, name, data)
}

// unreadableLock is the host of a lock object that cannot be parsed.
const unreadableLock = "(unreadable lock)"

// readLock reads a lock object: nil when there is none; one that cannot be parsed (left by a
// run killed while writing it) reads as expired.
func readLock(ctx context.Context, sink Sink, name string) (*lockInfo, error) {
	data, found, err := readIfExists(ctx, sink, name)
	if err != nil || !found {
		return nil, err
	}
	var li lockInfo
	if json.Unmarshal(data, &li) != nil {
		return &lockInfo{Host: unreadableLock}, nil
	}
	return &li, nil
}

func (l *syncLock) startRefresh() {
	l.stop, l.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(l.done)
		tk := time.NewTicker(max(l.ttl/3, time.Millisecond)) // (NewTicker panics on 0)
		defer tk.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-tk.C:
				_ = l.refresh(context.Background())
			}
		}
	}()
}

// refresh extends the lock, if this run still holds it.
func (l *syncLock) refresh(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return nil
	}
	_, err := l.extendLocked(ctx)
	return err
}

// extendLocked writes the lock again with a new expiry if this run still holds it, and returns
// the lock as it was read. The caller holds l.mu.
func (l *syncLock) extendLocked(ctx context.Context) (*lockInfo, error) {
	cur, err := readLock(ctx, l.sink, l.name)
	if err != nil {
		return nil, err
	}
	if cur == nil || cur.Owner != l.info.Owner {
		return cur, l.lostError()
	}
	info := l.info
	info.Expires = l.now().Add(l.ttl).UTC()
	data, _ := json.Marshal(info)
	if err := writeObject(ctx, l.sink, l.name, data); err != nil {
		return cur, err
	}
	return cur, nil
}

func (l *syncLock) lostError() error {
	return fmt.Errorf("%w: this run lost the lock %s (it expired and another run took it); the state was not advanced", ErrLocked, location(l.sink, l.name))
}

// check verifies that this run still holds the lock.
func (l *syncLock) check(ctx context.Context) error {
	cur, err := readLock(ctx, l.sink, l.name)
	if err != nil {
		return err
	}
	if cur == nil || cur.Owner != l.info.Owner {
		return l.lostError()
	}
	return nil
}

// hold verifies, right before a step that makes something visible (a file under its final name,
// the state), that this run still holds the lock and that it is not about to expire: a lock with
// less than a third of its time to live left (the run was paused: a stopped process, a suspended
// machine) is extended first, so that no other run can take it over between this check and the
// step.
func (l *syncLock) hold(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	cur, err := readLock(ctx, l.sink, l.name)
	if err != nil {
		return err
	}
	if cur == nil || cur.Owner != l.info.Owner {
		return l.lostError()
	}
	if cur.Expires.Sub(l.now()) > l.ttl/3 {
		return nil
	}
	if _, err := l.extendLocked(ctx); err != nil {
		return err
	}
	return l.check(ctx)
}

// release stops refreshing and removes the lock if this run still holds it.
func (l *syncLock) release(ctx context.Context) error {
	if l.stop != nil {
		close(l.stop)
		<-l.done
	}
	l.mu.Lock()
	l.released = true
	l.mu.Unlock()
	if l.check(ctx) != nil {
		return nil
	}
	return l.sink.Remove(ctx, l.name)
}

// sortedKeys returns the keys of m, sorted.
func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
