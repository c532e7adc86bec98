package export

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/deltashare/deltashare/export/lake"
	"github.com/deltashare/deltashare/formats"
	"github.com/deltashare/deltashare/sharing/delta"
)

// FormatDelta is the sync format that keeps a Delta table at the destination (see SyncDelta).
const FormatDelta formats.Format = "delta"

// Defaults of the Delta format of a sync.
const (
	DefaultCheckpointInterval = 10
	// DefaultTargetFileSize is the size up to which small source files are coalesced.
	DefaultTargetFileSize = 128 << 20
	// DefaultOrphanGrace is how old a data file that no commit references must be before a
	// run removes it: younger ones may belong to a run that is about to commit.
	DefaultOrphanGrace = 24 * time.Hour
	// MinVacuumRetention is the shortest --vacuum retention allowed without forcing it.
	MinVacuumRetention = 24 * time.Hour
)

// Tags of the add actions of a lake table.
const (
	// TagSourceFileID holds the ids of the source table's files a data file was made from,
	// comma-separated (several when small files were coalesced).
	TagSourceFileID = "deltashare.sourceFileId"
	// TagSourceVersion holds the source table version the data file was read at.
	TagSourceVersion = "deltashare.sourceVersion"
)

// LakeInfo describes the latest version of a table for a lake sync.
type LakeInfo struct {
	Version int64
	TableID string // the Delta table id; "" when unknown
	Columns []Column
	// SchemaString is the table's logical schema as a Delta schema string (no column mapping
	// metadata), PartitionColumns its partition columns (logical names).
	SchemaString     string
	PartitionColumns []string
}

// FileChange is a data file added to or removed from a table at a version.
type FileChange struct {
	Version int64
	Remove  bool
	ID      string // the server's file id (stable across requests)
}

// ErrNoHistory is returned by LakeTable.FileChanges when the server does not share the
// table's history (or not back to the version asked for).
var ErrNoHistory = errors.New("the server does not share the history of the table")

// ErrTableMoved is returned by LakeTable.ReadFiles when it can only read the latest version
// and that is no longer the one asked for: the run starts again.
var ErrTableMoved = errors.New("the table has a new version")

// LakeSource is a source whose records each come from one file of the table.
type LakeSource interface {
	Source
	// File returns the id of the file the current record came from, its partition values
	// (logical column names, serialized as Delta partition values; empty is null) and its size.
	File() (id string, partitionValues delta.PartitionValues, size int64)
	// FileIDs lists the ids of the files the read covers.
	FileIDs() []string
}

// LakeTable is the table a Delta-format sync follows. [SharedTable] is one.
type LakeTable interface {
	LakeInfo(ctx context.Context) (LakeInfo, error)
	// FileChanges lists the data files added and removed by versions from..to (inclusive), in
	// version order; ErrNoHistory when the server does not share them.
	FileChanges(ctx context.Context, from, to int64) ([]FileChange, error)
	// FileIDs lists the ids of the table's files at version (ErrTableMoved when the server can
	// only list the latest version and that is another one).
	FileIDs(ctx context.Context, version int64) ([]string, error)
	// ReadFiles reads the files of the table at version for which keep is true (all files when
	// keep is nil), with deletion vectors applied.
	ReadFiles(ctx context.Context, version int64, keep func(id string) bool) (LakeSource, error)
}

// LakeOptions are the options of a Delta-format sync that the other formats do not have.
type LakeOptions struct {
	// CheckpointInterval writes a checkpoint every that many commits (0: the default, 10).
	CheckpointInterval int64
	// OrphanGrace is the age of an unreferenced data file before it is removed (0: the default).
	OrphanGrace time.Duration
	// Vacuum, when positive, deletes data files removed by commits older than Vacuum.
	Vacuum time.Duration
	// ForceVacuum allows a Vacuum below MinVacuumRetention.
	ForceVacuum bool
	// TargetFileSize coalesces source files of one partition into a data file until it holds
	// about this many bytes (by the source files' sizes); a source file is never split. 0 means
	// DefaultTargetFileSize, negative one data file per source file.
	TargetFileSize int64
	// hook, in tests, runs at the named steps of a run ("data", "commit", "checkpoint").
	hook func(step string)
	// maxOpen bounds the data files written at once (one per partition; 0: maxOpenFiles).
	maxOpen int
}

// LakeResult is what a Delta-format sync did, in the JSON of a SyncResult.
type LakeResult struct {
	CommitVersion *int64   `json:"commitVersion,omitempty"` // the table version written; absent when none
	TableVersion  int64    `json:"tableVersion"`            // the lake table's version after the run
	Added         int      `json:"filesAdded"`
	Removed       int      `json:"filesRemoved"`
	Checkpoint    bool     `json:"checkpoint,omitempty"`
	Vacuumed      []string `json:"vacuumed,omitempty"`
}

