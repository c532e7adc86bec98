package demo

import (
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/sharing/delta"
)

const allTypesSchema = `{"type":"struct","fields":[
 {"name":"id","type":"long","nullable":false,"metadata":{}},
 {"name":"i32","type":"integer","nullable":true,"metadata":{}},
 {"name":"i16","type":"short","nullable":true,"metadata":{}},
 {"name":"i8","type":"byte","nullable":true,"metadata":{}},
 {"name":"f32","type":"float","nullable":true,"metadata":{}},
 {"name":"f64","type":"double","nullable":true,"metadata":{}},
 {"name":"flag","type":"boolean","nullable":true,"metadata":{}},
 {"name":"s","type":"string","nullable":true,"metadata":{}},
 {"name":"bin","type":"binary","nullable":true,"metadata":{}},
 {"name":"day","type":"date","nullable":true,"metadata":{}},
 {"name":"ts","type":"timestamp","nullable":true,"metadata":{}},
 {"name":"ntz","type":"timestamp_ntz","nullable":true,"metadata":{}},
 {"name":"d7","type":"decimal(7,2)","nullable":true,"metadata":{}},
 {"name":"d12","type":"decimal(12,2)","nullable":true,"metadata":{}},
 {"name":"d25","type":"decimal(25,5)","nullable":true,"metadata":{}},
 {"name":"st","type":{"type":"struct","fields":[
   {"name":"a","type":"integer","nullable":true,"metadata":{}},
   {"name":"b","type":"string","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}},
 {"name":"arr","type":{"type":"array","elementType":"integer","containsNull":true},"nullable":true,"metadata":{}},
 {"name":"part","type":"string","nullable":true,"metadata":{}}
]}`

func allTypesRows() []Row {
	big25, _ := new(big.Int).SetString("-12345678901234567890", 10)
	ts := time.Date(2024, 2, 29, 23, 59, 58, 123456000, time.UTC)
	paris := time.FixedZone("CET", 3600)
	return []Row{
		{int64(1), int32(-5), int16(300), int8(-7), float32(1.5), 2.25, true, "héllo, \"wörld\"", []byte{0, 1, 2},
			time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), ts, time.Date(2024, 1, 1, 12, 0, 0, 1000, paris),
			int64(12345), int64(-99999999999), big25, Row{int32(1), "x"}, []any{int32(1), nil, int32(3)}, "a/b"},
		{int64(2), nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, "a/b"},
		{int64(3), int32(7), int16(-300), int8(7), float32(-1), -2.5, false, "", []byte{},
			time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC),
			time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC), int64(-1), int64(1), big.NewInt(5), Row{nil, nil}, []any{}, "a/b"},
		{int64(4), int32(0), int16(0), int8(0), float32(0), 0.0, true, "zz", nil,
			time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
			time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), int64(0), int64(0), big.NewInt(0), nil, []any{int32(9)}, nil},
	}
}

func newAllTypesTable(t *testing.T, dir string) *Table {
	t.Helper()
	st, err := delta.ParseSchema(allTypesSchema)
	require.NoError(t, err)
	tbl, err := CreateTable(dir, TableOptions{Name: "all_types", Schema: st, PartitionColumns: []string{"part"}})
	require.NoError(t, err)
	return tbl
}

