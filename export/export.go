package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/deltashare/deltashare/sharing/delta"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/deltashare/deltashare/formats"
	"github.com/deltashare/deltashare/internal/hint"
)

// ErrExists is returned (wrapped) when the output already exists and Overwrite is off.
var ErrExists = errors.New("output exists")

// ErrOutputMismatch is what errors.Is finds in the error of options that do not fit the kind of
// output (partitioning, or a maximum of rows per file, with a single file or standard output;
// standard output with a directory layout): the caller's options are wrong, nothing failed.
var ErrOutputMismatch = errors.New("options do not fit the output")

// mismatch marks err as an ErrOutputMismatch without changing its text.
type mismatch struct{ error }

func (m mismatch) Unwrap() error        { return m.error }
func (m mismatch) Is(target error) bool { return target == ErrOutputMismatch }

// DefaultMaxOpenFiles is how many partition part files a run keeps open at once by default.
const DefaultMaxOpenFiles = 64

// DefaultPartPrefix starts the name of every part file: part-00000.csv.
const DefaultPartPrefix = "part"

// Options configures Run.
type Options struct {
	// Output says what to write, relative to the sink (OpenSink turns a user's path into a sink
	// and this name):
	//   - "-": one object streamed to the sink (standard output with a StreamSink);
	//   - "" or a name ending in "/": a directory of part files (prefix/part-00000.csv, ...);
	//   - anything else: one file with that name.
	Output string
	// Format chooses the file format and its options; one encoder is made per output file.
	Format formats.Options
	// MaxRowsPerFile starts a new part file after this many rows (per partition directory).
	// 0 means one part per input file when the source implements FileBoundaries, else one part.
	// Directory output only.
	MaxRowsPerFile int64
	// PartitionBy writes Hive-style directories col=value/ for these columns, in this order.
	// Directory output only. See the package documentation for how values are written.
	PartitionBy []string
	// KeepPartitionColumns keeps the partition columns inside the files too. By default they
	// are left out, as Spark, Hive and Delta do: their values are in the directory names.
	KeepPartitionColumns bool
	// MaxOpenFiles bounds the part files open at once when partitioning; 0 means
	// DefaultMaxOpenFiles. When a new partition value arrives with all slots taken, the least
	// recently used part is finished, and a later row with its value starts a new part.
	MaxOpenFiles int
	// Overwrite allows replacing an existing output file, or part files of an earlier export
	// in the output directory (without it, either is an error that says to pass --overwrite).
	Overwrite bool
	// Progress receives progress; nil means none.
	Progress Progress
	// PartPrefix starts part file names; "" means DefaultPartPrefix.
	PartPrefix string
	// OnSchema, when set, is called once with the source's schema before its first record is
	// read (the command line sizes the collector's memory limit by the columns).
	OnSchema func(*arrow.Schema)
}

type outputMode int

const (
	modeFile outputMode = iota
	modeDir
	modeStream
)

