package reader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/deltashare/deltashare/internal/hint"
	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/protocol"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/deltashare/deltashare/sharing/predicate"
)

// The table reader: a query's files are downloaded by a bounded set of workers, decoded with
// pqarrow, aligned to the table schema (column mapping, missing columns, widened types,
// partition columns), cut by deletion vectors and the exact filter, projected, and handed out
// as Arrow records in file order.

// Defaults of ReadOptions.
const (
	DefaultBatchSize       = 32 * 1024
	DefaultMaxInMemoryFile = 16 << 20
)

// Names of the change data columns OpenChanges appends.
const (
	ColChangeType      = "_change_type"
	ColCommitVersion   = "_commit_version"
	ColCommitTimestamp = "_commit_timestamp"
)

// FileDone reports a data file whose records were all handed out.
type FileDone struct {
	Index int               // position of the file in the read, from 0
	ID    string            // the server's file id
	Kind  protocol.FileKind // add, remove or cdf
	Bytes int64             // size of the data file
	Rows  int64             // rows it gave, after deletion vectors and the filter
}

// ReadOptions configure a table read. The zero value reads the latest version, every column
// and every row.
type ReadOptions struct {
	// Version or Timestamp select an older table version (time travel); at most one.
	Version   *int64
	Timestamp string
	// Columns projects the output to these top-level columns, in this order (logical names,
	// matched case-insensitively; partition columns and, for change data, the _change_type,
	// _commit_version and _commit_timestamp columns allowed). Empty means all columns.
	Columns []string
	// Where filters rows: the --where syntax (see predicate.Parse), bound to the table schema.
	// The server gets it as jsonPredicateHints (to skip files); the reader applies it exactly.
	Where string
	// Limit bounds the rows returned (exactly). Without Where it is sent as limitHint. The read
	// stops fetching files once the limit is reached.
	Limit *int64
	// Parallel bounds the files downloading at once, and the files decoding at once (default
	// runtime.NumCPU()): a file is downloaded while others are decoded.
	Parallel int
	// Allocator allocates the records (default memory.DefaultAllocator).
	Allocator memory.Allocator
	// BatchSize bounds the rows of a record (default DefaultBatchSize).
	BatchSize int64
	// InFlightBytes bounds the memory of the files in flight, estimated from their sizes
	// (default DefaultInFlightBytes): fewer than Parallel files are read at once when they
	// are large.
	InFlightBytes int64
	// BatchBytes bounds the decoded size of a record, estimated from each file's footer
	// (default DefaultBatchBytes): records of wide rows have fewer rows than BatchSize.
	BatchBytes int64
	// Shard, when set, reads only the files for whose id it returns true.
	Shard func(fileID string) bool
	// Progress, when set, is called (from the goroutine calling Next) after the last record of
	// each file was handed out, in file order.
	Progress func(FileDone)
	// Logger receives diagnostics (default: the client's logger).
	Logger *slog.Logger
	// MaxInMemoryFile is the largest data file downloaded into memory (default
	// DefaultMaxInMemoryFile); larger ones are spilled to a temporary file in TempDir (default
	// os.TempDir()), or, when Columns or Where select only some columns, read by byte ranges.
	MaxInMemoryFile int64
	TempDir         string
}