// appID is the txn application id of a sync of table from endpoint.
func appID(endpoint, table string) string {
	h := sha256.Sum256([]byte(endpoint + "\x00" + strings.ToLower(table)))
	return "deltashare-sync-" + hex.EncodeToString(h[:12])
}

// maxOpenFiles is how many data files (partitions) a run writes at once by default: each holds
// a row group in memory until it is flushed.
const maxOpenFiles = 16

// dataName matches the data files a lake sync writes: part-<unix ms>-<random>.snappy.parquet.
var dataName = regexp.MustCompile(`^part-([0-9]{13})-[0-9a-f]{16}\.snappy\.parquet$`)

func newDataName(now time.Time) string {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	return fmt.Sprintf("part-%013d-%s.snappy.parquet", now.UnixMilli(), hex.EncodeToString(rnd[:]))
}

// sinkStore is a sink as a lake.Store.
type sinkStore struct{ Sink }

func (s sinkStore) ReadObject(ctx context.Context, name string) ([]byte, error) {
	return s.Sink.(ObjectReader).ReadObject(ctx, name)
}

func (s sinkStore) CreateExclusive(ctx context.Context, name string, data []byte) (bool, error) {
	return s.Sink.(ExclusiveCreator).CreateExclusive(ctx, name, data)
}

func (s sinkStore) Put(ctx context.Context, name string, data []byte) error {
	return writeObject(ctx, s.Sink, name, data)
}

// syncDelta is Sync for FormatDelta: see SyncDelta.
func syncDelta(ctx context.Context, table SyncTable, sink Sink, opts SyncOptions, lo LakeOptions) (*SyncResult, error) {
	lt, ok := table.(LakeTable)
	if !ok {
		return nil, fmt.Errorf("this table cannot be synced as a Delta table")
	}
	return SyncDelta(ctx, lt, sink, opts, lo)
}

// SyncDelta keeps a Delta table at the destination that mirrors the source table:
//
//   - The first run writes the table at its latest version V as Parquet data files (one per
//     source file, deletion vectors applied, logical column names) and commits version 0 of the
//     lake table: protocol (reader 1, writer 2), metaData (the logical schema and partition
//     columns), an add per data file with partition values, statistics and the source file id
//     in its tags, a txn action recording V for this source, and commitInfo.
//   - A later run reads the source's file-level changes since the recorded version (a query
//     with startingVersion), writes a data file per added source file, removes the data files
//     made from removed ones, and commits it all, with the new txn version, in one commit.
//     Without shared history it rewrites the table in one commit (the note says so).
//   - With nothing new it commits nothing.
//
// Commits are created put-if-absent, so of two runs only one writes a version; the other
// re-reads the log and finds its work done or redoes it on top. Data files are written before
// the commit that references them; files of a run that died before committing are removed by a
// later run once they are older than OrphanGrace.
func SyncDelta(ctx context.Context, table LakeTable, sink Sink, opts SyncOptions, lo LakeOptions) (res *SyncResult, err error) {
	start := time.Now()
	now := opts.clock()
	if lo.CheckpointInterval <= 0 {
		lo.CheckpointInterval = DefaultCheckpointInterval
	}
	if lo.TargetFileSize == 0 {
		lo.TargetFileSize = DefaultTargetFileSize
	}
	if lo.OrphanGrace <= 0 {
		lo.OrphanGrace = DefaultOrphanGrace
	}
	if lo.Vacuum > 0 && lo.Vacuum < MinVacuumRetention && !lo.ForceVacuum {
		return nil, fmt.Errorf("a vacuum retention of %s is below %s: a reader of an older version, or a run in progress, may still need the files; use a longer retention, or force it", lo.Vacuum, MinVacuumRetention)
	}
	if !opts.Shard.IsZero() {
		return nil, fmt.Errorf("a Delta table is synced by one run at a time (commits are atomic per version): drop the shard for the delta format")
	}
	if _, ok := sink.(ObjectReader); !ok {
		return nil, fmt.Errorf("this output cannot hold a Delta table: sync to a local directory or an object store URL")
	}
	if _, ok := sink.(ExclusiveCreator); !ok {
		return nil, fmt.Errorf("this output cannot create files exclusively, which Delta commits need")
	}
	store := sinkStore{sink}
	res = &SyncResult{Table: opts.Table, State: location(sink, strings.TrimSuffix(lake.LogDir, "/")) + "/"}
	res.Dir = strings.TrimSuffix(location(sink, "x"), "x")
	defer func() {
		if res != nil {
			res.Seconds = time.Since(start).Seconds()
		}
	}()
	w := &lakeWriter{table: table, sink: sink, store: store, opts: opts, lo: lo, now: now, app: appID(opts.Endpoint, opts.Table), res: res}
	for attempt := 0; ; attempt++ {
		err := w.run(ctx)
		if !errors.Is(err, lake.ErrConflict) && !errors.Is(err, ErrTableMoved) || attempt >= 4 {
			if err != nil {
				w.discard(ctx) // (run leaves a conflict's files to this loop)
				return nil, err
			}
			return res, nil
		}
		// Another run committed this version first: our files are not referenced, and the
		// next attempt starts from the new log.
		w.discard(ctx)
	}
}