// OpenSink turns a user's --output value into a sink and the Output name to give Run:
//   - "-" is standard output: a StreamSink on os.Stdout and "-";
//   - a path ending in a path separator, or naming an existing directory, is a directory output:
//     a LocalSink rooted there (created when needed) and "";
//   - a FIFO, a character device or a descriptor path (/dev/stdout, /dev/fd/3) is a stream: a
//     StreamSink (a FileStreamSink, to close, when OpenSink opened the file) and "-"; any other
//     existing path that is neither a regular file nor a directory is refused (ErrSpecialFile);
//     see special.go;
//   - any other path is a single file: a LocalSink on its parent directory and its base name
//     (for a symbolic link to a regular file, those of the file it points to);
//   - an object store URL (s3://bucket/dir/, gs://, azblob://, file://) is a BlobSink (see
//     OpenBlobSink); the caller closes it (it implements io.Closer).
func OpenSink(output string) (sink Sink, base string, err error) {
	switch {
	case output == "":
		return nil, "", errors.New("no output given: name a file, a directory ending in /, or - for standard output")
	case output == "-":
		return NewStreamSink(os.Stdout), "-", nil
	case IsBlobURL(output):
		b, base, err := OpenBlobSink(context.Background(), output)
		if err != nil {
			return nil, "", err
		}
		return b, base, nil
	case strings.Contains(output, "://"):
		return nil, "", fmt.Errorf("output %q is a URL of an unknown kind: use s3://, gs://, azblob:// or file://, or a local path", redactQuery(output))
	}
	if strings.HasSuffix(output, "/") || strings.HasSuffix(output, string(filepath.Separator)) {
		return NewLocalSink(filepath.Clean(output)), "", nil
	}
	special, resolved, ok, err := openSpecial(output)
	if err != nil {
		return nil, "", err
	} else if ok {
		return special, "-", nil
	}
	output = resolved
	if fi, err := os.Stat(output); err == nil && fi.IsDir() {
		return NewLocalSink(filepath.Clean(output)), "", nil
	}
	clean := filepath.Clean(output)
	name := filepath.Base(clean)
	if name == "." || name == ".." || name == string(filepath.Separator) {
		return NewLocalSink(clean), "", nil
	}
	return NewLocalSink(filepath.Dir(clean)), name, nil
}

// Run exports every record of src to sink as opts says and returns what it wrote.
//
// With a nil sink, Run opens one for opts.Output with OpenSink. Everything is written under
// temporary names and committed (renamed into place) only when the whole source has been read
// and every file finished: if the source fails, an encoder fails, or ctx is cancelled, Run
// removes its temporary files and returns the error, and no file appears under a final name.
// See the package documentation for the commit sequence and its limits. When everything is
// committed but old part files of an --overwrite run could not be removed, Run returns the
// summary together with an error. Run does not release src.
func Run(ctx context.Context, src Source, sink Sink, opts Options) (sum *Summary, err error) {
	start := time.Now()
	if src == nil {
		return nil, errors.New("export: nil source")
	}
	if sink == nil {
		s, base, err := OpenSink(opts.Output)
		if err != nil {
			return nil, err
		}
		sink, opts.Output = s, base
	}
	r, err := newRun(ctx, src, sink, opts)
	if err != nil {
		return nil, err
	}
	if opts.OnSchema != nil {
		opts.OnSchema(src.Schema())
	}
	r.progress.Start(r.totals())
	defer r.progress.Finish()
	defer func() {
		if !r.committed {
			if aerr := r.abortAll(); aerr != nil {
				err = errors.Join(err, aerr)
			}
		}
	}()
	if err := r.checkExisting(); err != nil {
		return nil, err
	}
	if r.mode != modeDir || len(r.pcols) == 0 {
		// Open the first file at once: an unwritable destination fails before the source is
		// read, and an empty source still gives a file (with the header or schema).
		if _, err := r.writer(r.prefix); err != nil {
			return nil, err
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("export cancelled, no files written: %w", err)
		}
		if !src.Next() {
			break
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("export cancelled, no files written: %w", err)
		}
		if err := r.write(src.Record()); err != nil {
			return nil, err
		}
	}
	if err := src.Err(); err != nil {
		return nil, fmt.Errorf("read the table: %w; no files written", err)
	}
	r.inputDone = true
	if err := r.finishAll(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("export cancelled, no files written: %w", err)
	}
	if err := r.commit(); err != nil {
		return nil, err
	}
	sum = &Summary{Rows: r.rows, Bytes: r.bytes.Load(), TableVersion: -1}
	for _, p := range r.parts {
		sum.Outputs = append(sum.Outputs, location(sink, p.name))
	}
	sum.Files = int64(len(sum.Outputs))
	rerr := r.removeStale(sum)
	sum.Seconds = time.Since(start).Seconds()
	return sum, rerr
}

// part is one output file.
type part struct {
	dir     string // partition directory with the Output prefix, "" for a single file
	name    string
	obj     Object
	enc     formats.Encoder // nil once finished
	rows    int64
	fileIdx int
	lastUse uint64
}

