package export

import (
	"context"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/deltashare/deltashare/export/lake"
	"github.com/deltashare/deltashare/formats"
	"github.com/deltashare/deltashare/internal/hint"
)

// TableInfo is what Sync needs to know about a table's latest version.
type TableInfo struct {
	Version        int64    // latest table version
	Columns        []Column // schema at that version
	ChangeDataFeed bool     // delta.enableChangeDataFeed is on at that version
	ID             string   // the Delta table id (metaData.id); "" when unknown
}

// ReadPlan is what a read would cover, for --dry-run.
type ReadPlan struct {
	Files int   `json:"files"`
	Rows  int64 `json:"estimatedRows"` // from the files' statistics; -1 when unknown
	Bytes int64 `json:"bytes"`
}

// SyncTable is the table a Sync follows. The caller applies its shard to the files it reads
// (Snapshot, Changes and Plan see the same share of the files). [SharedTable] is the table of a
// Delta Sharing server; Sync itself knows nothing about Delta Sharing.
type SyncTable interface {
	// Info returns the table's latest version and its schema there.
	Info(ctx context.Context) (TableInfo, error)
	// Snapshot opens the rows of the table at version.
	Snapshot(ctx context.Context, version int64) (Source, error)
	// Changes opens the change data of versions from..to (inclusive): the table's columns and
	// _change_type, _commit_version and _commit_timestamp.
	Changes(ctx context.Context, from, to int64) (Source, error)
	// Plan says what Snapshot (kind RunSnapshot, from == to) or Changes would read, without
	// reading the data.
	Plan(ctx context.Context, kind RunKind, from, to int64) (ReadPlan, error)
}

// DefaultLockTTL is how long a sync lock stays valid without being refreshed (a running sync
// refreshes it every third of that).
const DefaultLockTTL = 10 * time.Minute

// SyncOptions configure Sync.
type SyncOptions struct {
	Table    string // share.schema.table, recorded in the state and checked on later runs
	Endpoint string // the profile's endpoint, recorded and checked likewise
	// Format of the files (parquet, csv or ndjson); a destination keeps the format of its
	// first run.
	Format formats.Options
	Shard  Shard
	// AllowSchemaChange goes on when the table's schema differs from the one in the state
	// (otherwise Sync fails with a *SchemaChangeError).
	AllowSchemaChange bool
	// DryRun reports what the run would export, without taking the lock or writing anything.
	DryRun   bool
	Progress Progress
	// BreakLock removes the destination's lock whoever holds it (a run on another host that
	// died, whose lock has not expired yet). A run still going then stops before its next file
	// or state write with "lost the lock"; the next run removes the files it left.
	BreakLock bool
	LockTTL   time.Duration    // 0 means DefaultLockTTL
	Now       func() time.Time // clock; nil means time.Now
	// Lake holds the options of the delta format (FormatDelta; see SyncDelta).
	Lake LakeOptions
}

// SyncResult describes a sync run. Its JSON form is what "--output json" prints.
type SyncResult struct {
	Table string `json:"table"`
	Shard string `json:"shard,omitempty"`
	// Action is "snapshot" (first run), "changes", "resnapshot" (a table without change data
	// feed: the snapshot again, in a new version folder) or "up-to-date".
	Action      string      `json:"action"`
	DryRun      bool        `json:"dryRun,omitempty"`
	FromVersion int64       `json:"fromVersion"`
	ToVersion   int64       `json:"toVersion"` // the version the destination is at after the run
	Dir         string      `json:"dir,omitempty"`
	Files       []string    `json:"files,omitempty"` // written (or, dry run, 0 and Plan says)
	Rows        int64       `json:"rows"`
	Bytes       int64       `json:"bytes"`
	Plan        *ReadPlan   `json:"plan,omitempty"` // dry run
	SchemaDiff  *SchemaDiff `json:"schemaChange,omitempty"`
	Cleaned     []string    `json:"cleaned,omitempty"` // leftovers of an interrupted run, removed
	// LockTakenOver is the lock of another run that this run replaced (expired, its process
	// gone, or BreakLock).
	LockTakenOver *LockTakeover `json:"lockTakenOver,omitempty"`
	Note          string        `json:"note,omitempty"`
	State         string        `json:"state"` // where the state is
	Seconds       float64       `json:"seconds"`
	Lake          *LakeResult   `json:"lake,omitempty"` // the delta format's commit
}

