package reader

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/internal/sharingtest"
)

// deltaFile is one data file of a hand-made Delta table.
type deltaFile struct {
	name  string
	rec   arrow.Record
	pv    map[string]string
	props []pqarrow.WriterOption
}

// writeDeltaTable writes a one-commit Delta table: the data files with pqarrow, then a log
// with the schema given (which may differ from the files': that is the point).
func writeDeltaTable(t *testing.T, dir, schemaString string, partitionCols []string, config map[string]string, files []deltaFile) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "_delta_log"), 0o755))
	var lines []string
	add := func(v any) {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		lines = append(lines, string(b))
	}
	add(map[string]any{"protocol": map[string]any{"minReaderVersion": 1, "minWriterVersion": 2}})
	if config == nil {
		config = map[string]string{}
	}
	add(map[string]any{"metaData": map[string]any{"id": "t", "format": map[string]any{"provider": "parquet", "options": map[string]string{}},
		"schemaString": schemaString, "partitionColumns": append([]string{}, partitionCols...), "configuration": config, "createdTime": 0}})
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		out, err := os.Create(p)
		require.NoError(t, err)
		tbl := array.NewTableFromRecords(f.rec.Schema(), []arrow.Record{f.rec})
		err = pqarrow.WriteTable(tbl, out, 1024, parquet.NewWriterProperties(), pqarrow.NewArrowWriterProperties(f.props...))
		tbl.Release()
		require.NoError(t, err)
		st, err := os.Stat(p)
		require.NoError(t, err)
		pv := f.pv
		if pv == nil {
			pv = map[string]string{}
		}
		stats, _ := json.Marshal(map[string]any{"numRecords": f.rec.NumRows()})
		add(map[string]any{"add": map[string]any{"path": f.name, "partitionValues": pv, "size": st.Size(), "modificationTime": 0, "dataChange": true, "stats": string(stats)}})
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "_delta_log", "00000000000000000000.json"), []byte(strings.Join(lines, "\n")+"\n"), 0o644))
}

func buildRecord(t *testing.T, fields []arrow.Field, build func(b *array.RecordBuilder)) arrow.Record {
	t.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, nil))
	defer b.Release()
	build(b)
	return b.NewRecord()
}