type run struct {
	ctx      context.Context
	src      Source
	sink     Sink
	opts     Options
	progress Progress
	mode     outputMode
	prefix   string // Output for a directory ("" or ends in "/")
	ext      string
	schema   *arrow.Schema // written schema
	keep     []int         // source columns written, nil for all
	pcols    []partColumn
	bounds   FileBoundaries
	mem      memory.Allocator

	parts []*part
	open  map[string]*part
	seq   map[string]int
	tick  uint64
	old   []string // part files of an earlier export found in the directory
	rows  int64
	// bytes and newBytes (output bytes since the last progress report) are added to by the
	// encoders' writer goroutines.
	bytes     atomic.Int64
	newBytes  atomic.Int64
	newFiles  int  // files finished since the last progress report
	inputDone bool // the source is exhausted: every input file was read
	committed bool
	keyBuf    []byte
	valBuf    []byte
	keyIDs    map[string]int // partition directory -> number, per record
	keys      []string       // partition directories of the record, in order of first appearance
	rowsOf    [][]int64      // rows of each directory of the record
}

type partColumn struct {
	index  int
	prefix string // escaped name and "="
}

func newRun(ctx context.Context, src Source, sink Sink, opts Options) (*run, error) {
	schema := src.Schema()
	if schema == nil {
		return nil, errors.New("export: the source has no schema")
	}
	r := &run{ctx: ctx, src: src, sink: sink, opts: opts, progress: opts.Progress,
		open: map[string]*part{}, seq: map[string]int{}, mem: opts.Format.Allocator}
	if r.progress == nil {
		r.progress = NoProgress{}
	}
	if r.mem == nil {
		r.mem = memory.DefaultAllocator
	}
	if r.opts.PartPrefix == "" {
		r.opts.PartPrefix = DefaultPartPrefix
	}
	if r.opts.MaxOpenFiles <= 0 {
		r.opts.MaxOpenFiles = DefaultMaxOpenFiles
	}
	if err := opts.Format.Validate(); err != nil {
		return nil, err
	}
	if p := r.opts.PartPrefix; strings.ContainsAny(p, "/\\\x00") || strings.HasPrefix(p, ".") || strings.HasPrefix(p, "_") {
		return nil, fmt.Errorf("part prefix %q cannot contain / or \\ nor start with . or _ (readers skip such files)", p)
	}
	if opts.MaxRowsPerFile < 0 {
		return nil, errors.New("the maximum rows per file must be positive (or 0 for no limit)")
	}
	r.ext = formats.Extension(opts.Format)
	switch {
	case opts.Output == "-":
		r.mode = modeStream
	case opts.Output == "" || strings.HasSuffix(opts.Output, "/"):
		r.mode, r.prefix = modeDir, opts.Output
		if r.prefix != "" {
			if err := ValidName(strings.TrimSuffix(r.prefix, "/")); err != nil {
				return nil, err
			}
		}
	default:
		r.mode = modeFile
		if err := ValidName(opts.Output); err != nil {
			return nil, err
		}
	}
	if _, ok := sink.(*StreamSink); ok && r.mode != modeStream {
		return nil, mismatch{hint.New(errors.New("standard output takes a single file"), "set {Output} to -, with neither partitioning nor a directory")}
	}
	if r.mode != modeDir {
		what := "a single file"
		if r.mode == modeStream {
			what = "standard output"
		}
		switch {
		case len(opts.PartitionBy) > 0:
			return nil, mismatch{fmt.Errorf("partitioning needs a directory output, not %s: end the output with / (for example out/)", what)}
		case opts.MaxRowsPerFile > 0:
			return nil, mismatch{fmt.Errorf("a maximum of rows per file needs a directory output, not %s: end the output with / (for example out/)", what)}
		}
	}
	if b, ok := src.(FileBoundaries); ok {
		r.bounds = b
	}
	if err := r.planColumns(schema); err != nil {
		return nil, err
	}
	// Check that the format can write the schema before anything is created.
	enc, err := formats.New(io.Discard, r.schema, opts.Format)
	if err != nil {
		return nil, fmt.Errorf("cannot write this table as %s: %w", opts.Format.Format, err)
	}
	_ = enc.Close()
	return r, nil
}

