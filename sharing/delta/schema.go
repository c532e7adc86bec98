package delta

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// DataType is a Delta column type: a *PrimitiveType, *DecimalType, *StructType, *ArrayType or
// *MapType.
type DataType interface {
	// String returns the type in the schema string's own spelling ("long", "decimal(10,2)",
	// "struct<a:int>" for nested types).
	String() string
	isDataType()
}

// Primitive type names as the Delta protocol spells them.
const (
	TypeString       = "string"
	TypeLong         = "long"
	TypeInteger      = "integer"
	TypeShort        = "short"
	TypeByte         = "byte"
	TypeFloat        = "float"
	TypeDouble       = "double"
	TypeBoolean      = "boolean"
	TypeBinary       = "binary"
	TypeDate         = "date"
	TypeTimestamp    = "timestamp"
	TypeTimestampNTZ = "timestamp_ntz"
	TypeVoid         = "void"
	TypeVariant      = "variant"
)

var primitiveNames = map[string]bool{
	TypeString: true, TypeLong: true, TypeInteger: true, TypeShort: true, TypeByte: true,
	TypeFloat: true, TypeDouble: true, TypeBoolean: true, TypeBinary: true, TypeDate: true,
	TypeTimestamp: true, TypeTimestampNTZ: true, TypeVoid: true, TypeVariant: true,
}

// PrimitiveType is any non-decimal primitive type.
type PrimitiveType struct{ Name string }

func (t *PrimitiveType) String() string { return t.Name }
func (*PrimitiveType) isDataType()      {}

// DecimalType is decimal(Precision, Scale).
type DecimalType struct{ Precision, Scale int }

func (t *DecimalType) String() string { return fmt.Sprintf("decimal(%d,%d)", t.Precision, t.Scale) }
func (*DecimalType) isDataType()      {}

// ArrayType is an array of ElementType.
type ArrayType struct {
	ElementType  DataType
	ContainsNull bool
}

func (t *ArrayType) String() string { return "array<" + t.ElementType.String() + ">" }
func (*ArrayType) isDataType()      {}

// MapType is a map from KeyType to ValueType.
type MapType struct {
	KeyType           DataType
	ValueType         DataType
	ValueContainsNull bool
}

func (t *MapType) String() string {
	return "map<" + t.KeyType.String() + "," + t.ValueType.String() + ">"
}
func (*MapType) isDataType() {}

// StructField is one named field of a struct.
type StructField struct {
	Name     string
	Type     DataType
	Nullable bool
	Metadata map[string]any
}

// Column mapping metadata keys.
const (
	MetaColumnMappingID           = "delta.columnMapping.id"
	MetaColumnMappingPhysicalName = "delta.columnMapping.physicalName"
)

// PhysicalName returns the name under which the field is stored in data files for the given
// column mapping mode ("none", "name" or "id"): the physical name from the field's metadata
// when mapping is on and one is recorded, else the logical name.
func (f *StructField) PhysicalName(mode string) string {
	if mode == "" || mode == "none" {
		return f.Name
	}
	if s, ok := f.Metadata[MetaColumnMappingPhysicalName].(string); ok && s != "" {
		return s
	}
	return f.Name
}

// FieldID returns the column mapping id of the field, if recorded.
func (f *StructField) FieldID() (int64, bool) {
	switch v := f.Metadata[MetaColumnMappingID].(type) {
	case float64:
		return int64(v), true
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	}
	return 0, false
}

// StructType is a struct (and a table schema).
type StructType struct{ Fields []*StructField }

func (t *StructType) String() string {
	var b strings.Builder
	b.WriteString("struct<")
	for i, f := range t.Fields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(f.Name)
		b.WriteByte(':')
		b.WriteString(f.Type.String())
	}
	b.WriteByte('>')
	return b.String()
}
func (*StructType) isDataType() {}

// Field returns the field named name, compared case-insensitively as Delta does, or nil.
func (t *StructType) Field(name string) *StructField {
	for _, f := range t.Fields {
		if f.Name == name {
			return f
		}
	}
	for _, f := range t.Fields {
		if strings.EqualFold(f.Name, name) {
			return f
		}
	}
	return nil
}

// FieldNames returns the names of the top-level fields in order.
func (t *StructType) FieldNames() []string {
	out := make([]string, len(t.Fields))
	for i, f := range t.Fields {
		out[i] = f.Name
	}
	return out
}

// maxSchemaDepth bounds nesting so a hostile schema string cannot exhaust the stack.
const maxSchemaDepth = 64

// ParseSchema parses a Delta schema string (a JSON struct type).
func ParseSchema(s string) (*StructType, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("delta: empty schema string")
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("delta: schema string is not JSON: %w", err)
	}
	t, err := parseType(raw, 0)
	if err != nil {
		return nil, fmt.Errorf("delta: bad schema: %w", err)
	}
	st, ok := t.(*StructType)
	if !ok {
		return nil, fmt.Errorf("delta: bad schema: top level is %s, want a struct", t)
	}
	return st, nil
}

var decimalRE = regexp.MustCompile(`^decimal\(\s*(\d+)\s*,\s*(-?\d+)\s*\)$`)

