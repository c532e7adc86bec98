package demo

import (
	"fmt"
	"math/big"
	"reflect"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"

	"github.com/deltashare/deltashare/sharing/delta"
)

// Node kinds of a column tree.
const (
	kindLeaf = iota
	kindStruct
	kindList
)

// colNode mirrors one node of the data file's Parquet schema with what shredding needs: the
// Dremel definition and repetition levels at which the node is present, and its leaf range.
type colNode struct {
	name     string
	dt       delta.DataType
	optional bool
	kind     int
	children []*colNode // struct fields; for a list, the element

	def        int // definition level when this node is non-null
	rep        int // repetition level of this node's own repetition (lists)
	firstLeaf  int
	lastLeaf   int
	underList  *colNode // the outermost list above (or at) this node, if any
	physical   parquet.Kind
	fixedLen   int // FIXED_LEN_BYTE_ARRAY decimals
	statsLeaf  bool
	statsOrder int // index in leaves
}

// fileSchema is the Parquet schema of a data file plus its column tree.
type fileSchema struct {
	schema *parquet.Schema
	top    []*colNode // one per stored top-level field, in table order
	fields []int      // index of each top in the table schema's fields
	leaves []*colNode
	nested bool // any list: shredded values must be re-sorted by column
}

// buildFileSchema makes the data file schema for the table schema minus the partition columns,
// plus a trailing required `_change_type` string column when cdc is set.
func buildFileSchema(st *delta.StructType, partitionCols []string, cdc bool) (*fileSchema, error) {
	isPart := map[string]bool{}
	for _, p := range partitionCols {
		isPart[p] = true
	}
	fs := &fileSchema{}
	var fields []parquet.Field
	for i, f := range st.Fields {
		if isPart[f.Name] {
			continue
		}
		n, pn, err := fs.build(f.Name, f.Type, f.Nullable, 0, 0, nil)
		if err != nil {
			return nil, fmt.Errorf("demo: column %q: %w", f.Name, err)
		}
		fs.top = append(fs.top, n)
		fs.fields = append(fs.fields, i)
		fields = append(fields, &namedField{pn, f.Name})
	}
	if cdc {
		n, pn, _ := fs.build(changeTypeColumn, &delta.PrimitiveType{Name: delta.TypeString}, false, 0, 0, nil)
		n.statsLeaf = false
		fs.top = append(fs.top, n)
		fs.fields = append(fs.fields, -1)
		fields = append(fields, &namedField{pn, changeTypeColumn})
	}
	fs.schema = parquet.NewSchema("spark_schema", &orderedGroup{fields: fields})
	if got := len(fs.schema.Columns()); got != len(fs.leaves) {
		return nil, fmt.Errorf("demo: internal error: %d parquet leaves, %d expected", got, len(fs.leaves))
	}
	return fs, nil
}

func (fs *fileSchema) build(name string, dt delta.DataType, nullable bool, def, rep int, list *colNode) (*colNode, parquet.Node, error) {
	n := &colNode{name: name, dt: dt, optional: nullable, def: def, rep: rep, underList: list}
	if nullable {
		n.def++
	}
	var node parquet.Node
	switch t := dt.(type) {
	case *delta.StructType:
		n.kind = kindStruct
		n.firstLeaf = len(fs.leaves)
		var fields []parquet.Field
		for _, f := range t.Fields {
			c, cn, err := fs.build(f.Name, f.Type, f.Nullable, n.def, rep, list)
			if err != nil {
				return nil, nil, fmt.Errorf("field %q: %w", f.Name, err)
			}
			n.children = append(n.children, c)
			fields = append(fields, &namedField{cn, f.Name})
		}
		if len(fields) == 0 {
			return nil, nil, fmt.Errorf("empty struct")
		}
		n.lastLeaf = len(fs.leaves) - 1
		node = &orderedGroup{fields: fields}
	case *delta.ArrayType:
		n.kind = kindList
		n.rep = rep + 1
		fs.nested = true
		if list == nil {
			list = n
			n.underList = n
		}
		n.firstLeaf = len(fs.leaves)
		// def+1: the repeated "list" group is present (the list has an element).
		c, cn, err := fs.build("element", t.ElementType, t.ContainsNull, n.def+1, n.rep, list)
		if err != nil {
			return nil, nil, fmt.Errorf("array element: %w", err)
		}
		n.children = []*colNode{c}
		n.lastLeaf = len(fs.leaves) - 1
		node = parquet.List(cn)
	case *delta.MapType:
		return nil, nil, fmt.Errorf("map columns are not supported by this writer")
	default:
		leaf, err := leafNode(n)
		if err != nil {
			return nil, nil, err
		}
		node = leaf
		n.kind = kindLeaf
		n.firstLeaf = len(fs.leaves)
		n.lastLeaf = n.firstLeaf
		n.statsLeaf = list == nil
		n.statsOrder = len(fs.leaves)
		fs.leaves = append(fs.leaves, n)
	}
	if nullable {
		node = parquet.Optional(node)
	} else {
		node = parquet.Required(node)
	}
	return n, node, nil
}

