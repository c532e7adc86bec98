package formats

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/flight"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/metadata"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"

	_ "github.com/deltashare/deltashare/internal/pqcodec" // faster Parquet page codecs
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
	// parquetWriteBatch is the column writers' batch: the most values given to one in a call.
	parquetWriteBatch int64 = 4096
	// parquetColumnParallel encodes the columns of a flat schema concurrently; tests turn it
	// off to compare with pqarrow's own sequential writer.
	parquetColumnParallel = true
	// parquetWorkers bounds how many columns are encoded at once; 0 means GOMAXPROCS.
	parquetWorkers = 0
	// parquetCloseWindow bounds the columns of a closing row group that are finished (or being
	// finished) but not yet written out (see finishColumns); at least the workers.
	parquetCloseWindow = 64
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
	batch    int64 // the column writers' write batch size
	newGroup bool  // start a new row group before the next rows
	err      error
	// start opens the writer with the columns to write without a dictionary; until it has
	// run (nil then), records wait in sample, for plainColumns to judge the columns' values.
	start       func(plain []string) error
	sample      []arrow.Record
	sampleRows  int64
	sampleBytes int64
}

var _ Encoder = (*parquetEncoder)(nil)

// parquetColumn is the per-column state of the column-parallel path; only the goroutine encoding
// the column touches it during a chunk.
type parquetColumn struct {
	defLevels []int16       // scratch definition levels, reused from chunk to chunk
	cost      time.Duration // time spent encoding the column's last chunk
	dict      *stringDict   // string and binary columns: their values of the current row group
	ints      *int32Dict    // int32 and date32 columns written with a dictionary: idem
	// pending: the column chunk writer holds values not yet in a page. Every write call is one
	// batch of the writer (its batch size is the chunk size) and a page can only end at the end
	// of a batch, so a call that made no page left its values pending.
	pending bool
	// Scratch of writeValues, reused from batch to batch: the values of a batch as the column
	// chunk writer takes them, as views of the Arrow buffers (byte arrays) or of big-endian
	// bytes (decimals).
	byteArrays []parquet.ByteArray
	flbas      []parquet.FixedLenByteArray
	// The valid values of a batch of a floating-point column with nulls (see writeValues).
	float64s []float64
	float32s []float32
}

// wideColumns is where a schema counts as wide for the row group size: past it, the default
// byte size of a row group falls with the number of columns.
const wideColumns = 256

// defaultRowGroupBytes is the byte size of a row group when Options.RowGroupBytes is 0:
// DefaultRowGroupBytes, and for schemas wider than wideColumns that times wideColumns/cols
// (at least 4 MiB). Besides the group's buffered pages, every column writer holds the values
// of its unfinished page and string columns their dictionaries, and those buffers keep their
// capacity from group to group: with 1,000 columns they were half of an export's heap, over
// the soft memory limit the CLI sets, and the collector then ran without pause.
func defaultRowGroupBytes(cols int) int64 {
	if cols <= wideColumns {
		return DefaultRowGroupBytes
	}
	return max(DefaultRowGroupBytes*wideColumns/int64(cols), 4<<20)
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
		e.maxBytes = defaultRowGroupBytes(schema.NumFields())
	}
	aprops := pqarrow.NewArrowWriterProperties(
		pqarrow.WithAllocator(mem),
		pqarrow.WithStoreSchema(),
		pqarrow.WithCoerceTimestamps(arrow.Microsecond),
		pqarrow.WithTruncatedTimestamps(false),
	)
	e.bw = bufio.NewWriterSize(plainWriter{w}, 1<<20)
	// The schema is checked now; the writer starts with the first rows (or at Close), once the
	// dictionary decision of each column has seen its values (plainColumns).
	if err := checkParquetSchema(schema, writerProps(mem, codec, e.maxRows, nil), aprops); err != nil {
		return nil, err
	}
	e.start = func(plain []string) error { return e.open(schema, mem, codec, aprops, plain) }
	return e, nil
}

// checkParquetSchema reports whether a schema can be written as Parquet.
func checkParquetSchema(schema *arrow.Schema, props *parquet.WriterProperties, aprops pqarrow.ArrowWriterProperties) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("formats: start parquet file: %v", r)
		}
	}()
	if _, err := pqarrow.ToParquet(schema, props, aprops); err != nil {
		return fmt.Errorf("formats: parquet cannot store this schema: %w", err)
	}
	return nil
}

