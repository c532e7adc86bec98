package formats

import (
	"encoding/base64"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/apache/arrow/go/v17/arrow/decimal256"
	"github.com/apache/arrow/go/v17/arrow/float16"
)

// A valueEncoder renders the values of one column (or nested child) of one Arrow type. It is
// built once per schema by newValueEncoder; reset binds it to the array of each record, so the
// type switch runs once per column, not once per value.
type valueEncoder interface {
	reset(arr arrow.Array)
	isNull(i int) bool
	// appendText appends the CSV text of the non-null value i (unquoted).
	appendText(dst []byte, i int) []byte
	// appendJSON appends the JSON text of the non-null value i.
	appendJSON(dst []byte, i int) []byte
	// plain reports that appendText never produces a quote, CR, LF, space or tab, nor any byte
	// other than [0-9A-Za-z+-./:=], so CSV quoting only needs a check when the delimiter is one
	// of those bytes.
	plain() bool
}

// appendJSONValue appends value i of e as JSON, null included.
func appendJSONValue(dst []byte, e valueEncoder, i int) []byte {
	if e.isNull(i) {
		return append(dst, "null"...)
	}
	return e.appendJSON(dst, i)
}

// validity reads an array's null bitmap without an interface call per value.
type validity struct {
	bits []byte
	off  int
}

func (v *validity) set(arr arrow.Array) {
	if arr.NullN() == 0 {
		v.bits = nil
		return
	}
	v.bits = arr.NullBitmapBytes()
	v.off = arr.Data().Offset()
}

func (v *validity) isNull(i int) bool {
	if v.bits == nil {
		return false
	}
	j := v.off + i
	return v.bits[j>>3]&(1<<(j&7)) == 0
}

type textOptions struct {
	nanString bool // JSON: NaN and infinities as strings instead of null
}

