package formats

import (
	"fmt"
	"math/bits"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/metadata"
)

// int32DictSpan is how many consecutive values an int32Dict looks up in its table: values
// further than half of it from the first value of the row group end the dictionary path.
const int32DictSpan = 1 << 16

// int32Dict dictionary-encodes an int32 or date32 column of few distinct values (counts,
// codes, days) itself, as stringDict does strings: the column chunk writer's dictionary encoder
// hashes every value through a hash table, where here a value's index is one load from a
// table indexed by the value (within int32DictSpan of the group's first value). The pending
// rows are written when the row group closes, or when a value does not fit (out of the table's
// range, or the dictionary at its size limit): the dictionary, then the indices; the rest of
// the group then goes value by value to the writer, whose dictionary continues from this one.
// The output is the same: the dictionary in first-seen order, the same indices.
type int32Dict struct {
	lo     int64   // the value of table[0]
	table  []int32 // index+1 of value lo+j, 0 when not in the dictionary
	values []int32 // the dictionary, in first-seen order
	idx    []int32 // the pending rows' indices (0 for a null)
	def    []int16 // the pending rows' definition levels; nil for a required column
	nulls  int
	dense  bool // like stringDict.dense
}

// collect adds rows [lo, hi) of arr (an Int32 or Date32 array) and returns how many it took.
func (d *int32Dict) collect(arr arrow.Array, lo, hi int, required bool) int {
	var vals []int32
	switch a := arr.(type) {
	case *array.Int32:
		vals = a.Int32Values()
	case *array.Date32:
		if b := a.Data().Buffers()[1]; b != nil {
			vals = arrow.Int32Traits.CastFromBytes(b.Bytes())[a.Data().Offset():]
		}
	default:
		panic(fmt.Sprintf("int32 dictionary of %s", arr.DataType()))
	}
	nulls := arr.NullN() > 0
	if d.table == nil {
		d.table = make([]int32, int32DictSpan)
	}
	for j := lo; j < hi; j++ {
		if nulls && arr.IsNull(j) {
			d.idx = append(d.idx, 0)
			d.def = append(d.def, 0)
			d.nulls++
			continue
		}
		v := int64(vals[j])
		if len(d.values) == 0 && len(d.idx) == d.nulls {
			d.lo = v - int32DictSpan/2
		}
		at := v - d.lo
		if at < 0 || at >= int32DictSpan {
			return j - lo
		}
		k := d.table[at]
		if k == 0 {
			if int64(len(d.values)+1)*4 > parquetDictLimit && len(d.values) > 0 {
				return j - lo
			}
			d.values = append(d.values, int32(v))
			k = int32(len(d.values))
			d.table[at] = k
		}
		d.idx = append(d.idx, k-1)
		if !required {
			d.def = append(d.def, 1)
		}
	}
	return hi - lo
}

// reset empties the dictionary for the next row group.
func (d *int32Dict) reset() {
	for _, v := range d.values {
		d.table[int64(v)-d.lo] = 0
	}
	d.values = d.values[:0]
	d.dense = false
}

// pendingBytes estimates the encoded size of the pending rows, as stringDict.pendingBytes.
func (d *int32Dict) pendingBytes() int64 {
	return int64(len(d.values))*4 + int64(len(d.idx))*int64(bits.Len(uint(len(d.values))))/8
}

// flushInt32Dict writes the pending rows of column i as flushDict does for strings.
func (e *parquetEncoder) flushInt32Dict(i int) error {
	d := e.cols[i].ints
	if len(d.idx) == 0 {
		return nil
	}
	c, err := e.rgw.Column(i)
	if err != nil {
		return err
	}
	cw, ok := c.(*file.Int32ColumnChunkWriter)
	if !ok {
		return fmt.Errorf("column %q: no int32 column writer", e.schema.Field(i).Name)
	}
	// A copy: the encoder keeps the dictionary array, and d.values is reused.
	dict := array.NewData(arrow.PrimitiveTypes.Int32, len(d.values),
		[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(append([]int32(nil), d.values...)))}, nil, 0, 0)
	defer dict.Release()
	dictArr := array.NewInt32Data(dict)
	defer dictArr.Release()
	err = e.writeDictChunk(i, cw, dictArr, d.idx, d.def, d.nulls, func(off, end int, defLevels []int16) {
		st, ok := cw.PageStatistics().(*metadata.Int32Statistics)
		if !ok {
			return
		}
		var lo, hi int32
		values := 0
		for j := off; j < end; j++ {
			if defLevels != nil && defLevels[j-off] == 0 {
				continue
			}
			v := d.values[d.idx[j]]
			if values == 0 {
				lo, hi = v, v
			} else {
				lo, hi = min(lo, v), max(hi, v)
			}
			values++
		}
		st.IncNulls(int64(end - off - values))
		st.IncNumValues(int64(values))
		if values > 0 {
			st.SetMinMax(lo, hi)
		}
	})
	if err != nil {
		return err
	}
	d.idx, d.def, d.nulls = d.idx[:0], d.def[:0], 0
	return nil
}

// indexArray is a column chunk's n dictionary indices as an Int32 array (the encoders take
// indices as an Arrow array): idx holds an index for every value, def the definition levels
// (nil without nulls; a value is null where its level is 0).
func indexArray(n int, idx []int32, def []int16, nulls int) arrow.Array {
	var valid *memory.Buffer
	if nulls > 0 {
		bm := make([]byte, bitutil.BytesForBits(int64(n)))
		for j, l := range def {
			if l != 0 {
				bitutil.SetBit(bm, j)
			}
		}
		valid = memory.NewBufferBytes(bm)
	}
	data := array.NewData(arrow.PrimitiveTypes.Int32, n,
		[]*memory.Buffer{valid, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(idx))}, nil, nulls, 0)
	defer data.Release()
	return array.MakeFromData(data)
}