// writerProps are the writer properties of an output; the columns named in plain are written
// without a dictionary.
func writerProps(mem memory.Allocator, codec compress.Compression, maxRows int64, plain []string) *parquet.WriterProperties {
	opts := []parquet.WriterProperty{
		parquet.WithAllocator(mem),
		parquet.WithCompression(codec),
		parquet.WithDictionaryDefault(true),
		parquet.WithStats(true),
		parquet.WithMaxRowGroupLength(maxRows),
		// Each call to a column writer is one batch (see writeDense and flushDict): a page
		// ends only where a call ends (see closeRowGroup). The writer checks the dictionary
		// size after each batch, so a small batch keeps a dictionary that outgrows its limit
		// from growing much further.
		parquet.WithBatchSize(parquetWriteBatch),
		parquet.WithDataPageSize(parquetPageSize),
		parquet.WithDictionaryPageSizeLimit(parquetDictLimit),
		parquet.WithCreatedBy("deltashare"),
	}
	for _, name := range plain {
		opts = append(opts, parquet.WithDictionaryFor(name, false))
	}
	return parquet.NewWriterProperties(opts...)
}

// open starts the Parquet writer.
func (e *parquetEncoder) open(schema *arrow.Schema, mem memory.Allocator, codec compress.Compression, aprops pqarrow.ArrowWriterProperties, plain []string) (err error) {
	props := writerProps(mem, codec, e.maxRows, plain)
	// pqarrow writes the magic bytes at once and panics if that fails; the buffer (e.bw) keeps
	// that write in memory, and makes the many small writes of the page writers cheap.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("formats: start parquet file: %v", r)
		}
	}()
	if !parquetColumnParallel || !flatSchema(schema) {
		fw, err := pqarrow.NewFileWriter(schema, e.bw, props, aprops)
		if err != nil {
			return fmt.Errorf("formats: parquet cannot store this schema: %w", err)
		}
		e.fw = fw
		return nil
	}
	// What pqarrow.NewFileWriter does: the Parquet schema, the Arrow schema's metadata, and the
	// serialized Arrow schema under ARROW:schema, so that readers restore the exact types.
	pqschema, err := pqarrow.ToParquet(schema, props, aprops)
	if err != nil {
		return fmt.Errorf("formats: parquet cannot store this schema: %w", err)
	}
	if pqschema.NumColumns() != schema.NumFields() {
		return fmt.Errorf("formats: parquet schema has %d leaf columns for %d fields", pqschema.NumColumns(), schema.NumFields())
	}
	meta := metadata.NewKeyValueMetadata()
	md := schema.Metadata()
	for i, k := range md.Keys() {
		if err := meta.Append(k, md.Values()[i]); err != nil {
			return fmt.Errorf("formats: parquet file metadata: %w", err)
		}
	}
	if err := meta.Append("ARROW:schema", base64.StdEncoding.EncodeToString(flight.SerializeSchema(schema, mem))); err != nil {
		return fmt.Errorf("formats: parquet file metadata: %w", err)
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
	for i, f := range schema.Fields() {
		switch f.Type.ID() {
		case arrow.STRING, arrow.BINARY:
			if !containsString(plain, f.Name) {
				e.cols[i].dict = newStringDict(f.Type)
			}
		case arrow.INT32, arrow.DATE32:
			if !containsString(plain, f.Name) {
				e.cols[i].ints = &int32Dict{}
			}
		}
	}
	e.batch = props.WriteBatchSize()
	e.pw = file.NewParquetWriter(e.bw, pqschema.Root(), file.WithWriterProps(props), file.WithWriteMetadata(meta))
	return nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
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
	if e.start != nil {
		rec.Retain()
		e.sample = append(e.sample, rec)
		e.sampleRows += rec.NumRows()
		e.sampleBytes += recordBytes(rec)
		if e.sampleRows < parquetSampleRows && e.sampleBytes < parquetSampleBytes {
			return nil
		}
		return e.startWriter()
	}
	return e.writeRecord(rec)
}