// newValueEncoder returns the encoder for values of type dt.
func newValueEncoder(dt arrow.DataType, o textOptions) (valueEncoder, error) {
	switch t := dt.(type) {
	case *arrow.NullType:
		return nullEncoder{}, nil
	case *arrow.BooleanType:
		return &boolEncoder{}, nil
	case *arrow.Int8Type:
		return &intEncoder[int8]{values: func(a arrow.Array) []int8 { return a.(*array.Int8).Int8Values() }}, nil
	case *arrow.Int16Type:
		return &intEncoder[int16]{values: func(a arrow.Array) []int16 { return a.(*array.Int16).Int16Values() }}, nil
	case *arrow.Int32Type:
		return &intEncoder[int32]{values: func(a arrow.Array) []int32 { return a.(*array.Int32).Int32Values() }}, nil
	case *arrow.Int64Type:
		return &intEncoder[int64]{values: func(a arrow.Array) []int64 { return a.(*array.Int64).Int64Values() }}, nil
	case *arrow.Uint8Type:
		return &uintEncoder[uint8]{values: func(a arrow.Array) []uint8 { return a.(*array.Uint8).Uint8Values() }}, nil
	case *arrow.Uint16Type:
		return &uintEncoder[uint16]{values: func(a arrow.Array) []uint16 { return a.(*array.Uint16).Uint16Values() }}, nil
	case *arrow.Uint32Type:
		return &uintEncoder[uint32]{values: func(a arrow.Array) []uint32 { return a.(*array.Uint32).Uint32Values() }}, nil
	case *arrow.Uint64Type:
		return &uintEncoder[uint64]{values: func(a arrow.Array) []uint64 { return a.(*array.Uint64).Uint64Values() }}, nil
	case *arrow.Float16Type:
		return &floatEncoder[float16.Num]{bitSize: 32, nanString: o.nanString,
			values: func(a arrow.Array) []float16.Num { return a.(*array.Float16).Values() },
			conv:   func(v float16.Num) float64 { return float64(v.Float32()) }}, nil
	case *arrow.Float32Type:
		return &floatEncoder[float32]{bitSize: 32, nanString: o.nanString,
			values: func(a arrow.Array) []float32 { return a.(*array.Float32).Float32Values() },
			conv:   func(v float32) float64 { return float64(v) }}, nil
	case *arrow.Float64Type:
		return &floatEncoder[float64]{bitSize: 64, nanString: o.nanString,
			values: func(a arrow.Array) []float64 { return a.(*array.Float64).Float64Values() },
			conv:   func(v float64) float64 { return v }}, nil
	case *arrow.Decimal128Type:
		return &decimal128Encoder{scale: t.Scale}, nil
	case *arrow.Decimal256Type:
		return &decimal256Encoder{scale: t.Scale}, nil
	case *arrow.StringType:
		return &bytesEncoder[int32]{str: true, bind: func(a arrow.Array) ([]int32, []byte) {
			s := a.(*array.String)
			return s.ValueOffsets(), bufferBytes(a, 2)
		}}, nil
	case *arrow.LargeStringType:
		return &bytesEncoder[int64]{str: true, bind: func(a arrow.Array) ([]int64, []byte) {
			s := a.(*array.LargeString)
			return s.ValueOffsets(), bufferBytes(a, 2)
		}}, nil
	case *arrow.BinaryType:
		return &bytesEncoder[int32]{bind: func(a arrow.Array) ([]int32, []byte) {
			s := a.(*array.Binary)
			return s.ValueOffsets(), bufferBytes(a, 2)
		}}, nil
	case *arrow.LargeBinaryType:
		return &bytesEncoder[int64]{bind: func(a arrow.Array) ([]int64, []byte) {
			s := a.(*array.LargeBinary)
			return s.ValueOffsets(), bufferBytes(a, 2)
		}}, nil
	case *arrow.StringViewType:
		return &viewEncoder{str: true, value: func(a arrow.Array, i int) []byte {
			return []byte(a.(*array.StringView).Value(i))
		}}, nil
	case *arrow.BinaryViewType:
		return &viewEncoder{value: func(a arrow.Array, i int) []byte { return a.(*array.BinaryView).Value(i) }}, nil
	case *arrow.FixedSizeBinaryType:
		return &viewEncoder{value: func(a arrow.Array, i int) []byte { return a.(*array.FixedSizeBinary).Value(i) }}, nil
	case *arrow.Date32Type:
		return &dateEncoder[arrow.Date32]{per: 1, values: func(a arrow.Array) []arrow.Date32 { return a.(*array.Date32).Date32Values() }}, nil
	case *arrow.Date64Type:
		return &dateEncoder[arrow.Date64]{per: 86_400_000, values: func(a arrow.Array) []arrow.Date64 { return a.(*array.Date64).Date64Values() }}, nil
	case *arrow.TimestampType:
		return &timestampEncoder{unit: t.Unit, utc: t.TimeZone != ""}, nil
	case *arrow.Time32Type:
		return &timeEncoder[arrow.Time32]{unit: t.Unit, values: func(a arrow.Array) []arrow.Time32 { return a.(*array.Time32).Time32Values() }}, nil
	case *arrow.Time64Type:
		return &timeEncoder[arrow.Time64]{unit: t.Unit, values: func(a arrow.Array) []arrow.Time64 { return a.(*array.Time64).Time64Values() }}, nil
	case *arrow.StructType:
		e := &structEncoder{}
		for _, f := range t.Fields() {
			fe, err := newValueEncoder(f.Type, o)
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", f.Name, err)
			}
			e.fields = append(e.fields, fe)
			e.keys = append(e.keys, append(appendJSONString(nil, []byte(f.Name)), ':'))
		}
		return e, nil
	case *arrow.MapType: // before ListType: a map is a list of key/value structs
		keys, err := newValueEncoder(t.KeyType(), o)
		if err != nil {
			return nil, fmt.Errorf("map key: %w", err)
		}
		items, err := newValueEncoder(t.ItemType(), o)
		if err != nil {
			return nil, fmt.Errorf("map value: %w", err)
		}
		_, isStr := t.KeyType().(*arrow.StringType)
		_, isLarge := t.KeyType().(*arrow.LargeStringType)
		return &mapEncoder{keys: keys, items: items, object: isStr || isLarge}, nil
	case *arrow.ListType:
		return newListEncoder(t.Elem(), o)
	case *arrow.LargeListType:
		return newListEncoder(t.Elem(), o)
	case *arrow.FixedSizeListType:
		return newListEncoder(t.Elem(), o)
	case *arrow.ListViewType:
		return newListEncoder(t.Elem(), o)
	case *arrow.LargeListViewType:
		return newListEncoder(t.Elem(), o)
	case *arrow.DictionaryType:
		inner, err := newValueEncoder(t.ValueType, o)
		if err != nil {
			return nil, err
		}
		return &dictEncoder{inner: inner}, nil
	}
	return nil, fmt.Errorf("type %s is not supported", dt)
}

func bufferBytes(a arrow.Array, n int) []byte {
	bufs := a.Data().Buffers()
	if len(bufs) <= n || bufs[n] == nil {
		return nil
	}
	return bufs[n].Bytes()
}