// leafNode returns the Parquet leaf for a primitive Delta type, following the protocol's
// "Delta Data Type to Parquet Type Mappings" table.
func leafNode(n *colNode) (parquet.Node, error) {
	switch t := n.dt.(type) {
	case *delta.DecimalType:
		switch {
		case t.Precision <= 9:
			n.physical = parquet.Int32
			return parquet.Decimal(t.Scale, t.Precision, parquet.Int32Type), nil
		case t.Precision <= 18:
			n.physical = parquet.Int64
			return parquet.Decimal(t.Scale, t.Precision, parquet.Int64Type), nil
		default:
			n.physical = parquet.FixedLenByteArray
			n.fixedLen = decimalBytes(t.Precision)
			return parquet.Decimal(t.Scale, t.Precision, parquet.FixedLenByteArrayType(n.fixedLen)), nil
		}
	case *delta.PrimitiveType:
		if l, ok := primitiveLeaves[t.Name]; ok {
			n.physical = l.physical
			return l.node, nil
		}
	}
	return nil, fmt.Errorf("type %s is not supported by this writer", n.dt)
}

// primitiveLeaves are the Parquet leaves of the primitive Delta types, with their physical type.
var primitiveLeaves = map[string]struct {
	physical parquet.Kind
	node     parquet.Node
}{
	delta.TypeLong:         {parquet.Int64, parquet.Int(64)},
	delta.TypeInteger:      {parquet.Int32, parquet.Int(32)},
	delta.TypeShort:        {parquet.Int32, parquet.Int(16)},
	delta.TypeByte:         {parquet.Int32, parquet.Int(8)},
	delta.TypeFloat:        {parquet.Float, parquet.Leaf(parquet.FloatType)},
	delta.TypeDouble:       {parquet.Double, parquet.Leaf(parquet.DoubleType)},
	delta.TypeBoolean:      {parquet.Boolean, parquet.Leaf(parquet.BooleanType)},
	delta.TypeString:       {parquet.ByteArray, parquet.Encoded(parquet.String(), &parquet.RLEDictionary)},
	delta.TypeBinary:       {parquet.ByteArray, parquet.Encoded(parquet.Leaf(parquet.ByteArrayType), &parquet.Plain)},
	delta.TypeDate:         {parquet.Int32, parquet.Date()},
	delta.TypeTimestamp:    {parquet.Int64, parquet.TimestampAdjusted(parquet.Microsecond, true)},
	delta.TypeTimestampNTZ: {parquet.Int64, parquet.TimestampAdjusted(parquet.Microsecond, false)},
}

// decimalBytes is the smallest FIXED_LEN_BYTE_ARRAY length holding precision digits (as Spark
// computes it).
func decimalBytes(precision int) int {
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(precision)), nil)
	for n := 1; ; n++ {
		max := new(big.Int).Lsh(big.NewInt(1), uint(8*n-1))
		if max.Cmp(limit) >= 0 {
			return n
		}
	}
}