// startWriter opens the writer with the dictionary decisions from the sampled records, and
// writes them.
func (e *parquetEncoder) startWriter() error {
	start := e.start
	e.start = nil
	sample := e.sample
	e.sample = nil
	defer func() {
		for _, r := range sample {
			r.Release()
		}
	}()
	plain := plainColumns(e.schema, sample)
	plain = append(plain, plainStringColumns(e.schema, sample, e.groupRows())...)
	if err := start(plain); err != nil {
		return err
	}
	for _, r := range sample {
		if err := e.writeRecord(r); err != nil {
			return err
		}
	}
	return nil
}

// writeRecord writes one record, chunk by chunk.
func (e *parquetEncoder) writeRecord(rec arrow.Record) error {
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
				if err := e.closeRowGroup(); err != nil {
					return err
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
		size := e.rgw.TotalBytesWritten() + e.rgw.TotalCompressedBytes() + e.pendingBytes() + e.bufferedValueBytes()
		if e.rgRows >= e.maxRows || size >= e.maxBytes {
			e.newGroup = true
		}
	}
	return nil
}

// encodeColumns writes rows [lo, hi) of every column of rec into the current row group.
func (e *parquetEncoder) encodeColumns(rec arrow.Record, lo, hi int64) error {
	if err := e.eachColumn(func(i int) error { return e.encodeColumn(rec, i, lo, hi) }); err != nil {
		return fmt.Errorf("formats: write parquet: %w", err)
	}
	return nil
}

// eachColumn calls fn for every column, with at most e.workers columns at once, and returns
// the errors joined. Each column chunk writer is used by one goroutine only, and each call has
// its own pqarrow write context (pqarrow keeps scratch buffers in it).
func (e *parquetEncoder) eachColumn(fn func(i int) error) error {
	errs := make([]error, len(e.cols))
	if e.workers <= 1 {
		for i := range e.cols {
			if errs[i] = fn(i); errs[i] != nil {
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
					errs[i] = fn(i)
				}
			}()
		}
		wg.Wait()
		// Longest first keeps both cores busy until the end of the chunk.
		sort.SliceStable(e.order, func(a, b int) bool { return e.cols[e.order[a]].cost > e.cols[e.order[b]].cost })
	}
	return errors.Join(errs...)
}

// encodeColumn writes rows [lo, hi) of column i of rec: string and binary columns into their
// dictionary while it has room, other columns (and those) straight to the column chunk writer.
func (e *parquetEncoder) encodeColumn(rec arrow.Record, i int, lo, hi int64) (err error) {
	start := time.Now()
	c := &e.cols[i]
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("column %q: %v", e.schema.Field(i).Name, r)
		}
		c.cost = time.Since(start)
	}()
	// A required column with nulls is pqarrow's to refuse or write.
	if d := c.dict; d != nil && !d.dense && (e.schema.Field(i).Nullable || rec.Column(i).NullN() == 0) {
		required := !e.schema.Field(i).Nullable
		n := int64(d.collect(rec.Column(i), int(lo), int(hi), required))
		if lo+n == hi {
			return nil
		}
		// The dictionary is full: write what it holds, then the rest value by value.
		if err := e.flushDict(i); err != nil {
			return err
		}
		d.dense = true
		lo += n
	}
	if d := c.ints; d != nil && !d.dense && (e.schema.Field(i).Nullable || rec.Column(i).NullN() == 0) {
		n := int64(d.collect(rec.Column(i), int(lo), int(hi), !e.schema.Field(i).Nullable))
		if lo+n == hi {
			return nil
		}
		if err := e.flushInt32Dict(i); err != nil {
			return err
		}
		d.dense = true
		lo += n
	}
	return e.writeDense(rec, i, lo, hi)
}

// writeDense writes rows [lo, hi) of column i of rec, one write batch at a time.
func (e *parquetEncoder) writeDense(rec arrow.Record, i int, lo, hi int64) error {
	for lo < hi {
		end := min(hi, lo+e.batch)
		if err := e.writeDenseBatch(rec, i, lo, end); err != nil {
			return err
		}
		lo = end
	}
	return nil
}

