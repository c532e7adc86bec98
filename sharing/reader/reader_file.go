package reader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/deltashare/deltashare/internal/hint"
	"github.com/deltashare/deltashare/sharing/protocol"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/metadata"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/apache/arrow/go/v17/parquet/schema"

	_ "github.com/deltashare/deltashare/internal/pqcodec" // faster Parquet page codecs

	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/deltashare/deltashare/sharing/predicate"
)

// colSource says where a column's values come from.
type colSource int

const (
	srcFile            colSource = iota // the data file
	srcPartition                        // the file's partition values
	srcChangeType                       // _change_type: the cdf file's data, else the file kind
	srcCommitVersion                    // _commit_version: the file's version
	srcCommitTimestamp                  // _commit_timestamp: the file's commit time
)

// planCol is one column of the working record: the output columns first, then the columns
// only the filter needs.
type planCol struct {
	name  string             // logical name, in the schema's spelling
	field *delta.StructField // the table field (a synthetic one for change data columns)
	at    arrow.DataType
	src   colSource
}

// readPlan is what every file of a read shares.
type readPlan struct {
	table   protocol.Table
	mem     memory.Allocator
	mode    string // column mapping mode
	batch   int64
	bbytes  int64 // decoded bytes a record aims at
	cols    []planCol
	nOut    int
	work    *arrow.Schema
	out     *arrow.Schema
	filter  *predicate.Expr
	memMax  int64
	tmpDir  string
	ranged  bool // the read needs only some of the data columns: large files are read by range
	changes bool
}

func changeFields() []*delta.StructField {
	return []*delta.StructField{
		{Name: ColChangeType, Type: &delta.PrimitiveType{Name: delta.TypeString}, Nullable: true},
		{Name: ColCommitVersion, Type: &delta.PrimitiveType{Name: delta.TypeLong}, Nullable: true},
		{Name: ColCommitTimestamp, Type: &delta.PrimitiveType{Name: delta.TypeTimestamp}, Nullable: true},
	}
}

func newPlan(t protocol.Table, tm *protocol.TableMetadata, changes bool, opts ReadOptions) (*readPlan, error) {
	st, err := tm.Metadata.Schema()
	if err != nil {
		return nil, fmt.Errorf("sharing: table %s: %w", t, err)
	}
	mode := "none"
	if tm.Protocol.MinReaderVersion >= 2 {
		mode = tm.Metadata.ColumnMappingMode()
	}
	p := &readPlan{
		table: t, mem: opts.Allocator, mode: mode, batch: opts.BatchSize, bbytes: opts.BatchBytes,
		memMax: opts.MaxInMemoryFile, tmpDir: opts.TempDir, changes: changes,
	}
	fields := slices.Clone(st.Fields)
	if changes {
		fields = append(fields, changeFields()...)
	}
	full := &delta.StructType{Fields: fields}
	partition := map[string]bool{}
	for _, c := range tm.Metadata.PartitionColumns {
		partition[strings.ToLower(c)] = true
	}
	find := func(name string) *delta.StructField {
		for _, f := range fields {
			if f.Name == name {
				return f
			}
		}
		for _, f := range fields {
			if strings.EqualFold(f.Name, name) {
				return f
			}
		}
		return nil
	}
	var chosen []*delta.StructField
	if len(opts.Columns) == 0 {
		chosen = fields
	} else {
		seen := map[*delta.StructField]bool{}
		for _, name := range opts.Columns {
			f := find(strings.TrimSpace(name))
			if f == nil {
				return nil, fmt.Errorf("%w: column %q is not in table %s; its columns are %s", protocol.ErrInvalidRead, name, t, strings.Join(fieldNames(fields), ", "))
			}
			if seen[f] {
				return nil, fmt.Errorf("%w: column %q is selected twice", protocol.ErrInvalidRead, name)
			}
			seen[f] = true
			chosen = append(chosen, f)
		}
	}
	p.nOut = len(chosen)
	if opts.Where != "" {
		p.filter, err = bindWhere(opts.Where, full)
		if err != nil {
			return nil, err
		}
		for _, name := range p.filter.Columns() {
			f := find(name)
			if f == nil {
				if i := strings.IndexByte(name, '.'); i > 0 {
					f = find(name[:i])
				}
			}
			if f == nil {
				return nil, hint.New(fmt.Errorf("%w: column %q is not in table %s", protocol.ErrInvalidRead, name, t), whereAdvice)
			}
			if !slices.Contains(chosen, f) {
				chosen = append(chosen, f)
			}
		}
	}
	dataCols := 0
	for _, f := range chosen {
		at, err := ArrowType(f.Type, ArrowOptions{})
		if err != nil {
			return nil, err
		}
		c := planCol{name: f.Name, field: f, at: at, src: srcFile}
		switch {
		case changes && f.Name == ColChangeType:
			c.src = srcChangeType
		case changes && f.Name == ColCommitVersion:
			c.src = srcCommitVersion
		case changes && f.Name == ColCommitTimestamp:
			c.src = srcCommitTimestamp
		case partition[strings.ToLower(f.Name)]:
			c.src = srcPartition
		default:
			dataCols++
		}
		p.cols = append(p.cols, c)
	}
	allData := 0
	for _, f := range st.Fields {
		if !partition[strings.ToLower(f.Name)] {
			allData++
		}
	}
	p.ranged = dataCols < allData
	wf := make([]arrow.Field, len(p.cols))
	for i, c := range p.cols {
		wf[i] = arrow.Field{Name: c.name, Type: c.at, Nullable: c.field.Nullable}
	}
	p.work = arrow.NewSchema(wf, nil)
	p.out = p.work // records carry the reader's schema: consumers compare pointers first
	if p.nOut < len(wf) {
		p.out = arrow.NewSchema(wf[:p.nOut], nil)
	}
	return p, nil
}

