package reader

import (
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/sharing/delta"
)

func TestArrowSchemaPrimitives(t *testing.T) {
	tests := []struct {
		delta string
		want  arrow.DataType
	}{
		{"byte", arrow.PrimitiveTypes.Int8},
		{"short", arrow.PrimitiveTypes.Int16},
		{"integer", arrow.PrimitiveTypes.Int32},
		{"long", arrow.PrimitiveTypes.Int64},
		{"float", arrow.PrimitiveTypes.Float32},
		{"double", arrow.PrimitiveTypes.Float64},
		{"boolean", arrow.FixedWidthTypes.Boolean},
		{"string", arrow.BinaryTypes.String},
		{"binary", arrow.BinaryTypes.Binary},
		{"date", arrow.FixedWidthTypes.Date32},
		{"timestamp", &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
		{"timestamp_ntz", &arrow.TimestampType{Unit: arrow.Microsecond}},
		{"decimal(10,2)", &arrow.Decimal128Type{Precision: 10, Scale: 2}},
		{"decimal(38,18)", &arrow.Decimal128Type{Precision: 38, Scale: 18}},
		{"decimal", &arrow.Decimal128Type{Precision: 10, Scale: 0}},
		{"void", arrow.Null},
		{"variant", arrow.StructOf(
			arrow.Field{Name: "value", Type: arrow.BinaryTypes.Binary},
			arrow.Field{Name: "metadata", Type: arrow.BinaryTypes.Binary})},
	}
	for _, tc := range tests {
		t.Run(tc.delta, func(t *testing.T) {
			dt, err := delta.ParsePrimitive(tc.delta)
			require.NoError(t, err)
			for _, nullable := range []bool{true, false} {
				st := &delta.StructType{Fields: []*delta.StructField{{Name: "c", Type: dt, Nullable: nullable}}}
				sc, err := ArrowSchema(st, ArrowOptions{})
				require.NoError(t, err)
				require.Equal(t, 1, sc.NumFields())
				f := sc.Field(0)
				assert.Equal(t, "c", f.Name)
				assert.Equal(t, nullable, f.Nullable)
				assert.True(t, arrow.TypeEqual(tc.want, f.Type), "got %s want %s", f.Type, tc.want)
			}
		})
	}
}

func TestArrowSchemaNested(t *testing.T) {
	st, err := delta.ParseSchema(`{"type":"struct","fields":[
	 {"name":"s","type":{"type":"struct","fields":[
	   {"name":"a","type":"integer","nullable":false,"metadata":{}},
	   {"name":"b","type":{"type":"array","elementType":"string","containsNull":false},"nullable":true,"metadata":{}}
	 ]},"nullable":true,"metadata":{}},
	 {"name":"arr","type":{"type":"array","elementType":{"type":"struct","fields":[{"name":"x","type":"double","nullable":true,"metadata":{}}]},"containsNull":true},"nullable":true,"metadata":{}},
	 {"name":"m","type":{"type":"map","keyType":"string","valueType":"long","valueContainsNull":false},"nullable":false,"metadata":{}},
	 {"name":"mn","type":{"type":"map","keyType":"integer","valueType":{"type":"map","keyType":"string","valueType":"date","valueContainsNull":true},"valueContainsNull":true},"nullable":true,"metadata":{}}
	]}`)
	require.NoError(t, err)
	sc, err := ArrowSchema(st, ArrowOptions{})
	require.NoError(t, err)

	s := sc.Field(0)
	sType := s.Type.(*arrow.StructType)
	require.Equal(t, 2, sType.NumFields())
	assert.Equal(t, "a", sType.Field(0).Name)
	assert.False(t, sType.Field(0).Nullable)
	assert.Equal(t, arrow.INT32, sType.Field(0).Type.ID())
	bl := sType.Field(1).Type.(*arrow.ListType)
	assert.False(t, bl.ElemField().Nullable)
	assert.Equal(t, "element", bl.ElemField().Name)
	assert.Equal(t, arrow.STRING, bl.Elem().ID())

	arr := sc.Field(1).Type.(*arrow.ListType)
	assert.True(t, arr.ElemField().Nullable)
	assert.Equal(t, "x", arr.Elem().(*arrow.StructType).Field(0).Name)

	m := sc.Field(2)
	assert.False(t, m.Nullable)
	mt := m.Type.(*arrow.MapType)
	assert.False(t, mt.KeyField().Nullable, "map keys are never null")
	assert.False(t, mt.ItemField().Nullable)
	assert.Equal(t, arrow.STRING, mt.KeyType().ID())
	assert.Equal(t, arrow.INT64, mt.ItemType().ID())

	mn := sc.Field(3).Type.(*arrow.MapType)
	assert.True(t, mn.ItemField().Nullable)
	inner := mn.ItemType().(*arrow.MapType)
	assert.Equal(t, arrow.DATE32, inner.ItemType().ID())
	assert.True(t, inner.ItemField().Nullable)
}

const mappedSchema = `{"type":"struct","fields":[
 {"name":"id","type":"long","nullable":false,"metadata":{"delta.columnMapping.id":1,"delta.columnMapping.physicalName":"col-1"}},
 {"name":"Info","type":{"type":"struct","fields":[
   {"name":"city","type":"string","nullable":true,"metadata":{"delta.columnMapping.id":3,"delta.columnMapping.physicalName":"col-3"}},
   {"name":"tags","type":{"type":"array","elementType":{"type":"struct","fields":[
      {"name":"k","type":"string","nullable":true,"metadata":{"delta.columnMapping.id":5,"delta.columnMapping.physicalName":"col-5"}}]},"containsNull":true},
    "nullable":true,"metadata":{"delta.columnMapping.id":4,"delta.columnMapping.physicalName":"col-4"}}
 ]},"nullable":true,"metadata":{"delta.columnMapping.id":2,"delta.columnMapping.physicalName":"col-2"}},
 {"name":"plain","type":"integer","nullable":true,"metadata":{}}
]}`

func TestArrowSchemaColumnMapping(t *testing.T) {
	st, err := delta.ParseSchema(mappedSchema)
	require.NoError(t, err)

	logical, err := ArrowSchema(st, ArrowOptions{ColumnMappingMode: "name"})
	require.NoError(t, err)
	assert.Equal(t, []string{"id", "Info", "plain"}, names(logical.Fields()))
	assert.Equal(t, []string{"city", "tags"}, names(logical.Field(1).Type.(*arrow.StructType).Fields()))
	_, has := logical.Field(0).Metadata.GetValue(ArrowFieldIDKey)
	assert.False(t, has, "no field ids unless asked")

	physical, err := ArrowSchema(st, ArrowOptions{ColumnMappingMode: "name", PhysicalNames: true, FieldIDs: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"col-1", "col-2", "plain"}, names(physical.Fields()))
	info := physical.Field(1).Type.(*arrow.StructType)
	assert.Equal(t, []string{"col-3", "col-4"}, names(info.Fields()))
	tagElem := info.Field(1).Type.(*arrow.ListType).Elem().(*arrow.StructType)
	assert.Equal(t, []string{"col-5"}, names(tagElem.Fields()))
	id, ok := physical.Field(1).Metadata.GetValue(ArrowFieldIDKey)
	require.True(t, ok)
	assert.Equal(t, "2", id)
	id, ok = tagElem.Field(0).Metadata.GetValue(ArrowFieldIDKey)
	require.True(t, ok)
	assert.Equal(t, "5", id)
	_, has = physical.Field(2).Metadata.GetValue(ArrowFieldIDKey)
	assert.False(t, has, "a field without a mapping id has no field id")

	// Mode none ignores physical names even when asked for them.
	none, err := ArrowSchema(st, ArrowOptions{ColumnMappingMode: "none", PhysicalNames: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"id", "Info", "plain"}, names(none.Fields()))

	// Paths both ways, including through an array element.
	nm := delta.NewNameMapping(st, "name")
	got, ok := nm.ToLogical("col-2", "col-4", "element", "col-5")
	require.True(t, ok)
	assert.Equal(t, []string{"Info", "tags", "element", "k"}, got)
	got, ok = nm.ToPhysical("info", "TAGS", "element", "K")
	require.True(t, ok)
	assert.Equal(t, []string{"col-2", "col-4", "element", "col-5"}, got)
	got, ok = nm.ToPhysical("plain")
	require.True(t, ok)
	assert.Equal(t, []string{"plain"}, got)
	_, ok = nm.ToLogical("Info")
	assert.False(t, ok, "logical names are not physical names under mapping")
	_, ok = nm.ToPhysical("nope")
	assert.False(t, ok)
	_, ok = nm.ToPhysical()
	assert.False(t, ok)

	identity := delta.NewNameMapping(st, "none")
	got, ok = identity.ToLogical("Info", "city")
	require.True(t, ok)
	assert.Equal(t, []string{"Info", "city"}, got)
}

func names(fs []arrow.Field) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Name
	}
	return out
}