// writeDenseBatch writes rows [lo, hi) of column i of rec as pqarrow would for a flat column:
// an optional column gets definition level 1 for a value and 0 for a null, a required one none.
func (e *parquetEncoder) writeDenseBatch(rec arrow.Record, i int, lo, hi int64) error {
	c := &e.cols[i]
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
	before := cw.TotalBytesWritten()
	done, err := c.writeValues(cw, arr, defLevels, nullable)
	if !done && err == nil {
		ctx := pqarrow.NewArrowWriteContext(context.Background(), &e.aprops)
		err = pqarrow.WriteArrowToColumn(ctx, cw, arr, defLevels, nil, nullable)
	}
	if err != nil {
		return fmt.Errorf("column %q: %w", e.schema.Field(i).Name, err)
	}
	c.pending = cw.TotalBytesWritten() == before
	return nil
}

// writeValues writes arr to cw as pqarrow.WriteArrowToColumn does (the same calls of the column
// chunk writer with the same values, so the same output) for string, binary and decimal128
// columns, with fewer allocations than pqarrow makes for them (the slice of views is reused;
// a decimal's bytes take their size, where pqarrow reserves 16 bytes a bit). Floating-point
// columns with nulls are written as their valid values with the definition levels, where
// pqarrow hands the writer the values with gaps and a validity bitmap: the same page bytes and
// statistics, but the writer's statistics of gapped floating-point values box every value
// into an interface (two allocations per value). done is false for the other columns, left to
// pqarrow.
func (c *parquetColumn) writeValues(cw file.ColumnChunkWriter, arr arrow.Array, defLevels []int16, nullable bool) (done bool, err error) {
	// pqarrow's choice between the dense and the spaced write.
	info := cw.LevelInfo()
	single := info.DefLevel == info.RepeatedAncestorDefLevel+1 && nullable
	maybeParentNulls := info.HasNullableValues() && !single
	noNulls := cw.Descr().SchemaNode().RepetitionType() == parquet.Repetitions.Required || arr.NullN() == 0
	spaced := maybeParentNulls || !noNulls
	n := arr.Len()
	switch w := cw.(type) {
	case *file.ByteArrayColumnChunkWriter:
		var offs []int32
		switch a := arr.(type) {
		case *array.String:
			offs = a.ValueOffsets()
		case *array.Binary:
			offs = a.ValueOffsets()
		default:
			return false, nil
		}
		var data []byte
		if b := arr.Data().Buffers()[2]; b != nil {
			data = b.Bytes()
		}
		if cap(c.byteArrays) < n {
			c.byteArrays = make([]parquet.ByteArray, n)
		}
		vals := c.byteArrays[:n]
		for j := range vals {
			vals[j] = data[offs[j]:offs[j+1]]
		}
		setBitsBuffer(cw, maybeParentNulls)
		if !spaced {
			_, err = w.WriteBatch(vals, defLevels, nil)
			return true, err
		}
		w.WriteBatchSpaced(vals, defLevels, nil, arr.NullBitmapBytes(), int64(arr.Data().Offset()))
		return true, nil
	case *file.Float64ColumnChunkWriter:
		a, ok := arr.(*array.Float64)
		if !ok || maybeParentNulls {
			return false, nil
		}
		vals := a.Float64Values()
		if spaced {
			c.float64s = appendValid(c.float64s[:0], vals, a)
			vals = c.float64s
		}
		_, err = w.WriteBatch(vals, defLevels, nil)
		return true, err
	case *file.Float32ColumnChunkWriter:
		a, ok := arr.(*array.Float32)
		if !ok || maybeParentNulls {
			return false, nil
		}
		vals := a.Float32Values()
		if spaced {
			c.float32s = appendValid(c.float32s[:0], vals, a)
			vals = c.float32s
		}
		_, err = w.WriteBatch(vals, defLevels, nil)
		return true, err
	case *file.FixedLenByteArrayColumnChunkWriter:
		a, ok := arr.(*array.Decimal128)
		size := cw.Descr().TypeLength()
		if !ok || size < 1 || size > 16 {
			return false, nil
		}
		if cap(c.flbas) < n {
			c.flbas = make([]parquet.FixedLenByteArray, n)
		}
		// New bytes for every batch: the statistics keep views of the smallest and largest.
		fixed, vals := make([]byte, n*size), c.flbas[:n]
		nulls := a.NullN() > 0
		var be [16]byte
		for j := range vals {
			if nulls && a.IsNull(j) {
				vals[j] = nil
				continue
			}
			v := a.Value(j)
			binary.BigEndian.PutUint64(be[:8], uint64(v.HighBits()))
			binary.BigEndian.PutUint64(be[8:], v.LowBits())
			out := fixed[j*size : (j+1)*size : (j+1)*size]
			copy(out, be[16-size:])
			vals[j] = out
		}
		setBitsBuffer(cw, maybeParentNulls)
		if !nulls {
			// pqarrow writes a decimal column without nulls densely even when it is optional.
			_, err = w.WriteBatch(vals, defLevels, nil)
			return true, err
		}
		w.WriteBatchSpaced(vals, defLevels, nil, a.NullBitmapBytes(), int64(a.Data().Offset()))
		return true, nil
	}
	return false, nil
}

