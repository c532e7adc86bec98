package deltalog

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deltashare/deltashare/sharing/delta"
)

// Errors returned (wrapped) by this package; test them with errors.Is.
var (
	// ErrNotDeltaTable: the directory has no (or an empty) _delta_log.
	ErrNotDeltaTable = errors.New("deltalog: not a Delta table")
	// ErrVersionNotFound: the version is newer than the table or can no longer be reconstructed
	// because its commits were removed by log cleanup.
	ErrVersionNotFound = errors.New("deltalog: table version not available")
	// ErrTimestampBeforeFirstCommit: a time-travel timestamp precedes the earliest commit that
	// can still be read.
	ErrTimestampBeforeFirstCommit = errors.New("deltalog: timestamp is before the earliest available commit")
	// ErrTimestampAfterLatestCommit: a time-travel timestamp is after the latest commit.
	ErrTimestampAfterLatestCommit = errors.New("deltalog: timestamp is after the latest commit")
	// ErrLogDamaged: the log holds a version that cannot be read because a file of the log is
	// damaged (a checkpoint that does not read with no other way to the version, a commit that
	// does not parse, a version without protocol or metadata). It is the table's fault, not the
	// caller's.
	ErrLogDamaged = errors.New("deltalog: the table's log is damaged")
)

// damaged marks err as ErrLogDamaged, keeping its message.
type damaged struct{ err error }

func (d damaged) Error() string   { return d.err.Error() }
func (d damaged) Unwrap() []error { return []error{ErrLogDamaged, d.err} }

// Snapshot is the state of a table at one version. It is shared and must not be modified.
type Snapshot struct {
	Version   int64
	Timestamp time.Time // the commit timestamp of Version (see CommitTimestamp)
	Protocol  *delta.Protocol
	Metadata  *delta.Metadata
	Schema    *delta.StructType // parsed Metadata.SchemaString (no fields when it is empty)
	// Files are the live data files, sorted by path then deletion vector id.
	Files []*delta.Add
}

// ChangeKind says which action a Change carries.
type ChangeKind string

// Change kinds.
const (
	ChangeCDC    ChangeKind = "cdc"
	ChangeAdd    ChangeKind = "add"
	ChangeRemove ChangeKind = "remove"
)

// Change is one file of a table's change data: a cdc file of a commit that has change data
// files, else an add or remove with dataChange=true of a commit that has none.
type Change struct {
	Version   int64
	Timestamp time.Time
	Kind      ChangeKind
	Add       *delta.Add
	Remove    *delta.Remove
	CDC       *delta.CDC
	// Protocol and Metadata are those in effect at Version (after its commit). Changes of the same
	// version share the pointers, and the pointers only change at versions whose commit holds a
	// protocol or metaData action, so a caller can detect schema changes by comparing them.
	Protocol *delta.Protocol
	Metadata *delta.Metadata
}

// Table reads one Delta table. It is safe for concurrent use.
type Table struct {
	s         Storage
	localRoot string // "" when the storage is not local

	mu       sync.Mutex
	listing  *logListing       // the last listing of _delta_log (see list)
	states   stateCache        // replayed states
	metas    stateCache        // replayed protocol and metadata only (no files)
	commits  commitCache       // parsed commits
	rawTS    map[int64]rawTime // commit timestamps read so far (commits are immutable)
	listings atomic.Int64      // listings taken (for tests)
}

type rawTime struct {
	ms     int64
	commit bool // from a commit file (false: a checkpoint's modification time)
}

// Open opens the Delta table in the local directory root.
func Open(ctx context.Context, root string) (*Table, error) {
	st, err := os.Stat(root)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: directory %s does not exist", ErrNotDeltaTable, root)
		}
		return nil, fmt.Errorf("deltalog: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%w: %s is a file; give the table's root directory (the one holding _delta_log)", ErrNotDeltaTable, root)
	}
	ds, err := NewDirStorage(root)
	if err != nil {
		return nil, err
	}
	t, err := OpenStorage(ctx, ds, "")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", root, err)
	}
	return t, nil
}