// ParsePrimitive parses a primitive type name, including "decimal(p,s)" and the bare "decimal"
// (which Delta reads as decimal(10,0)).
func ParsePrimitive(name string) (DataType, error) {
	if primitiveNames[name] {
		return &PrimitiveType{Name: name}, nil
	}
	if name == "decimal" {
		return &DecimalType{Precision: 10, Scale: 0}, nil
	}
	if m := decimalRE.FindStringSubmatch(name); m != nil {
		p, err1 := strconv.Atoi(m[1])
		s, err2 := strconv.Atoi(m[2])
		if err1 != nil || err2 != nil || p < 1 || p > 38 || s < 0 || s > p {
			return nil, fmt.Errorf("decimal %q out of range: precision 1..38, scale 0..precision", name)
		}
		return &DecimalType{Precision: p, Scale: s}, nil
	}
	return nil, fmt.Errorf("unknown type %q", name)
}

// boolOr is the boolean m[key], or def when m has none.
func boolOr(m map[string]any, key string, def bool) bool {
	if b, ok := m[key].(bool); ok {
		return b
	}
	return def
}

func parseType(raw any, depth int) (DataType, error) {
	if depth > maxSchemaDepth {
		return nil, fmt.Errorf("types nested deeper than %d", maxSchemaDepth)
	}
	switch v := raw.(type) {
	case string:
		return ParsePrimitive(v)
	case map[string]any:
		kind, _ := v["type"].(string)
		switch kind {
		case "struct":
			rawFields, ok := v["fields"].([]any)
			if !ok && v["fields"] != nil {
				return nil, fmt.Errorf("struct fields must be a list")
			}
			st := &StructType{Fields: make([]*StructField, 0, len(rawFields))}
			for i, rf := range rawFields {
				fm, ok := rf.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("field %d is not an object", i)
				}
				name, ok := fm["name"].(string)
				if !ok {
					return nil, fmt.Errorf("field %d has no name", i)
				}
				ft, err := parseType(fm["type"], depth+1)
				if err != nil {
					return nil, fmt.Errorf("field %q: %w", name, err)
				}
				f := &StructField{Name: name, Type: ft, Nullable: boolOr(fm, "nullable", true)}
				if md, ok := fm["metadata"].(map[string]any); ok {
					f.Metadata = md
				}
				st.Fields = append(st.Fields, f)
			}
			return st, nil
		case "array":
			et, err := parseType(v["elementType"], depth+1)
			if err != nil {
				return nil, fmt.Errorf("array element: %w", err)
			}
			return &ArrayType{ElementType: et, ContainsNull: boolOr(v, "containsNull", true)}, nil
		case "map":
			kt, err := parseType(v["keyType"], depth+1)
			if err != nil {
				return nil, fmt.Errorf("map key: %w", err)
			}
			vt, err := parseType(v["valueType"], depth+1)
			if err != nil {
				return nil, fmt.Errorf("map value: %w", err)
			}
			return &MapType{KeyType: kt, ValueType: vt, ValueContainsNull: boolOr(v, "valueContainsNull", true)}, nil
		default:
			return nil, fmt.Errorf("unknown complex type %q", kind)
		}
	case nil:
		return nil, fmt.Errorf("missing type")
	default:
		return nil, fmt.Errorf("type must be a string or an object, got %T", raw)
	}
}

// MarshalSchema renders a struct type back to a Delta schema string.
func MarshalSchema(t *StructType) (string, error) {
	b, err := json.Marshal(typeJSON(t))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func typeJSON(t DataType) any {
	switch v := t.(type) {
	case *StructType:
		fields := make([]any, len(v.Fields))
		for i, f := range v.Fields {
			md := f.Metadata
			if md == nil {
				md = map[string]any{}
			}
			fields[i] = orderedField{f.Name, typeJSON(f.Type), f.Nullable, md}
		}
		return struct {
			Type   string `json:"type"`
			Fields []any  `json:"fields"`
		}{"struct", fields}
	case *ArrayType:
		return struct {
			Type         string `json:"type"`
			ElementType  any    `json:"elementType"`
			ContainsNull bool   `json:"containsNull"`
		}{"array", typeJSON(v.ElementType), v.ContainsNull}
	case *MapType:
		return struct {
			Type              string `json:"type"`
			KeyType           any    `json:"keyType"`
			ValueType         any    `json:"valueType"`
			ValueContainsNull bool   `json:"valueContainsNull"`
		}{"map", typeJSON(v.KeyType), typeJSON(v.ValueType), v.ValueContainsNull}
	default:
		return t.String()
	}
}

type orderedField struct {
	Name     string         `json:"name"`
	Type     any            `json:"type"`
	Nullable bool           `json:"nullable"`
	Metadata map[string]any `json:"metadata"`
}

// UnmarshalJSON lets a StructType be decoded directly from its JSON form.
func (t *StructType) UnmarshalJSON(b []byte) error {
	st, err := ParseSchema(string(bytes.TrimSpace(b)))
	if err != nil {
		return err
	}
	*t = *st
	return nil
}

// MarshalJSON renders the struct in the schema string form.
func (t *StructType) MarshalJSON() ([]byte, error) { return json.Marshal(typeJSON(t)) }