// lakeWriter is one Delta-format sync.
type lakeWriter struct {
	table LakeTable
	sink  Sink
	store lake.Store
	opts  SyncOptions
	lo    LakeOptions
	now   func() time.Time
	app   string
	res   *SyncResult

	written []string // data files of this attempt, not yet committed
	rows    int64
	bytes   int64
}

func (w *lakeWriter) hook(step string) {
	if w.lo.hook != nil {
		w.lo.hook(step)
	}
}

// discard removes the data files of an attempt that did not commit.
func (w *lakeWriter) discard(ctx context.Context) {
	for _, n := range w.written {
		_ = w.sink.Remove(context.WithoutCancel(ctx), n)
	}
	w.written, w.rows, w.bytes = nil, 0, 0
}

func (w *lakeWriter) run(ctx context.Context) (err error) {
	defer func() {
		if err != nil && !errors.Is(err, lake.ErrConflict) {
			w.discard(ctx)
		}
	}()
	snap, err := lake.Read(ctx, w.store)
	if err != nil {
		return fmt.Errorf("read the Delta log at %s: %w", w.res.State, err)
	}
	if snap.Version < 0 {
		if ok, err := w.sink.Exists(ctx, (Shard{}).StateName()); err != nil {
			return err
		} else if ok {
			return fmt.Errorf("%s holds the files and state of a sync in another format (%s): sync --format delta to a new destination", w.res.Dir, (Shard{}).StateName())
		}
	}
	applied := int64(-1)
	if snap.Version >= 0 {
		t, ok := snap.Txns[w.app]
		if !ok {
			return fmt.Errorf("%s holds a Delta table that does not follow %s from this server (no txn action of this sync in its log): sync to a new destination", w.res.Dir, w.opts.Table)
		}
		applied = t.Version
	}
	if !w.opts.DryRun {
		if w.res.Cleaned, err = w.cleanOrphans(ctx, snap); err != nil {
			return err
		}
	}
	info, err := w.table.LakeInfo(ctx)
	if err != nil {
		return err
	}
	if snap.Version >= 0 {
		if id := snap.Metadata.Configuration["deltashare.sourceTableId"]; id != "" && info.TableID != "" && id != info.TableID {
			return fmt.Errorf("table %s was recreated (its Delta table id changed from %s to %s), so its versions do not continue those the Delta table at %s follows: sync to a new destination", w.opts.Table, id, info.TableID, w.res.Dir)
		}
	}
	res := w.res
	res.FromVersion, res.ToVersion = applied, info.Version
	lr := &LakeResult{TableVersion: snap.Version}
	res.Lake = lr
	if snap.Version >= 0 {
		if info.Version < applied {
			return fmt.Errorf("table %s is at version %d, older than version %d that the Delta table at %s follows: was it restored or recreated? sync to a new destination", w.opts.Table, info.Version, applied, w.res.Dir)
		}
		if info.Version == applied {
			res.Action, res.FromVersion = "up-to-date", applied
			return w.vacuum(ctx, snap, lr)
		}
	}

	md := w.metadata(info, snap)
	rewrite := snap.Version < 0
	var newMeta *delta.Metadata
	if snap.Version >= 0 {
		oldCols, err := columnsOf(snap.Metadata.SchemaString)
		if err != nil {
			return fmt.Errorf("the Delta table's schema does not parse: %w", err)
		}
		d := DiffSchemas(oldCols, info.Columns)
		partsChanged := strings.Join(snap.Metadata.PartitionColumns, "\x00") != strings.Join(info.PartitionColumns, "\x00")
		if !d.Empty() || partsChanged {
			if !w.opts.AllowSchemaChange {
				if d.Empty() {
					return fmt.Errorf("the partition columns of %s changed from %v to %v; nothing was written. Allow the schema change to rewrite the Delta table, or sync to a new destination", w.opts.Table, snap.Metadata.PartitionColumns, info.PartitionColumns)
				}
				return &SchemaChangeError{Table: w.opts.Table, FromVersion: applied, ToVersion: info.Version, Diff: d, Lake: true}
			}
			res.SchemaDiff = &d
			m := md
			newMeta = &m
			if !additive(d) || partsChanged {
				rewrite = true
				res.Note = fmt.Sprintf("the schema of %s changed in a way old data files cannot be read with (not only added nullable columns), so this run rewrote the whole Delta table at version %d", w.opts.Table, info.Version)
			}
		}
	}

	// What to read: every file (first run, rewrite) or the net file changes.
	var keep map[string]bool
	var removePaths map[string]bool
	if !rewrite {
		keep, removePaths, err = w.netChanges(ctx, snap, applied+1, info.Version)
		if errors.Is(err, ErrNoHistory) {
			rewrite = true
			res.Note = fmt.Sprintf("the server does not share the history of %s, so this run rewrote the whole Delta table at version %d (one commit: every file removed and added again)", w.opts.Table, info.Version)
		} else if err != nil {
			return err
		}
	}
	switch {
	case snap.Version < 0:
		res.Action, res.FromVersion = "snapshot", info.Version
	case rewrite:
		res.Action = "rewrite"
	default:
		res.Action = "changes"
		res.FromVersion = applied + 1
	}
	if w.opts.DryRun {
		res.DryRun = true
		return nil
	}

	var adds []*delta.Add
	if rewrite || len(keep) > 0 {
		var filter func(string) bool
		if !rewrite {
			filter = func(id string) bool { return keep[id] }
		}
		if adds, err = w.writeFiles(ctx, info, filter, keep); err != nil {
			return err
		}
	}
	w.hook("data")

	// The commit.
	ts := w.now().UnixMilli()
	var acts []delta.Action
	blind := false
	ci := &delta.CommitInfo{Timestamp: &ts, Operation: "WRITE", EngineInfo: "deltashare", IsBlindAppend: &blind,
		OperationParameters: map[string]any{"source": w.opts.Table, "sourceVersion": strconv.FormatInt(info.Version, 10)}}
	if snap.Version < 0 || rewrite {
		ci.OperationParameters["mode"] = "Overwrite"
	} else {
		ci.OperationParameters["mode"] = "Append"
		ci.OperationParameters["fromSourceVersion"] = strconv.FormatInt(applied+1, 10)
	}
	acts = append(acts, delta.Action{CommitInfo: ci})
	if snap.Version < 0 {
		p := lakeProtocol(info.SchemaString)
		acts = append(acts, delta.Action{Protocol: &p}, delta.Action{MetaData: &md})
	} else if newMeta != nil {
		if p := lakeProtocol(info.SchemaString); p.MinReaderVersion > snap.Protocol.MinReaderVersion {
			acts = append(acts, delta.Action{Protocol: &p})
		}
		acts = append(acts, delta.Action{MetaData: newMeta})
	}
	acts = append(acts, delta.Action{Txn: &delta.Txn{AppID: w.app, Version: info.Version, LastUpdated: &ts}})
	removed := 0
	for _, f := range snap.SortedFiles() {
		if rewrite || removePaths[f.Path] {
			acts = append(acts, delta.Action{Remove: &delta.Remove{Path: f.Path, DeletionTimestamp: &ts, DataChange: true,
				ExtendedFileMetadata: true, PartitionValues: f.PartitionValues, Size: &f.Size, Tags: f.Tags}})
			removed++
		}
	}
	for _, a := range adds {
		acts = append(acts, delta.Action{Add: a})
	}
	next := snap.Version + 1
	if err := lake.Commit(ctx, w.store, next, acts); err != nil {
		if errors.Is(err, lake.ErrConflict) {
			again, rerr := lake.Read(ctx, w.store)
			if rerr == nil {
				if t, ok := again.Txns[w.app]; ok && t.Version >= info.Version {
					// Another run brought the table to this version: done.
					w.discard(ctx)
					res.Action, res.Note = "up-to-date", fmt.Sprintf("another sync run committed version %d of the Delta table first; this run's files were removed", next)
					lr.TableVersion, lr.CommitVersion = again.Version, nil
					res.ToVersion = t.Version
					return nil
				}
			}
		}
		return err
	}
	w.written = nil
	w.hook("commit")
	lr.CommitVersion, lr.TableVersion, lr.Added, lr.Removed = &next, next, len(adds), removed
	for _, a := range adds {
		res.Files = append(res.Files, location(w.sink, a.Path))
	}
	res.Rows, res.Bytes = w.rows, w.bytes

	after := snap
	for i := range acts {
		after.Apply(&acts[i])
	}
	after.Version = next
	if next > 0 && next%w.lo.CheckpointInterval == 0 {
		cp := after
		if w.lo.Vacuum > 0 {
			// Tombstones past the retention are dropped from the checkpoint (their files are
			// deleted by the vacuum below; one left by a killed run is then an orphan).
			cp = withoutTombstonesBefore(after, w.now().Add(-w.lo.Vacuum).UnixMilli())
		}
		if err := lake.WriteCheckpoint(ctx, w.store, cp); err != nil {
			res.Note = joinNote(res.Note, fmt.Sprintf("version %d is committed, but its checkpoint failed (readers replay the commits instead): %v", next, err))
		} else {
			lr.Checkpoint = true
		}
		w.hook("checkpoint")
	}
	return w.vacuum(ctx, after, lr)
}