func TestReadAlignsOldFiles(t *testing.T) {
	dir := t.TempDir()
	schema := `{"type":"struct","fields":[
{"name":"a","type":"long","nullable":true,"metadata":{}},
{"name":"b","type":"double","nullable":true,"metadata":{}},
{"name":"c","type":"double","nullable":true,"metadata":{}},
{"name":"d","type":"timestamp_ntz","nullable":true,"metadata":{}},
{"name":"e","type":"decimal(10,2)","nullable":true,"metadata":{}},
{"name":"f","type":"timestamp","nullable":true,"metadata":{}},
{"name":"g","type":"timestamp_ntz","nullable":true,"metadata":{}},
{"name":"h","type":"timestamp","nullable":true,"metadata":{}},
{"name":"i","type":"string","nullable":true,"metadata":{}},
{"name":"s","type":{"type":"struct","fields":[{"name":"x","type":"integer","nullable":true,"metadata":{}},{"name":"y","type":"string","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}},
{"name":"l","type":{"type":"array","elementType":"long","containsNull":true},"nullable":true,"metadata":{}},
{"name":"p","type":"string","nullable":true,"metadata":{}}]}`
	day := time.Date(2020, 1, 2, 0, 0, 0, 0, time.UTC)
	rec := buildRecord(t, []arrow.Field{
		{Name: "A", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
		{Name: "b", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "c", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "d", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "e", Type: &arrow.Decimal128Type{Precision: 5, Scale: 2}, Nullable: true},
		{Name: "f", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "g", Type: &arrow.TimestampType{Unit: arrow.Nanosecond}, Nullable: true},
		{Name: "h", Type: &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "X", Type: arrow.PrimitiveTypes.Int16, Nullable: true}), Nullable: true},
		{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true},
		{Name: "zz", Type: arrow.BinaryTypes.String, Nullable: true},
	}, func(b *array.RecordBuilder) {
		b.Field(0).(*array.Int8Builder).AppendValues([]int8{-5, 0}, []bool{true, false})
		b.Field(1).(*array.Float32Builder).AppendValues([]float32{1.5, 0}, []bool{true, false})
		b.Field(2).(*array.Int32Builder).AppendValues([]int32{7, 0}, []bool{true, false})
		b.Field(3).(*array.Date32Builder).AppendValues([]arrow.Date32{arrow.Date32FromTime(day), 0}, []bool{true, false})
		b.Field(4).(*array.Decimal128Builder).AppendValues([]decimal128.Num{decimal128.FromI64(-12345), {}}, []bool{true, false})
		b.Field(5).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{arrow.Timestamp(day.UnixMilli() + 1), 0}, []bool{true, false})
		b.Field(6).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{arrow.Timestamp(day.UnixNano() + 1999), 0}, []bool{true, false})
		b.Field(7).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{arrow.Timestamp(day.UnixNano() + 5000), 0}, []bool{true, false})
		sb := b.Field(8).(*array.StructBuilder)
		sb.Append(true)
		sb.FieldBuilder(0).(*array.Int16Builder).Append(3)
		sb.AppendNull()
		lb := b.Field(9).(*array.ListBuilder)
		lb.Append(true)
		lb.ValueBuilder().(*array.Int32Builder).AppendValues([]int32{1, 2}, nil)
		lb.AppendNull()
		b.Field(10).(*array.StringBuilder).AppendValues([]string{"dropped", "dropped"}, nil)
	})
	defer rec.Release()
	writeDeltaTable(t, dir, schema, []string{"p"}, nil, []deltaFile{
		{name: "plain.parquet", rec: rec, pv: map[string]string{"p": "P1"}},
		{name: "int96.parquet", rec: rec, pv: map[string]string{"p": ""}, props: []pqarrow.WriterOption{pqarrow.WithDeprecatedInt96Timestamps(true)}},
	})
	env := startServer(t, sharingtest.Options{Tables: map[string]string{"t": dir}})
	c := client(t, env)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r, err := Open(context.Background(), c, protocol.Table{Share: "s", Schema: "d", Name: "t"}, ReadOptions{Allocator: mem, Parallel: 1})
	require.NoError(t, err)
	rows := readAll(t, r)
	var types []string
	for _, f := range r.Schema().Fields() {
		types = append(types, f.Name+":"+f.Type.String())
	}
	r.Release()
	assert.Equal(t, "a:int64 b:float64 c:float64 d:timestamp[us] e:decimal(10, 2) f:timestamp[us, tz=UTC] g:timestamp[us] h:timestamp[us, tz=UTC] i:utf8 s:struct<x: int32, y: utf8> l:list<element: int64, nullable> p:utf8", strings.Join(types, " "))
	us := day.UnixMicro()
	row1 := strings.Join([]string{"-5", "1.5", "7", "ts:" + itoa(us), "-123.45", "ts:" + itoa(us+1000), "ts:" + itoa(us+1), "ts:" + itoa(us+5), "NULL", "{x=3,y=NULL}", "[1,2]"}, "|")
	row2 := strings.Repeat("NULL|", 11)
	// Files in path order: int96.parquet (null partition value) then plain.parquet.
	assert.Equal(t, []string{row1 + "|NULL", row2 + "NULL", row1 + `|"P1"`, row2 + `"P1"`}, rows)
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func TestAlignLeafConversions(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	a := &aligner{mem: mem, mode: "none"}
	b := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Nanosecond})
	b.AppendValues([]arrow.Timestamp{-1, 1999, 0}, []bool{true, true, false})
	arr := b.NewArray()
	b.Release()
	sl := array.NewSlice(arr, 1, 3) // with an offset
	arr.Release()
	d, err := a.leaf(sl.Data(), &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, "x")
	sl.Release()
	require.NoError(t, err)
	out := array.MakeFromData(d)
	d.Release()
	assert.Equal(t, "ts:1", cell(out, 0))
	assert.True(t, out.IsNull(1))
	out.Release()

	str := array.MakeArrayOfNull(mem, arrow.BinaryTypes.String, 1)
	_, err = a.leaf(str.Data(), arrow.PrimitiveTypes.Int32, "x")
	str.Release()
	assert.ErrorContains(t, err, "cannot be read as the table's type int32")
	assert.Equal(t, int64(-1), delta.FloorDiv(-1, 1000))
	assert.Equal(t, int64(253402214400000000), int96Micros([12]byte{0, 0, 0, 0, 0, 0, 0, 0, 0x2c, 0xfe, 0x51, 0x00}))
}
