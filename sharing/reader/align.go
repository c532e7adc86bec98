package reader

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/compute"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/deltashare/deltashare/sharing/delta"
)

// Schema alignment: the columns of a data file, as Parquet and pqarrow give them, are turned
// into the table schema's Arrow types. Columns (and nested struct fields) are matched by
// physical name, case-insensitively (by field id first under id column mapping); what a file
// lacks is null; what the table widened since the file was written (byte→short→int→long,
// float→double, integers→double or decimal, date→timestamp_ntz, wider decimals) is cast;
// timestamps of any unit are brought to microseconds (a timestamp column takes the stored
// instants as UTC, a timestamp_ntz column the stored wall-clock values, whatever the file's
// isAdjustedToUTC says); strings stored as plain binary are read as strings.

// aligner converts file arrays to table types.
type aligner struct {
	mem  memory.Allocator
	mode string // column mapping mode
}

// matchField returns the index of the field of fields that holds table field f: by
// column mapping id in id mode (when the file has ids), else by physical name, exactly, then
// case-insensitively. -1 when the file lacks it.
func matchField(fields []arrow.Field, f *delta.StructField, mode string) int {
	if mode == "id" {
		if id, ok := f.FieldID(); ok {
			want := strconv.FormatInt(id, 10)
			anyIDs := false
			for i, sf := range fields {
				if v, ok := sf.Metadata.GetValue(ArrowFieldIDKey); ok && v != "-1" {
					anyIDs = true
					if v == want {
						return i
					}
				}
			}
			if anyIDs {
				return -1
			}
		}
	}
	name := f.PhysicalName(mode)
	for i, sf := range fields {
		if sf.Name == name {
			return i
		}
	}
	for i, sf := range fields {
		if strings.EqualFold(sf.Name, name) {
			return i
		}
	}
	return -1
}

// align returns d converted to the table type dt (Arrow type at). The result has offset 0
// or d's offset and d's length; the caller releases it.
func (a *aligner) align(d arrow.ArrayData, dt delta.DataType, at arrow.DataType, path string) (arrow.ArrayData, error) {
	src := d.DataType()
	if src.ID() == arrow.NULL {
		n := array.MakeArrayOfNull(a.mem, at, d.Len())
		defer n.Release()
		nd := n.Data()
		nd.Retain()
		return nd, nil
	}
	switch t := at.(type) {
	case *arrow.StructType:
		st, ok := src.(*arrow.StructType)
		if !ok {
			return nil, typeMismatch(path, src, at)
		}
		children := make([]arrow.ArrayData, t.NumFields())
		defer releaseData(children)
		var dfields []*delta.StructField
		if ds, ok := dt.(*delta.StructType); ok && len(ds.Fields) == t.NumFields() {
			dfields = ds.Fields
		}
		for i, tf := range t.Fields() {
			var df *delta.StructField
			j := -1
			if dfields != nil {
				df = dfields[i]
				j = matchField(st.Fields(), df, a.mode)
			} else {
				j = matchField(st.Fields(), &delta.StructField{Name: tf.Name}, "none")
			}
			if j < 0 {
				n := array.MakeArrayOfNull(a.mem, tf.Type, d.Offset()+d.Len())
				children[i] = n.Data()
				children[i].Retain()
				n.Release()
				continue
			}
			var cdt delta.DataType
			if df != nil {
				cdt = df.Type
			}
			c, err := a.align(d.Children()[j], cdt, tf.Type, path+"."+tf.Name)
			if err != nil {
				return nil, err
			}
			if c.Len() != d.Children()[j].Len() {
				c.Release()
				return nil, fmt.Errorf("column %s: internal error: aligned child length changed", path)
			}
			children[i] = c
		}
		// Children keep their length and indexing, so the parent's offset still applies.
		return a.withChildren(d, at, children), nil
	case *arrow.MapType:
		if src.ID() != arrow.MAP {
			return nil, typeMismatch(path, src, at)
		}
		var kdt, vdt delta.DataType
		if m, ok := dt.(*delta.MapType); ok {
			kdt, vdt = m.KeyType, m.ValueType
		}
		ed := d.Children()[0]
		if len(ed.Children()) != 2 {
			return nil, fmt.Errorf("column %s: the file's map entries have %d fields, want key and value", path, len(ed.Children()))
		}
		k, err := a.align(ed.Children()[0], kdt, t.KeyType(), path+".key")
		if err != nil {
			return nil, err
		}
		defer k.Release()
		v, err := a.align(ed.Children()[1], vdt, t.ItemType(), path+".value")
		if err != nil {
			return nil, err
		}
		defer v.Release()
		entries := a.withChildren(ed, t.Elem(), []arrow.ArrayData{k, v})
		defer entries.Release()
		return a.withChildren(d, at, []arrow.ArrayData{entries}), nil
	case *arrow.ListType:
		if src.ID() != arrow.LIST {
			return nil, typeMismatch(path, src, at)
		}
		var edt delta.DataType
		if l, ok := dt.(*delta.ArrayType); ok {
			edt = l.ElementType
		}
		e, err := a.align(d.Children()[0], edt, t.Elem(), path+".element")
		if err != nil {
			return nil, err
		}
		defer e.Release()
		return a.withChildren(d, at, []arrow.ArrayData{e}), nil
	}
	return a.leaf(d, at, path)
}