// appendValid appends to dst the values of arr (vals: its values) that are not null.
func appendValid[T any](dst, vals []T, arr arrow.Array) []T {
	for j := range arr.Len() {
		if arr.IsValid(j) {
			dst = append(dst, vals[j])
		}
	}
	return dst
}

// setBitsBuffer gives cw the validity scratch buffer pqarrow gives a column writer before its
// first spaced write.
func setBitsBuffer(cw file.ColumnChunkWriter, maybeParentNulls bool) {
	if maybeParentNulls && !cw.HasBitsBuffer() {
		buf := memory.NewResizableBuffer(cw.Properties().Allocator())
		buf.Resize(int(bitutil.BytesForBits(cw.Properties().WriteBatchSize())))
		cw.SetBitsBuffer(buf)
	}
}

// dictPageEncoder is the part of a column chunk writer's dictionary encoder that writeDictChunk uses.
type dictPageEncoder interface {
	PutDictionary(values arrow.Array) error
	NumEntries() int
}

// flushDict writes the pending rows of column i: the dictionary, then the indices with the
// statistics of each part (see writeDictChunk).
func (e *parquetEncoder) flushDict(i int) error {
	d := e.cols[i].dict
	if len(d.idx) == 0 {
		return nil
	}
	c, err := e.rgw.Column(i)
	if err != nil {
		return err
	}
	cw, ok := c.(*file.ByteArrayColumnChunkWriter)
	if !ok {
		return fmt.Errorf("column %q: no byte array column writer", e.schema.Field(i).Name)
	}
	dict := d.dictionary()
	defer dict.Release()
	d.sort()
	err = e.writeDictChunk(i, cw, dict, d.idx, d.def, d.nulls, func(off, end int, defLevels []int16) {
		st, ok := cw.PageStatistics().(*metadata.ByteArrayStatistics)
		if !ok {
			return
		}
		// The least and greatest rank of the part's values (row j holds value d.order[d.idx[j]]).
		lo, hi, values := int32(len(d.rank)), int32(-1), 0
		for j := off; j < end; j++ {
			if defLevels != nil && defLevels[j-off] == 0 {
				continue
			}
			r := d.rank[d.order[d.idx[j]]]
			lo, hi = min(lo, r), max(hi, r)
			values++
		}
		st.IncNulls(int64(end - off - values))
		st.IncNumValues(int64(values))
		if values > 0 {
			// Copies: the statistics outlive the dictionary.
			st.SetMinMax(append([]byte{}, d.value(d.sorted[lo])...), append([]byte{}, d.value(d.sorted[hi])...))
		}
	})
	if err != nil {
		return err
	}
	d.idx, d.def, d.nulls = d.idx[:0], d.def[:0], 0
	return nil
}

// writeDictChunk hands dict to the dictionary encoder of column i's chunk writer cw, then writes
// the pending indices idx (definition levels def, nulls of them null) in parts of at most one
// write batch, calling setStats for each part (rows off to end) to add its values to the page
// statistics before it is written. Statistics are kept per page and a page ends only between
// batches, so every page's statistics describe exactly its own values.
func (e *parquetEncoder) writeDictChunk(i int, cw file.ColumnChunkWriter, dict arrow.Array, idx []int32, def []int16, nulls int,
	setStats func(off, end int, defLevels []int16)) error {
	name := e.schema.Field(i).Name
	enc, ok := cw.CurrentEncoder().(dictPageEncoder)
	if !ok || cw.CurrentEncoder().Encoding() != parquet.Encodings.PlainDict || enc.NumEntries() != 0 {
		return fmt.Errorf("column %q: the column writer is not dictionary encoding", name)
	}
	if err := enc.PutDictionary(dict); err != nil {
		return fmt.Errorf("column %q: %w", name, err)
	}
	if enc.NumEntries() != dict.Len() {
		return fmt.Errorf("column %q: dictionary of %d values kept %d", name, dict.Len(), enc.NumEntries())
	}
	n := len(idx)
	indices := indexArray(n, idx, def, nulls)
	defer indices.Release()
	step := int(e.batch)
	for off := 0; off < n; off += step {
		end := min(n, off+step)
		var defLevels []int16
		if def != nil {
			defLevels = def[off:end]
		}
		setStats(off, end, defLevels)
		part := array.NewSlice(indices, int64(off), int64(end))
		before := cw.TotalBytesWritten()
		err := cw.WriteDictIndices(part, defLevels, nil)
		part.Release()
		if err != nil {
			return fmt.Errorf("column %q: %w", name, err)
		}
		e.cols[i].pending = cw.TotalBytesWritten() == before
	}
	return nil
}