// Text describes the result in one or two lines.
func (r *SyncResult) Text() string {
	if r.Lake != nil {
		return r.lakeText()
	}
	var b strings.Builder
	switch {
	case r.Action == "up-to-date":
		fmt.Fprintf(&b, "up to date at version %d", r.ToVersion)
	case r.DryRun:
		fmt.Fprintf(&b, "dry run: would export %s to %s: %s", r.describe(), r.Dir, Plural(int64(r.Plan.Files), "file"))
		if r.Plan.Rows >= 0 {
			fmt.Fprintf(&b, ", about %s", Plural(r.Plan.Rows, "row"))
		} else {
			b.WriteString(", rows unknown (the files have no statistics)")
		}
		fmt.Fprintf(&b, " (%s to read); nothing written", HumanBytes(r.Plan.Bytes))
	default:
		fmt.Fprintf(&b, "exported %s: %s to %s (%s) in %s in %.2fs; state at version %d",
			r.describe(), Plural(r.Rows, "row"), Plural(int64(len(r.Files)), "file"), HumanBytes(r.Bytes), r.Dir, r.Seconds, r.ToVersion)
	}
	if len(r.Cleaned) > 0 {
		fmt.Fprintf(&b, "; removed %s left by an interrupted run", Plural(int64(len(r.Cleaned)), "file"))
	}
	if t := r.LockTakenOver; t != nil {
		why := map[string]string{"expired": "it had expired", "ownerGone": "its process no longer runs",
			"unreadable": "it was unreadable", "broken": "the lock was broken on request"}[t.Reason]
		fmt.Fprintf(&b, "\nnote: took over the lock of the run of host %s, pid %d, since %s (%s)", t.Host, t.PID, t.Since.Format(time.RFC3339), why)
	}
	if r.Note != "" {
		b.WriteString("\nnote: " + r.Note)
	}
	return b.String()
}

func (r *SyncResult) describe() string {
	switch r.Action {
	case "changes":
		return fmt.Sprintf("the changes of versions %d to %d", r.FromVersion, r.ToVersion)
	case "resnapshot":
		return fmt.Sprintf("the snapshot again at version %d", r.ToVersion)
	}
	return fmt.Sprintf("the snapshot at version %d", r.ToVersion)
}

// SchemaChangeError is returned when the table's schema changed since the last run and
// AllowSchemaChange is off.
type SchemaChangeError struct {
	Table       string
	FromVersion int64 // the destination's version
	ToVersion   int64 // the table's latest version
	Diff        SchemaDiff
	Lake        bool // the destination is a Delta table (FormatDelta)
}

func (e *SchemaChangeError) Error() string {
	return fmt.Sprintf("the schema of %s changed between version %d (the destination) and %d: %s; nothing was exported. %s",
		e.Table, e.FromVersion, e.ToVersion, e.Diff, hint.Render(e.Hint(), nil))
}

// Hint is what to do next, options named {LikeThis}.
func (e *SchemaChangeError) Hint() string {
	if e.Lake {
		return "Use {AllowSchemaChange} to go on (added nullable columns join the Delta table in the same commit; any other change rewrites the table), or sync to a new destination"
	}
	return "Use {AllowSchemaChange} to export with the new schema (files of both schemas then sit side by side), or sync to a new destination"
}

// SnapshotDir and ChangesDir name the folders of a run's files.
func SnapshotDir(v int64) string       { return fmt.Sprintf("snapshot/v=%08d/", v) }
func ChangesDir(from, to int64) string { return fmt.Sprintf("changes/v=%08d-%08d/", from, to) }

// clock is the run's clock: Now, or time.Now.
func (o SyncOptions) clock() func() time.Time {
	if o.Now == nil {
		return time.Now
	}
	return o.Now
}