// OpenStorage opens the Delta table at dir (slash-separated, "" for the root) of s.
func OpenStorage(ctx context.Context, s Storage, dir string) (*Table, error) {
	dir = strings.Trim(dir, "/")
	if dir != "" {
		if hasDotDot(dir) {
			return nil, fmt.Errorf("deltalog: table directory %q escapes the storage root", dir)
		}
		s = &subStorage{s: s, dir: dir}
	}
	t := &Table{s: s, rawTS: map[int64]rawTime{}}
	if ls, ok := s.(LocalStorage); ok {
		if p, err := ls.LocalPath(""); err == nil {
			t.localRoot = p
		}
	}
	l, err := t.list(ctx)
	if err != nil {
		return nil, err
	}
	if len(l.commits) == 0 && len(l.checkpoints) == 0 {
		return nil, fmt.Errorf("%w: _delta_log holds no commit or checkpoint files", ErrNotDeltaTable)
	}
	return t, nil
}

// subStorage serves a directory of another Storage.
type subStorage struct {
	s   Storage
	dir string
}

func (s *subStorage) join(name string) string {
	if name == "" {
		return s.dir
	}
	return s.dir + "/" + name
}

func (s *subStorage) List(ctx context.Context, dir string) ([]FileInfo, error) {
	return s.s.List(ctx, s.join(dir))
}

func (s *subStorage) Open(ctx context.Context, name string) (File, error) {
	if hasDotDot(name) {
		return nil, fmt.Errorf("deltalog: path %q escapes the table root", name)
	}
	return s.s.Open(ctx, s.join(name))
}

func (s *subStorage) Stat(ctx context.Context, name string) (FileInfo, error) {
	ss, ok := s.s.(StatStorage)
	if !ok {
		return FileInfo{}, errors.ErrUnsupported
	}
	return ss.Stat(ctx, s.join(name))
}

func (s *subStorage) LocalPath(name string) (string, error) {
	ls, ok := s.s.(LocalStorage)
	if !ok {
		return "", fmt.Errorf("deltalog: storage is not local")
	}
	if hasDotDot(name) {
		return "", fmt.Errorf("deltalog: path %q escapes the table root", name)
	}
	return ls.LocalPath(s.join(name))
}

// LatestVersion lists the log and returns the newest version.
func (t *Table) LatestVersion(ctx context.Context) (int64, error) {
	l, err := t.list(ctx)
	if err != nil {
		return 0, err
	}
	v := l.latest()
	if v < 0 {
		return 0, fmt.Errorf("%w: _delta_log holds no commit or checkpoint files", ErrNotDeltaTable)
	}
	return v, nil
}

// state is a replayed table state.
type state struct {
	version  int64
	protocol *delta.Protocol
	metadata *delta.Metadata
	// files: decoded path -> the live adds of that path, one per deletion vector (nearly always
	// one). The slices are never modified in place, so a clone shares them.
	files map[string][]*delta.Add
	snap  *Snapshot // built once for a cached state (under Table.mu)
}

func (s *state) clone() *state {
	return &state{version: s.version, protocol: s.protocol, metadata: s.metadata, files: maps.Clone(s.files)}
}

func dvID(dv *delta.DeletionVector) string {
	if dv == nil {
		return ""
	}
	return dv.UniqueID()
}

// decodePath is the canonical form of a log path used to match adds and removes: the
// URI-decoded path (the raw path when it is not valid URI escaping).
func decodePath(p string) string {
	if d, err := url.PathUnescape(p); err == nil {
		return d
	}
	return p
}