// Reader reads a table's rows as Arrow records. It implements array.RecordReader. Records are
// handed out in file order (the order of the server's response); within a file, in row order.
//
// Memory: at most 2 × Parallel files are in flight or waiting to be handed out (Parallel
// downloading, Parallel decoding), and their memory is held to InFlightBytes. A file of up to
// MaxInMemoryFile bytes is held in memory while it is decoded, a larger one on disk (or read by
// byte ranges); each in-flight file also holds up to two decoded records of BatchSize rows. So
// memory is bounded by roughly 2 × Parallel × (MaxInMemoryFile + 3 × record size), and
// by InFlightBytes. The file list
// of the query is kept in a temporary file of TempDir as it arrives (about 24 bytes a file stay
// in memory), so a table of millions of files costs tens of megabytes.
//
// A Reader is used from one goroutine. Release stops the workers and frees every buffer.
type Reader struct {
	refs     atomic.Int64
	meta     *protocol.TableMetadata
	version  int64
	plan     *readPlan
	list     *fileList    // the files, on disk
	consumed atomic.Int64 // files whose records were all handed out
	urls     *urlSet
	fetch    *fetcher
	dvs      *dvLoader
	log      *slog.Logger
	opts     ReadOptions
	limit    int64 // -1: none

	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	order    chan *fileSlot
	sem      chan struct{}
	budget   *byteBudget
	fetching *orderedTurns // turns to download: Parallel, one a file, in file order
	decoding *byteBudget   // turns to decode: Parallel, one a file
	firstErr atomic.Pointer[error]

	slot     *fileSlot
	cur      arrow.Record
	fileIdx  int
	err      error
	done     bool
	rows     int64
	bytes    int64
	released bool
}

var _ array.RecordReader = (*Reader)(nil)

// Open queries table t and returns a reader of its rows. The query asks for a refresh token so
// that URLs about to expire can be renewed during a long read.
func Open(ctx context.Context, c *sharing.Client, t protocol.Table, opts ReadOptions) (*Reader, error) {
	if err := checkReadOptions(&opts, c); err != nil {
		return nil, err
	}
	// A refresh token is asked for on latest-version reads only: servers refuse it together
	// with a version or timestamp (a time-travel read refreshes by querying that version again).
	timeTravel := opts.Version != nil || opts.Timestamp != ""
	req := protocol.QueryRequest{Version: opts.Version, Timestamp: opts.Timestamp, IncludeRefreshToken: !timeTravel}
	if opts.Where != "" {
		var err error
		if req.JSONPredicateHints, err = whereHints(ctx, c, t, opts.Where, opts.Version, opts.Timestamp); err != nil {
			return nil, err
		}
	} else if opts.Limit != nil {
		l := *opts.Limit
		req.LimitHint = &l
	}
	// The files go to a temporary file as they arrive, not to memory: a table may have
	// millions.
	list, err := newFileList(opts.TempDir, false, opts.Shard, opts.Logger)
	if err != nil {
		return nil, err
	}
	res, err := c.QueryFiles(ctx, t, req, list.reset, list.add)
	if err != nil {
		list.close()
		return nil, err
	}
	tm := res.TableMetadata()
	version := res.Version
	if version < 0 && list.firstVersion != nil {
		version = *list.firstVersion
	}
	refreshToken := res.RefreshToken
	var mu sync.Mutex
	refresh := func(ctx context.Context, fn func(string, protocol.File) error) error {
		mu.Lock()
		rr := protocol.QueryRequest{JSONPredicateHints: req.JSONPredicateHints, LimitHint: req.LimitHint}
		if refreshToken != "" {
			rr.RefreshToken = refreshToken
			rr.IncludeRefreshToken = true
		} else if version >= 0 {
			v := version
			rr.Version = &v
		} else {
			rr.Version, rr.Timestamp = opts.Version, opts.Timestamp
		}
		mu.Unlock()
		r2, err := c.QueryFiles(ctx, t, rr, nil, func(f protocol.File) error { return fn(fileKey(f, false), f) })
		if err != nil {
			return err
		}
		mu.Lock()
		if r2.RefreshToken != "" {
			refreshToken = r2.RefreshToken
		}
		mu.Unlock()
		return nil
	}
	return newReader(ctx, c, t, &tm, version, list, opts, refresh)
}