// Sync brings the destination sink up to date with the table, keeping a State there:
//
//  1. Without a state, it exports the snapshot at the latest version V to snapshot/v=V/.
//  2. With a state at version V and the table at W > V, it exports the change data of
//     V+1..W to changes/v=(V+1)-W/ when the table has a change data feed, else the snapshot
//     at W to snapshot/v=W/ (the "resnapshot" action; the note says so).
//  3. At W == V it does nothing: "up to date".
//
// A run takes a lock object beside the state (Shard.LockName; refreshed while it runs, expired
// after LockTTL if the run dies, taken over at once when it names a process of this host that no
// longer runs, removed by BreakLock), removes the part files of its shard that no state records
// and temporary files of its shard (leftovers of an interrupted run; also when there is nothing
// new), writes its files through Run (temporary names, committed only when all are written, each
// only after checking that the run still holds the lock), checks that the state was not replaced
// meanwhile and again that it holds the lock, and writes the new state last, atomically. A run
// that fails leaves the previous state; the next run computes the same range (or a larger one),
// writes the same deterministic names and cleans what no state records, so no row is exported
// twice or lost.
//
// With Format FormatDelta the destination is a Delta table instead, kept by [SyncDelta] (the
// table must be a [LakeTable]); it has no state file and no lock.
func Sync(ctx context.Context, table SyncTable, sink Sink, opts SyncOptions) (res *SyncResult, err error) {
	if opts.Format.Format == FormatDelta {
		return syncDelta(ctx, table, sink, opts, opts.Lake)
	}
	start := time.Now()
	now := opts.clock()
	if opts.LockTTL <= 0 {
		opts.LockTTL = DefaultLockTTL
	}
	if err := opts.Format.Validate(); err != nil {
		return nil, err
	}
	switch opts.Format.Format {
	case formats.Parquet, formats.CSV, formats.NDJSON:
	default:
		return nil, fmt.Errorf("sync writes parquet, csv or ndjson, not %s", opts.Format.Format)
	}
	if _, ok := sink.(ObjectReader); !ok {
		return nil, fmt.Errorf("this output cannot hold a sync state: sync to a local directory or an object store URL")
	}
	// A Delta table's readers ignore files its log does not name, and its VACUUM deletes them:
	// files of this format must not go into one (checked before the lock is written there).
	if log, err := sink.List(ctx, lake.LogDir); err != nil {
		return nil, err
	} else if len(log) > 0 {
		return nil, fmt.Errorf("%s is a Delta table (it has a %s): %s files synced into it would be ignored by its readers and deleted by its VACUUM; sync it in the delta format, or to a new destination",
			location(sink, ""), strings.TrimSuffix(lake.LogDir, "/"), opts.Format.Format)
	}
	stateName := opts.Shard.StateName()
	res = &SyncResult{Table: opts.Table, Shard: opts.Shard.String(), State: location(sink, stateName)}
	defer func() {
		if res != nil {
			res.Seconds = time.Since(start).Seconds()
		}
	}()

	if !opts.DryRun {
		lock, err := takeLock(ctx, sink, opts.Shard.LockName(), opts.Table, opts.LockTTL, now, opts.BreakLock)
		if err != nil {
			return nil, err
		}
		res.LockTakenOver = lock.took
		defer func() {
			if rerr := lock.release(context.WithoutCancel(ctx)); rerr != nil && err == nil {
				err = rerr
			}
		}()
		ctx = withLock(ctx, lock)
	}
	st, err := ReadState(ctx, sink, stateName)
	if err != nil {
		return nil, err
	}
	if err := checkState(st, opts, location(sink, stateName)); err != nil {
		return nil, err
	}
	prefix := opts.Shard.PartPrefix()
	if !opts.DryRun {
		// First, even when there is nothing new: files of a run that died or lost its lock, and
		// temporary files of an interrupted state write.
		if res.Cleaned, err = cleanUnrecorded(ctx, sink, st, prefix, stateName); err != nil {
			return nil, err
		}
	}
	info, err := table.Info(ctx)
	if err != nil {
		return nil, err
	}
	if st != nil && info.ID != "" && st.TableID != "" && info.ID != st.TableID {
		return nil, fmt.Errorf("table %s was recreated (its Delta table id changed from %s to %s), so its versions do not continue those of %s: sync to a new destination", opts.Table, st.TableID, info.ID, res.State)
	}

	kind := RunSnapshot
	from, to := info.Version, info.Version
	res.Action = "snapshot"
	if st != nil {
		if info.Version < st.LastVersion {
			return nil, fmt.Errorf("table %s is at version %d, older than the destination's version %d: was it restored or recreated? sync to a new destination", opts.Table, info.Version, st.LastVersion)
		}
		if info.Version == st.LastVersion {
			res.Action, res.FromVersion, res.ToVersion = "up-to-date", st.LastVersion, st.LastVersion
			return res, nil
		}
		if d := DiffSchemas(st.Schema, info.Columns); !d.Empty() {
			if !opts.AllowSchemaChange {
				return nil, &SchemaChangeError{Table: opts.Table, FromVersion: st.LastVersion, ToVersion: info.Version, Diff: d}
			}
			res.SchemaDiff = &d
		}
		if info.ChangeDataFeed {
			kind, from, res.Action = RunChanges, st.LastVersion+1, "changes"
		} else {
			res.Action = "resnapshot"
			res.Note = fmt.Sprintf("table %s has no change data feed (delta.enableChangeDataFeed), so this run exported the whole table at version %d again, to a new folder; the folder of the state's lastVersion holds the current table", opts.Table, info.Version)
		}
	}
	res.FromVersion, res.ToVersion = from, to
	dir := SnapshotDir(to)
	if kind == RunChanges {
		dir = ChangesDir(from, to)
	}
	res.Dir = location(sink, strings.TrimSuffix(dir, "/")) + "/"

	if opts.DryRun {
		p, err := table.Plan(ctx, kind, from, to)
		if err != nil {
			return nil, err
		}
		res.DryRun, res.Plan = true, &p
		return res, nil
	}

	var src Source
	if kind == RunChanges {
		src, err = table.Changes(ctx, from, to)
	} else {
		src, err = table.Snapshot(ctx, to)
	}
	if err != nil {
		return nil, err
	}
	defer src.Release()
	rec := &recordingSink{Sink: sink, ctx: context.WithoutCancel(ctx), lock: lockFrom(ctx)}
	sum, err := Run(ctx, src, rec, Options{Output: dir, Format: opts.Format, Overwrite: true,
		PartPrefix: prefix, Progress: opts.Progress})
	if err != nil {
		return nil, err
	}
	files := rec.committed()

	// Before recording: no other run may have written the state meanwhile, and this run must
	// still hold the lock (checked last, right before the write).
	again, err := ReadState(ctx, sink, stateName)
	if err != nil {
		return nil, err
	}
	if gen(again) != gen(st) {
		return nil, fmt.Errorf("%w: another sync run advanced the state %s while this one ran (generation %d, now %d); this run's files are not recorded: run sync again", ErrLocked, res.State, gen(st), gen(again))
	}
	if l := lockFrom(ctx); l != nil {
		if err := l.hold(ctx); err != nil {
			return nil, err
		}
	}

	next := &State{FormatVersion: StateFormatVersion, Table: opts.Table, Endpoint: opts.Endpoint, TableID: info.ID,
		Shard: opts.Shard.String(), Format: string(opts.Format.Format), LastVersion: to,
		Schema: info.Columns, Fingerprint: SchemaFingerprint(info.Columns), Generation: gen(st) + 1,
		UpdatedAt: now().UTC()}
	if st != nil {
		next.Runs = append(next.Runs, st.Runs...)
	}
	next.Runs = append(next.Runs, RunInfo{Kind: kind, FromVersion: from, ToVersion: to, Dir: dir, Files: files,
		Rows: sum.Rows, Bytes: sum.Bytes, Completed: now().UTC()})
	if err := WriteState(ctx, sink, stateName, next); err != nil {
		return nil, fmt.Errorf("write the sync state (the files of this run are in place but not recorded; the next run writes them again): %w", err)
	}
	res.Files = make([]string, len(files))
	for i, f := range files {
		res.Files[i] = location(sink, f)
	}
	res.Rows, res.Bytes = sum.Rows, sum.Bytes
	return res, nil
}

