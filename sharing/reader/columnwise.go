package reader

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet/metadata"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
)

// Reading wide files one column chunk at a time.
//
// A record reader keeps every column's page open at once: for each column its compressed page,
// the decompressed page and the values decoded from it, whatever the record's rows. On a file
// of 1,000 columns whose chunks are one page each, that is three copies of the row group. Read
// one column chunk after the other, a row group is held once, as the Arrow columns it decodes
// to, and the records handed out are slices of them.

// minColumnwiseColumns is the fewest leaf columns of a file read column by column: with few
// columns the pages held are few, and a record reader hands out its first records while the
// row group is still being read (decoding overlaps the consumer's work).
const minColumnwiseColumns = 128

// readColumnwise reports whether a file is better read one column chunk at a time: it has
// many columns, and for its largest row group the decoded columns (rows by the row's estimated
// size) take at most twice the pages a record reader holds decompressed at once (one per
// column, a chunk or at most maxStreamBuffer); it holds the compressed copy and the decoded
// values beside them.
func readColumnwise(md *metadata.FileMetaData) bool {
	if md.Schema.NumColumns() < minColumnwiseColumns || len(md.RowGroups) == 0 {
		return false
	}
	return columnwiseBytes(md) <= 2*pageBytes(md)
}

// columnwiseBytes is the decoded size of a file's largest row group.
func columnwiseBytes(md *metadata.FileMetaData) int64 {
	return maxGroupRows(md) * rowBytes(md)
}

// maxGroupRows is the rows of a file's largest row group.
func maxGroupRows(md *metadata.FileMetaData) int64 {
	var rows int64
	for g := range len(md.RowGroups) {
		rows = max(rows, md.RowGroup(g).NumRows())
	}
	return rows
}

// columnwiseWeight estimates what a column-wise read of a file holds (see decodeWeight): its
// largest row group decoded, the pages of its largest column chunk (compressed and not), and
// three records of batch rows (strings read as dictionaries are made plain per record).
func columnwiseWeight(md *metadata.FileMetaData, batch int64) int64 {
	var chunk int64
	for g := range len(md.RowGroups) {
		rg := md.RowGroup(g)
		for c := range rg.NumColumns() {
			if cc, err := rg.ColumnChunk(c); err == nil {
				chunk = max(chunk, cc.TotalCompressedSize()+cc.TotalUncompressedSize())
			}
		}
	}
	return columnwiseBytes(md) + chunk + 3*batch*rowBytes(md)
}

// pageBytes is, for the row group where it is largest, the sum over columns of a decompressed
// page (the chunk, at most maxStreamBuffer).
func pageBytes(md *metadata.FileMetaData) int64 {
	return largestGroup(md, func(cc *metadata.ColumnChunkMetaData) int64 {
		return min(cc.TotalUncompressedSize(), maxStreamBuffer)
	})
}

// columnRecords hands out a file's records of the given leaves: each row group is read whole,
// one top-level field after the other, and cut into records of batch rows (slices of the
// group's columns, so no record spans two row groups).
type columnRecords struct {
	ctx    context.Context
	mem    memory.Allocator
	fr     *pqarrow.FileReader
	fields []int        // top-level fields, in record order
	leaves map[int]bool // the leaves read
	groups []int        // row groups, in order
	batch  int64
	sc     *arrow.Schema

	next int           // the next row group to read
	cols []arrow.Array // the current row group's columns
	rows int64         // rows of the current row group
	off  int64         // the current row group's rows handed out
	cur  arrow.Record
	err  error
}

// newColumnRecords reads the first row group (the schema comes from its readers). groups nil
// means every row group; there must be at least one.
func newColumnRecords(ctx context.Context, mem memory.Allocator, fr *pqarrow.FileReader, leaves, groups []int, batch int64) (*columnRecords, error) {
	fields, err := fr.Manifest.GetFieldIndices(leaves)
	if err != nil {
		return nil, err
	}
	if groups == nil {
		groups = make([]int, fr.ParquetReader().NumRowGroups())
		for g := range groups {
			groups[g] = g
		}
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("internal error: a column-wise read of no row group")
	}
	r := &columnRecords{ctx: ctx, mem: mem, fr: fr, fields: fields, leaves: map[int]bool{}, groups: groups, batch: max(batch, 1)}
	for _, l := range leaves {
		r.leaves[l] = true
	}
	if !r.load() {
		return nil, r.err
	}
	return r, nil
}

// load reads the next row group's columns; false when none is left or on an error (r.err).
func (r *columnRecords) load() bool {
	r.dropGroup()
	if r.next >= len(r.groups) {
		return false
	}
	g := r.groups[r.next]
	r.next++
	rows := r.fr.ParquetReader().MetaData().RowGroup(g).NumRows()
	cols := make([]arrow.Array, len(r.fields))
	// The columns read so far are released on an error, and on a panic of a codec on a
	// damaged page (recovered by the caller, see decoding).
	done := false
	defer func() {
		if !done {
			releaseAll(cols)
		}
	}()
	var fields []arrow.Field
	if r.sc == nil {
		fields = make([]arrow.Field, len(r.fields))
	}
	for k, fi := range r.fields {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			return false
		}
		a, f, err := readFieldChunk(r.ctx, r.mem, r.fr, fi, r.leaves, g, rows)
		if err != nil {
			r.err = err
			return false
		}
		cols[k] = a
		if fields != nil {
			fields[k] = f
		}
	}
	if fields != nil {
		r.sc = arrow.NewSchema(fields, r.fr.Manifest.SchemaMeta)
	}
	r.cols, r.rows, r.off = cols, rows, 0
	done = true
	return true
}