func fieldNames(fs []*delta.StructField) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Name
	}
	return out
}

// partitionValue finds a column's value in a file's partition values: by physical name, then
// by logical name, then case-insensitively.
func partitionValue(pv map[string]string, f *delta.StructField, mode string) *string {
	for _, k := range []string{f.PhysicalName(mode), f.Name} {
		if v, ok := pv[k]; ok {
			return &v
		}
	}
	for k, v := range pv {
		if strings.EqualFold(k, f.PhysicalName(mode)) || strings.EqualFold(k, f.Name) {
			return &v
		}
	}
	return nil
}

// fileColumn is how a working column is read from one data file.
type fileColumn struct {
	field  int // index among the file's top-level fields; -1 missing
	recCol int // column of the pqarrow record; -1 when not read through pqarrow
	int96  *int96Column
}

// readFile reads one data file and sends its records on s.ch.
func (r *Reader) readFile(ctx context.Context, s *fileSlot) error {
	p := r.plan
	// A file too large for memory takes its decoding turn first and downloads in it, as when
	// a worker did both: its download gains little beside its decoding, and two of them
	// decoding while two more spilled to disk made the bench table 14% slower.
	decodeTurn := false
	if r.decoding != nil && s.file.Size > p.memMax {
		if err := r.decoding.acquire(ctx, s.index, 1); err != nil {
			return err
		}
		decodeTurn = true
		defer r.decoding.release(1)
	}
	fetch, err := r.fetchTurn(ctx, s.index)
	if err != nil {
		return err
	}
	defer fetch()
	f, _, err := r.urls.get(ctx, s.key)
	if err != nil {
		return err
	}
	dv, err := r.dvs.load(ctx, s.key, &f)
	if err != nil {
		return fmt.Errorf("deletion vector: %w", err)
	}

	var src readerAtSeeker
	remote := p.ranged && f.Size > p.memMax
	// A filtered read of a large file reads its footer first and then only the row groups
	// whose statistics might match (rowgroups.go). Deletion vectors count rows from the start
	// of the file: those files are read whole.
	var footer *metadata.FileMetaData
	var groups []int // nil: every row group
	if p.filter != nil && dv == nil && f.Size >= minSkipFileSize {
		hr := &httpReaderAt{ctx: ctx, f: r.fetch, key: s.key, size: f.Size}
		var md *metadata.FileMetaData
		err := decoding(func() (err error) {
			md, err = readFooterAt(hr)
			return err
		})
		if err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		// A footer that does not read here is read again with the whole file below, where
		// its damage is reported as the file's.
		var m []int
		if err == nil {
			// Statistics of a damaged footer make the file read whole (its damage reported there).
			err = decoding(func() error { m = p.matchingRowGroups(md); return nil })
		}
		if err == nil {
			if len(m) < len(md.RowGroups) {
				if len(m) == 0 {
					return nil // no row of this file can match
				}
				footer, groups, remote = md, m, true
			}
		}
	}
	if remote {
		// Read by byte ranges while decoding (its requests bounded by the decoding turns).
		src = &httpReaderAt{ctx: ctx, f: r.fetch, key: s.key, size: f.Size}
	} else {
		lf, err := r.fetch.download(ctx, s.key, p.memMax, p.tmpDir)
		if err != nil {
			return err
		}
		defer lf.cleanup()
		src = lf.r
	}
	// The download turn is given back before waiting for a decoding turn: a turn held while
	// waiting for the consumer could keep the file it waits for from being fetched.
	fetch()
	if r.decoding != nil && !decodeTurn {
		if err := r.decoding.acquire(ctx, s.index, 1); err != nil {
			return err
		}
		defer r.decoding.release(1)
	}
	return r.decodeFile(ctx, s, f, dv, src, remote, footer, groups)
}