// pageFlusher is what the column chunk writers of parquet/file offer to end their current page.
type pageFlusher interface {
	FlushCurrentPage() error
}

// closeRowGroup writes the columns' pending dictionaries and closes the current row group.
//
// Closing a row group builds every column's last page (and, for dictionary columns, the
// writer's dictionary), then writes each column chunk out, in column order. The workers finish
// the columns in column order while this goroutine closes each finished column as soon as those
// before it are closed: a closed column chunk is written out and its writer's dictionary and
// page copies are garbage, so only the columns finished but not yet closed hold their pages at
// once (not every column of the group), and the writing out runs alongside the page building.
// The chunks are written in the same order as the row group's Close writes them, so the bytes
// are the same.
func (e *parquetEncoder) closeRowGroup() error {
	if err := e.finishColumns(); err != nil {
		return err
	}
	for _, c := range e.cols {
		if d := c.dict; d != nil {
			d.reset()
		}
		if d := c.ints; d != nil {
			d.reset()
		}
	}
	// The columns are closed: this adds up their sizes and finishes the group's metadata.
	if err := e.rgw.Close(); err != nil {
		return fmt.Errorf("formats: write parquet row group: %w", err)
	}
	return nil
}

// finishColumns finishes (finishColumn) and closes every column of the row group, closing in
// column order; see closeRowGroup. After an error no more columns are closed.
func (e *parquetEncoder) finishColumns() error {
	n := len(e.cols)
	closeColumn := func(i int) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("formats: write parquet row group: column %q: %v", e.schema.Field(i).Name, r)
			}
		}()
		cw, err := e.rgw.Column(i)
		if err != nil {
			return err
		}
		if err := cw.Close(); err != nil {
			return fmt.Errorf("formats: write parquet row group: column %q: %w", e.schema.Field(i).Name, err)
		}
		return nil
	}
	if e.workers <= 1 {
		for i := range n {
			if err := e.finishColumn(i); err != nil {
				return fmt.Errorf("formats: write parquet: %w", err)
			}
			if err := closeColumn(i); err != nil {
				return err
			}
		}
		return nil
	}
	var (
		next   atomic.Int64
		failed atomic.Bool
		wg     sync.WaitGroup
		errs   = make([]error, n)
		ready  = make(chan int, n)
		// A worker takes a place before it takes a column, and the place is given back when the
		// column is closed: at most parquetCloseWindow columns are taken and not yet closed
		// (the closing, one column after the other, is as slow as the finishing on the
		// workers; without a bound every column's pages would wait for it). Places are taken
		// before columns, so the first column not closed is always held by a worker with a
		// place: the closing can always go on.
		places = make(chan struct{}, max(parquetCloseWindow, e.workers))
	)
	for range e.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				places <- struct{}{}
				i := int(next.Add(1) - 1)
				if i >= n {
					<-places
					return
				}
				if !failed.Load() {
					errs[i] = e.finishColumn(i)
				}
				ready <- i
			}
		}()
	}
	// Every column is reported once, finished or (after a failure) skipped.
	finished := make([]bool, n)
	var err error
	for c, got := 0, 0; got < n; got++ {
		finished[<-ready] = true
		for ; c < n && finished[c]; c++ {
			if err == nil {
				if errs[c] != nil {
					err = fmt.Errorf("formats: write parquet: %w", errs[c])
				} else {
					err = closeColumn(c)
				}
				if err != nil {
					failed.Store(true)
				}
			}
			<-places
		}
	}
	wg.Wait()
	return err
}