// planColumns resolves PartitionBy and the written schema.
func (r *run) planColumns(schema *arrow.Schema) error {
	r.schema = schema
	if len(r.opts.PartitionBy) == 0 {
		return nil
	}
	drop := map[int]bool{}
	for _, name := range r.opts.PartitionBy {
		i, err := findColumn(schema, name)
		if err != nil {
			return err
		}
		if drop[i] {
			return fmt.Errorf("partition column %q is given twice", name)
		}
		drop[i] = true
		f := schema.Field(i)
		if err := checkPartitionType(f.Type); err != nil {
			return fmt.Errorf("partition column %q: %w", f.Name, err)
		}
		r.pcols = append(r.pcols, partColumn{index: i, prefix: delta.EscapePartition(f.Name) + "="})
	}
	if r.opts.KeepPartitionColumns {
		return nil
	}
	if len(drop) == schema.NumFields() {
		return errors.New("every column is a partition column, which leaves nothing to write in the files: keep the partition columns in the files, or partition by fewer columns")
	}
	var fields []arrow.Field
	for i, f := range schema.Fields() {
		if !drop[i] {
			fields = append(fields, f)
			r.keep = append(r.keep, i)
		}
	}
	md := schema.Metadata()
	r.schema = arrow.NewSchema(fields, &md)
	return nil
}

// findColumn finds a column by exact name, else by a unique case-insensitive match (Delta
// column names are case-insensitive).
func findColumn(schema *arrow.Schema, name string) (int, error) {
	if idx := schema.FieldIndices(name); len(idx) == 1 {
		return idx[0], nil
	}
	found := -1
	for i, f := range schema.Fields() {
		if strings.EqualFold(f.Name, name) {
			if found >= 0 {
				return 0, fmt.Errorf("partition column %q matches several columns", name)
			}
			found = i
		}
	}
	if found < 0 {
		names := make([]string, schema.NumFields())
		for i, f := range schema.Fields() {
			names[i] = f.Name
		}
		return 0, fmt.Errorf("partition column %q is not in the table; its columns are %s", name, strings.Join(names, ", "))
	}
	return found, nil
}

func (r *run) totals() (int64, int64) {
	if t, ok := r.src.(TotalsHint); ok {
		return t.Totals()
	}
	return -1, -1
}

func (r *run) loc(name string) string { return location(r.sink, name) }

// dirLabel names the output directory in messages.
func (r *run) dirLabel() string {
	if r.prefix == "" {
		if l, ok := r.sink.(*LocalSink); ok {
			return l.Dir
		}
		return "(the output root)"
	}
	return r.loc(strings.TrimSuffix(r.prefix, "/"))
}

// checkExisting refuses to replace earlier output without Overwrite, and remembers the part
// files of an earlier export in a directory output.
func (r *run) checkExisting() error {
	switch r.mode {
	case modeStream:
		return nil
	case modeFile:
		ok, err := r.sink.Exists(r.ctx, r.opts.Output)
		if err != nil {
			return err
		}
		if ok && !r.opts.Overwrite {
			return hint.New(fmt.Errorf("%w: %s already exists", ErrExists, r.loc(r.opts.Output)), "use {Overwrite} to replace it, or choose another name")
		}
		return nil
	}
	names, err := r.sink.List(r.ctx, r.prefix)
	if err != nil {
		return err
	}
	for _, n := range names {
		if isPart(strings.TrimPrefix(n, r.prefix), r.opts.PartPrefix) {
			r.old = append(r.old, n)
		}
	}
	if len(r.old) > 0 && !r.opts.Overwrite {
		return hint.New(fmt.Errorf("%w: output directory %s already holds %d part files of an export (%s...)",
			ErrExists, r.dirLabel(), len(r.old), r.old[0]), "use {Overwrite} to replace them, or choose another directory")
	}
	return nil
}

