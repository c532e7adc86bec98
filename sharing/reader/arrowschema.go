package reader

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/deltashare/deltashare/sharing/delta"
)

// ArrowFieldIDKey is the Arrow field metadata key under which the Parquet field id travels
// (the key pqarrow reads and writes). ArrowSchema sets it from delta.columnMapping.id when
// ArrowOptions.FieldIDs is on.
const ArrowFieldIDKey = "PARQUET:field_id"

// ArrowOptions controls how ArrowSchema names and annotates fields.
type ArrowOptions struct {
	// ColumnMappingMode is the table's delta.columnMapping.mode: "", "none", "name" or "id".
	// It only matters together with PhysicalNames.
	ColumnMappingMode string
	// PhysicalNames names every field (at every nesting level) by its physical name, the
	// name stored in the Parquet data files, instead of its logical name. Use it for the
	// schema a Parquet file is read with, then Relabel the records to the logical schema.
	PhysicalNames bool
	// FieldIDs attaches the column mapping id (delta.columnMapping.id) of each field as
	// Arrow metadata ArrowFieldIDKey, as id-mode readers match Parquet columns by id.
	FieldIDs bool
}

// ArrowSchema converts a Delta table schema to an Arrow schema.
//
// Types map as: byte→int8, short→int16, integer→int32, long→int64, float→float32,
// double→float64, boolean→bool, string→utf8, binary→binary, date→date32,
// timestamp→timestamp[us, tz=UTC], timestamp_ntz→timestamp[us] (no zone),
// decimal(p,s)→decimal128(p,s), void→null, struct→struct, array→list (item field
// "element"), map→map (keys non-null) and variant→struct<value: binary, metadata: binary>
// (its unshredded Parquet form). Nullability is preserved at every level.
func ArrowSchema(st *delta.StructType, opts ArrowOptions) (*arrow.Schema, error) {
	if st == nil {
		return nil, fmt.Errorf("sharing: no schema to convert to Arrow")
	}
	fields, err := arrowFields(st, opts, nil)
	if err != nil {
		return nil, err
	}
	return arrow.NewSchema(fields, nil), nil
}

// ArrowType converts one Delta type to its Arrow type (see ArrowSchema).
func ArrowType(t delta.DataType, opts ArrowOptions) (arrow.DataType, error) {
	return arrowType(t, opts, nil)
}

func arrowFields(st *delta.StructType, opts ArrowOptions, path []string) ([]arrow.Field, error) {
	fields := make([]arrow.Field, len(st.Fields))
	for i, f := range st.Fields {
		if f == nil || f.Type == nil {
			return nil, fmt.Errorf("sharing: schema field %d of %s has no type", i, pathString(path))
		}
		p := append(path[:len(path):len(path)], f.Name)
		at, err := arrowType(f.Type, opts, p)
		if err != nil {
			return nil, err
		}
		name := f.Name
		if opts.PhysicalNames {
			name = f.PhysicalName(opts.ColumnMappingMode)
		}
		af := arrow.Field{Name: name, Type: at, Nullable: f.Nullable}
		if opts.FieldIDs {
			if id, ok := f.FieldID(); ok {
				af.Metadata = arrow.NewMetadata([]string{ArrowFieldIDKey}, []string{strconv.FormatInt(id, 10)})
			}
		}
		fields[i] = af
	}
	return fields, nil
}