// withChildren returns d's buffers with type at and the given children (retained).
func (a *aligner) withChildren(d arrow.ArrayData, at arrow.DataType, children []arrow.ArrayData) arrow.ArrayData {
	return array.NewData(at, d.Len(), d.Buffers(), children, d.NullN(), d.Offset())
}

func releaseData(ds []arrow.ArrayData) {
	for _, d := range ds {
		if d != nil {
			d.Release()
		}
	}
}

func typeMismatch(path string, src, dst arrow.DataType) error {
	return fmt.Errorf("column %s: the data file stores %s, which cannot be read as the table's type %s; the file does not match the table schema", path, src, dst)
}

func (a *aligner) leaf(d arrow.ArrayData, at arrow.DataType, path string) (arrow.ArrayData, error) {
	src := d.DataType()
	if arrow.TypeEqual(src, at) {
		d.Retain()
		return d, nil
	}
	switch t := at.(type) {
	case *arrow.TimestampType:
		switch s := src.(type) {
		case *arrow.TimestampType:
			if s.Unit == t.Unit {
				return array.NewData(at, d.Len(), d.Buffers(), nil, d.NullN(), d.Offset()), nil
			}
			mul, div := unitFactor(s.Unit, t.Unit)
			return mapTo64(a, d, at, func(v int64) int64 {
				if div > 1 {
					return delta.FloorDiv(v, div)
				}
				return v * mul
			}), nil
		case *arrow.Date32Type:
			mul, _ := unitFactor(arrow.Second, t.Unit)
			return mapTo64(a, d, at, func(v int32) int64 { return int64(v) * 86400 * mul }), nil
		}
	case *arrow.StringType:
		if src.ID() == arrow.BINARY {
			return array.NewData(at, d.Len(), d.Buffers(), nil, d.NullN(), d.Offset()), nil
		}
	case *arrow.BinaryType:
		if src.ID() == arrow.STRING {
			return array.NewData(at, d.Len(), d.Buffers(), nil, d.NullN(), d.Offset()), nil
		}
	}
	if castable(src, at) {
		arr := array.MakeFromData(d)
		defer arr.Release()
		ctx := compute.WithAllocator(context.Background(), a.mem)
		out, err := compute.CastArray(ctx, arr, compute.SafeCastOptions(at))
		if err != nil {
			return nil, fmt.Errorf("column %s: reading %s as %s: %w", path, src, at, err)
		}
		defer out.Release()
		od := out.Data()
		od.Retain()
		return od, nil
	}
	return nil, typeMismatch(path, src, at)
}