// apply applies one commit action: protocol and metaData always, add and remove with files.
func (s *state) apply(a *delta.Action, files bool) {
	switch {
	case a.Protocol != nil:
		s.protocol = a.Protocol
	case a.MetaData != nil:
		s.metadata = a.MetaData
	case a.Add != nil && files:
		s.add(a.Add)
	case a.Remove != nil && files:
		s.remove(a.Remove)
	}
}

func (s *state) add(a *delta.Add) {
	key := decodePath(a.Path)
	old := s.files[key]
	if len(old) == 0 {
		s.files[key] = []*delta.Add{a}
		return
	}
	id := dvID(a.DeletionVector)
	n := make([]*delta.Add, 0, len(old)+1)
	for _, o := range old {
		if dvID(o.DeletionVector) != id {
			n = append(n, o)
		}
	}
	s.files[key] = append(n, a)
}

func (s *state) remove(r *delta.Remove) {
	key := decodePath(r.Path)
	old := s.files[key]
	if len(old) == 0 {
		return
	}
	id := dvID(r.DeletionVector)
	i := slices.IndexFunc(old, func(o *delta.Add) bool { return dvID(o.DeletionVector) == id })
	var n []*delta.Add
	switch {
	case i >= 0:
		n = slices.Concat(old[:i], old[i+1:])
	case r.DeletionVector == nil:
		// A writer that does not know deletion vectors removes the file whatever its vector.
	default:
		return
	}
	if len(n) == 0 {
		delete(s.files, key)
	} else {
		s.files[key] = n
	}
}

// listAt lists the log for reading version (the latest when < 0), which it returns resolved.
// A version past the latest is an error, and so is one that cannot be rebuilt (log cleanup
// removed it, and no state cached before has it): buildState words that error. l is nil
// whenever the version cannot be read.
func (t *Table) listAt(ctx context.Context, version int64) (l *logListing, v int64, err error) {
	if l, err = t.list(ctx); err != nil {
		return nil, 0, err
	}
	latest := l.latest()
	if version < 0 {
		version = latest
	}
	if version > latest {
		return nil, 0, fmt.Errorf("%w: version %d does not exist; the latest version is %d", ErrVersionNotFound, version, latest)
	}
	if !l.recreatable(version) {
		_, err := t.buildState(ctx, l, version, false, nil)
		return nil, 0, err
	}
	return l, version, nil
}

// Snapshot returns the table at version (the latest when version < 0).
func (t *Table) Snapshot(ctx context.Context, version int64) (*Snapshot, error) {
	l, version, err := t.listAt(ctx, version)
	if err != nil || l == nil {
		return nil, err
	}
	st, err := t.stateAt(ctx, l, version)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	snap := st.snap
	t.mu.Unlock()
	if snap != nil {
		return snap, nil
	}
	if snap, err = t.snapshotOf(ctx, l, st); err != nil {
		return nil, err
	}
	t.mu.Lock()
	if st.snap == nil {
		st.snap = snap
	} else {
		snap = st.snap
	}
	t.mu.Unlock()
	return snap, nil
}

// Head returns the version (the latest when version < 0) with the protocol and metadata in
// effect at it, without its files: the cheap part of a snapshot.
func (t *Table) Head(ctx context.Context, version int64) (int64, *delta.Protocol, *delta.Metadata, error) {
	l, version, err := t.listAt(ctx, version)
	if err != nil || l == nil {
		return 0, nil, nil, err
	}
	st, err := t.metaAt(ctx, l, version)
	if err != nil {
		return 0, nil, nil, err
	}
	return version, st.protocol, st.metadata, nil
}