type nullEncoder struct{}

func (nullEncoder) reset(arrow.Array)                   {}
func (nullEncoder) isNull(int) bool                     { return true }
func (nullEncoder) appendText(dst []byte, _ int) []byte { return dst }
func (nullEncoder) appendJSON(dst []byte, _ int) []byte { return append(dst, "null"...) }
func (nullEncoder) plain() bool                         { return true }

type boolEncoder struct {
	validity
	arr *array.Boolean
}

func (e *boolEncoder) reset(a arrow.Array) { e.set(a); e.arr = a.(*array.Boolean) }
func (e *boolEncoder) appendText(dst []byte, i int) []byte {
	if e.arr.Value(i) {
		return append(dst, "true"...)
	}
	return append(dst, "false"...)
}
func (e *boolEncoder) appendJSON(dst []byte, i int) []byte { return e.appendText(dst, i) }
func (e *boolEncoder) plain() bool                         { return true }

type intEncoder[T int8 | int16 | int32 | int64] struct {
	validity
	values func(arrow.Array) []T
	vals   []T
}

func (e *intEncoder[T]) reset(a arrow.Array) { e.set(a); e.vals = e.values(a) }
func (e *intEncoder[T]) appendText(dst []byte, i int) []byte {
	return appendInt(dst, int64(e.vals[i]))
}
func (e *intEncoder[T]) appendJSON(dst []byte, i int) []byte { return e.appendText(dst, i) }
func (e *intEncoder[T]) plain() bool                         { return true }

type uintEncoder[T uint8 | uint16 | uint32 | uint64] struct {
	validity
	values func(arrow.Array) []T
	vals   []T
}

func (e *uintEncoder[T]) reset(a arrow.Array) { e.set(a); e.vals = e.values(a) }
func (e *uintEncoder[T]) appendText(dst []byte, i int) []byte {
	return appendUint(dst, uint64(e.vals[i]))
}
func (e *uintEncoder[T]) appendJSON(dst []byte, i int) []byte { return e.appendText(dst, i) }
func (e *uintEncoder[T]) plain() bool                         { return true }

type floatEncoder[T float16.Num | float32 | float64] struct {
	validity
	bitSize   int
	nanString bool
	values    func(arrow.Array) []T
	conv      func(T) float64
	vals      []T
}

func (e *floatEncoder[T]) reset(a arrow.Array) { e.set(a); e.vals = e.values(a) }
func (e *floatEncoder[T]) appendText(dst []byte, i int) []byte {
	f := e.conv(e.vals[i])
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return appendSpecialFloat(dst, f)
	}
	return appendFloat(dst, f, e.bitSize)
}
func (e *floatEncoder[T]) appendJSON(dst []byte, i int) []byte {
	f := e.conv(e.vals[i])
	if math.IsNaN(f) || math.IsInf(f, 0) {
		if !e.nanString {
			return append(dst, "null"...)
		}
		dst = append(dst, '"')
		dst = appendSpecialFloat(dst, f)
		return append(dst, '"')
	}
	return appendFloat(dst, f, e.bitSize)
}
func (e *floatEncoder[T]) plain() bool { return true }

type decimal128Encoder struct {
	validity
	scale int32
	vals  []decimal128.Num
}

func (e *decimal128Encoder) reset(a arrow.Array) {
	e.set(a)
	e.vals = a.(*array.Decimal128).Values()
}
func (e *decimal128Encoder) appendText(dst []byte, i int) []byte {
	return appendDecimal128(dst, e.vals[i], e.scale)
}
func (e *decimal128Encoder) appendJSON(dst []byte, i int) []byte { return e.appendText(dst, i) }
func (e *decimal128Encoder) plain() bool                         { return true }

type decimal256Encoder struct {
	validity
	scale int32
	vals  []decimal256.Num
}

func (e *decimal256Encoder) reset(a arrow.Array) {
	e.set(a)
	e.vals = a.(*array.Decimal256).Values()
}
func (e *decimal256Encoder) appendText(dst []byte, i int) []byte {
	return appendDecimal256(dst, e.vals[i], e.scale)
}
func (e *decimal256Encoder) appendJSON(dst []byte, i int) []byte { return e.appendText(dst, i) }
func (e *decimal256Encoder) plain() bool                         { return true }

// bytesEncoder renders string and binary arrays with 32- or 64-bit offsets.
type bytesEncoder[O int32 | int64] struct {
	validity
	str  bool // string (raw text) rather than binary (base64)
	bind func(arrow.Array) ([]O, []byte)
	offs []O
	data []byte
}

