package reader

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/compute"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
)

// Reading string columns through their dictionaries.
//
// Writers dictionary-encode string columns of few distinct values (names, codes, dates as
// text). Decoded the usual way, every value is copied into a growing builder one by one, most of
// the cost of reading such a file. Read as dictionaries, a page only yields integer indices, and
// densify then writes each batch's strings once into buffers of the exact size. Only columns
// whose every data page is dictionary-encoded are read so: for a page of plain values the
// dictionary reader would hash every value.

// dictMinRows is the fewest rows of a file whose columns are worth reading as dictionaries:
// choosing them reads each candidate's dictionary page first, which on a file of a few rows
// costs more than the values (a table of thousands of small files spent 3% of its CPU there).
const dictMinRows = 1024

// readDictColumns marks the leaf columns of pf worth reading as dictionaries: top-level byte
// array columns whose data pages, in every row group, are all dictionary-encoded according to
// the column chunks' encoding statistics (files without them are read the usual way). It
// reports whether it marked any; files of fewer than dictMinRows rows are read the usual
// way. The choice only matters for speed: a column read as a dictionary that has plain pages
// after all is read right, its values hashed one by one.
//
// The dictionary must also be small (see smallDictionary): pqarrow copies a column chunk's whole
// dictionary into every batch it reads from it, so reading a column of mostly distinct values
// through its dictionary costs the dictionary's size per batch.
func readDictColumns(pf *file.Reader, props *pqarrow.ArrowReadProperties) bool {
	if pf.NumRows() < dictMinRows {
		return false
	}
	batch := max(props.BatchSize, 1)
	marked := false
	md := pf.MetaData()
	sch := md.Schema
	for ci := range sch.NumColumns() {
		d := sch.Column(ci)
		if d.PhysicalType() != parquet.Types.ByteArray || d.MaxRepetitionLevel() != 0 || len(d.ColumnPath()) != 1 {
			continue
		}
		ok := pf.NumRowGroups() > 0
		for g := 0; g < pf.NumRowGroups() && ok; g++ {
			cc, err := md.RowGroup(g).ColumnChunk(ci)
			if err != nil {
				ok = false
				break
			}
			stats := cc.EncodingStats()
			dataPages := 0
			for _, st := range stats {
				if st.PageType.String() != "DATA_PAGE" && st.PageType.String() != "DATA_PAGE_V2" {
					continue
				}
				dataPages++
				if st.Encoding != parquet.Encodings.RLEDict && st.Encoding != parquet.Encodings.PlainDict {
					ok = false
				}
			}
			// Some writers (arrow-go) leave plain pages out of the encoding statistics after a
			// fallback, but list PLAIN a second time among the encodings (once is the
			// dictionary page's).
			plain := 0
			for _, e := range cc.Encodings() {
				if e == parquet.Encodings.Plain {
					plain++
				}
			}
			if dataPages == 0 || plain > 1 {
				ok = false
				break
			}
			ok = smallDictionary(pf, g, ci, md.RowGroup(g).NumRows(), batch)
		}
		if ok {
			props.SetReadDict(ci, true)
			marked = true
		}
	}
	return marked
}

// smallDictionary reports whether the dictionary page of column ci in row group g (rows rows,
// read in batches of batch rows) costs, copied into every batch, at most 2 bytes per row.
// Footers do not always say where the dictionary page ends (older writers leave its offset
// out), so the page is read: the file is local by then.
func smallDictionary(pf *file.Reader, g, ci int, rows, batch int64) bool {
	pr, err := pf.RowGroup(g).GetColumnPageReader(ci)
	if err != nil || !pr.Next() {
		return false
	}
	dp, ok := pr.Page().(*file.DictionaryPage)
	if !ok {
		return false
	}
	defer dp.Release()
	batches := (rows + batch - 1) / batch
	return int64(len(dp.Data()))*batches <= 2*rows
}

// densify replaces the dictionary columns of rec by plain ones. It takes rec's reference.
func densify(mem memory.Allocator, rec arrow.Record) (arrow.Record, error) {
	var cols []arrow.Array
	for i, c := range rec.Columns() {
		if c.DataType().ID() != arrow.DICTIONARY {
			continue
		}
		if cols == nil {
			cols = make([]arrow.Array, rec.NumCols())
			copy(cols, rec.Columns())
			for _, c := range cols {
				c.Retain()
			}
		}
		d, err := denseOf(mem, c.(*array.Dictionary))
		if err != nil {
			for _, c := range cols {
				c.Release()
			}
			rec.Release()
			return nil, err
		}
		cols[i].Release()
		cols[i] = d
	}
	if cols == nil {
		return rec, nil
	}
	fields := make([]arrow.Field, len(cols))
	for i, f := range rec.Schema().Fields() {
		f.Type = cols[i].DataType()
		fields[i] = f
	}
	md := rec.Schema().Metadata()
	out := array.NewRecord(arrow.NewSchema(fields, &md), cols, rec.NumRows())
	for _, c := range cols {
		c.Release()
	}
	rec.Release()
	return out, nil
}