// withoutTombstonesBefore returns a copy of snap without the tombstones deleted at or before
// cutoff (ms).
func withoutTombstonesBefore(snap *lake.Snapshot, cutoff int64) *lake.Snapshot {
	c := *snap
	c.Tombstones = make(map[string]*delta.Remove, len(snap.Tombstones))
	for p, r := range snap.Tombstones {
		if deletedAt(r) > cutoff {
			c.Tombstones[p] = r
		}
	}
	return &c
}

// deletedAt is when the file of the tombstone r was removed (ms since the epoch); 0 when the
// log does not say.
func deletedAt(r *delta.Remove) int64 { return orZero(r.DeletionTimestamp) }

func orZero(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// additive reports whether a schema change only adds nullable columns.
func additive(d SchemaDiff) bool {
	if len(d.Removed) > 0 || len(d.Changed) > 0 {
		return false
	}
	for _, c := range d.Added {
		if !c.Nullable {
			return false
		}
	}
	return true
}

// sourceIDs are the source file ids of a data file's tag.
func sourceIDs(f *delta.Add) []string {
	v := f.Tags[TagSourceFileID]
	if v == "" {
		return nil
	}
	ids := strings.Split(v, ",")
	for i, id := range ids {
		if u, err := url.PathUnescape(id); err == nil {
			ids[i] = u
		}
	}
	return ids
}

// joinIDs is the tag value of source file ids: comma-separated, each escaped (ids are hex or
// UUIDs on the servers we know, but nothing forbids a comma or a percent sign).
func joinIDs(ids []string) string {
	esc := make([]string, len(ids))
	for i, id := range ids {
		esc[i] = strings.NewReplacer("%", "%25", ",", "%2C").Replace(id)
	}
	return strings.Join(esc, ",")
}

// netChanges folds the file changes of versions from..to into the source files to read (added,
// and still there at to) and the data files to remove: those made from removed source files,
// with, when they also hold rows of other source files (coalesced), those files read again.
func (w *lakeWriter) netChanges(ctx context.Context, snap *lake.Snapshot, from, to int64) (add, removePaths map[string]bool, err error) {
	changes, err := w.table.FileChanges(ctx, from, to)
	if err != nil {
		return nil, nil, err
	}
	byID := map[string][]string{}   // source id -> data files holding its rows
	byPath := map[string][]string{} // data file -> source ids
	for p, f := range snap.Files {
		ids := sourceIDs(f)
		byPath[p] = ids
		for _, id := range ids {
			byID[id] = append(byID[id], p)
		}
	}
	add, remove := map[string]bool{}, map[string]bool{}
	sort.SliceStable(changes, func(i, j int) bool {
		if changes[i].Version != changes[j].Version {
			return changes[i].Version < changes[j].Version
		}
		return changes[i].Remove && !changes[j].Remove // within a version, removes first
	})
	for _, c := range changes {
		if c.Remove {
			delete(add, c.ID)
			if byID[c.ID] != nil {
				remove[c.ID] = true
			}
			continue
		}
		if byID[c.ID] != nil {
			remove[c.ID] = true // re-added (a new deletion vector): replace its data files
		}
		add[c.ID] = true
	}
	// Reconcile with the files of the table at to: a server lists only the changes with
	// dataChange, so a compaction (OPTIMIZE: files rewritten, rows unchanged) shows up here
	// only. The data files of source files gone from the table go, and source files the
	// table has and the lake table does not are read.
	ids, err := w.table.FileIDs(ctx, to)
	if err != nil {
		return nil, nil, err
	}
	live := make(map[string]bool, len(ids))
	for _, id := range ids {
		live[id] = true
	}
	reconciled := 0
	for id := range byID {
		if !live[id] && !remove[id] {
			remove[id] = true
			reconciled++
		}
	}
	for id := range live {
		if byID[id] == nil && !add[id] {
			add[id] = true
			reconciled++
		}
	}
	for id := range add {
		if !live[id] {
			return nil, nil, fmt.Errorf("the server listed file %s as added by version %d or earlier but not in the table at version %d: its answers disagree; run sync again", id, to, to)
		}
	}
	if reconciled > 0 {
		w.res.Note = joinNote(w.res.Note, fmt.Sprintf("%d source files changed without a data change (a compaction such as OPTIMIZE) were matched against the table at version %d", reconciled, to))
	}
	// A data file goes when any of its source files goes; its other source files (unchanged,
	// so still in the table at to) are read again.
	removePaths = map[string]bool{}
	queue := make([]string, 0, len(remove))
	for id := range remove {
		queue = append(queue, id)
	}
	for len(queue) > 0 {
		id := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		for _, p := range byID[id] {
			if removePaths[p] {
				continue
			}
			removePaths[p] = true
			for _, other := range byPath[p] {
				if !remove[other] {
					remove[other], add[other] = true, true
					queue = append(queue, other)
				}
			}
		}
	}
	return add, removePaths, nil
}

// metadata is the metaData action of the lake table for info (keeping the table id of snap).
func (w *lakeWriter) metadata(info LakeInfo, snap *lake.Snapshot) delta.Metadata {
	created := w.now().UnixMilli()
	md := delta.Metadata{ID: newUUID(), Name: "", Format: delta.Format{Provider: "parquet", Options: map[string]string{}},
		SchemaString: info.SchemaString, PartitionColumns: append([]string{}, info.PartitionColumns...),
		Configuration: map[string]string{}, CreatedTime: &created,
		Description: fmt.Sprintf("deltashare sync of the shared table %s from %s", w.opts.Table, redactQuery(w.opts.Endpoint))}
	if info.TableID != "" {
		md.Configuration["deltashare.sourceTableId"] = info.TableID
	}
	if snap.Version >= 0 {
		md.ID, md.CreatedTime = snap.Metadata.ID, snap.Metadata.CreatedTime
	}
	return md
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// lakeProtocol is the protocol of a lake table of schema: reader 1 and writer 2, no table
// features, unless a column needs one (timestamp without time zone).
func lakeProtocol(schema string) delta.Protocol {
	if strings.Contains(schema, `"timestamp_ntz"`) {
		return delta.Protocol{MinReaderVersion: 3, MinWriterVersion: 7, ReaderFeatures: []string{"timestampNtz"}, WriterFeatures: []string{"timestampNtz"}}
	}
	return delta.Protocol{MinReaderVersion: 1, MinWriterVersion: 2}
}

// writeFiles reads the source files that filter keeps (all when nil) at info.Version and
// writes a data file per source file; it returns their add actions.
func (w *lakeWriter) writeFiles(ctx context.Context, info LakeInfo, filter func(string) bool, want map[string]bool) ([]*delta.Add, error) {
	src, err := w.table.ReadFiles(ctx, info.Version, filter)
	if err != nil {
		return nil, err
	}
	defer src.Release()
	if want != nil {
		got := map[string]bool{}
		for _, id := range src.FileIDs() {
			got[id] = true
		}
		for id := range want {
			if !got[id] {
				return nil, fmt.Errorf("the server listed file %s as added by version %d or earlier but not in the table at version %d: its answers disagree; run sync again", id, info.Version, info.Version)
			}
		}
	}
	parts := map[string]bool{}
	for _, p := range info.PartitionColumns {
		parts[strings.ToLower(p)] = true
	}
	var (
		keepCols []int
		dataSch  *arrow.Schema
	)
	sch := src.Schema()
	var fields []arrow.Field
	for i, f := range sch.Fields() {
		if parts[strings.ToLower(f.Name)] {
			continue
		}
		keepCols = append(keepCols, i)
		fields = append(fields, f)
	}
	dataSch = arrow.NewSchema(fields, nil)
	opts := formats.Options{Format: formats.Parquet, Compression: formats.Snappy}

	prog := w.opts.Progress
	if prog == nil {
		prog = NoProgress{}
	}
	totalRows, totalBytes := int64(-1), int64(-1)
	if th, ok := src.(TotalsHint); ok {
		totalRows, totalBytes = th.Totals()
	}
	prog.Start(totalRows, totalBytes)
	defer prog.Finish()

	var adds []*delta.Add
	// Data files being written, one per partition; a source file goes whole into one.
	type openFile struct {
		f   *lakeFile
		ids []string
		est int64 // sum of the source files' sizes
	}
	open := map[string]*openFile{}
	var order []string // keys of open, oldest first
	maxOpen := w.lo.maxOpen
	if maxOpen <= 0 {
		maxOpen = maxOpenFiles
	}
	finish := func(key string) error {
		o := open[key]
		delete(open, key)
		for i, k := range order {
			if k == key {
				order = append(order[:i], order[i+1:]...)
				break
			}
		}
		o.f.file.Tags = map[string]string{TagSourceFileID: joinIDs(o.ids), TagSourceVersion: strconv.FormatInt(info.Version, 10)}
		f, err := o.f.close()
		if err != nil {
			return err
		}
		adds = append(adds, f)
		w.bytes += f.Size
		prog.Add(0, f.Size, 1)
		return nil
	}
	abortAll := func() {
		for _, o := range open {
			o.f.abort()
		}
	}
	var cur *openFile
	curID := ""
	for src.Next() {
		rec := src.Record()
		id, pv, size := src.File()
		if cur == nil || id != curID {
			curID = id
			key := partitionKey(pv)
			o := open[key]
			if o != nil && (w.lo.TargetFileSize < 0 || o.est >= w.lo.TargetFileSize) {
				if err := finish(key); err != nil {
					abortAll()
					return nil, err
				}
				o = nil
			}
			if o == nil && len(open) >= maxOpen {
				if err := finish(order[0]); err != nil {
					abortAll()
					return nil, err
				}
			}
			if o == nil {
				name := newDataName(w.now())
				f, err := newLakeFile(ctx, w.sink, name, dataSch, opts)
				if err != nil {
					abortAll()
					return nil, err
				}
				w.written = append(w.written, name)
				f.file.PartitionValues = pv
				f.file.ModificationTime = w.now().UnixMilli()
				o = &openFile{f: f}
				open[key] = o
				order = append(order, key)
			}
			o.ids = append(o.ids, id)
			o.est += size
			cur = o
		}
		cols := make([]arrow.Array, len(keepCols))
		for i, c := range keepCols {
			cols[i] = rec.Column(c)
		}
		part := array.NewRecord(dataSch, cols, rec.NumRows())
		err := cur.f.write(part)
		part.Release()
		if err != nil {
			abortAll()
			return nil, err
		}
		w.rows += rec.NumRows()
		if rec.NumRows() > 0 {
			prog.Add(rec.NumRows(), 0, 0)
		}
	}
	if err := src.Err(); err != nil {
		abortAll()
		return nil, err
	}
	keys := make([]string, 0, len(open))
	for k := range open {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := finish(k); err != nil {
			abortAll()
			return nil, err
		}
	}
	return adds, nil
}

// partitionKey identifies a partition by its values.
func partitionKey(pv delta.PartitionValues) string {
	keys := make([]string, 0, len(pv))
	for k := range pv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(strconv.Quote(k))
		if v := pv[k]; v != "" {
			b.WriteString("=" + strconv.Quote(v))
		}
		b.WriteByte(0)
	}
	return b.String()
}

// lakeFile is a data file being written.
type lakeFile struct {
	obj   Object
	cw    *countWriter
	enc   formats.Encoder
	stats *lake.Stats
	file  *delta.Add
}

type countWriter struct {
	w Object
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func newLakeFile(ctx context.Context, sink Sink, name string, schema *arrow.Schema, opts formats.Options) (*lakeFile, error) {
	obj, err := sink.Create(ctx, name)
	if err != nil {
		return nil, err
	}
	cw := &countWriter{w: obj}
	enc, err := formats.New(cw, schema, opts)
	if err != nil {
		_ = obj.Abort()
		return nil, err
	}
	return &lakeFile{obj: obj, cw: cw, enc: enc, stats: lake.NewStats(schema), file: &delta.Add{Path: name, DataChange: true}}, nil
}

func (f *lakeFile) write(rec arrow.Record) error {
	f.stats.Add(rec)
	return f.enc.Write(rec)
}

func (f *lakeFile) abort() {
	_ = f.enc.Close()
	_ = f.obj.Abort()
}

func (f *lakeFile) close() (*delta.Add, error) {
	if err := f.enc.Close(); err != nil {
		_ = f.obj.Abort()
		return nil, err
	}
	if err := f.obj.Commit(); err != nil {
		_ = f.obj.Abort()
		return nil, err
	}
	f.file.Size = f.cw.n
	f.file.Stats = f.stats.JSON()
	return f.file, nil
}

// cleanOrphans removes data files at the table root that no action of the log references and
// that are older than the grace period (by the time in their name), and temporary files of
// data files a killed run left.
func (w *lakeWriter) cleanOrphans(ctx context.Context, snap *lake.Snapshot) ([]string, error) {
	names, err := w.sink.List(ctx, "")
	if err != nil {
		return nil, err
	}
	cutoff := w.now().Add(-w.lo.OrphanGrace).UnixMilli()
	var removed []string
	for _, n := range names {
		if strings.HasPrefix(n, lake.LogDir) && strings.Contains(n, TempMarker) {
			// A _last_checkpoint write that was killed before its rename.
			if err := w.sink.Remove(ctx, n); err != nil {
				return removed, err
			}
			removed = append(removed, location(w.sink, n))
			continue
		}
		if strings.Contains(n, "/") {
			continue
		}
		base := n
		if i := strings.Index(base, TempMarker); i > 0 && strings.HasPrefix(base, ".") {
			base = base[1:i]
		} else if snap.Referenced(n) {
			continue
		}
		m := dataName.FindStringSubmatch(base)
		if m == nil {
			continue
		}
		ms, _ := strconv.ParseInt(m[1], 10, 64)
		if ms > cutoff {
			continue
		}
		if err := w.sink.Remove(ctx, n); err != nil {
			return removed, err
		}
		removed = append(removed, location(w.sink, n))
	}
	return removed, nil
}

// vacuum deletes the data files of tombstones older than the retention.
func (w *lakeWriter) vacuum(ctx context.Context, snap *lake.Snapshot, lr *LakeResult) error {
	if w.lo.Vacuum <= 0 || w.opts.DryRun {
		return nil
	}
	cutoff := w.now().Add(-w.lo.Vacuum).UnixMilli()
	paths := make([]string, 0, len(snap.Tombstones))
	for p, r := range snap.Tombstones {
		if deletedAt(r) <= cutoff && ValidName(p) == nil {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		if _, live := snap.Files[p]; live {
			continue
		}
		ok, err := w.sink.Exists(ctx, p)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := w.sink.Remove(ctx, p); err != nil {
			return err
		}
		lr.Vacuumed = append(lr.Vacuumed, location(w.sink, p))
	}
	return nil
}

// lakeText describes a Delta-format sync result.
func (r *SyncResult) lakeText() string {
	var b strings.Builder
	lr := r.Lake
	switch {
	case r.Action == "up-to-date":
		fmt.Fprintf(&b, "up to date at version %d (Delta table version %d)", r.ToVersion, lr.TableVersion)
	case r.DryRun:
		what := "apply the changes of versions " + strconv.FormatInt(r.FromVersion, 10) + " to " + strconv.FormatInt(r.ToVersion, 10)
		if r.Action != "changes" {
			what = "write the table at version " + strconv.FormatInt(r.ToVersion, 10)
		}
		fmt.Fprintf(&b, "dry run: would %s to the Delta table %s; nothing written", what, r.Dir)
	default:
		what := fmt.Sprintf("the changes of versions %d to %d", r.FromVersion, r.ToVersion)
		if r.Action == "snapshot" {
			what = fmt.Sprintf("the snapshot at version %d", r.ToVersion)
		} else if r.Action == "rewrite" {
			what = fmt.Sprintf("the whole table again at version %d", r.ToVersion)
		}
		fmt.Fprintf(&b, "committed version %d of the Delta table %s: %s, %d data files added, %d removed, %s rows (%s) in %.2fs",
			lr.TableVersion, r.Dir, what, lr.Added, lr.Removed, groupDigits(r.Rows), HumanBytes(r.Bytes), r.Seconds)
		if lr.Checkpoint {
			b.WriteString("; checkpoint written")
		}
	}
	if len(lr.Vacuumed) > 0 {
		fmt.Fprintf(&b, "; vacuum deleted %d old data files", len(lr.Vacuumed))
	}
	if len(r.Cleaned) > 0 {
		fmt.Fprintf(&b, "; removed %d files left by an interrupted run", len(r.Cleaned))
	}
	if r.Note != "" {
		b.WriteString("\nnote: " + r.Note)
	}
	return b.String()
}

// LakeVersion is one commit of a lake table, as LakeHistory reports it.
type LakeVersion struct {
	Version       int64     `json:"version"`
	Timestamp     time.Time `json:"timestamp"`
	Operation     string    `json:"operation"`
	SourceVersion int64     `json:"sourceVersion"` // the source version the commit reached; -1 when unknown
	Added         int       `json:"filesAdded"`
	Removed       int       `json:"filesRemoved"`
}

// LakeHistory lists the commits of the Delta table in sink that are still in its log, oldest
// first.
func LakeHistory(ctx context.Context, sink Sink) ([]LakeVersion, error) {
	if _, ok := sink.(ObjectReader); !ok {
		return nil, fmt.Errorf("this output cannot be read back")
	}
	store := sinkStore{sink}
	names, err := sink.List(ctx, lake.LogDir)
	if err != nil {
		return nil, err
	}
	var out []LakeVersion
	for _, n := range names {
		base := strings.TrimPrefix(n, lake.LogDir)
		v, err := strconv.ParseInt(strings.TrimSuffix(base, ".json"), 10, 64)
		if err != nil || !strings.HasSuffix(base, ".json") || len(base) != 25 {
			continue
		}
		acts, err := lake.ReadCommit(ctx, store, v)
		if err != nil {
			return nil, err
		}
		lv := LakeVersion{Version: v, SourceVersion: -1}
		for _, a := range acts {
			switch {
			case a.CommitInfo != nil:
				lv.Timestamp = time.UnixMilli(orZero(a.CommitInfo.Timestamp)).UTC()
				lv.Operation = a.CommitInfo.Operation
			case a.Txn != nil:
				lv.SourceVersion = a.Txn.Version
			case a.Add != nil:
				lv.Added++
			case a.Remove != nil:
				lv.Removed++
			}
		}
		out = append(out, lv)
	}
	return out, nil
}
