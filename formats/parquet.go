package formats

import (
	"bufio"
	"fmt"
	"io"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/compress"
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
)

type parquetEncoder struct {
	closer
	fw       *pqarrow.FileWriter
	bw       *bufio.Writer
	schema   *arrow.Schema
	maxRows  int64
	maxBytes int64
	chunk    int64
	newGroup bool // start a new row group before the next rows
	err      error
}

var _ Encoder = (*parquetEncoder)(nil)

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
	fw, err := pqarrow.NewFileWriter(schema, e.bw, props, aprops)
	if err != nil {
		return nil, fmt.Errorf("formats: parquet cannot store this schema: %w", err)
	}
	e.fw = fw
	return e, nil
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

func (e *parquetEncoder) Close() error {
	return e.closeOnce(func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("formats: finish parquet file: %v", r)
			}
		}()
		cerr := e.fw.Close()
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