// readFieldChunk reads top-level field fi (its leaves among leaves) of row group g, rows rows,
// into one array.
func readFieldChunk(ctx context.Context, mem memory.Allocator, fr *pqarrow.FileReader, fi int, leaves map[int]bool, g int, rows int64) (arrow.Array, arrow.Field, error) {
	cr, err := fr.GetFieldReader(ctx, fi, leaves, []int{g})
	if err != nil {
		return nil, arrow.Field{}, err
	}
	if cr == nil {
		return nil, arrow.Field{}, fmt.Errorf("internal error: no leaf of field %d asked", fi)
	}
	defer cr.Release()
	ch, err := cr.NextBatch(rows)
	if err != nil {
		return nil, arrow.Field{}, err
	}
	defer ch.Release()
	var a arrow.Array
	switch len(ch.Chunks()) {
	case 0:
		a = array.MakeArrayOfNull(mem, ch.DataType(), 0)
	case 1:
		a = ch.Chunk(0)
		a.Retain()
	default:
		if a, err = array.Concatenate(ch.Chunks(), mem); err != nil {
			return nil, arrow.Field{}, err
		}
	}
	if int64(a.Len()) != rows {
		n := a.Len()
		a.Release()
		return nil, arrow.Field{}, fmt.Errorf("%w: the row group has %d rows in its footer and %d were decoded", ErrCorruptFile, rows, n)
	}
	return trimValues(mem, a), *cr.Field(), nil
}

// trimValues returns a (taking its reference) with its values in a buffer of their size when
// a holds a larger one: Arrow reserves a column's values, or a dictionary column's indices,
// for the next power of two of its rows (10,000 rows of longs took 128 KiB for 80 KB), and a
// column-wise read holds a whole row group of them.
func trimValues(mem memory.Allocator, a arrow.Array) arrow.Array {
	d := a.Data()
	var width int
	switch t := a.DataType().(type) {
	case *arrow.DictionaryType:
		if fw, ok := t.IndexType.(arrow.FixedWidthDataType); ok {
			width = fw.BitWidth() / 8
		}
	case arrow.FixedWidthDataType:
		if t.ID() != arrow.BOOL {
			width = t.BitWidth() / 8
		}
	}
	bufs := d.Buffers()
	if width == 0 || len(bufs) != 2 || bufs[1] == nil {
		return a
	}
	need := (d.Offset() + d.Len()) * width
	// The buffer's length is its values' (Arrow shrinks a buffer by reslicing it): the
	// capacity of its memory says what it holds.
	if cap(bufs[1].Buf()) <= need+need/8 {
		return a
	}
	vals := memory.NewResizableBuffer(mem)
	vals.Resize(need)
	copy(vals.Bytes(), bufs[1].Bytes()[:need])
	td := array.NewDataWithDictionary(d.DataType(), d.Len(), []*memory.Buffer{bufs[0], vals}, d.NullN(), d.Offset(), dictionaryOf(d))
	vals.Release()
	out := array.MakeFromData(td)
	td.Release()
	a.Release()
	return out
}

// dictionaryOf is an array's dictionary data, nil for other arrays.
func dictionaryOf(d arrow.ArrayData) *array.Data {
	if dd, ok := d.(*array.Data); ok {
		return dd.Dictionary().(*array.Data)
	}
	return nil
}

func releaseAll(as []arrow.Array) {
	for _, a := range as {
		if a != nil {
			a.Release()
		}
	}
}

func (r *columnRecords) dropGroup() {
	releaseAll(r.cols)
	r.cols, r.rows, r.off = nil, 0, 0
}

func (r *columnRecords) Schema() *arrow.Schema { return r.sc }

// Next makes the next record current (the previous one is released); false at the end or on
// an error.
func (r *columnRecords) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.err != nil {
		return false
	}
	for r.off >= r.rows {
		if !r.load() {
			return false
		}
	}
	n := min(r.batch, r.rows-r.off)
	cols := make([]arrow.Array, len(r.cols))
	for k, c := range r.cols {
		cols[k] = array.NewSlice(c, r.off, r.off+n)
	}
	r.cur = array.NewRecord(r.sc, cols, n)
	releaseAll(cols)
	r.off += n
	if r.off >= r.rows && r.next >= len(r.groups) {
		// The last record holds its slices: the group's columns are no longer needed here.
		r.dropGroup()
	}
	return true
}

func (r *columnRecords) Record() arrow.Record { return r.cur }
func (r *columnRecords) Err() error           { return r.err }

func (r *columnRecords) Release() {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	r.dropGroup()
}