func (t *Table) snapshotOf(ctx context.Context, l *logListing, st *state) (*Snapshot, error) {
	schema := &delta.StructType{}
	if strings.TrimSpace(st.metadata.SchemaString) != "" { // empty in some synthetic bootstrap checkpoints
		var err error
		if schema, err = st.metadata.Schema(); err != nil {
			return nil, fmt.Errorf("deltalog: version %d: %w", st.version, err)
		}
	}
	ts, err := t.commitTimestamp(ctx, l, st.version)
	if err != nil {
		return nil, err
	}
	files := make([]*delta.Add, 0, len(st.files))
	keys := make([]string, 0, len(st.files))
	for k := range st.files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		m := st.files[k]
		if len(m) > 1 {
			m = slices.Clone(m)
			sort.Slice(m, func(i, j int) bool { return dvID(m[i].DeletionVector) < dvID(m[j].DeletionVector) })
		}
		files = append(files, m...)
	}
	return &Snapshot{Version: st.version, Timestamp: ts, Protocol: st.protocol, Metadata: st.metadata, Schema: schema, Files: files}, nil
}

// hasCommits reports whether the commits from..to (inclusive) all exist.
func (l *logListing) hasCommits(from, to int64) bool {
	if l.contigOK && from >= l.contigFrom && to <= l.maxCommit {
		return true
	}
	for v := from; v <= to; v++ {
		if _, ok := l.commits[v]; !ok {
			return false
		}
	}
	return true
}

// recreatable reports whether version v can be rebuilt from the files present.
func (l *logListing) recreatable(v int64) bool {
	for cv := range l.checkpoints {
		if cv <= v && l.hasCommits(cv+1, v) {
			return true
		}
	}
	return l.hasCommits(0, v)
}

// earliest returns the earliest version that can be rebuilt, or -1.
func (l *logListing) earliest() int64 {
	vs := l.versions()
	for _, v := range vs {
		if l.recreatable(v) {
			return v
		}
	}
	return -1
}

// versions returns every version that has a commit or a checkpoint, ascending (computed once
// per listing; the caller must not modify it).
func (l *logListing) versions() []int64 {
	l.vers.once.Do(func() { l.vers.vs = l.computeVersions() })
	return l.vers.vs
}

func (l *logListing) computeVersions() []int64 {
	seen := make(map[int64]bool, len(l.commits)+len(l.checkpoints))
	vs := make([]int64, 0, len(l.commits)+len(l.checkpoints))
	for v := range l.commits {
		seen[v] = true
		vs = append(vs, v)
	}
	for v := range l.checkpoints {
		if !seen[v] {
			vs = append(vs, v)
		}
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i] < vs[j] })
	return vs
}

// buildState replays the log up to version. With files false only protocol and metadata are
// tracked. base, when given, is a state of an older version to continue from.
func (t *Table) buildState(ctx context.Context, l *logListing, version int64, files bool, base *state) (*state, error) {
	var st *state
	from := int64(0)
	if base != nil && base.version <= version && l.hasCommits(base.version+1, version) {
		st = base.clone()
		from = base.version + 1
	} else {
		var cpErr error
		cpVersions := make([]int64, 0, len(l.checkpoints))
		for cv := range l.checkpoints {
			if cv <= version && l.hasCommits(cv+1, version) {
				cpVersions = append(cpVersions, cv)
			}
		}
		sort.Slice(cpVersions, func(i, j int) bool { return cpVersions[i] > cpVersions[j] })
		var hint *lastCheckpoint
		if len(cpVersions) > 0 {
			hint = readLastCheckpoint(ctx, t.s)
		}
	outer:
		for _, cv := range cpVersions {
			cps := append([]checkpoint(nil), l.checkpoints[cv]...)
			sort.SliceStable(cps, func(i, j int) bool { return hint.matches(cps[i]) && !hint.matches(cps[j]) })
			for _, cp := range cps {
				s, err := t.readCheckpoint(ctx, cp, files)
				if err != nil {
					if ctx.Err() != nil {
						return nil, ctx.Err()
					}
					cpErr = err
					continue
				}
				st, from = s, cv+1
				break outer
			}
		}
		if st == nil {
			if !l.hasCommits(0, version) {
				if cpErr != nil {
					// The listing says the version can be read (a checkpoint at or before it
					// is followed by all commits up to it); that checkpoint cannot.
					return nil, damaged{fmt.Errorf("%w: version %d cannot be read: its checkpoint does not read (%v) and the commits before the checkpoint are no longer in _delta_log", ErrLogDamaged, version, cpErr)}
				}
				msg := fmt.Sprintf("%v: version %d cannot be reconstructed: its commits were removed from _delta_log and no checkpoint at or before it is followed by all commits up to it", ErrVersionNotFound, version)
				if e := l.earliest(); e >= 0 {
					msg += fmt.Sprintf("; the earliest readable version is %d", e)
				}
				return nil, wrapMsg{ErrVersionNotFound, msg}
			}
			st = &state{version: -1, files: map[string][]*delta.Add{}}
			from = 0
		}
	}
	cs := t.streamCommits(ctx, l, from, version)
	defer cs.close()
	for v := from; v <= version; v++ {
		acts, err := cs.read()
		if err != nil {
			return nil, err
		}
		for _, a := range acts {
			st.apply(a, files)
		}
		st.version = v
		if files && v < version && v%replayStride == 0 && st.protocol != nil && st.metadata != nil {
			t.keepStride(st)
		}
	}
	st.version = version
	if st.protocol == nil || st.metadata == nil {
		return nil, damaged{fmt.Errorf("deltalog: version %d has no protocol or metaData action in its log; the log is incomplete or corrupt", version)}
	}
	return st, nil
}