var (
	partBase = regexp.MustCompile(`^-[0-9]{5,}(\.[A-Za-z0-9]+)*$`)
	partDir  = regexp.MustCompile(`^[^=/]+=[^/]*$`)
)

// isPart reports whether rel (relative to the output directory) names a part file as Run
// writes them: zero or more col=value directories, then <prefix>-<5+ digits><extensions>.
func isPart(rel, prefix string) bool {
	elems := strings.Split(rel, "/")
	base := elems[len(elems)-1]
	if !strings.HasPrefix(base, prefix) || !partBase.MatchString(base[len(prefix):]) {
		return false
	}
	for _, d := range elems[:len(elems)-1] {
		if !partDir.MatchString(d) {
			return false
		}
	}
	return true
}

// write sends one source record to its part files.
func (r *run) write(rec arrow.Record) error {
	n := rec.NumRows()
	if n == 0 {
		return nil
	}
	fileIdx := -1
	if r.bounds != nil {
		fileIdx = r.bounds.FileIndex()
	}
	if len(r.pcols) == 0 {
		if err := r.writeTo(r.prefix, rec, fileIdx); err != nil {
			return err
		}
	} else if err := r.writePartitioned(rec, fileIdx); err != nil {
		return err
	}
	r.rows += n
	r.report(n)
	return nil
}

func (r *run) report(rows int64) {
	if in, ok := r.progress.(InputFiles); ok && r.bounds != nil {
		// Records come in file order: the files before the current one are done.
		total, done := r.bounds.FileCount(), max(r.bounds.FileIndex(), 0)
		if r.inputDone && total >= 0 {
			done = total
		}
		in.Files(done, total)
	}
	r.progress.Add(rows, r.newBytes.Swap(0), r.newFiles)
	r.newFiles = 0
}

// writeTo writes rec to the open part of directory dir, rolling parts as the options say.
func (r *run) writeTo(dir string, rec arrow.Record, fileIdx int) error {
	n := rec.NumRows()
	max := r.opts.MaxRowsPerFile
	for off := int64(0); off < n; {
		p, err := r.writer(dir)
		if err != nil {
			return err
		}
		if r.mode == modeDir && p.rows > 0 &&
			(max > 0 && p.rows >= max || max == 0 && r.bounds != nil && p.fileIdx != fileIdx) {
			if err := r.finish(p); err != nil {
				return err
			}
			continue
		}
		end := n
		if max > 0 {
			end = min(n, off+max-p.rows)
		}
		chunk := rec
		if off != 0 || end != n {
			chunk = rec.NewSlice(off, end)
		}
		err = p.enc.Write(chunk)
		if chunk != rec {
			chunk.Release()
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", r.loc(p.name), err)
		}
		p.rows += end - off
		p.fileIdx = fileIdx
		off = end
	}
	return nil
}

// writer returns the open part of directory dir, starting one when needed.
func (r *run) writer(dir string) (*part, error) {
	r.tick++
	if p := r.open[dir]; p != nil {
		p.lastUse = r.tick
		return p, nil
	}
	if len(r.open) >= r.opts.MaxOpenFiles {
		var lru *part
		for _, p := range r.open {
			if lru == nil || p.lastUse < lru.lastUse {
				lru = p
			}
		}
		if err := r.finish(lru); err != nil {
			return nil, err
		}
	}
	name := r.opts.Output
	if r.mode == modeDir {
		name = fmt.Sprintf("%s%s-%05d%s", dir, r.opts.PartPrefix, r.seq[dir], r.ext)
		r.seq[dir]++
	}
	obj, err := r.sink.Create(r.ctx, name)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("export cancelled, no files written: %w", err)
		}
		return nil, err
	}
	p := &part{dir: dir, name: name, obj: obj, lastUse: r.tick, fileIdx: -1}
	enc, err := formats.New(&countingWriter{w: obj, r: r}, r.schema, r.opts.Format)
	if err != nil {
		_ = obj.Abort()
		return nil, fmt.Errorf("start %s: %w", r.loc(name), err)
	}
	p.enc = enc
	r.parts = append(r.parts, p)
	r.open[dir] = p
	return p, nil
}