// denseOf returns the plain array of a dictionary array of strings or binaries: lengths first,
// then every value copied once into a buffer of the exact size.
func denseOf(mem memory.Allocator, d *array.Dictionary) (arrow.Array, error) {
	idx, ok := d.Indices().(*array.Int32)
	var offs []int32
	switch v := d.Dictionary().(type) {
	case *array.String:
		offs = v.ValueOffsets()
	case *array.Binary:
		offs = v.ValueOffsets()
	default:
		ok = false
	}
	if !ok {
		return compute.CastArray(compute.WithAllocator(context.Background(), mem), d,
			compute.SafeCastOptions(d.DataType().(*arrow.DictionaryType).ValueType))
	}
	dict := d.Dictionary().(array.BinaryLike)
	data := dict.ValueBytes()
	base := offs[0]
	n := idx.Len()
	ix := idx.Int32Values()
	nulls := idx.NullN() > 0

	offBuf := memory.NewResizableBuffer(mem)
	offBuf.Resize(arrow.Int32Traits.BytesRequired(n + 1))
	out := arrow.Int32Traits.CastFromBytes(offBuf.Bytes())
	var total int32
	out[0] = 0
	for i, k := range ix {
		if !nulls || idx.IsValid(i) {
			if k < 0 || int(k) >= len(offs)-1 {
				offBuf.Release()
				return nil, fmt.Errorf("%w: dictionary index %d, the dictionary has %d values", ErrCorruptFile, k, len(offs)-1)
			}
			total += offs[k+1] - offs[k]
		}
		out[i+1] = total
	}
	valBuf := memory.NewResizableBuffer(mem)
	valBuf.Resize(int(total))
	vals := valBuf.Bytes()
	for i, k := range ix {
		if out[i+1] != out[i] {
			copy(vals[out[i]:out[i+1]], data[offs[k]-base:offs[k+1]-base])
		}
	}
	var valid *memory.Buffer
	switch {
	case !nulls:
	case idx.Data().Offset() == 0:
		valid = idx.Data().Buffers()[0]
		valid.Retain()
	default: // a slice (column-wise reads): its validity bits start at bit 0 of a copy
		valid = memory.NewResizableBuffer(mem)
		valid.Resize(int(bitutil.BytesForBits(int64(n))))
		bitutil.CopyBitmap(idx.Data().Buffers()[0].Bytes(), idx.Data().Offset(), n, valid.Bytes(), 0)
	}
	ad := array.NewData(d.Dictionary().DataType(), n, []*memory.Buffer{valid, offBuf, valBuf}, nil, idx.NullN(), 0)
	if valid != nil {
		valid.Release()
	}
	offBuf.Release()
	valBuf.Release()
	defer ad.Release()
	return array.MakeFromData(ad), nil
}

// rowGroupRecords reads a file's row groups one after the other, each through a record reader of
// its own, so that no batch spans two row groups: a column read as a dictionary has a dictionary
// per row group, and pqarrow cannot put two of them in one batch.
type rowGroupRecords struct {
	ctx    context.Context
	fr     *pqarrow.FileReader
	leaves []int
	next   int // the next row group to open
	cur    pqarrow.RecordReader
	err    error
}

func newRowGroupRecords(ctx context.Context, fr *pqarrow.FileReader, leaves []int) (*rowGroupRecords, error) {
	r := &rowGroupRecords{ctx: ctx, fr: fr, leaves: leaves}
	if !r.open() {
		return nil, r.err
	}
	return r, nil
}

// open starts the next row group's reader; false when none is left or on an error.
func (r *rowGroupRecords) open() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.next >= r.fr.ParquetReader().NumRowGroups() {
		return false
	}
	rr, err := r.fr.GetRecordReader(r.ctx, r.leaves, []int{r.next})
	if err != nil {
		r.err = err
		return false
	}
	r.next++
	r.cur = rr
	return true
}

func (r *rowGroupRecords) Schema() *arrow.Schema { return r.cur.Schema() }

func (r *rowGroupRecords) Next() bool {
	for r.cur != nil {
		if r.cur.Next() {
			return true
		}
		if err := r.cur.Err(); err != nil && !errors.Is(err, io.EOF) {
			r.err = err
			return false
		}
		if !r.open() {
			return false
		}
	}
	return false
}

func (r *rowGroupRecords) Record() arrow.Record { return r.cur.Record() }
func (r *rowGroupRecords) Err() error           { return r.err }

func (r *rowGroupRecords) Release() {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
}
