package formats

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/flight"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/metadata"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
)

// parquetChunkRows is how many rows are written between two checks of the row group size, and
// parquetPageSize the target size of a data page. Variables so that tests can shrink them.
var (
	parquetChunkRows int64 = 64 << 10
	parquetPageSize  int64 = parquet.DefaultDataPageSize
	// parquetDictLimit bounds a column chunk's dictionary: past it the column falls back to
	// plain encoding. Columns of few distinct values stay far below it; for columns of mostly
	// distinct values (ids, timestamps, measures) a dictionary only costs hashing every value,
	// so the sooner they fall back the better.
	parquetDictLimit int64 = 128 << 10
	// parquetColumnParallel encodes the columns of a flat schema concurrently; tests turn it
	// off to compare with pqarrow's own sequential writer.
	parquetColumnParallel = true
	// parquetWorkers bounds how many columns are encoded at once; 0 means GOMAXPROCS.
	parquetWorkers = 0
)

// parquetEncoder writes Parquet in one of two ways. Schemas of only flat columns (no struct, list,
// map, dictionary or extension types) are written column by column through parquet/file: each
// top-level column is one leaf whose definition levels are simply its validity, and the column
// chunk writers of a buffered row group share no mutable state, so the columns of every chunk of
// rows are encoded concurrently (pqarrow.FileWriter encodes them one after the other, and that
// encoding is most of the cost of an export). The pages of a buffered row group stay in memory
// until the group is closed, which writes them out in column order. Other schemas go through
// pqarrow.FileWriter, which knows how to compute nested repetition and definition levels.
// On the column-parallel path Options.Allocator is used by several goroutines at once, as
// memory.GoAllocator and memory.CheckedAllocator allow.
type parquetEncoder struct {
	closer
	fw       *pqarrow.FileWriter // nested schemas; nil on the column-parallel path
	pw       *file.Writer        // flat schemas; nil on the pqarrow path
	rgw      file.BufferedRowGroupWriter
	rgRows   int64
	aprops   pqarrow.ArrowWriterProperties
	cols     []parquetColumn
	order    []int // columns by decreasing cost of the last chunk: the dearest start first
	workers  int
	bw       *bufio.Writer
	schema   *arrow.Schema
	maxRows  int64
	maxBytes int64
	chunk    int64
	newGroup bool // start a new row group before the next rows
	err      error
}

var _ Encoder = (*parquetEncoder)(nil)

// parquetColumn is the per-column state of the column-parallel path; only the goroutine encoding
// the column touches it during a chunk.
type parquetColumn struct {
	defLevels []int16       // scratch definition levels, reused from chunk to chunk
	cost      time.Duration // time spent encoding the column's last chunk
}

// plainWriter hides any Close method of the caller's writer: pqarrow closes its sink when it is
// an io.Closer, and Close must not close the caller's writer.
type plainWriter struct{ w io.Writer }

func (p plainWriter) Write(b []byte) (int, error) { return p.w.Write(b) }