// OpenChanges reads a table's change data feed: the rows of the table schema plus
// _change_type (string: insert, delete, update_preimage, update_postimage), _commit_version
// (long) and _commit_timestamp (timestamp, UTC). Change data files carry _change_type in
// their data; the rows of added files are inserts and those of removed files deletes. Records
// come in commit version order.
func OpenChanges(ctx context.Context, c *sharing.Client, t protocol.Table, req protocol.ChangesRequest, opts ReadOptions) (*Reader, error) {
	if err := checkReadOptions(&opts, c); err != nil {
		return nil, err
	}
	if opts.Version != nil || opts.Timestamp != "" {
		return nil, fmt.Errorf("%w: a change data read takes its versions from the ChangesRequest, not ReadOptions.Version or Timestamp", protocol.ErrInvalidRead)
	}
	req.SinglePage = false
	res, err := c.Changes(ctx, t, req)
	if err != nil {
		return nil, err
	}
	tm := res.TableMetadata()
	files := slices.Clone(res.Files)
	slices.SortStableFunc(files, func(a, b protocol.File) int {
		av, bv := int64(-1), int64(-1)
		if a.Version != nil {
			av = *a.Version
		}
		if b.Version != nil {
			bv = *b.Version
		}
		return int(min(max(av-bv, -1), 1))
	})
	refresh := func(ctx context.Context, fn func(string, protocol.File) error) error {
		r2, err := c.Changes(ctx, t, req)
		if err != nil {
			return err
		}
		for _, f := range r2.Files {
			if err := fn(fileKey(f, true), f); err != nil {
				return err
			}
		}
		return nil
	}
	// The version of a change read is the last commit version of its range.
	last := tm.Version
	if req.EndingVersion != nil {
		last = *req.EndingVersion
	} else if n := len(files); n > 0 && files[n-1].Version != nil {
		last = max(last, *files[n-1].Version)
	}
	list, err := newFileList(opts.TempDir, true, opts.Shard, opts.Logger)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if err := list.add(f); err != nil {
			list.close()
			return nil, err
		}
	}
	return newReader(ctx, c, t, &tm, last, list, opts, refresh)
}

// fileKey identifies a file of a read across URL refreshes.
func fileKey(f protocol.File, changes bool) string {
	if !changes {
		return f.ID
	}
	v := int64(-1)
	if f.Version != nil {
		v = *f.Version
	}
	return fmt.Sprintf("%s/%s/%d", f.Kind, f.ID, v)
}