func TestRelabel(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)

	st, err := delta.ParseSchema(mappedSchema)
	require.NoError(t, err)
	physical, err := ArrowSchema(st, ArrowOptions{ColumnMappingMode: "name", PhysicalNames: true})
	require.NoError(t, err)
	logical, err := ArrowSchema(st, ArrowOptions{ColumnMappingMode: "name"})
	require.NoError(t, err)

	b := array.NewRecordBuilder(mem, physical)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2}, nil)
	sb := b.Field(1).(*array.StructBuilder)
	sb.Append(true)
	sb.FieldBuilder(0).(*array.StringBuilder).Append("Berlin")
	lb := sb.FieldBuilder(1).(*array.ListBuilder)
	lb.Append(true)
	eb := lb.ValueBuilder().(*array.StructBuilder)
	eb.Append(true)
	eb.FieldBuilder(0).(*array.StringBuilder).Append("x")
	sb.AppendNull()
	b.Field(2).(*array.Int32Builder).AppendValues([]int32{7, 8}, []bool{true, false})
	rec := b.NewRecord()
	defer rec.Release()

	out, err := Relabel(rec, logical)
	require.NoError(t, err)
	defer out.Release()
	assert.True(t, out.Schema().Equal(logical))
	assert.Equal(t, int64(2), out.NumRows())
	info := out.Column(1).(*array.Struct)
	assert.Equal(t, "Berlin", info.Field(0).(*array.String).Value(0))
	assert.True(t, info.IsNull(1))
	tags := info.Field(1).(*array.List)
	assert.Equal(t, "x", tags.ListValues().(*array.Struct).Field(0).(*array.String).Value(0))
	assert.True(t, out.Column(2).IsNull(1))

	// Sliced input keeps its offset.
	sl := rec.NewSlice(1, 2)
	defer sl.Release()
	out2, err := Relabel(sl, logical)
	require.NoError(t, err)
	defer out2.Release()
	assert.True(t, out2.Column(1).IsNull(0))

	// Shape mismatch is an error.
	other := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64}}, nil)
	_, err = Relabel(rec, other)
	require.Error(t, err)
	wrong := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int32},
		logical.Field(1), logical.Field(2)}, nil)
	_, err = Relabel(rec, wrong)
	require.ErrorContains(t, err, "does not match")
}