// finish closes the encoder of p (writing what it buffers) and releases its file handle.
func (r *run) finish(p *part) error {
	delete(r.open, p.dir)
	enc := p.enc
	p.enc = nil
	if err := enc.Close(); err != nil {
		return fmt.Errorf("finish %s: %w", r.loc(p.name), err)
	}
	if c, ok := p.obj.(io.Closer); ok {
		if err := c.Close(); err != nil {
			return err
		}
	}
	r.newFiles++
	return nil
}

// finishAll finishes the open parts in creation order.
func (r *run) finishAll() error {
	for _, p := range r.parts {
		if p.enc != nil {
			if err := r.finish(p); err != nil {
				return err
			}
		}
	}
	r.report(0)
	return nil
}

// commit makes every part visible, in name order. When one fails, the parts already renamed
// in this run are removed again.
func (r *run) commit() error {
	sort.Slice(r.parts, func(i, j int) bool { return r.parts[i].name < r.parts[j].name })
	if !r.opts.Overwrite && r.mode != modeStream {
		// The output may have appeared while we were writing.
		for _, p := range r.parts {
			ok, err := r.sink.Exists(r.ctx, p.name)
			if err != nil {
				return err
			}
			if ok {
				return hint.New(fmt.Errorf("%w: %s appeared while exporting", ErrExists, r.loc(p.name)), "use {Overwrite} to replace it, or choose another output")
			}
		}
	}
	for i, p := range r.parts {
		if err := p.obj.Commit(); err != nil {
			err = fmt.Errorf("commit %s: %w", r.loc(p.name), err)
			if errors.Is(err, ErrLocked) {
				// A sync run that lost its lock removes nothing: another run now owns these names.
				if i > 0 {
					err = fmt.Errorf("%w; the %d files committed before it are left for the next sync run to remove", err, i)
				}
				return err
			}
			// A context that is already cancelled must not stop the cleanup.
			ctx := context.WithoutCancel(r.ctx)
			var undo []error
			for _, q := range r.parts[:i] {
				if rerr := r.sink.Remove(ctx, q.name); rerr != nil {
					undo = append(undo, rerr)
				}
			}
			if len(undo) > 0 {
				return errors.Join(append([]error{err, fmt.Errorf("%d of the %d files already committed in this run could not be removed", len(undo), i)}, undo...)...)
			}
			if i > 0 {
				err = fmt.Errorf("%w; the %d files already committed in this run were removed", err, i)
			}
			return err
		}
	}
	r.committed = true
	return nil
}

// removeStale deletes the part files of an earlier export that this run did not rewrite.
func (r *run) removeStale(sum *Summary) error {
	if len(r.old) == 0 {
		return nil
	}
	written := map[string]bool{}
	for _, p := range r.parts {
		written[p.name] = true
	}
	var errs []error
	ctx := context.WithoutCancel(r.ctx)
	for _, n := range r.old {
		if written[n] {
			continue
		}
		if err := r.sink.Remove(ctx, n); err != nil {
			errs = append(errs, err)
			continue
		}
		sum.Removed = append(sum.Removed, r.loc(n))
	}
	if len(errs) > 0 {
		return fmt.Errorf("the export is complete, but %d old part files could not be removed: %w", len(errs), errors.Join(errs...))
	}
	return nil
}