func gen(s *State) int64 {
	if s == nil {
		return 0
	}
	return s.Generation
}

type lockKey struct{}

func withLock(ctx context.Context, l *syncLock) context.Context {
	return context.WithValue(ctx, lockKey{}, l)
}

func lockFrom(ctx context.Context) *syncLock {
	l, _ := ctx.Value(lockKey{}).(*syncLock)
	return l
}

// checkState refuses a state that belongs to another table, server, shard or format.
func checkState(st *State, opts SyncOptions, where string) error {
	if st == nil {
		return nil
	}
	switch {
	case !strings.EqualFold(st.Table, opts.Table):
		return fmt.Errorf("the destination follows table %s (state %s), not %s: sync each table to its own destination", st.Table, where, opts.Table)
	case st.Endpoint != opts.Endpoint:
		return fmt.Errorf("the destination follows %s from another server (%s, state %s): sync to a new destination for this profile", st.Table, st.Endpoint, where)
	case st.Shard != opts.Shard.String():
		return fmt.Errorf("the state %s is of shard %q, not %q", where, st.Shard, opts.Shard.String())
	case st.Format != string(opts.Format.Format):
		err := fmt.Errorf("the destination holds %s files (state %s)", st.Format, where)
		if f, perr := formats.ParseFormat(st.Format); perr == nil {
			return hint.New(err, "set {Format} to "+string(f)+", or sync to a new destination")
		}
		return hint.New(err, "sync to a new destination")
	}
	return nil
}