// fetchTurn waits for file index's turn to download (Reader.fetching; none when nil) and
// returns the function that gives it back (once; later calls do nothing).
func (r *Reader) fetchTurn(ctx context.Context, index int) (func(), error) {
	if r.fetching == nil {
		return func() {}, nil
	}
	if err := r.fetching.acquire(ctx, index); err != nil {
		return nil, err
	}
	var once sync.Once
	return func() { once.Do(r.fetching.release) }, nil
}

// orderedTurns hands out turns in file order, at most n at once: file i gets its turn after
// files 0 to i-1 got theirs. Downloads then start in the order the consumer needs the files
// (and with one turn, the first failure is the first file's). Every file of a read asks once.
type orderedTurns struct {
	mu      sync.Mutex
	n, held int
	next    int           // the file whose turn is next
	changed chan struct{} // closed and replaced on every change
}

func newOrderedTurns(n int) *orderedTurns {
	return &orderedTurns{n: max(n, 1), changed: make(chan struct{})}
}

func (t *orderedTurns) acquire(ctx context.Context, index int) error {
	for {
		t.mu.Lock()
		if index == t.next && t.held < t.n {
			t.next++
			t.held++
			t.broadcast()
			t.mu.Unlock()
			return nil
		}
		ch := t.changed
		t.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (t *orderedTurns) release() {
	t.mu.Lock()
	t.held--
	t.broadcast()
	t.mu.Unlock()
}

// broadcast wakes the waiters; t.mu is held.
func (t *orderedTurns) broadcast() {
	close(t.changed)
	t.changed = make(chan struct{})
}

// decodeFile decodes data file f, downloaded (src) or read by byte ranges (remote), and sends
// its records on s.ch: every row group, or with a footer read ahead (footer) only groups.
// Damage to the file is an error (see corrupt.go), never a panic.
func (r *Reader) decodeFile(ctx context.Context, s *fileSlot, f protocol.File, dv *delta.DeletedRows, src readerAtSeeker, remote bool,
	footer *metadata.FileMetaData, groups []int) error {
	p := r.plan
	props := parquet.NewReaderProperties(p.mem)
	// Stream column chunks through one buffer per column instead of copying each whole chunk
	// twice (the unbuffered mode reads a chunk into a new slice, then wraps it in a buffered
	// reader of the chunk's size): less memory held and far less memory cleared and copied.
	props.BufferedStreamEnabled = true
	props.BufferSize = maxStreamBuffer
	size, err := src.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return err
	}
	popts := []file.ReadOption{file.WithReadProps(props)}
	if footer != nil {
		popts = append(popts, file.WithMetadata(footer))
	}
	var pf *file.Reader
	err = decoding(func() (err error) {
		pf, err = file.NewParquetReader(src, popts...)
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !remote && !errors.Is(err, ErrCorruptFile) {
			err = fmt.Errorf("%w: %w", ErrCorruptFile, err)
		}
		return hint.New(fmt.Errorf("not a readable Parquet file: %w", err), corruptAdvice)
	}
	defer pf.Close()
	dropArrowSchema(pf)
	// The footer is checked before anything reads its column chunks (sizing below, the
	// columns after): a chunk without metadata or outside the file is damage, not a panic.
	if err := checkFooter(pf, size); err != nil {
		return hint.New(err, corruptAdvice)
	}
	// Buffers and records sized from the footer (props is the reader's: streams are opened
	// after this).
	props.BufferSize = streamBufferSize(pf.MetaData(), remote)
	batch := batchRows(pf.MetaData(), p.batch, p.bbytes)
	// Wide files are read one column chunk at a time (columnwise.go); files read by byte
	// ranges keep the record reader (their chunks are fetched as the columns are opened).
	wide := !remote && readColumnwise(pf.MetaData())
	if r.budget != nil {
		w := decodeWeight(pf.MetaData(), batch, props.BufferSize)
		if wide {
			w = columnwiseWeight(pf.MetaData(), batch)
		}
		if err := r.budget.acquire(ctx, s.index, w); err != nil {
			return err
		}
		s.weight += w // given back by the consumer, after the slot's channel is closed
	}
	aprops := pqarrow.ArrowReadProperties{BatchSize: batch}
	// Choosing dictionary columns reads dictionary pages: not worth extra requests.
	// A damaged dictionary page makes the choice fail: the columns are then read the usual way,
	// and the damage fails the read only if a column read has it.
	dictCols := false
	if !remote {
		// A column-wise read copies a row group's dictionary once, not once per record.
		if wide {
			aprops.BatchSize = maxGroupRows(pf.MetaData())
		}
		if err := decoding(func() error { dictCols = readDictColumns(pf, &aprops); return nil }); err != nil {
			aprops, dictCols = pqarrow.ArrowReadProperties{}, false
		}
		aprops.BatchSize = batch
	}
	fr, err := pqarrow.NewFileReader(pf, aprops, p.mem)
	if err != nil {
		return fmt.Errorf("reading the Parquet schema: %w", err)
	}
	top := fr.Manifest.Fields
	topFields := make([]arrow.Field, len(top))
	for i := range top {
		topFields[i] = *top[i].Field
	}
	sch := pf.MetaData().Schema

	cols := make([]fileColumn, len(p.cols))
	var leaves []int
	names := map[int]string{} // leaf column → the logical name of its column
	recCols := 0
	byField := map[int]int{}
	for i, c := range p.cols {
		cols[i] = fileColumn{field: -1, recCol: -1}
		var j int
		switch {
		case c.src == srcFile:
			j = matchField(topFields, c.field, p.mode)
		case c.src == srcChangeType && f.Kind == protocol.FileCDF:
			j = matchField(topFields, c.field, "none")
		default:
			continue
		}
		if j < 0 {
			continue
		}
		cols[i].field = j
		if top[j].IsLeaf() {
			d := sch.Column(top[j].ColIndex)
			if d.PhysicalType() == parquet.Types.Int96 && d.MaxRepetitionLevel() == 0 {
				var ic *int96Column
				err := decoding(func() (err error) {
					ic, err = readInt96Column(pf, top[j].ColIndex)
					return err
				})
				if err != nil {
					names[top[j].ColIndex] = c.name
					return decodeError(pf, []int{top[j].ColIndex}, names, !remote, 0, err)
				}
				cols[i].int96 = ic
				continue
			}
		}
		if k, ok := byField[j]; ok {
			cols[i].recCol = k
			continue
		}
		byField[j] = recCols
		cols[i].recCol = recCols
		recCols++
		n := len(leaves)
		leaves = appendLeaves(leaves, sch, j)
		for _, l := range leaves[n:] {
			names[l] = c.name
		}
	}

	total := pf.NumRows()
	for _, c := range cols {
		if c.int96 != nil {
			groups = nil // read whole, by row offset from the file's start
		}
	}
	if groups != nil {
		total = 0
		for _, g := range groups {
			total += pf.MetaData().RowGroup(g).NumRows()
		}
	}
	var rr interface {
		Schema() *arrow.Schema
		Next() bool
		Record() arrow.Record
		Err() error
		Release()
	}
	if len(leaves) > 0 {
		if !remote {
			if l, rg, err := checkNestedPages(pf, leaves); err != nil {
				if !errors.Is(err, ErrCorruptFile) {
					err = fmt.Errorf("%w: %w", ErrCorruptFile, err)
				}
				return hint.New(fmt.Errorf("column %s, row group %d: %w", leafName(sch, l, names[l]), rg, err), corruptAdvice)
			}
		}
		err := decoding(func() error {
			if wide {
				cr, err := newColumnRecords(ctx, p.mem, fr, leaves, groups, batch)
				if err != nil {
					return err
				}
				rr = cr
			} else if dictCols && pf.NumRowGroups() > 1 && groups == nil {
				rg, err := newRowGroupRecords(ctx, fr, leaves)
				if err != nil {
					return err
				}
				rr = rg
			} else {
				r, err := fr.GetRecordReader(ctx, leaves, groups)
				if err != nil {
					return err
				}
				rr = r
			}
			return nil
		})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return decodeError(pf, leaves, names, !remote, 0, err)
		}
		defer func() { _ = decoding(func() error { rr.Release(); return nil }) }()
		if got := rr.Schema().NumFields(); got != recCols {
			return fmt.Errorf("internal error: %d columns asked from the Parquet reader, %d given (%v)", recCols, got, rr.Schema())
		}
	}
	al := &aligner{mem: p.mem, mode: p.mode}
	var off int64
	for off < total || (rr != nil && off == 0 && total == 0) {
		if err := ctx.Err(); err != nil {
			return err
		}
		var rec arrow.Record
		n := min(batch, total-off)
		if rr != nil {
			var more bool
			err := decoding(func() error {
				more = rr.Next()
				if err := rr.Err(); !more && err != nil && !errors.Is(err, io.EOF) {
					return err
				}
				return nil
			})
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return decodeError(pf, leaves, names, !remote, off, err)
			}
			if !more {
				break
			}
			rec = rr.Record()
			n = rec.NumRows()
			// The reader keeps the record: densify works on a reference of its own.
			rec.Retain()
			if rec, err = densify(p.mem, rec); err != nil {
				return decodeError(pf, leaves, names, !remote, off, err)
			}
		}
		if n == 0 {
			break
		}
		work, err := r.buildRecord(al, f, cols, rec, off, n)
		if rec != nil {
			rec.Release()
		}
		if err != nil {
			return err
		}
		off += n
		if dv != nil {
			keep, kept := dv.KeepMask(off-n, n)
			if kept < n {
				cut, err := predicate.KeepRows(p.mem, work, keep)
				work.Release()
				if err != nil {
					return err
				}
				work = cut
			}
		}
		if p.filter != nil && work.NumRows() > 0 {
			cut, err := predicate.FilterWith(p.mem, p.filter, work)
			work.Release()
			if err != nil {
				return fmt.Errorf("filter: %w", err)
			}
			work = cut
		}
		if p.nOut < len(p.cols) {
			out := array.NewRecord(p.out, work.Columns()[:p.nOut], work.NumRows())
			work.Release()
			work = out
		}
		if work.NumRows() == 0 {
			work.Release()
			continue
		}
		if err := r.emit(ctx, s, work); err != nil {
			return err
		}
	}
	if off != total {
		return hint.New(fmt.Errorf("%w: the file has %d rows in its footer and %d were decoded", ErrCorruptFile, total, off), corruptAdvice)
	}
	return nil
}