// finishColumn writes column i's pending dictionary and ends its last page.
func (e *parquetEncoder) finishColumn(i int) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("column %q: %v", e.schema.Field(i).Name, r)
		}
	}()
	if e.cols[i].dict != nil {
		if err := e.flushDict(i); err != nil {
			return err
		}
	}
	if e.cols[i].ints != nil {
		if err := e.flushInt32Dict(i); err != nil {
			return err
		}
	}
	// Only a column with pending values has its page ended (never an empty page).
	if !e.cols[i].pending {
		return nil
	}
	cw, err := e.rgw.Column(i)
	if err != nil {
		return err
	}
	if p, ok := cw.(pageFlusher); ok {
		if err := p.FlushCurrentPage(); err != nil {
			return fmt.Errorf("column %q: %w", e.schema.Field(i).Name, err)
		}
	}
	e.cols[i].pending = false
	return nil
}

// bufferedValueBytes is what the column writers hold in pages not yet ended: with many
// columns, each below a page's worth of values, that is most of the row group (and every page
// is built when the group closes).
func (e *parquetEncoder) bufferedValueBytes() int64 {
	var n int64
	for i := range e.cols {
		cw, err := e.rgw.Column(i)
		if err != nil {
			continue
		}
		if b, ok := cw.(interface{ EstimatedBufferedValueBytes() int64 }); ok {
			n += b.EstimatedBufferedValueBytes()
		}
	}
	return n
}

// pendingBytes estimates the bytes of the current row group not yet handed to its writers.
func (e *parquetEncoder) pendingBytes() int64 {
	var n int64
	for _, c := range e.cols {
		if c.ints != nil {
			n += c.ints.pendingBytes()
		}
		if c.dict != nil {
			n += c.dict.pendingBytes()
		}
	}
	return n
}