func (e *bytesEncoder[O]) reset(a arrow.Array) { e.set(a); e.offs, e.data = e.bind(a) }
func (e *bytesEncoder[O]) value(i int) []byte  { return e.data[e.offs[i]:e.offs[i+1]] }
func (e *bytesEncoder[O]) appendText(dst []byte, i int) []byte {
	if e.str {
		return append(dst, e.value(i)...)
	}
	return base64.StdEncoding.AppendEncode(dst, e.value(i))
}
func (e *bytesEncoder[O]) appendJSON(dst []byte, i int) []byte {
	if e.str {
		return appendJSONString(dst, e.value(i))
	}
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, e.value(i))
	return append(dst, '"')
}
func (e *bytesEncoder[O]) plain() bool { return !e.str }

// viewEncoder renders the rarer byte-valued arrays through a per-value accessor.
type viewEncoder struct {
	validity
	str   bool
	value func(arrow.Array, int) []byte
	arr   arrow.Array
}

func (e *viewEncoder) reset(a arrow.Array) { e.set(a); e.arr = a }
func (e *viewEncoder) appendText(dst []byte, i int) []byte {
	if e.str {
		return append(dst, e.value(e.arr, i)...)
	}
	return base64.StdEncoding.AppendEncode(dst, e.value(e.arr, i))
}
func (e *viewEncoder) appendJSON(dst []byte, i int) []byte {
	if e.str {
		return appendJSONString(dst, e.value(e.arr, i))
	}
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, e.value(e.arr, i))
	return append(dst, '"')
}
func (e *viewEncoder) plain() bool { return !e.str }

type dateEncoder[T arrow.Date32 | arrow.Date64] struct {
	validity
	per    int64 // units per day
	values func(arrow.Array) []T
	vals   []T
	cache  dayCache
}

func (e *dateEncoder[T]) reset(a arrow.Array) { e.set(a); e.vals = e.values(a) }
func (e *dateEncoder[T]) appendText(dst []byte, i int) []byte {
	v := int64(e.vals[i])
	if e.per == 1 {
		return e.cache.appendDate(dst, v)
	}
	d := v / e.per
	if v%e.per < 0 {
		d--
	}
	return e.cache.appendDate(dst, d)
}
func (e *dateEncoder[T]) appendJSON(dst []byte, i int) []byte {
	dst = append(dst, '"')
	dst = e.appendText(dst, i)
	return append(dst, '"')
}
func (e *dateEncoder[T]) plain() bool { return true }

type timestampEncoder struct {
	validity
	unit  arrow.TimeUnit
	utc   bool
	vals  []arrow.Timestamp
	cache dayCache
}

func (e *timestampEncoder) reset(a arrow.Array) {
	e.set(a)
	e.vals = a.(*array.Timestamp).TimestampValues()
}
func (e *timestampEncoder) appendText(dst []byte, i int) []byte {
	return appendTimestampCached(dst, int64(e.vals[i]), e.unit, e.utc, &e.cache)
}
func (e *timestampEncoder) appendJSON(dst []byte, i int) []byte {
	dst = append(dst, '"')
	dst = appendTimestampCached(dst, int64(e.vals[i]), e.unit, e.utc, &e.cache)
	return append(dst, '"')
}
func (e *timestampEncoder) plain() bool { return true }

type timeEncoder[T arrow.Time32 | arrow.Time64] struct {
	validity
	unit   arrow.TimeUnit
	values func(arrow.Array) []T
	vals   []T
}

func (e *timeEncoder[T]) reset(a arrow.Array) { e.set(a); e.vals = e.values(a) }
func (e *timeEncoder[T]) appendText(dst []byte, i int) []byte {
	return appendTimeOfDay(dst, int64(e.vals[i]), e.unit)
}
func (e *timeEncoder[T]) appendJSON(dst []byte, i int) []byte {
	dst = append(dst, '"')
	dst = e.appendText(dst, i)
	return append(dst, '"')
}
func (e *timeEncoder[T]) plain() bool { return true }

type structEncoder struct {
	validity
	keys   [][]byte // `"name":` per field
	fields []valueEncoder
}