func newParquetEncoder(w io.Writer, schema *arrow.Schema, o Options) (enc *parquetEncoder, err error) {
	var codec compress.Compression
	switch o.Compression {
	case None:
		codec = compress.Codecs.Uncompressed
	case Gzip:
		codec = compress.Codecs.Gzip
	case Zstd:
		codec = compress.Codecs.Zstd
	default:
		codec = compress.Codecs.Snappy
	}
	mem := o.Allocator
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	e := &parquetEncoder{schema: schema, maxRows: o.RowGroupRows, maxBytes: o.RowGroupBytes, chunk: parquetChunkRows}
	if e.maxRows == 0 {
		e.maxRows = DefaultRowGroupRows
	}
	if e.maxBytes == 0 {
		e.maxBytes = DefaultRowGroupBytes
	}
	props := parquet.NewWriterProperties(
		parquet.WithAllocator(mem),
		parquet.WithCompression(codec),
		parquet.WithDictionaryDefault(true),
		parquet.WithStats(true),
		parquet.WithMaxRowGroupLength(e.maxRows),
		parquet.WithDataPageSize(parquetPageSize),
		parquet.WithDictionaryPageSizeLimit(parquetDictLimit),
		parquet.WithCreatedBy("deltashare"),
	)
	aprops := pqarrow.NewArrowWriterProperties(
		pqarrow.WithAllocator(mem),
		pqarrow.WithStoreSchema(),
		pqarrow.WithCoerceTimestamps(arrow.Microsecond),
		pqarrow.WithTruncatedTimestamps(false),
	)
	// pqarrow writes the magic bytes at once and panics if that fails; the buffer keeps that
	// write in memory, and makes the many small writes of the page writers cheap.
	e.bw = bufio.NewWriterSize(plainWriter{w}, 1<<20)
	defer func() {
		if r := recover(); r != nil {
			enc, err = nil, fmt.Errorf("formats: start parquet file: %v", r)
		}
	}()
	if !parquetColumnParallel || !flatSchema(schema) {
		fw, err := pqarrow.NewFileWriter(schema, e.bw, props, aprops)
		if err != nil {
			return nil, fmt.Errorf("formats: parquet cannot store this schema: %w", err)
		}
		e.fw = fw
		return e, nil
	}
	// What pqarrow.NewFileWriter does: the Parquet schema, the Arrow schema's metadata, and the
	// serialized Arrow schema under ARROW:schema, so that readers restore the exact types.
	pqschema, err := pqarrow.ToParquet(schema, props, aprops)
	if err != nil {
		return nil, fmt.Errorf("formats: parquet cannot store this schema: %w", err)
	}
	if pqschema.NumColumns() != schema.NumFields() {
		return nil, fmt.Errorf("formats: parquet schema has %d leaf columns for %d fields", pqschema.NumColumns(), schema.NumFields())
	}
	meta := metadata.NewKeyValueMetadata()
	md := schema.Metadata()
	for i, k := range md.Keys() {
		if err := meta.Append(k, md.Values()[i]); err != nil {
			return nil, fmt.Errorf("formats: parquet file metadata: %w", err)
		}
	}
	if err := meta.Append("ARROW:schema", base64.StdEncoding.EncodeToString(flight.SerializeSchema(schema, mem))); err != nil {
		return nil, fmt.Errorf("formats: parquet file metadata: %w", err)
	}
	e.aprops = aprops
	e.cols = make([]parquetColumn, schema.NumFields())
	e.order = make([]int, schema.NumFields())
	for i := range e.order {
		e.order[i] = i
	}
	e.workers = parquetWorkers
	if e.workers <= 0 {
		e.workers = runtime.GOMAXPROCS(0)
	}
	e.workers = min(e.workers, schema.NumFields())
	e.pw = file.NewParquetWriter(e.bw, pqschema.Root(), file.WithWriterProps(props), file.WithWriteMetadata(meta))
	return e, nil
}

// flatSchema reports whether every field is a single primitive leaf that the column-parallel
// path can write: no nested, dictionary or extension types.
func flatSchema(schema *arrow.Schema) bool {
	for _, f := range schema.Fields() {
		switch f.Type.(type) {
		case arrow.NestedType, *arrow.DictionaryType, arrow.ExtensionType:
			return false
		}
	}
	return true
}

func (e *parquetEncoder) Write(rec arrow.Record) (err error) {
	if e.closed {
		return ErrClosed
	}
	if e.err != nil {
		return e.err
	}
	if err := checkRecord(e.schema, rec); err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("formats: write parquet: %v", r)
		}
		if err != nil {
			e.err = err
		}
	}()
	if rec.Schema() != e.schema && !rec.Schema().Equal(e.schema) {
		// Same types, other names or metadata: pqarrow wants the writer's schema.
		rec = array.NewRecord(e.schema, rec.Columns(), rec.NumRows())
		defer rec.Release()
	}
	n := rec.NumRows()
	for off := int64(0); off < n; off += e.chunk {
		part := rec
		if off != 0 || n > e.chunk {
			part = rec.NewSlice(off, min(n, off+e.chunk))
		}
		if err := e.writeChunk(part); err != nil {
			if part != rec {
				part.Release()
			}
			return err
		}
		if part != rec {
			part.Release()
		}
	}
	return nil
}

func (e *parquetEncoder) writeChunk(rec arrow.Record) error {
	if e.pw != nil {
		return e.writeColumns(rec)
	}
	if e.newGroup {
		e.fw.NewBufferedRowGroup()
		e.newGroup = false
	}
	if err := e.fw.WriteBuffered(rec); err != nil {
		return fmt.Errorf("formats: write parquet: %w", err)
	}
	rows, err := e.fw.RowGroupNumRows()
	if err != nil {
		return fmt.Errorf("formats: write parquet: %w", err)
	}
	size := e.fw.RowGroupTotalBytesWritten() + e.fw.RowGroupTotalCompressedBytes()
	if int64(rows) >= e.maxRows || size >= e.maxBytes {
		e.newGroup = true
	}
	return nil
}