// wrapMsg is an error with its own message that unwraps to a sentinel.
type wrapMsg struct {
	sentinel error
	msg      string
}

func (w wrapMsg) Error() string { return w.msg }
func (w wrapMsg) Unwrap() error { return w.sentinel }

// readCheckpoint reads a complete checkpoint into a state.
func (t *Table) readCheckpoint(ctx context.Context, cp checkpoint, files bool) (st *state, err error) {
	// Last resort: a decoder that panics on damaged bytes makes the checkpoint unreadable, not
	// the server's request.
	defer func() {
		if p := recover(); p != nil {
			st, err = nil, fmt.Errorf("deltalog: checkpoint %s: decoding failed: %v", cp.files[0].Name, p)
		}
	}()
	st = &state{version: cp.version, files: map[string][]*delta.Add{}}
	var sidecars []*delta.Sidecar
	emit := func(a *delta.Action) error {
		switch {
		case a.Sidecar != nil:
			sidecars = append(sidecars, a.Sidecar)
		case a.Remove == nil: // a checkpoint's removes are tombstones, not changes to replay
			st.apply(a, files)
		}
		return nil
	}
	for _, f := range cp.files {
		name := logDir + "/" + f.Name
		var err error
		if strings.HasSuffix(f.Name, ".json") {
			err = t.readJSONActions(ctx, name, emit)
		} else {
			err = readParquetActions(ctx, t.s, name, files, emit)
		}
		if err != nil {
			return nil, err
		}
	}
	if files {
		for _, sc := range sidecars {
			name := logDir + "/_sidecars/" + path.Base(decodePath(sc.Path))
			if err := readParquetActions(ctx, t.s, name, true, emit); err != nil {
				return nil, fmt.Errorf("deltalog: sidecar of checkpoint %d: %w", cp.version, err)
			}
		}
	}
	if st.protocol == nil || st.metadata == nil {
		return nil, fmt.Errorf("deltalog: checkpoint %s has no protocol or metaData action", cp.files[0].Name)
	}
	return st, nil
}

// readCommit reads and parses the commit of version v (and records its timestamp).
func (t *Table) readCommit(ctx context.Context, l *logListing, v int64) ([]*delta.Action, error) {
	fi := l.commits[v]
	t.mu.Lock()
	acts, ok := t.commits.get(v, fi)
	t.mu.Unlock()
	if ok {
		return acts, nil
	}
	err := t.readJSONActions(ctx, commitName(v), func(a *delta.Action) error {
		acts = append(acts, a)
		return nil
	})
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			t.forgetListing()
			return nil, wrapMsg{ErrVersionNotFound, fmt.Sprintf("%v: commit file of version %d is missing (removed by log cleanup?)", ErrVersionNotFound, v)}
		}
		return nil, err
	}
	t.recordTimestamp(l, v, acts)
	if fi.Name != "" {
		t.mu.Lock()
		t.commits.put(v, fi, acts)
		t.mu.Unlock()
	}
	return acts, nil
}