func (e *structEncoder) reset(a arrow.Array) {
	e.set(a)
	s := a.(*array.Struct)
	for k, f := range e.fields {
		f.reset(s.Field(k))
	}
}
func (e *structEncoder) appendJSON(dst []byte, i int) []byte {
	dst = append(dst, '{')
	for k, f := range e.fields {
		if k > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, e.keys[k]...)
		dst = appendJSONValue(dst, f, i)
	}
	return append(dst, '}')
}
func (e *structEncoder) appendText(dst []byte, i int) []byte { return e.appendJSON(dst, i) }
func (e *structEncoder) plain() bool                         { return false }

type listArray interface {
	arrow.Array
	ValueOffsets(i int) (start, end int64)
	ListValues() arrow.Array
}

type listEncoder struct {
	validity
	elem valueEncoder
	arr  listArray
}

func newListEncoder(elem arrow.DataType, o textOptions) (valueEncoder, error) {
	e, err := newValueEncoder(elem, o)
	if err != nil {
		return nil, fmt.Errorf("list element: %w", err)
	}
	return &listEncoder{elem: e}, nil
}

func (e *listEncoder) reset(a arrow.Array) {
	e.set(a)
	e.arr = a.(listArray)
	e.elem.reset(e.arr.ListValues())
}
func (e *listEncoder) appendJSON(dst []byte, i int) []byte {
	start, end := e.arr.ValueOffsets(i)
	dst = append(dst, '[')
	for j := start; j < end; j++ {
		if j > start {
			dst = append(dst, ',')
		}
		dst = appendJSONValue(dst, e.elem, int(j))
	}
	return append(dst, ']')
}
func (e *listEncoder) appendText(dst []byte, i int) []byte { return e.appendJSON(dst, i) }
func (e *listEncoder) plain() bool                         { return false }

type mapEncoder struct {
	validity
	keys, items valueEncoder
	object      bool // string keys: write an object
	arr         *array.Map
}

func (e *mapEncoder) reset(a arrow.Array) {
	e.set(a)
	e.arr = a.(*array.Map)
	entries := e.arr.ListValues().(*array.Struct)
	e.keys.reset(entries.Field(0))
	e.items.reset(entries.Field(1))
}
func (e *mapEncoder) appendJSON(dst []byte, i int) []byte {
	start, end := e.arr.ValueOffsets(i)
	if e.object {
		dst = append(dst, '{')
	} else {
		dst = append(dst, '[')
	}
	for j := int(start); j < int(end); j++ {
		if j > int(start) {
			dst = append(dst, ',')
		}
		if e.object {
			dst = appendJSONValue(dst, e.keys, j)
			dst = append(dst, ':')
			dst = appendJSONValue(dst, e.items, j)
			continue
		}
		dst = append(dst, `{"key":`...)
		dst = appendJSONValue(dst, e.keys, j)
		dst = append(dst, `,"value":`...)
		dst = appendJSONValue(dst, e.items, j)
		dst = append(dst, '}')
	}
	if e.object {
		return append(dst, '}')
	}
	return append(dst, ']')
}
func (e *mapEncoder) appendText(dst []byte, i int) []byte { return e.appendJSON(dst, i) }
func (e *mapEncoder) plain() bool                         { return false }

type dictEncoder struct {
	validity
	inner valueEncoder
	arr   *array.Dictionary
}

func (e *dictEncoder) reset(a arrow.Array) {
	e.set(a)
	e.arr = a.(*array.Dictionary)
	e.inner.reset(e.arr.Dictionary())
}
func (e *dictEncoder) isNull(i int) bool {
	return e.validity.isNull(i) || e.inner.isNull(e.arr.GetValueIndex(i))
}
func (e *dictEncoder) appendText(dst []byte, i int) []byte {
	return e.inner.appendText(dst, e.arr.GetValueIndex(i))
}
func (e *dictEncoder) appendJSON(dst []byte, i int) []byte {
	return e.inner.appendJSON(dst, e.arr.GetValueIndex(i))
}
func (e *dictEncoder) plain() bool { return e.inner.plain() }

// jsonSafe marks the bytes that a JSON string can hold as they are.
var jsonSafe = func() (t [256]bool) {
	for b := 0x20; b < 0x80; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a quoted JSON string. Invalid UTF-8 becomes U+FFFD.
func appendJSONString(dst []byte, s []byte) []byte {
	dst = append(dst, '"')
	i := 0
	for i < len(s) && jsonSafe[s[i]] {
		i++
	}
	if i == len(s) { // fast path: plain ASCII
		dst = append(dst, s...)
		return append(dst, '"')
	}
	start := 0
	for i < len(s) {
		b := s[i]
		if jsonSafe[b] {
			i++
			continue
		}
		if b < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