// abortAll closes the encoders (releasing their memory) and removes every temporary file.
func (r *run) abortAll() error {
	var errs []error
	for _, p := range r.parts {
		if p.enc != nil {
			_ = p.enc.Close()
			p.enc = nil
		}
		if err := p.obj.Abort(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// countingWriter counts the output bytes of a run.
type countingWriter struct {
	w io.Writer
	r *run
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.r.bytes.Add(int64(n))
	c.r.newBytes.Add(int64(n))
	return n, err
}

// writePartitioned splits rec by partition value and writes each group to its directory.
func (r *run) writePartitioned(rec arrow.Record, fileIdx int) error {
	n := int(rec.NumRows())
	apps := make([]valueAppender, len(r.pcols))
	for i, c := range r.pcols {
		apps[i] = newValueAppender(rec.Column(c.index))
	}
	// Give every row the number of its directory (in order of first appearance) and collect the
	// rows of each directory.
	if r.keyIDs == nil {
		r.keyIDs = map[string]int{}
	}
	clear(r.keyIDs)
	r.keys = r.keys[:0]
	var prev []byte
	cur := -1
	for i := 0; i < n; i++ {
		r.keyBuf = append(r.keyBuf[:0], r.prefix...)
		for j, c := range r.pcols {
			r.keyBuf = append(r.keyBuf, c.prefix...)
			v, ok := apps[j](r.valBuf[:0], i)
			r.valBuf = v
			if !ok || len(v) == 0 {
				r.keyBuf = append(r.keyBuf, delta.HiveDefaultPartition...)
			} else {
				r.keyBuf = delta.AppendEscapedPartition(r.keyBuf, v)
			}
			r.keyBuf = append(r.keyBuf, '/')
		}
		if cur < 0 || string(prev) != string(r.keyBuf) {
			id, ok := r.keyIDs[string(r.keyBuf)]
			if !ok {
				id = len(r.keys)
				key := string(r.keyBuf)
				r.keyIDs[key] = id
				if id < len(r.rowsOf) {
					r.rowsOf[id] = r.rowsOf[id][:0]
				} else {
					r.rowsOf = append(r.rowsOf, nil)
				}
				r.keys = append(r.keys, key)
			}
			cur = id
			prev = append(prev[:0], r.keyBuf...)
		}
		r.rowsOf[cur] = append(r.rowsOf[cur], int64(i))
	}
	out := r.project(rec)
	defer out.Release()
	if len(r.keys) == 1 {
		return r.writeTo(r.keys[0], out, fileIdx)
	}
	for id, key := range r.keys {
		rows := r.rowsOf[id]
		first, last := rows[0], rows[len(rows)-1]
		if last-first+1 == int64(len(rows)) { // contiguous: a slice, no copy
			s := out.NewSlice(first, last+1)
			err := r.writeTo(key, s, fileIdx)
			s.Release()
			if err != nil {
				return err
			}
			continue
		}
		if err := r.writeGathered(out, key, rows, fileIdx); err != nil {
			return err
		}
	}
	return nil
}

// writeGathered writes the given rows of rec to directory key, as one gathered record, or in
// runs of consecutive rows if a column type cannot be gathered.
func (r *run) writeGathered(rec arrow.Record, key string, rows []int64, fileIdx int) error {
	if g, err := gather(r.mem, rec, rows); err == nil {
		defer g.Release()
		return r.writeTo(key, g, fileIdx)
	}
	for i := 0; i < len(rows); {
		j := i + 1
		for j < len(rows) && rows[j] == rows[j-1]+1 {
			j++
		}
		sl := rec.NewSlice(rows[i], rows[j-1]+1)
		err := r.writeTo(key, sl, fileIdx)
		sl.Release()
		if err != nil {
			return err
		}
		i = j
	}
	return nil
}

// project returns rec with the written columns only; the caller releases it.
func (r *run) project(rec arrow.Record) arrow.Record {
	if r.keep == nil {
		rec.Retain()
		return rec
	}
	cols := make([]arrow.Array, len(r.keep))
	for i, k := range r.keep {
		cols[i] = rec.Column(k)
	}
	return array.NewRecord(r.schema, cols, rec.NumRows())
}