// appendLeaves appends the leaf column indexes under top-level field j.
func appendLeaves(out []int, sch *schema.Schema, j int) []int {
	for i := range sch.NumColumns() {
		if sch.Root().FieldIndexByField(sch.ColumnRoot(i)) == j {
			out = append(out, i)
		}
	}
	return out
}

// buildRecord assembles the working record of rows off..off+n-1 of a file.
func (r *Reader) buildRecord(al *aligner, f protocol.File, cols []fileColumn, rec arrow.Record, off, n int64) (arrow.Record, error) {
	p := r.plan
	arrs := make([]arrow.Array, len(p.cols))
	defer func() {
		for _, a := range arrs {
			if a != nil {
				a.Release()
			}
		}
	}()
	for i, c := range p.cols {
		fc := cols[i]
		var err error
		switch {
		case fc.int96 != nil:
			arrs[i], err = fc.int96.slice(p.mem, c.at, off, n)
		case fc.recCol >= 0:
			var d arrow.ArrayData
			d, err = al.align(rec.Column(fc.recCol).Data(), c.field.Type, c.at, c.name)
			if err == nil {
				arrs[i] = array.MakeFromData(d)
				d.Release()
			}
		case c.src == srcPartition:
			arrs[i], err = PartitionArray(p.mem, c.field.Type, partitionValue(f.PartitionValues, c.field, p.mode), int(n))
		case c.src == srcChangeType && f.Kind != protocol.FileCDF:
			v := f.ChangeType()
			arrs[i], err = PartitionArray(p.mem, c.field.Type, &v, int(n))
		case c.src == srcCommitVersion && f.Version != nil:
			v := fmt.Sprint(*f.Version)
			arrs[i], err = PartitionArray(p.mem, c.field.Type, &v, int(n))
		case c.src == srcCommitTimestamp && f.Timestamp != nil:
			arrs[i] = constTimestamp(p.mem, c.at, *f.Timestamp*1000, int(n))
		default:
			arrs[i] = array.MakeArrayOfNull(p.mem, c.at, int(n))
		}
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.name, err)
		}
		if int64(arrs[i].Len()) != n {
			return nil, fmt.Errorf("column %s: %d values for %d rows", c.name, arrs[i].Len(), n)
		}
	}
	return array.NewRecord(p.work, arrs, n), nil
}