func (t *Table) recordTimestamp(l *logListing, v int64, acts []*delta.Action) {
	rt := rawTime{commit: true, ms: l.commits[v].ModTime.UnixMilli()}
	for _, a := range acts {
		if a.CommitInfo != nil {
			if a.CommitInfo.InCommitTimestamp != nil {
				rt.ms = *a.CommitInfo.InCommitTimestamp
			} else if a.CommitInfo.Timestamp != nil {
				rt.ms = *a.CommitInfo.Timestamp
			}
			break
		}
	}
	t.mu.Lock()
	t.rawTS[v] = rt
	t.mu.Unlock()
}

// readJSONActions reads a newline-delimited JSON action file.
func (t *Table) readJSONActions(ctx context.Context, name string, emit func(*delta.Action) error) error {
	f, err := t.s.Open(ctx, name)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(io.NewSectionReader(f, 0, f.Size()), int(min(64<<10, max(f.Size()+1, 512))))
	for lineNo := 1; ; lineNo++ {
		line, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			a, perr := delta.ParseAction(line)
			if perr != nil {
				return damaged{fmt.Errorf("deltalog: %s line %d: %w", name, lineNo, perr)}
			}
			if eerr := emit(a); eerr != nil {
				return eerr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("deltalog: reading %s: %w", name, err)
		}
	}
}

var commitInfoPrefix = []byte(`{"commitInfo"`)