// writeColumns writes rec into the current row group, starting new ones as they fill up, with
// the columns of each part encoded concurrently.
func (e *parquetEncoder) writeColumns(rec arrow.Record) error {
	n := rec.NumRows()
	for off := int64(0); off < n; {
		if e.rgw == nil || e.newGroup {
			if e.rgw != nil {
				if err := e.rgw.Close(); err != nil {
					return fmt.Errorf("formats: write parquet row group: %w", err)
				}
			}
			e.rgw = e.pw.AppendBufferedRowGroup()
			e.rgRows = 0
			e.newGroup = false
		}
		end := min(n, off+e.maxRows-e.rgRows)
		if err := e.encodeColumns(rec, off, end); err != nil {
			return err
		}
		e.rgRows += end - off
		off = end
		size := e.rgw.TotalBytesWritten() + e.rgw.TotalCompressedBytes()
		if e.rgRows >= e.maxRows || size >= e.maxBytes {
			e.newGroup = true
		}
	}
	return nil
}

// encodeColumns writes rows [lo, hi) of every column of rec into the current row group, with at
// most e.workers columns encoded at once. Each column chunk writer is used by one goroutine only,
// and each goroutine has its own pqarrow write context (pqarrow keeps scratch buffers in it).
func (e *parquetEncoder) encodeColumns(rec arrow.Record, lo, hi int64) error {
	errs := make([]error, len(e.cols))
	if e.workers <= 1 {
		for i := range e.cols {
			if errs[i] = e.encodeColumn(rec, i, lo, hi); errs[i] != nil {
				break
			}
		}
	} else {
		var (
			next atomic.Int64
			wg   sync.WaitGroup
		)
		for range e.workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					k := int(next.Add(1) - 1)
					if k >= len(e.order) {
						return
					}
					i := e.order[k]
					errs[i] = e.encodeColumn(rec, i, lo, hi)
				}
			}()
		}
		wg.Wait()
		// Longest first keeps both cores busy until the end of the chunk.
		sort.SliceStable(e.order, func(a, b int) bool { return e.cols[e.order[a]].cost > e.cols[e.order[b]].cost })
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("formats: write parquet: %w", err)
	}
	return nil
}

// encodeColumn writes rows [lo, hi) of column i of rec, as pqarrow would for a flat column:
// an optional column gets definition level 1 for a value and 0 for a null, a required one none.
func (e *parquetEncoder) encodeColumn(rec arrow.Record, i int, lo, hi int64) (err error) {
	start := time.Now()
	c := &e.cols[i]
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("column %q: %v", e.schema.Field(i).Name, r)
		}
		c.cost = time.Since(start)
	}()
	arr := rec.Column(i)
	if lo != 0 || hi != int64(arr.Len()) {
		arr = array.NewSlice(arr, lo, hi)
		defer arr.Release()
	}
	cw, err := e.rgw.Column(i)
	if err != nil {
		return err
	}
	var defLevels []int16
	nullable := false
	if cw.LevelInfo().DefLevel > 0 {
		n, nulls := arr.Len(), arr.NullN()
		if cap(c.defLevels) < n {
			c.defLevels = make([]int16, n)
		}
		c.defLevels = c.defLevels[:n]
		defLevels = c.defLevels
		switch nulls {
		case 0:
			for j := range defLevels {
				defLevels[j] = 1
			}
		case n:
			clear(defLevels)
			nullable = true
		default:
			for j := range defLevels {
				if arr.IsValid(j) {
					defLevels[j] = 1
				} else {
					defLevels[j] = 0
				}
			}
			nullable = true
		}
	}
	ctx := pqarrow.NewArrowWriteContext(context.Background(), &e.aprops)
	if err := pqarrow.WriteArrowToColumn(ctx, cw, arr, defLevels, nil, nullable); err != nil {
		return fmt.Errorf("column %q: %w", e.schema.Field(i).Name, err)
	}
	return nil
}

func (e *parquetEncoder) Close() error {
	return e.closeOnce(func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("formats: finish parquet file: %v", r)
			}
		}()
		var cerr error
		if e.fw != nil {
			cerr = e.fw.Close()
		} else {
			if e.rgw != nil && e.err == nil {
				cerr = e.rgw.Close()
			}
			// file.Writer.Close reports no footer errors; a panic is caught above.
			if werr := e.pw.Close(); cerr == nil {
				cerr = werr
			}
		}
		if e.err != nil {
			return e.err
		}
		if cerr != nil {
			return fmt.Errorf("formats: finish parquet file: %w", cerr)
		}
		if ferr := e.bw.Flush(); ferr != nil {
			return fmt.Errorf("formats: write output: %w", ferr)
		}
		return nil
	})
}