func (e *parquetEncoder) Close() error {
	return e.closeOnce(func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("formats: finish parquet file: %v", r)
			}
		}()
		if e.start != nil {
			if err := e.startWriter(); err != nil && e.err == nil {
				e.err = err
			}
			if e.fw == nil && e.pw == nil {
				return e.err
			}
		}
		var cerr error
		if e.fw != nil {
			cerr = e.fw.Close()
		} else {
			if e.rgw != nil && e.err == nil {
				cerr = e.closeRowGroup()
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

// Dictionary decision per column. Arrow's writer dictionary-encodes every column until its
// dictionary outgrows parquetDictLimit, hashing every value on the way (and growing a hash
// table per column: a 1,000-column output held hundreds of MB of them). Fixed-width columns
// are judged on their first values instead: a column whose sample is mostly distinct values
// is written plain from the start; others keep the dictionary and its fallback. String and
// binary columns have their own dictionaries (stringDict).
var (
	// parquetSampleRows and parquetSampleBytes bound the records held back to judge the
	// columns: the first of the two reached starts the writer.
	parquetSampleRows  int64 = 8192
	parquetSampleBytes int64 = 16 << 20
	// parquetMinSample is the fewest values a judgement needs; with fewer (a small output),
	// every column keeps the dictionary.
	parquetMinSample = 1024
)

// plainColumns returns the top-level fixed-width columns whose sampled values are more than
// half distinct.
func plainColumns(schema *arrow.Schema, sample []arrow.Record) []string {
	var out []string
	// One set for every column: cleared, it keeps its room (a wide schema made hundreds of
	// sets of thousands of values).
	seen := map[[2]uint64]struct{}{}
	for i, f := range schema.Fields() {
		fw, ok := f.Type.(arrow.FixedWidthDataType)
		if !ok || f.Type.ID() == arrow.BOOL {
			continue
		}
		width := fw.BitWidth() / 8
		if width != 1 && width != 2 && width != 4 && width != 8 && width != 16 {
			continue
		}
		clear(seen)
		n := 0
	records:
		for _, rec := range sample {
			col := rec.Column(i)
			d := col.Data()
			if len(d.Buffers()) < 2 || d.Buffers()[1] == nil {
				continue
			}
			raw := d.Buffers()[1].Bytes()
			for r := 0; r < col.Len(); r++ {
				if col.IsNull(r) {
					continue
				}
				at := (d.Offset() + r) * width
				if at+width > len(raw) {
					break
				}
				var k [2]uint64
				v := raw[at : at+width]
				switch width {
				case 1:
					k[0] = uint64(v[0])
				case 2:
					k[0] = uint64(binary.LittleEndian.Uint16(v))
				case 4:
					k[0] = uint64(binary.LittleEndian.Uint32(v))
				case 8:
					k[0] = binary.LittleEndian.Uint64(v)
				case 16:
					k[0], k[1] = binary.LittleEndian.Uint64(v), binary.LittleEndian.Uint64(v[8:])
				}
				seen[k] = struct{}{}
				n++
				if int64(n) >= parquetSampleRows {
					break records
				}
			}
		}
		if n >= parquetMinSample && 2*len(seen) > n {
			out = append(out, f.Name)
		}
	}
	return out
}

// parquetMinStringSample is the fewest sampled values that judge a string or binary column:
// columns of mostly nulls are judged on fewer values than fixed-width ones.
var parquetMinStringSample = 256

// plainStringColumns returns the top-level string and binary columns whose sampled values are
// more than half distinct and would, at the rate of the sample, outgrow parquetDictLimit
// within a row group of groupRows rows: their dictionary would only be built to be dropped
// (hashing and sorting every value until then) and a row group's first values would be
// dictionary-encoded, the rest plain. They are written plain from the start.
func plainStringColumns(schema *arrow.Schema, sample []arrow.Record, groupRows int64) []string {
	var out []string
	var rows int64
	for _, rec := range sample {
		rows += rec.NumRows()
	}
	if rows == 0 {
		return nil
	}
	seen := map[string]struct{}{} // cleared for each column, as in plainColumns
	for i, f := range schema.Fields() {
		if f.Type.ID() != arrow.STRING && f.Type.ID() != arrow.BINARY {
			continue
		}
		clear(seen)
		var n, size int64
		for _, rec := range sample {
			col, ok := rec.Column(i).(array.BinaryLike)
			if !ok {
				break
			}
			for r := 0; r < col.Len(); r++ {
				if col.IsNull(r) {
					continue
				}
				// Views of the sampled records' memory, which outlives the set: no copies.
				var v string
				switch a := col.(type) {
				case *array.String:
					v = a.Value(r)
				case *array.Binary:
					b := a.Value(r)
					v = unsafe.String(unsafe.SliceData(b), len(b))
				}
				if _, ok := seen[v]; !ok {
					seen[v] = struct{}{}
					size += int64(len(v)) + 4
				}
				n++
			}
		}
		if n >= int64(parquetMinStringSample) && 2*int64(len(seen)) > n && size*groupRows/rows > parquetDictLimit {
			out = append(out, f.Name)
		}
	}
	return out
}

// groupRows estimates the rows of a row group: the row limit, or fewer where the byte limit
// comes first at the sampled records' bytes per row.
func (e *parquetEncoder) groupRows() int64 {
	rows := e.maxRows
	if e.sampleRows > 0 && e.sampleBytes > 0 {
		rows = min(rows, max(1, e.maxBytes*e.sampleRows/e.sampleBytes))
	}
	return rows
}

// recordBytes is the size of a record's values. A record may be a slice of larger arrays (a
// reader cutting a decoded row group into records): fixed-width and string or binary columns
// count only their own rows, not the buffers they share.
func recordBytes(rec arrow.Record) int64 {
	var n int64
	for _, c := range rec.Columns() {
		n += arrayBytes(c)
	}
	return n
}

// arrayBytes is the size of an array's values (and validity bits).
func arrayBytes(a arrow.Array) int64 {
	rows := int64(a.Len())
	bitmap := (rows + 7) / 8
	if fw, ok := a.DataType().(arrow.FixedWidthDataType); ok {
		return (rows*int64(fw.BitWidth())+7)/8 + bitmap
	}
	if rows == 0 {
		return 0
	}
	switch a := a.(type) {
	case *array.String, *array.Binary:
		offs := a.(interface{ ValueOffsets() []int32 }).ValueOffsets()
		return int64(offs[len(offs)-1]-offs[0]) + 4*(rows+1) + bitmap
	}
	var n int64
	for _, b := range a.Data().Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	return n
}