// rawTimestamp returns the recorded timestamp of version v: the commit's in-commit timestamp,
// else commitInfo.timestamp, else the commit file's modification time; for a version known
// only by a checkpoint, the checkpoint file's modification time.
func (t *Table) rawTimestamp(ctx context.Context, l *logListing, v int64) (int64, error) {
	t.mu.Lock()
	rt, ok := t.rawTS[v]
	t.mu.Unlock()
	if ok && (rt.commit || l.commits[v].Name == "") {
		return rt.ms, nil
	}
	fi, ok := l.commits[v]
	if !ok {
		cps := l.checkpoints[v]
		if len(cps) == 0 {
			return 0, wrapMsg{ErrVersionNotFound, fmt.Sprintf("%v: version %d has no commit or checkpoint file", ErrVersionNotFound, v)}
		}
		return cps[0].files[0].ModTime.UnixMilli(), nil
	}
	ms := fi.ModTime.UnixMilli()
	// Only the commitInfo line is decoded.
	f, err := t.s.Open(ctx, commitName(v))
	if err != nil {
		return 0, fmt.Errorf("deltalog: reading commit %d: %w", v, err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(io.NewSectionReader(f, 0, f.Size()), 64<<10)
	for {
		line, err := r.ReadBytes('\n')
		trim := bytes.TrimSpace(line)
		if bytes.HasPrefix(bytes.ReplaceAll(trim, []byte(" "), nil), commitInfoPrefix) {
			a, perr := delta.ParseAction(trim)
			if perr == nil && a.CommitInfo != nil {
				if a.CommitInfo.InCommitTimestamp != nil {
					ms = *a.CommitInfo.InCommitTimestamp
				} else if a.CommitInfo.Timestamp != nil {
					ms = *a.CommitInfo.Timestamp
				}
			}
			break
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return 0, fmt.Errorf("deltalog: reading commit %d: %w", v, err)
		}
	}
	t.mu.Lock()
	t.rawTS[v] = rawTime{ms: ms, commit: true}
	t.mu.Unlock()
	return ms, nil
}

// fullTimeline lists the log and returns every readable version with its commit time.
func (t *Table) fullTimeline(ctx context.Context) (versions, millis []int64, err error) {
	l, err := t.list(ctx)
	if err != nil {
		return nil, nil, err
	}
	return t.timeline(ctx, l, -1)
}

// timeline returns the versions from the earliest readable one to upTo (the latest when upTo <
// 0) with their commit timestamps, made strictly increasing (a timestamp not above the previous
// one becomes the previous plus 1ms), as Delta's history manager does. The slices are shared.
func (t *Table) timeline(ctx context.Context, l *logListing, upTo int64) ([]int64, []int64, error) {
	tl, err := t.timelineOf(ctx, l)
	if err != nil {
		return nil, nil, err
	}
	vs, ts := tl.upTo(upTo)
	return vs, ts, nil
}

func (t *Table) commitTimestamp(ctx context.Context, l *logListing, version int64) (time.Time, error) {
	tl, err := t.timelineOf(ctx, l)
	if err != nil {
		return time.Time{}, err
	}
	ms, ok := tl.at(version)
	if !ok {
		return time.Time{}, wrapMsg{ErrVersionNotFound, fmt.Sprintf("%v: version %d is not readable (earliest readable is %d)", ErrVersionNotFound, version, l.earliest())}
	}
	return time.UnixMilli(ms).UTC(), nil
}

// CommitTimestamp returns the timestamp of version: its in-commit timestamp when the commit has
// one, else commitInfo.timestamp, else the commit file's modification time (a checkpoint's for
// a version known only by its checkpoint), adjusted to increase strictly with versions.
func (t *Table) CommitTimestamp(ctx context.Context, version int64) (time.Time, error) {
	l, err := t.list(ctx)
	if err != nil {
		return time.Time{}, err
	}
	if version < 0 || version > l.latest() {
		return time.Time{}, wrapMsg{ErrVersionNotFound, fmt.Sprintf("%v: version %d does not exist; the latest version is %d", ErrVersionNotFound, version, l.latest())}
	}
	return t.commitTimestamp(ctx, l, version)
}

// VersionAt returns the latest version committed at or before ts, for time travel ("timestamp"
// in a Delta Sharing query). Like the reference server (Delta Kernel's snapshot as of a
// timestamp), a ts before the earliest readable commit is ErrTimestampBeforeFirstCommit and a ts
// after the latest commit is ErrTimestampAfterLatestCommit.
func (t *Table) VersionAt(ctx context.Context, ts time.Time) (int64, error) {
	vs, tss, err := t.fullTimeline(ctx)
	if err != nil {
		return 0, err
	}
	ms := ts.UnixMilli()
	if ms < tss[0] {
		return 0, fmt.Errorf("%w: %s is before %s, the time of version %d; use a later timestamp",
			ErrTimestampBeforeFirstCommit, fmtTime(ms), fmtTime(tss[0]), vs[0])
	}
	last := len(vs) - 1
	if ms > tss[last] {
		return 0, fmt.Errorf("%w: %s is after %s, the time of the latest version %d; use an earlier timestamp or the latest version",
			ErrTimestampAfterLatestCommit, fmtTime(ms), fmtTime(tss[last]), vs[last])
	}
	i := sort.Search(len(tss), func(i int) bool { return tss[i] > ms }) // first after ms
	return vs[i-1], nil
}

// VersionAtOrAfter returns the earliest version committed at or after ts, for change data
// queries with startingTimestamp. A ts before the earliest readable commit gives that commit's
// version (the Delta Sharing protocol allows a startingTimestamp before version 0); a ts after
// the latest commit is ErrTimestampAfterLatestCommit. (The reference server returns the version
// after the one at or before ts, which differs when a commit is exactly at ts; this follows the
// protocol text, "at or after".)
func (t *Table) VersionAtOrAfter(ctx context.Context, ts time.Time) (int64, error) {
	vs, tss, err := t.fullTimeline(ctx)
	if err != nil {
		return 0, err
	}
	ms := ts.UnixMilli()
	i := sort.Search(len(tss), func(i int) bool { return tss[i] >= ms })
	if i == len(tss) {
		last := len(vs) - 1
		return 0, fmt.Errorf("%w: no version was committed at or after %s; the latest, version %d, was committed at %s",
			ErrTimestampAfterLatestCommit, fmtTime(ms), vs[last], fmtTime(tss[last]))
	}
	return vs[i], nil
}

func fmtTime(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano) }

// Changes returns the change data of versions startVersion..endVersion (inclusive; endVersion
// < 0 means the latest), version by version: the cdc files of a commit that has any, else its
// add and remove actions with dataChange=true. The caller checks that change data feed was
// enabled (Change.Metadata.ChangeDataFeedEnabled) where it requires it. Every commit in the
// range must still exist.
func (t *Table) Changes(ctx context.Context, startVersion, endVersion int64) ([]*Change, error) {
	l, err := t.list(ctx)
	if err != nil {
		return nil, err
	}
	latest := l.latest()
	if endVersion < 0 {
		endVersion = latest
	}
	if startVersion < 0 || startVersion > endVersion {
		return nil, fmt.Errorf("deltalog: invalid version range %d..%d: the start must be between 0 and the end", startVersion, endVersion)
	}
	if endVersion > latest {
		return nil, wrapMsg{ErrVersionNotFound, fmt.Sprintf("%v: version %d does not exist; the latest version is %d", ErrVersionNotFound, endVersion, latest)}
	}
	if !l.hasCommits(startVersion, endVersion) {
		return nil, wrapMsg{ErrVersionNotFound, fmt.Sprintf("%v: the commits of versions %d..%d are not all present in _delta_log (removed by log cleanup?); the earliest commit is %d",
			ErrVersionNotFound, startVersion, endVersion, l.minCommit)}
	}
	// Protocol and metadata in effect at startVersion (from a checkpoint when its earlier
	// commits are gone); later versions update them from their commits.
	var proto *delta.Protocol
	var meta *delta.Metadata
	if l.recreatable(startVersion) {
		st, err := t.metaAt(ctx, l, startVersion)
		if err != nil {
			return nil, err
		}
		proto, meta = st.protocol, st.metadata
	}
	tl, err := t.timelineOf(ctx, l)
	if err != nil {
		return nil, err
	}
	var out []*Change
	for v := startVersion; v <= endVersion; v++ {
		acts, err := t.readCommit(ctx, l, v)
		if err != nil {
			return nil, err
		}
		hasCDC := false
		for _, a := range acts {
			switch {
			case a.Protocol != nil && (v > startVersion || proto == nil):
				proto = a.Protocol
			case a.MetaData != nil && (v > startVersion || meta == nil):
				meta = a.MetaData
			case a.CDC != nil:
				hasCDC = true
			}
		}
		if proto == nil || meta == nil {
			return nil, fmt.Errorf("deltalog: no protocol or metaData in effect at version %d; the log is incomplete", v)
		}
		var ts time.Time
		if ms, ok := tl.at(v); ok {
			ts = time.UnixMilli(ms).UTC()
		}
		for _, a := range acts {
			c := &Change{Version: v, Timestamp: ts, Protocol: proto, Metadata: meta}
			switch {
			case hasCDC && a.CDC != nil:
				c.Kind, c.CDC = ChangeCDC, a.CDC
			case !hasCDC && a.Add != nil && a.Add.DataChange:
				c.Kind, c.Add = ChangeAdd, a.Add
			case !hasCDC && a.Remove != nil && a.Remove.DataChange:
				c.Kind, c.Remove = ChangeRemove, a.Remove
			default:
				continue
			}
			out = append(out, c)
		}
	}
	return out, nil
}