func TestRelabelMap(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	src := arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64)
	mb := array.NewMapBuilderWithType(mem, src)
	defer mb.Release()
	mb.Append(true)
	mb.KeyBuilder().(*array.StringBuilder).Append("k")
	mb.ItemBuilder().(*array.Int64Builder).Append(1)
	arr := mb.NewArray()
	defer arr.Release()

	dst := arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64)
	dst.SetItemNullable(false)
	out, err := RelabelArray(arr, dst)
	require.NoError(t, err)
	defer out.Release()
	assert.False(t, out.DataType().(*arrow.MapType).ItemField().Nullable)
	assert.Equal(t, "k", out.(*array.Map).Keys().(*array.String).Value(0))
}

func TestArrowSchemaErrors(t *testing.T) {
	_, err := ArrowSchema(nil, ArrowOptions{})
	require.Error(t, err)
	st := &delta.StructType{Fields: []*delta.StructField{{Name: "x", Type: &delta.PrimitiveType{Name: "geometry"}}}}
	_, err = ArrowSchema(st, ArrowOptions{})
	require.ErrorContains(t, err, `"x"`)
	require.ErrorContains(t, err, "geometry")
	st = &delta.StructType{Fields: []*delta.StructField{{Name: "d", Type: &delta.DecimalType{Precision: 40, Scale: 2}}}}
	_, err = ArrowSchema(st, ArrowOptions{})
	require.ErrorContains(t, err, "precision")
}