func constTimestamp(mem memory.Allocator, at arrow.DataType, v int64, n int) arrow.Array {
	b := array.NewTimestampBuilder(mem, at.(*arrow.TimestampType))
	defer b.Release()
	b.Reserve(n)
	for range n {
		b.UnsafeAppend(arrow.Timestamp(v))
	}
	return b.NewArray()
}

// int96Column is a top-level INT96 column read whole, in microseconds.
type int96Column struct {
	values []int64
	valid  []bool // nil: no nulls
}

// readInt96Column reads an INT96 column of every row group. pqarrow converts INT96 through
// nanoseconds, which overflows outside the years 1677 to 2262 (Spark writes 9999-12-31).
func readInt96Column(pf *file.Reader, col int) (*int96Column, error) {
	out := &int96Column{}
	maxDef := pf.MetaData().Schema.Column(col).MaxDefinitionLevel()
	var valid []bool
	nulls := false
	for rg := range pf.NumRowGroups() {
		rgr := pf.RowGroup(rg)
		cr, err := rgr.Column(col)
		if err != nil {
			return nil, err
		}
		ir, ok := cr.(*file.Int96ColumnChunkReader)
		if !ok {
			return nil, fmt.Errorf("column is not INT96")
		}
		rows := rgr.NumRows()
		vals := make([]parquet.Int96, rows)
		defs := make([]int16, rows)
		var got int64
		for got < rows {
			nl, nv, err := ir.ReadBatch(rows-got, vals[:], defs[got:], nil)
			if err != nil {
				return nil, err
			}
			if nl == 0 {
				return nil, fmt.Errorf("row group %d ends after %d of %d values", rg, got, rows)
			}
			// Values come packed; spread them over the levels.
			k := 0
			for i := got; i < got+nl; i++ {
				if maxDef == 0 || defs[i] == maxDef {
					out.values = append(out.values, int96Micros(vals[k]))
					valid = append(valid, true)
					k++
				} else {
					out.values = append(out.values, 0)
					valid = append(valid, false)
					nulls = true
				}
			}
			_ = nv
			got += nl
		}
	}
	if nulls {
		out.valid = valid
	}
	return out, nil
}