func TestWriterAllTypes(t *testing.T) {
	dir := t.TempDir()
	tbl := newAllTypesTable(t, dir)
	tx, err := tbl.Begin("WRITE", map[string]any{"mode": "ErrorIfExists"})
	require.NoError(t, err)
	rows := allTypesRows()
	adds, err := tx.Append(rows)
	require.NoError(t, err)
	v, err := tx.Commit()
	require.NoError(t, err)
	assert.Equal(t, int64(0), v)
	require.Len(t, adds, 2)

	// Hive directories, Delta's double escaping in the log, null partition.
	assert.True(t, strings.HasPrefix(adds[0].Path, "part=a%252Fb/part-00000-"), adds[0].Path)
	assert.True(t, strings.HasSuffix(adds[0].Path, "-c000.snappy.parquet"), adds[0].Path)
	assert.True(t, strings.HasPrefix(adds[1].Path, "part=__HIVE_DEFAULT_PARTITION__/part-00001-"), adds[1].Path)
	_, err = os.Stat(filepath.Join(dir, "part=a%2Fb"))
	require.NoError(t, err, "partition directory is Hive-escaped once on disk")

	// Log: commitInfo first, protocol (3,7 with timestampNtz), metadata, adds; null partition
	// value is JSON null.
	log := readLog(t, dir)
	require.Len(t, log, 1)
	require.Len(t, log[0], 5)
	require.NotNil(t, log[0][0].CommitInfo)
	assert.Equal(t, DefaultBaseTime.UnixMilli(), *log[0][0].CommitInfo.Timestamp)
	require.NotNil(t, log[0][1].Protocol)
	assert.Equal(t, delta.Protocol{MinReaderVersion: 3, MinWriterVersion: 7,
		ReaderFeatures: []string{"timestampNtz"}, WriterFeatures: []string{"timestampNtz"}}, *log[0][1].Protocol)
	md := log[0][2].MetaData
	require.NotNil(t, md)
	st, err := md.Schema()
	require.NoError(t, err)
	assert.Equal(t, []string{"part"}, md.PartitionColumns)
	assert.Len(t, st.Fields, 18)
	raw := rawLines(t, dir, 0)
	assert.Equal(t, map[string]any{"part": nil}, raw[4]["add"]["partitionValues"])
	assert.Equal(t, map[string]any{"part": "a/b"}, raw[3]["add"]["partitionValues"])

	// Stats of the first file (rows 1-3).
	var stats map[string]any
	require.NoError(t, json.Unmarshal([]byte(log[0][3].Add.Stats), &stats))
	assert.JSONEq(t, `{
	  "numRecords":3,
	  "minValues":{"id":1,"i32":-5,"i16":-300,"i8":-7,"f32":-1,"f64":-2.5,"s":"","day":"1969-12-31",
	    "ts":"1969-12-31T23:59:59.999Z","ntz":"2024-01-01T12:00:00.000","d7":-0.01,"d12":-999999999.99,
	    "d25":-123456789012345.67890,"st":{"a":1,"b":"x"}},
	  "maxValues":{"id":3,"i32":7,"i16":300,"i8":7,"f32":1.5,"f64":2.25,"s":"héllo, \"wörld\"","day":"2024-02-29",
	    "ts":"2024-02-29T23:59:58.123Z","ntz":"2030-06-01T00:00:00.000","d7":123.45,"d12":0.01,
	    "d25":0.00005,"st":{"a":1,"b":"x"}},
	  "nullCount":{"id":0,"i32":1,"i16":1,"i8":1,"f32":1,"f64":1,"flag":1,"s":1,"bin":1,"day":1,"ts":1,"ntz":1,
	    "d7":1,"d12":1,"d25":1,"st":{"a":2,"b":2},"arr":1}
	}`, log[0][3].Add.Stats)

	// Read back with Arrow: types and values.
	wantSchema := map[string]arrow.DataType{
		"id": arrow.PrimitiveTypes.Int64, "i32": arrow.PrimitiveTypes.Int32, "i16": arrow.PrimitiveTypes.Int16,
		"i8": arrow.PrimitiveTypes.Int8, "f32": arrow.PrimitiveTypes.Float32, "f64": arrow.PrimitiveTypes.Float64,
		"flag": arrow.FixedWidthTypes.Boolean, "s": arrow.BinaryTypes.String, "bin": arrow.BinaryTypes.Binary,
		"day": arrow.FixedWidthTypes.Date32,
		"ts":  &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"},
		"ntz": &arrow.TimestampType{Unit: arrow.Microsecond},
		"d7":  &arrow.Decimal128Type{Precision: 7, Scale: 2},
		"d12": &arrow.Decimal128Type{Precision: 12, Scale: 2},
		"d25": &arrow.Decimal128Type{Precision: 25, Scale: 5},
	}
	for i, add := range []*delta.Add{log[0][3].Add, log[0][4].Add} {
		schema, got := readArrow(t, localPath(t, dir, add.Path))
		require.Equal(t, 17, schema.NumFields(), "partition column is not stored")
		assert.Equal(t, []string{"id", "i32", "i16", "i8", "f32", "f64", "flag", "s", "bin", "day", "ts", "ntz",
			"d7", "d12", "d25", "st", "arr"}, fieldNames(schema))
		for _, f := range schema.Fields() {
			if want, ok := wantSchema[f.Name]; ok {
				assert.True(t, arrow.TypeEqual(want, f.Type), "%s: %s, want %s", f.Name, f.Type, want)
			}
		}
		assert.False(t, schema.Field(0).Nullable, "id is NOT NULL")
		var want []Row
		for _, r := range rows {
			if (i == 0) == (r[17] != nil) {
				want = append(want, storedRow(st, []string{"part"}, r))
			}
		}
		assert.Equal(t, want, got)
	}

	// Read back with parquet-go: physical and logical types, the same leaf values.
	pf, got := readParquetGo(t, localPath(t, dir, adds[0].Path))
	assert.Equal(t, "spark_schema", pf.Schema().Name())
	logical := map[string]string{}
	physical := map[string]string{}
	var walk func(parquet.Field)
	walk = func(f parquet.Field) {
		if f.Leaf() {
			physical[f.Name()] = f.Type().Kind().String()
			if lt := f.Type().LogicalType(); lt != nil {
				logical[f.Name()] = lt.String()
			}
			return
		}
		for _, c := range f.Fields() {
			walk(c)
		}
	}
	for _, f := range pf.Schema().Fields() {
		walk(f)
	}
	assert.Equal(t, map[string]string{"id": "INT64", "i32": "INT32", "i16": "INT32", "i8": "INT32", "f32": "FLOAT",
		"f64": "DOUBLE", "flag": "BOOLEAN", "s": "BYTE_ARRAY", "bin": "BYTE_ARRAY", "day": "INT32", "ts": "INT64",
		"ntz": "INT64", "d7": "INT32", "d12": "INT64", "d25": "FIXED_LEN_BYTE_ARRAY", "a": "INT32", "b": "BYTE_ARRAY",
		"element": "INT32"}, physical)
	assert.Equal(t, "TIMESTAMP(isAdjustedToUTC=true,unit=MICROS)", logical["ts"])
	assert.Equal(t, "TIMESTAMP(isAdjustedToUTC=false,unit=MICROS)", logical["ntz"])
	assert.Equal(t, "DECIMAL(25,5)", logical["d25"])
	assert.Equal(t, "INT(16,true)", logical["i16"])
	assert.Equal(t, "INT(8,true)", logical["i8"])
	assert.Equal(t, "DATE", logical["day"])
	assert.Equal(t, "STRING", logical["s"])
	require.Len(t, got, 3)
	for i, r := range rows[:3] {
		want, err := tbl.data.shredRow(nil, r, "")
		require.NoError(t, err)
		require.Equal(t, len(want), len(got[i]), "row %d", i)
		for j := range want {
			assert.True(t, parquet.Equal(want[j], got[i][j]) && want[j].Column() == got[i][j].Column() &&
				want[j].DefinitionLevel() == got[i][j].DefinitionLevel() &&
				want[j].RepetitionLevel() == got[i][j].RepetitionLevel(), "row %d value %d: %v vs %v", i, j, want[j], got[i][j])
		}
	}
}