// castable lists the conversions left to arrow's cast: the widenings Delta allows, unsigned
// Parquet integers, large string and binary types, decimals stored with another precision.
func castable(src, dst arrow.DataType) bool {
	isInt := func(id arrow.Type) bool {
		switch id {
		case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
			return true
		}
		return false
	}
	s, d := src.ID(), dst.ID()
	switch d {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64:
		return isInt(s)
	case arrow.FLOAT64:
		return isInt(s) || s == arrow.FLOAT32
	case arrow.FLOAT32:
		return isInt(s)
	case arrow.DECIMAL128:
		return isInt(s) || s == arrow.DECIMAL128 || s == arrow.DECIMAL256
	case arrow.STRING:
		return s == arrow.LARGE_STRING || s == arrow.LARGE_BINARY || s == arrow.STRING_VIEW
	case arrow.BINARY:
		return s == arrow.LARGE_BINARY || s == arrow.LARGE_STRING || s == arrow.FIXED_SIZE_BINARY || s == arrow.BINARY_VIEW
	case arrow.DATE32:
		return s == arrow.DATE64
	}
	return false
}

// unitFactor returns how to convert values from unit `from` to unit `to`: multiply by mul or
// divide (flooring) by div.
func unitFactor(from, to arrow.TimeUnit) (mul, div int64) {
	scale := map[arrow.TimeUnit]int64{arrow.Second: 1, arrow.Millisecond: 1e3, arrow.Microsecond: 1e6, arrow.Nanosecond: 1e9}
	f, t := scale[from], scale[to]
	if t >= f {
		return t / f, 1
	}
	return 1, f / t
}

// validityOf returns a validity bitmap for d's rows starting at bit 0 (nil when no nulls).
func (a *aligner) validityOf(d arrow.ArrayData) *memory.Buffer {
	if d.NullN() == 0 || d.Buffers()[0] == nil {
		return nil
	}
	buf := memory.NewResizableBuffer(a.mem)
	buf.Resize(int(bitutil.BytesForBits(int64(d.Len()))))
	bitutil.CopyBitmap(d.Buffers()[0].Bytes(), d.Offset(), d.Len(), buf.Bytes(), 0)
	return buf
}

// mapTo64 builds an int64 column of type at from d's values (int32 or int64) through fn.
func mapTo64[T int32 | int64](a *aligner, d arrow.ArrayData, at arrow.DataType, fn func(T) int64) arrow.ArrayData {
	in := arrow.GetData[T](d.Buffers()[1].Bytes())[d.Offset() : d.Offset()+d.Len()]
	buf := memory.NewResizableBuffer(a.mem)
	buf.Resize(arrow.Int64Traits.BytesRequired(d.Len()))
	out := arrow.Int64Traits.CastFromBytes(buf.Bytes())
	for i, v := range in {
		out[i] = fn(v)
	}
	return a.newFixed(d, at, buf)
}

func (a *aligner) newFixed(d arrow.ArrayData, at arrow.DataType, values *memory.Buffer) arrow.ArrayData {
	valid := a.validityOf(d)
	out := array.NewData(at, d.Len(), []*memory.Buffer{valid, values}, nil, d.NullN(), 0)
	values.Release()
	if valid != nil {
		valid.Release()
	}
	return out
}

// int96Micros converts an INT96 (Impala) timestamp to microseconds since the epoch: 8 bytes
// of nanoseconds within the day, then the Julian day number, both little endian. Unlike a
// conversion through nanoseconds it covers years 1 to 9999.
func int96Micros(b [12]byte) int64 {
	nanos := int64(uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56)
	day := int64(uint32(b[8]) | uint32(b[9])<<8 | uint32(b[10])<<16 | uint32(b[11])<<24)
	const julianEpoch = 2440588
	return (day-julianEpoch)*86400_000_000 + delta.FloorDiv(nanos, 1000)
}