func (c *int96Column) slice(mem memory.Allocator, at arrow.DataType, off, n int64) (arrow.Array, error) {
	if off+n > int64(len(c.values)) {
		return nil, fmt.Errorf("INT96 column has %d values, rows up to %d asked", len(c.values), off+n)
	}
	tt, ok := at.(*arrow.TimestampType)
	if !ok {
		return nil, fmt.Errorf("the data file stores an INT96 timestamp, which cannot be read as the table's type %s", at)
	}
	mul, div := unitFactor(arrow.Microsecond, tt.Unit)
	vals := memory.NewResizableBuffer(mem)
	vals.Resize(arrow.Int64Traits.BytesRequired(int(n)))
	out := arrow.Int64Traits.CastFromBytes(vals.Bytes())
	for i := range n {
		v := c.values[off+i]
		if div > 1 {
			v = delta.FloorDiv(v, div)
		} else {
			v *= mul
		}
		out[i] = v
	}
	var bitmap *memory.Buffer
	nulls := 0
	if c.valid != nil {
		bitmap = memory.NewResizableBuffer(mem)
		bitmap.Resize(int(bitutil.BytesForBits(n)))
		b := bitmap.Bytes()
		for i := range n {
			if c.valid[off+i] {
				bitutil.SetBit(b, int(i))
			} else {
				bitutil.ClearBit(b, int(i))
				nulls++
			}
		}
	}
	d := array.NewData(at, int(n), []*memory.Buffer{bitmap, vals}, nil, nulls, 0)
	vals.Release()
	if bitmap != nil {
		bitmap.Release()
	}
	defer d.Release()
	return array.MakeFromData(d), nil
}