// shredRow appends the leaf values of the row's stored columns (and the change type for cdc
// files) to out, with Dremel levels and column indexes set.
func (fs *fileSchema) shredRow(out parquet.Row, row Row, changeType string) (parquet.Row, error) {
	start := len(out)
	var err error
	for i, n := range fs.top {
		var v any
		if fs.fields[i] < 0 {
			v = changeType
		} else {
			v = row[fs.fields[i]]
		}
		if out, err = fs.shred(out, n, v, 0, n.def-btoi(n.optional)); err != nil {
			return nil, fmt.Errorf("column %q: %w", n.name, err)
		}
	}
	if fs.nested {
		sortByColumn(out[start:])
	}
	return out, nil
}

// sortByColumn orders values by column index, keeping each column's values in order (values of
// a list of structs are produced element by element, Parquet rows want them column by column).
func sortByColumn(vs []parquet.Value) {
	for i := 1; i < len(vs); i++ {
		for j := i; j > 0 && vs[j-1].Column() > vs[j].Column(); j-- {
			vs[j-1], vs[j] = vs[j], vs[j-1]
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// shred emits the values of node n holding v; parentDef is the definition level of the
// enclosing present node.
func (fs *fileSchema) shred(out parquet.Row, n *colNode, v any, rep, parentDef int) (parquet.Row, error) {
	if v == nil {
		if !n.optional {
			return nil, fmt.Errorf("null value in non-nullable %q", n.name)
		}
		for c := n.firstLeaf; c <= n.lastLeaf; c++ {
			out = append(out, parquet.NullValue().Level(rep, parentDef, c))
		}
		return out, nil
	}
	switch n.kind {
	case kindStruct:
		vals, ok := asSlice(v)
		if !ok || len(vals) != len(n.children) {
			return nil, fmt.Errorf("a struct value must be a Row or []any of %d fields, got %T", len(n.children), v)
		}
		var err error
		for i, c := range n.children {
			if out, err = fs.shred(out, c, vals[i], rep, n.def); err != nil {
				return nil, fmt.Errorf("field %q: %w", c.name, err)
			}
		}
		return out, nil
	case kindList:
		vals, ok := asSlice(v)
		if !ok {
			return nil, fmt.Errorf("an array value must be []any, got %T", v)
		}
		if len(vals) == 0 {
			for c := n.firstLeaf; c <= n.lastLeaf; c++ {
				out = append(out, parquet.NullValue().Level(rep, n.def, c))
			}
			return out, nil
		}
		var err error
		for i, e := range vals {
			r := rep
			if i > 0 {
				r = n.rep
			}
			if out, err = fs.shred(out, n.children[0], e, r, n.def+1); err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
		}
		return out, nil
	}
	pv, err := leafValue(n, v)
	if err != nil {
		return nil, err
	}
	return append(out, pv.Level(rep, n.def, n.firstLeaf)), nil
}

func asSlice(v any) ([]any, bool) {
	switch x := v.(type) {
	case Row:
		return x, true
	case []any:
		return x, true
	}
	return nil, false
}

// leafValue converts a Go value to the Parquet value of a primitive column.
func leafValue(n *colNode, v any) (parquet.Value, error) {
	switch t := n.dt.(type) {
	case *delta.DecimalType:
		u, err := unscaledOf(v)
		if err != nil {
			return parquet.Value{}, err
		}
		limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(t.Precision)), nil)
		if new(big.Int).Abs(u).Cmp(limit) >= 0 {
			return parquet.Value{}, fmt.Errorf("unscaled %s does not fit %s", u, t)
		}
		switch n.physical {
		case parquet.Int32:
			return parquet.Int32Value(int32(u.Int64())), nil
		case parquet.Int64:
			return parquet.Int64Value(u.Int64()), nil
		default:
			return parquet.FixedLenByteArrayValue(twosComplement(u, n.fixedLen)), nil
		}
	case *delta.PrimitiveType:
		switch t.Name {
		case delta.TypeLong:
			x, err := intOf(t, v)
			return parquet.Int64Value(x), err
		case delta.TypeInteger, delta.TypeShort, delta.TypeByte:
			x, err := intOf(t, v)
			return parquet.Int32Value(int32(x)), err
		case delta.TypeFloat:
			if x, ok := v.(float32); ok {
				return parquet.FloatValue(x), nil
			}
		case delta.TypeDouble:
			if x, ok := v.(float64); ok {
				return parquet.DoubleValue(x), nil
			}
		case delta.TypeBoolean:
			if x, ok := v.(bool); ok {
				return parquet.BooleanValue(x), nil
			}
		case delta.TypeString:
			if x, ok := v.(string); ok {
				return parquet.ByteArrayValue([]byte(x)), nil
			}
		case delta.TypeBinary:
			if x, ok := v.([]byte); ok {
				return parquet.ByteArrayValue(x), nil
			}
		case delta.TypeDate:
			if x, ok := v.(time.Time); ok {
				return parquet.Int32Value(DaysSinceEpoch(x)), nil
			}
		case delta.TypeTimestamp:
			if x, ok := v.(time.Time); ok {
				return parquet.Int64Value(x.UnixMicro()), nil
			}
		case delta.TypeTimestampNTZ:
			if x, ok := v.(time.Time); ok {
				return parquet.Int64Value(NTZMicros(x)), nil
			}
		}
	}
	return parquet.Value{}, typeErr(n.dt, v)
}

// DaysSinceEpoch is the date value stored for t: its calendar date (in t's own location) as
// days since 1970-01-01.
func DaysSinceEpoch(t time.Time) int32 {
	y, m, d := t.Date()
	return int32(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// NTZMicros is the timestamp_ntz value stored for t: its wall clock reading (in t's own
// location) as microseconds since 1970-01-01 00:00:00.
func NTZMicros(t time.Time) int64 {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, mo, d, h, mi, s, t.Nanosecond(), time.UTC).UnixMicro()
}

// twosComplement renders u big-endian in n bytes, sign-extended.
func twosComplement(u *big.Int, n int) []byte {
	b := make([]byte, n)
	if u.Sign() >= 0 {
		u.FillBytes(b)
		return b
	}
	// 2^(8n) + u
	m := new(big.Int).Lsh(big.NewInt(1), uint(8*n))
	m.Add(m, u)
	m.FillBytes(b)
	return b
}

// fromTwosComplement is the inverse of twosComplement.
func fromTwosComplement(b []byte) *big.Int {
	u := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		u.Sub(u, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return u
}

// orderedGroup is a Parquet group whose fields keep the table's column order (parquet.Group
// sorts fields by name; Delta writers keep schema order).
type orderedGroup struct{ fields []parquet.Field }

func (g *orderedGroup) ID() int                     { return 0 }
func (g *orderedGroup) String() string              { return "group" }
func (g *orderedGroup) Type() parquet.Type          { return parquet.Group(nil).Type() }
func (g *orderedGroup) Optional() bool              { return false }
func (g *orderedGroup) Repeated() bool              { return false }
func (g *orderedGroup) Required() bool              { return true }
func (g *orderedGroup) Leaf() bool                  { return false }
func (g *orderedGroup) Fields() []parquet.Field     { return g.fields }
func (g *orderedGroup) Encoding() encoding.Encoding { return nil }
func (g *orderedGroup) Compression() compress.Codec { return nil }
func (g *orderedGroup) GoType() reflect.Type {
	m := parquet.Group{}
	for _, f := range g.fields {
		m[f.Name()] = f
	}
	return m.GoType()
}

type namedField struct {
	parquet.Node
	name string
}

func (f *namedField) Name() string { return f.name }
func (f *namedField) Value(base reflect.Value) reflect.Value {
	if base.Kind() == reflect.Map {
		return base.MapIndex(reflect.ValueOf(f.name))
	}
	return reflect.Value{}
}