// cleanUnrecorded removes the part files of this shard (prefix) under snapshot/ and changes/
// that the state does not record, and the temporary files of those part files and of the state
// stateName (beside them in a local directory; under BlobTempDir in a bucket, whichever run
// wrote them): leftovers of a run that died or lost its lock after committing some files but
// before writing the state, or while writing it. The caller holds the lock.
func cleanUnrecorded(ctx context.Context, sink Sink, st *State, prefix, stateName string) ([]string, error) {
	known := st.files()
	var removed []string
	for _, top := range []string{"snapshot/", "changes/"} {
		names, err := sink.List(ctx, top)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if known[n] {
				continue
			}
			base := path.Base(n)
			if i := strings.Index(base, TempMarker); i > 0 && strings.HasPrefix(base, ".") {
				base = base[1:i]
			}
			if !isPart(base, prefix) {
				continue
			}
			if err := sink.Remove(ctx, n); err != nil {
				return removed, err
			}
			removed = append(removed, location(sink, n))
		}
	}
	// Temporary files of part files and of the state that were never committed (a run killed
	// before the rename or copy): a local sink keeps them beside the final name, an object store
	// under BlobTempDir.
	switch s := unwrapSink(sink).(type) {
	case *LocalSink:
		names, err := s.tempsOf(stateName)
		if err != nil {
			return removed, err
		}
		for _, n := range names {
			if err := s.Remove(ctx, n); err != nil {
				return removed, err
			}
			removed = append(removed, location(sink, n))
		}
	case *BlobSink:
		keys, err := s.tempObjects(ctx, func(name string) bool {
			if name == stateName {
				return true
			}
			return (strings.HasPrefix(name, "snapshot/") || strings.HasPrefix(name, "changes/")) && isPart(path.Base(name), prefix)
		})
		if err != nil {
			return removed, err
		}
		for _, k := range keys {
			loc, err := s.removeKey(ctx, k)
			if err != nil {
				return removed, err
			}
			removed = append(removed, loc)
		}
	}
	return removed, nil
}

// unwrapSink returns the sink a wrapper (one with a method Unwrap() Sink) wraps, repeatedly.
func unwrapSink(s Sink) Sink {
	for {
		u, ok := s.(interface{ Unwrap() Sink })
		if !ok {
			return s
		}
		s = u.Unwrap()
	}
}

// recordingSink records the names of the objects committed through it. With a lock, it
// commits an object only while the run holds the lock (checked right before each commit), so
// that a run that lost its lock (paused past its time to live) makes nothing visible.
type recordingSink struct {
	Sink
	ctx   context.Context
	lock  *syncLock
	mu    sync.Mutex
	names map[string]bool
}

func (s *recordingSink) Location(name string) string { return location(s.Sink, name) }

func (s *recordingSink) Create(ctx context.Context, name string) (Object, error) {
	o, err := s.Sink.Create(ctx, name)
	if err != nil {
		return nil, err
	}
	return &recordingObject{Object: o, s: s, name: name}, nil
}

func (s *recordingSink) committed() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortedKeys(s.names)
}

type recordingObject struct {
	Object
	s    *recordingSink
	name string
}

func (o *recordingObject) Close() error {
	if c, ok := o.Object.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}

func (o *recordingObject) Commit() error {
	if l := o.s.lock; l != nil {
		if err := l.hold(o.s.ctx); err != nil {
			return err
		}
	}
	if err := o.Object.Commit(); err != nil {
		return err
	}
	o.s.mu.Lock()
	defer o.s.mu.Unlock()
	if o.s.names == nil {
		o.s.names = map[string]bool{}
	}
	o.s.names[o.name] = true
	return nil
}