func arrowType(t delta.DataType, opts ArrowOptions, path []string) (arrow.DataType, error) {
	switch v := t.(type) {
	case *delta.PrimitiveType:
		switch v.Name {
		case delta.TypeByte:
			return arrow.PrimitiveTypes.Int8, nil
		case delta.TypeShort:
			return arrow.PrimitiveTypes.Int16, nil
		case delta.TypeInteger:
			return arrow.PrimitiveTypes.Int32, nil
		case delta.TypeLong:
			return arrow.PrimitiveTypes.Int64, nil
		case delta.TypeFloat:
			return arrow.PrimitiveTypes.Float32, nil
		case delta.TypeDouble:
			return arrow.PrimitiveTypes.Float64, nil
		case delta.TypeBoolean:
			return arrow.FixedWidthTypes.Boolean, nil
		case delta.TypeString:
			return arrow.BinaryTypes.String, nil
		case delta.TypeBinary:
			return arrow.BinaryTypes.Binary, nil
		case delta.TypeDate:
			return arrow.FixedWidthTypes.Date32, nil
		case delta.TypeTimestamp:
			return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, nil
		case delta.TypeTimestampNTZ:
			return &arrow.TimestampType{Unit: arrow.Microsecond}, nil
		case delta.TypeVoid:
			return arrow.Null, nil
		case delta.TypeVariant:
			return arrow.StructOf(
				arrow.Field{Name: "value", Type: arrow.BinaryTypes.Binary},
				arrow.Field{Name: "metadata", Type: arrow.BinaryTypes.Binary},
			), nil
		}
		return nil, fmt.Errorf("sharing: column %s has type %q, which has no Arrow equivalent; upgrade deltashare or leave the column out", pathString(path), v.Name)
	case *delta.DecimalType:
		if v.Precision < 1 || v.Precision > 38 || v.Scale < 0 || v.Scale > v.Precision {
			return nil, fmt.Errorf("sharing: column %s has %s; precision must be 1..38 and scale 0..precision", pathString(path), v)
		}
		return &arrow.Decimal128Type{Precision: int32(v.Precision), Scale: int32(v.Scale)}, nil
	case *delta.StructType:
		fields, err := arrowFields(v, opts, path)
		if err != nil {
			return nil, err
		}
		return arrow.StructOf(fields...), nil
	case *delta.ArrayType:
		et, err := arrowType(v.ElementType, opts, append(path[:len(path):len(path)], "element"))
		if err != nil {
			return nil, err
		}
		return arrow.ListOfField(arrow.Field{Name: "element", Type: et, Nullable: v.ContainsNull}), nil
	case *delta.MapType:
		kt, err := arrowType(v.KeyType, opts, append(path[:len(path):len(path)], "key"))
		if err != nil {
			return nil, err
		}
		vt, err := arrowType(v.ValueType, opts, append(path[:len(path):len(path)], "value"))
		if err != nil {
			return nil, err
		}
		mt := arrow.MapOf(kt, vt)
		mt.SetItemNullable(v.ValueContainsNull)
		return mt, nil
	case nil:
		return nil, fmt.Errorf("sharing: column %s has no type", pathString(path))
	}
	return nil, fmt.Errorf("sharing: column %s has unsupported type %s", pathString(path), t)
}

func pathString(path []string) string {
	if len(path) == 0 {
		return "<root>"
	}
	return strconv.Quote(strings.Join(path, "."))
}

// Relabel returns rec under schema: the same columns and buffers (no copy), with the field
// names, nullability and metadata of schema. The two schemas must have the same shape: the
// same number of top-level columns and, field by field, the same types apart from field names
// and metadata. Use it to turn a record read with physical names (ArrowOptions.PhysicalNames)
// into one with logical names. The caller releases the result.
func Relabel(rec arrow.Record, schema *arrow.Schema) (arrow.Record, error) {
	if int(rec.NumCols()) != schema.NumFields() {
		return nil, fmt.Errorf("sharing: cannot relabel a record of %d columns to a schema of %d", rec.NumCols(), schema.NumFields())
	}
	cols := make([]arrow.Array, rec.NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i := range cols {
		f := schema.Field(i)
		c, err := RelabelArray(rec.Column(i), f.Type)
		if err != nil {
			return nil, fmt.Errorf("sharing: column %q (%q in the record): %w", f.Name, rec.ColumnName(i), err)
		}
		cols[i] = c
	}
	return array.NewRecord(schema, cols, rec.NumRows()), nil
}

// RelabelArray returns arr viewed as type dt, which must have the same shape as arr's type
// (see Relabel). The buffers are shared; the caller releases the result.
func RelabelArray(arr arrow.Array, dt arrow.DataType) (arrow.Array, error) {
	d, err := relabelData(arr.Data(), dt)
	if err != nil {
		return nil, err
	}
	defer d.Release()
	return array.MakeFromData(d), nil
}

func relabelData(d arrow.ArrayData, dt arrow.DataType) (arrow.ArrayData, error) {
	src := d.DataType()
	if src.ID() != dt.ID() {
		return nil, fmt.Errorf("type %s does not match %s", src, dt)
	}
	var childTypes []arrow.DataType
	switch t := dt.(type) {
	case *arrow.StructType:
		if len(d.Children()) != t.NumFields() {
			return nil, fmt.Errorf("struct %s has %d fields, want %d", src, len(d.Children()), t.NumFields())
		}
		for _, f := range t.Fields() {
			childTypes = append(childTypes, f.Type)
		}
	case *arrow.MapType:
		childTypes = []arrow.DataType{t.Elem()}
	case arrow.ListLikeType:
		childTypes = []arrow.DataType{t.Elem()}
	default:
		if !arrow.TypeEqual(src, dt) {
			return nil, fmt.Errorf("type %s does not match %s", src, dt)
		}
		d.Retain()
		return d, nil
	}
	if len(d.Children()) != len(childTypes) {
		return nil, fmt.Errorf("type %s does not match %s", src, dt)
	}
	children := make([]arrow.ArrayData, len(childTypes))
	defer func() {
		for _, c := range children {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, ct := range childTypes {
		c, err := relabelData(d.Children()[i], ct)
		if err != nil {
			return nil, err
		}
		children[i] = c
	}
	return array.NewData(dt, d.Len(), d.Buffers(), children, d.NullN(), d.Offset()), nil
}