func checkReadOptions(opts *ReadOptions, c *sharing.Client) error {
	if c == nil {
		return errors.New("sharing: no client given")
	}
	if opts.Version != nil && opts.Timestamp != "" {
		return fmt.Errorf("%w: give a version or a timestamp, not both", protocol.ErrInvalidRead)
	}
	if opts.Limit != nil && *opts.Limit < 0 {
		return fmt.Errorf("%w: the limit must not be negative", protocol.ErrInvalidRead)
	}
	if opts.Parallel <= 0 {
		opts.Parallel = runtime.NumCPU()
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.InFlightBytes <= 0 {
		opts.InFlightBytes = DefaultInFlightBytes
	}
	if opts.BatchBytes <= 0 {
		opts.BatchBytes = DefaultBatchBytes
	}
	if opts.Allocator == nil {
		opts.Allocator = memory.DefaultAllocator
	}
	if opts.MaxInMemoryFile <= 0 {
		opts.MaxInMemoryFile = DefaultMaxInMemoryFile
	}
	if opts.Logger == nil {
		opts.Logger = c.Logger()
	}
	return nil
}

// whereAdvice is the advice of an error in ReadOptions.Where.
const whereAdvice = "check {Where}"

func bindWhere(where string, st *delta.StructType) (*predicate.Expr, error) {
	e, err := predicate.Parse(where)
	if err != nil {
		return nil, hint.New(fmt.Errorf("%w: %w", protocol.ErrInvalidRead, err), whereAdvice)
	}
	b, err := predicate.Bind(e, st)
	if err != nil {
		return nil, hint.New(fmt.Errorf("%w: %w", protocol.ErrInvalidRead, err), whereAdvice)
	}
	return b, nil
}

// supportedReaderFeatures are the Delta reader features this reader handles.
var supportedReaderFeatures = map[string]bool{
	"deletionvectors": true, "columnmapping": true, "timestampntz": true, "typewidening": true,
	"typewidening-preview": true, "v2checkpoint": true, "vacuumprotocolcheck": true,
	"varianttype": true, "variantType-preview": true, "domainmetadata": true, "catalogmanaged": true,
	"catalogownedpreview": true, "icebergcompatv1": true, "icebergcompatv2": true,
}

// newReader starts a read of the files of list; it closes list when it fails, else the
// reader's Release does.
func newReader(ctx context.Context, c *sharing.Client, t protocol.Table, tm *protocol.TableMetadata, version int64, list *fileList, opts ReadOptions, refresh refresher) (rd *Reader, err error) {
	defer func() {
		if err != nil {
			list.close()
		}
	}()
	if err := list.seal(); err != nil {
		return nil, err
	}
	if tm.Protocol.MinReaderVersion > 3 {
		return nil, fmt.Errorf("sharing: table %s needs Delta reader version %d; this reader supports up to 3: upgrade deltashare", t, tm.Protocol.MinReaderVersion)
	}
	for _, f := range tm.Protocol.ReaderFeatures {
		if !supportedReaderFeatures[strings.ToLower(f)] {
			opts.Logger.Warn("table uses a Delta reader feature this reader does not know; values may be wrong", "table", t.String(), "feature", f)
		}
	}
	plan, err := newPlan(t, tm, list.changes, opts)
	if err != nil {
		return nil, err
	}
	r := &Reader{meta: tm, version: version, plan: plan, log: opts.Logger, opts: opts, limit: -1}
	if opts.Limit != nil {
		r.limit = *opts.Limit
	}
	r.list = list
	r.urls = newURLSet(list, c.Now, refresh, func() int { return int(r.consumed.Load()) })
	r.fetch = &fetcher{hc: c.HTTPClient(), retry: c.RetryPolicy(), timeout: c.Timeout(), log: opts.Logger, urls: r.urls}
	r.dvs = newDVLoader(r.fetch)
	r.refs.Store(1)
	r.ctx, r.cancel = context.WithCancel(ctx)
	r.fileIdx = -1
	r.start()
	return r, nil
}

// Retain adds a reference.
func (r *Reader) Retain() { r.refs.Add(1) }

// Release drops a reference; the last one stops the workers (promptly: downloads are
// cancelled) and releases every buffered record.
func (r *Reader) Release() {
	if r.refs.Add(-1) != 0 {
		return
	}
	r.shutdown()
}

func (r *Reader) shutdown() {
	if r.released {
		return
	}
	r.released = true
	r.cancel()
	r.wg.Wait()
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.slot != nil {
		r.slot.drain()
		r.slot = nil
	}
	for s := range r.order {
		s.drain()
	}
	r.list.close()
}

// Schema returns the schema of the records: the selected columns with logical names.
func (r *Reader) Schema() *arrow.Schema { return r.plan.out }

// Record returns the current record; it is valid until the next call of Next or Release.
func (r *Reader) Record() arrow.Record { return r.cur }

// Err returns the error that ended the read, if any.
func (r *Reader) Err() error { return r.err }

// FileIndex returns the index (in the read's file order) of the file the current record comes
// from; -1 before the first record.
func (r *Reader) FileIndex() int { return r.fileIdx }

// FileCount returns the number of files the read covers (after Shard).
func (r *Reader) FileCount() int { return r.list.len() }

// Files returns the files of the read, in read order (URLs as first received, or as refreshed
// for files not read yet). The read keeps them on disk: this reads them all into memory.
func (r *Reader) Files() []protocol.File {
	out := make([]protocol.File, 0, r.list.len())
	for i := range r.list.len() {
		f, err := r.list.get(i)
		if err != nil {
			r.log.Warn("reading the file list back failed", "error", err.Error())
			return out
		}
		out = append(out, f)
	}
	return out
}

// CurrentFile returns the file the current record comes from (the zero File before the first
// record), without reading the file list.
func (r *Reader) CurrentFile() protocol.File {
	if r.slot == nil || r.slot.index != r.fileIdx {
		return protocol.File{}
	}
	return r.slot.file
}

// File returns file i of the read (0 <= i < FileCount()), as Files does.
func (r *Reader) File(i int) (protocol.File, error) { return r.list.get(i) }

// Done returns the rows handed out so far and the sizes of the files finished.
func (r *Reader) Done() (rows, bytes int64) { return r.rows, r.bytes }

// Totals estimates the whole read before it starts, for progress: the rows the files' statistics
// announce (minus deletion vectors; capped by the limit; -1 when a file has no statistics or a
// filter applies) and the files' total size.
func (r *Reader) Totals() (rows, bytes int64) {
	rows, bytes = r.list.rows, r.list.bytes
	if r.plan != nil && r.plan.filter != nil {
		rows = -1
	}
	if r.limit >= 0 && (rows < 0 || rows > r.limit) {
		rows = r.limit
	}
	return rows, bytes
}

// Metadata returns the table's protocol and metadata of the read.
func (r *Reader) Metadata() *protocol.TableMetadata { return r.meta }

// Version returns the table version read (-1 when the server did not say).
func (r *Reader) Version() int64 { return r.version }

// URLRefreshes returns how often new file URLs were requested.
func (r *Reader) URLRefreshes() int64 { return r.urls.refreshes.Load() }

// Next advances to the next record; false at the end or on error (see Err).
func (r *Reader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.done || r.released {
		return false
	}
	for {
		if r.limit >= 0 && r.rows >= r.limit {
			r.finish(nil)
			return false
		}
		if r.slot == nil {
			select {
			case s, ok := <-r.order:
				if !ok {
					r.finish(r.ctxErr())
					return false
				}
				r.slot = s
			case <-r.ctx.Done():
				r.finish(r.ctxErr())
				return false
			}
		}
		var it slotItem
		var ok bool
		select {
		case it, ok = <-r.slot.ch:
		case <-r.ctx.Done():
			r.finish(r.ctxErr())
			return false
		}
		if !ok {
			if r.ctx.Err() != nil {
				// The worker stopped early: the read was cancelled or failed.
				r.finish(r.ctxErr())
				return false
			}
			s := r.slot
			r.slot = nil
			<-r.sem
			r.budget.finish(s.index, s.weight)
			r.decoding.finish(s.index, 0)
			r.bytes += s.file.Size
			r.consumed.Store(int64(s.index + 1))
			if r.opts.Progress != nil {
				r.opts.Progress(FileDone{Index: s.index, ID: s.file.ID, Kind: s.file.Kind, Bytes: s.file.Size, Rows: s.rows})
			}
			continue
		}
		if it.err != nil {
			r.finish(it.err)
			return false
		}
		rec := it.rec
		n := rec.NumRows()
		if r.limit >= 0 && r.rows+n > r.limit {
			cut := rec.NewSlice(0, r.limit-r.rows)
			rec.Release()
			rec, n = cut, r.limit-r.rows
		}
		r.rows += n
		r.slot.rows += n
		r.cur = rec
		r.fileIdx = r.slot.index
		if r.limit >= 0 && r.rows >= r.limit {
			r.cancel() // stop fetching: nothing more is needed
		}
		return true
	}
}

// ctxErr returns why the workers stopped: the first worker error, else the context's.
func (r *Reader) ctxErr() error {
	if p := r.firstErr.Load(); p != nil {
		return *p
	}
	return r.ctx.Err()
}

func (r *Reader) finish(err error) {
	r.done = true
	if err != nil && r.err == nil {
		r.err = err
	}
	r.cancel()
}

func (r *Reader) fail(err error) {
	if r.ctx.Err() != nil {
		return
	}
	r.firstErr.CompareAndSwap(nil, &err)
	r.cancel()
}

// fileSlot is one file's place in the ordered pipeline: the worker sends its records on ch
// and closes it.
type fileSlot struct {
	index  int
	key    string
	file   protocol.File
	ch     chan slotItem
	rows   int64 // rows handed out (consumer side)
	weight int64 // its share of the in-flight byte budget
}

type slotItem struct {
	rec arrow.Record
	err error
}

// drain releases what is buffered in the slot (its worker has exited).
func (s *fileSlot) drain() {
	for {
		select {
		case it, ok := <-s.ch:
			if !ok {
				return
			}
			if it.rec != nil {
				it.rec.Release()
			}
		default:
			return
		}
	}
}

// start launches the dispatcher and the workers. A file is downloaded, then decoded: at most
// Parallel files download at once and at most Parallel decode at once (fetching and decoding),
// so a file's download overlaps the decoding of others instead of leaving a CPU idle while
// its worker waits for the server. At most 2 × Parallel files are dispatched and not yet
// consumed (the semaphore is taken per dispatched file and given back when the consumer has
// read all its records), so with 2 × Parallel workers every dispatched file has a worker. A
// download turn is held only while fetching (never while waiting for the consumer); the file
// the consumer waits for always gets its decoding turn (as its byte budget), so the files
// after it, blocked until it is consumed, never hold it up.
func (r *Reader) start() {
	p := r.opts.Parallel
	r.order = make(chan *fileSlot, 2*p)
	r.sem = make(chan struct{}, 2*p)
	r.budget = newByteBudget(r.opts.InFlightBytes)
	r.fetching = newOrderedTurns(p)
	r.decoding = newByteBudget(int64(p))
	work := make(chan *fileSlot)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer close(r.order)
		defer close(work)
		for i := range r.list.len() {
			select {
			case r.sem <- struct{}{}:
			case <-r.ctx.Done():
				return
			}
			gen := r.urls.generation()
			f, err := r.list.get(i)
			if err != nil {
				r.fail(err)
				return
			}
			s := &fileSlot{index: i, key: fileKey(f, r.list.changes), file: f, ch: make(chan slotItem, 2)}
			r.urls.hold(s.key, f, gen)
			s.weight = downloadWeight(s.file.Size, r.opts.MaxInMemoryFile)
			if r.budget.acquire(r.ctx, i, s.weight) != nil {
				return
			}
			select {
			case r.order <- s:
			case <-r.ctx.Done():
				return
			}
			select {
			case work <- s:
			case <-r.ctx.Done():
				return
			}
		}
	}()
	workers := min(2*p, max(r.list.len(), 1))
	r.wg.Add(workers)
	for range workers {
		go func() {
			defer r.wg.Done()
			for s := range work {
				err := r.readFileGuarded(r.ctx, s)
				r.urls.release(s.key)
				if err != nil && r.ctx.Err() == nil {
					err = fmt.Errorf("sharing: table %s: reading %s: %w", r.plan.table, fileLabel(s.file), err)
					r.fail(err)
					select {
					case s.ch <- slotItem{err: err}:
					default:
					}
				}
				close(s.ch)
			}
		}()
	}
}

// readFileGuarded reads one file; a panic while reading it (in a decoder of the downloaded
// bytes, most likely) fails this read with an error instead of ending the process.
func (r *Reader) readFileGuarded(ctx context.Context, s *fileSlot) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = hint.New(r.workerPanic(v), corruptAdvice)
		}
	}()
	return r.readFile(ctx, s)
}

func fileLabel(f protocol.File) string {
	s := "data file " + f.ID
	if f.Kind == protocol.FileRemove || f.Kind == protocol.FileCDF {
		s = string(f.Kind) + " " + s
	}
	if f.Version != nil && f.Kind != protocol.FileAdd {
		s += fmt.Sprintf(" (version %d)", *f.Version)
	}
	return s
}

// emit hands a record to the consumer, or releases it when the read is stopping.
func (r *Reader) emit(ctx context.Context, s *fileSlot, rec arrow.Record) error {
	select {
	case s.ch <- slotItem{rec: rec}:
		return nil
	case <-ctx.Done():
		rec.Release()
		return ctx.Err()
	}
}