func fieldNames(s *arrow.Schema) []string {
	var out []string
	for _, f := range s.Fields() {
		out = append(out, f.Name)
	}
	return out
}

func TestWriterErrors(t *testing.T) {
	st, err := delta.ParseSchema(allTypesSchema)
	require.NoError(t, err)
	tests := []struct {
		name string
		run  func(t *testing.T, dir string) error
		want string
	}{
		{"missing partition column", func(t *testing.T, dir string) error {
			_, err := CreateTable(dir, TableOptions{Name: "x", Schema: st, PartitionColumns: []string{"nope"}})
			return err
		}, `partition column "nope" is not in the schema`},
		{"null in not-null column", func(t *testing.T, dir string) error {
			tx := begin(t, newAllTypesTable(t, dir))
			r := allTypesRows()[1]
			r[0] = nil
			_, err := tx.Append([]Row{r})
			return err
		}, `null value in non-nullable "id"`},
		{"wrong Go type", func(t *testing.T, dir string) error {
			tx := begin(t, newAllTypesTable(t, dir))
			r := allTypesRows()[1]
			r[1] = "seven"
			_, err := tx.Append([]Row{r})
			return err
		}, "a integer value must be int32"},
		{"short row", func(t *testing.T, dir string) error {
			tx := begin(t, newAllTypesTable(t, dir))
			_, err := tx.Append([]Row{{int64(1)}})
			return err
		}, "row has 1 values"},
		{"row in the wrong partition", func(t *testing.T, dir string) error {
			tx := begin(t, newAllTypesTable(t, dir))
			fw, err := tx.NewFile(map[string]any{"part": "x"})
			require.NoError(t, err)
			return fw.Write(allTypesRows()[0])
		}, "does not belong in file"},
		{"change data without CDF", func(t *testing.T, dir string) error {
			tx := begin(t, newAllTypesTable(t, dir))
			_, err := tx.NewChangeFile(map[string]any{"part": "x"})
			return err
		}, "delta.enableChangeDataFeed=true"},
		{"commit with open file", func(t *testing.T, dir string) error {
			tx := begin(t, newAllTypesTable(t, dir))
			_, err := tx.NewFile(map[string]any{"part": "x"})
			require.NoError(t, err)
			_, err = tx.Commit()
			return err
		}, "still open"},
		{"remove unknown file", func(t *testing.T, dir string) error {
			return begin(t, newAllTypesTable(t, dir)).Remove("nope.parquet")
		}, "not a live file"},
		{"existing table", func(t *testing.T, dir string) error {
			tbl := newAllTypesTable(t, dir)
			_, err := begin(t, tbl).Commit()
			require.NoError(t, err)
			_, err = CreateTable(dir, TableOptions{Name: "x", Schema: st})
			return err
		}, "already holds a Delta table"},
		{"decimal overflow", func(t *testing.T, dir string) error {
			tx := begin(t, newAllTypesTable(t, dir))
			r := allTypesRows()[1]
			r[12] = int64(10_000_000)
			_, err := tx.Append([]Row{r})
			return err
		}, "does not fit decimal(7,2)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run(t, t.TempDir())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func begin(t *testing.T, tbl *Table) *Txn {
	t.Helper()
	tx, err := tbl.Begin("WRITE", nil)
	require.NoError(t, err)
	return tx
}

func TestPartitionValueSerialization(t *testing.T) {
	s := func(v string) *string { return &v }
	tests := []struct {
		typ  string
		v    any
		want *string
		dir  string
	}{
		{"string", "plain", s("plain"), "plain"},
		{"string", "a/b c%d=e:f", s("a/b c%d=e:f"), "a%2Fb c%25d%3De%3Af"},
		{"string", "", nil, delta.HiveDefaultPartition},
		{"string", nil, nil, delta.HiveDefaultPartition},
		{"long", int64(-42), s("-42"), "-42"},
		{"integer", 7, s("7"), "7"},
		{"boolean", true, s("true"), "true"},
		{"double", 1.5, s("1.5"), "1.5"},
		{"date", time.Date(2024, 3, 1, 23, 0, 0, 0, time.UTC), s("2024-03-01"), "2024-03-01"},
		{"timestamp", time.Date(2024, 3, 1, 23, 0, 0, 5000, time.FixedZone("x", 3600)), s("2024-03-01T22:00:00.000005Z"), "2024-03-01T22%3A00%3A00.000005Z"},
		{"timestamp_ntz", time.Date(2024, 3, 1, 23, 0, 0, 0, time.UTC), s("2024-03-01 23:00:00.000000"), "2024-03-01 23%3A00%3A00.000000"},
		{"decimal(5,2)", int64(-5), s("-0.05"), "-0.05"},
	}
	for _, tc := range tests {
		t.Run(tc.typ+"/"+tc.dir, func(t *testing.T) {
			dt, err := delta.ParsePrimitive(tc.typ)
			require.NoError(t, err)
			got, err := SerializePartitionValue(dt, tc.v)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, "c="+tc.dir, delta.PartitionDir("c", got))
		})
	}
	assert.Equal(t, "x=a%252Fb%20c/p.parquet", escapeURIPath("x=a%2Fb c/p.parquet"))
	assert.Equal(t, "d=😈/p.parquet", escapeURIPath("d=😈/p.parquet"), "non-ASCII is kept as Delta writers keep it")
}

// An id table records change data and grows by one file a commit: ids 2v and 2v+1 at
// version v.
func TestIDTable(t *testing.T) {
	dir := t.TempDir()
	tbl, err := CreateIDTable(dir, "ids")
	require.NoError(t, err)
	md := tbl.Metadata()
	assert.True(t, md.ChangeDataFeedEnabled())
	for v := int64(0); v < 2; v++ {
		add, err := tbl.AppendIDs()
		require.NoError(t, err)
		assert.Equal(t, v, tbl.Version())
		_, rows := readArrow(t, localPath(t, dir, add.Path))
		assert.Equal(t, []Row{{2 * v}, {2*v + 1}}, rows)
	}
	assert.Len(t, readLog(t, dir), 2)
}
