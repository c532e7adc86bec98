package reader

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/internal/sharedtest"
	"github.com/deltashare/deltashare/sharing/delta"
)

func prim(t testing.TB, name string) delta.DataType {
	t.Helper()
	dt, err := delta.ParsePrimitive(name)
	require.NoError(t, err)
	return dt
}

func micros(s string) arrow.Timestamp {
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return arrow.Timestamp(tm.UnixMicro())
}

func dec(t testing.TB, unscaled string) decimal128.Num {
	n, err := decimal128.FromString(unscaled, 38, 0)
	require.NoError(t, err)
	return n
}

func TestParsePartitionValue(t *testing.T) {
	tests := []struct {
		typ  string
		in   string
		want any
	}{
		{"string", "a b/c", "a b/c"},
		{"string", "  ", "  "},
		{"binary", "\x01\x02", []byte{1, 2}},
		{"boolean", "true", true},
		{"boolean", "FALSE", false},
		{"byte", "-128", int8(-128)},
		{"byte", "127", int8(127)},
		{"short", "-32768", int16(-32768)},
		{"integer", "2147483647", int32(2147483647)},
		{"long", "-9223372036854775808", int64(math.MinInt64)},
		{"long", "+42", int64(42)},
		{"float", "1.5", float32(1.5)},
		{"float", "-Infinity", float32(math.Inf(-1))},
		{"double", "1.0E10", 1e10},
		{"double", "Infinity", math.Inf(1)},
		{"double", "-0.0", math.Copysign(0, -1)},
		{"date", "2021-01-31", arrow.Date32(18658)},
		{"date", "1970-01-01", arrow.Date32(0)},
		{"date", "1969-12-31", arrow.Date32(-1)},
		{"date", "0001-01-01", arrow.Date32(-719162)},
		{"date", "2020-2-29", arrow.Date32(18321)},
		{"timestamp", "2021-01-01 00:00:00", micros("2021-01-01T00:00:00Z")},
		{"timestamp", "2021-01-01 10:20:30.123456", micros("2021-01-01T10:20:30.123456Z")},
		{"timestamp", "2021-01-01 10:20:30.1", micros("2021-01-01T10:20:30.1Z")},
		{"timestamp", "2021-01-01T00:00:00.000000Z", micros("2021-01-01T00:00:00Z")},
		{"timestamp", "2021-01-01T02:00:00+02:00", micros("2021-01-01T00:00:00Z")},
		{"timestamp", "2020-12-31T19:00:00-0500", micros("2021-01-01T00:00:00Z")},
		{"timestamp", "1969-12-31 23:59:59.999999", arrow.Timestamp(-1)},
		{"timestamp", "2021-01-01 00:00:00.123456789", micros("2021-01-01T00:00:00.123456Z")},
		{"timestamp", "2021-01-01", micros("2021-01-01T00:00:00Z")},
		{"timestamp_ntz", "2021-01-01 12:00:00", micros("2021-01-01T12:00:00Z")},
		{"timestamp_ntz", "2021-01-01T12:00:00.5", micros("2021-01-01T12:00:00.5Z")},
		{"decimal(10,2)", "12.34", dec(t, "1234")},
		{"decimal(10,2)", "-0.5", dec(t, "-50")},
		{"decimal(10,2)", "7", dec(t, "700")},
		{"decimal(10,2)", "1.500", dec(t, "150")},
		{"decimal(38,18)", "12.000000000000000000", dec(t, "12000000000000000000")},
		{"decimal(38,0)", "99999999999999999999999999999999999999", dec(t, "99999999999999999999999999999999999999")},
		{"decimal(5,0)", "1.2E+3", dec(t, "1200")},
	}
	for _, tc := range tests {
		t.Run(tc.typ+"/"+tc.in, func(t *testing.T) {
			got, err := ParsePartitionValue(prim(t, tc.typ), tc.in, true)
			require.NoError(t, err)
			if f, ok := tc.want.(float64); ok && f == 0 {
				assert.Equal(t, math.Signbit(f), math.Signbit(got.(float64)))
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParsePartitionValueNulls(t *testing.T) {
	for _, typ := range []string{"string", "binary", "boolean", "byte", "short", "integer", "long", "float", "double", "date", "timestamp", "timestamp_ntz", "decimal(10,2)", "void"} {
		v, err := ParsePartitionValue(prim(t, typ), "", true)
		require.NoError(t, err, typ)
		assert.Nil(t, v, "empty %s is null", typ)
		v, err = ParsePartitionValue(prim(t, typ), "x", false)
		require.NoError(t, err, typ)
		assert.Nil(t, v, "missing %s is null", typ)
	}
	v, err := ParsePartitionValue(prim(t, "void"), "anything", true)
	require.NoError(t, err)
	assert.Nil(t, v)
}

func TestParsePartitionValueErrors(t *testing.T) {
	tests := []struct{ typ, in, msg string }{
		{"boolean", "yes", "true or false"},
		{"byte", "128", "out of range"},
		{"short", "40000", "out of range"},
		{"integer", "2147483648", "out of range"},
		{"long", "9223372036854775808", "out of range"},
		{"long", "1.0", "whole number"},
		{"integer", " 1", "whole number"},
		{"integer", "0x10", "whole number"},
		{"float", "1e39", "out of range"},
		{"double", "abc", "number"},
		{"double", "0x1p3", "decimal number"},
		{"date", "2021-02-30", "no such day"},
		{"date", "2021-13-01", "no such day"},
		{"date", "20210101", "YYYY-MM-DD"},
		{"date", "2021-01-01 00:00:00", "trailing"},
		{"timestamp", "2021-01-01 25:00:00", "out of range"},
		{"timestamp", "2021-01-01 10", "hh:mm"},
		{"timestamp", "2021-01-01 10:00:00 +25:00", "zone"},
		{"timestamp", "2021-01-01 10:00:00 PST", "zone"},
		{"timestamp_ntz", "2021-01-01 10:00:00+01:00", "time zone"},
		{"decimal(10,2)", "1.234", "more than 2 digits"},
		{"decimal(4,2)", "123.4", "does not fit"},
		{"decimal(10,2)", "1,5", "not a decimal"},
		{"decimal(10,2)", "e5", "no digits"},
	}
	for _, tc := range tests {
		t.Run(tc.typ+"/"+tc.in, func(t *testing.T) {
			_, err := ParsePartitionValue(prim(t, tc.typ), tc.in, true)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
			assert.Contains(t, err.Error(), tc.typ, "the error names the type")
			assert.Contains(t, err.Error(), tc.in, "the error names the value")
		})
	}
	nested := &delta.ArrayType{ElementType: prim(t, "string")}
	_, err := ParsePartitionValue(nested, "x", true)
	require.ErrorContains(t, err, "cannot be a partition column type")
}

func TestPartitionArray(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	str := func(s string) *string { return &s }
	tests := []struct {
		typ   string
		value *string
		check func(t *testing.T, a arrow.Array)
	}{
		{"long", str("42"), func(t *testing.T, a arrow.Array) { assert.Equal(t, int64(42), a.(*array.Int64).Value(2)) }},
		{"byte", str("-1"), func(t *testing.T, a arrow.Array) { assert.Equal(t, int8(-1), a.(*array.Int8).Value(0)) }},
		{"short", str("7"), func(t *testing.T, a arrow.Array) { assert.Equal(t, int16(7), a.(*array.Int16).Value(1)) }},
		{"integer", str("7"), func(t *testing.T, a arrow.Array) { assert.Equal(t, int32(7), a.(*array.Int32).Value(1)) }},
		{"float", str("0.5"), func(t *testing.T, a arrow.Array) { assert.Equal(t, float32(0.5), a.(*array.Float32).Value(1)) }},
		{"double", str("NaN"), func(t *testing.T, a arrow.Array) { assert.True(t, math.IsNaN(a.(*array.Float64).Value(1))) }},
		{"boolean", str("true"), func(t *testing.T, a arrow.Array) { assert.True(t, a.(*array.Boolean).Value(2)) }},
		{"string", str("héllo"), func(t *testing.T, a arrow.Array) { assert.Equal(t, "héllo", a.(*array.String).Value(2)) }},
		{"binary", str("\u00e9"), func(t *testing.T, a arrow.Array) { assert.Equal(t, []byte{0xc3, 0xa9}, a.(*array.Binary).Value(0)) }},
		{"date", str("1970-01-02"), func(t *testing.T, a arrow.Array) { assert.Equal(t, arrow.Date32(1), a.(*array.Date32).Value(0)) }},
		{"timestamp", str("1970-01-01 00:00:01"), func(t *testing.T, a arrow.Array) {
			assert.Equal(t, arrow.Timestamp(1_000_000), a.(*array.Timestamp).Value(0))
			assert.Equal(t, "UTC", a.DataType().(*arrow.TimestampType).TimeZone)
		}},
		{"timestamp_ntz", str("1970-01-01 00:00:01"), func(t *testing.T, a arrow.Array) {
			assert.Equal(t, "", a.DataType().(*arrow.TimestampType).TimeZone)
		}},
		{"decimal(5,2)", str("1.25"), func(t *testing.T, a arrow.Array) {
			assert.Equal(t, "1.25", a.(*array.Decimal128).ValueStr(0))
		}},
		{"string", nil, func(t *testing.T, a arrow.Array) { assert.Equal(t, 3, a.NullN()) }},
		{"string", str(""), func(t *testing.T, a arrow.Array) { assert.Equal(t, 3, a.NullN()) }},
		{"date", nil, func(t *testing.T, a arrow.Array) {
			assert.Equal(t, 3, a.NullN())
			assert.Equal(t, arrow.DATE32, a.DataType().ID())
		}},
		{"void", str("x"), func(t *testing.T, a arrow.Array) { assert.Equal(t, arrow.NULL, a.DataType().ID()) }},
	}
	for _, tc := range tests {
		t.Run(tc.typ, func(t *testing.T) {
			a, err := PartitionArray(mem, prim(t, tc.typ), tc.value, 3)
			require.NoError(t, err)
			defer a.Release()
			assert.Equal(t, 3, a.Len())
			if tc.value != nil && *tc.value != "" && tc.typ != "void" {
				assert.Zero(t, a.NullN())
			}
			tc.check(t, a)
		})
	}
	a, err := PartitionArray(mem, prim(t, "long"), str("1"), 0)
	require.NoError(t, err)
	assert.Equal(t, 0, a.Len())
	a.Release()
	_, err = PartitionArray(mem, prim(t, "long"), str("x"), 3)
	require.Error(t, err)
	_, err = PartitionArray(mem, prim(t, "long"), str("1"), -1)
	require.Error(t, err)
}

// logEntry is what the test needs of one _delta_log line.
type logEntry struct {
	MetaData *struct {
		SchemaString     string            `json:"schemaString"`
		PartitionColumns []string          `json:"partitionColumns"`
		Configuration    map[string]string `json:"configuration"`
	} `json:"metaData"`
	Add    *struct{ PartitionValues map[string]*string } `json:"add"`
	Remove *struct{ PartitionValues map[string]*string } `json:"remove"`
	Cdc    *struct{ PartitionValues map[string]*string } `json:"cdc"`
}

type parsedPartition struct {
	column string
	value  any
}

// parseTablePartitions reads every commit of a table's _delta_log and parses every
// partition value found with the schema current at that commit.
func parseTablePartitions(t *testing.T, table string) []parsedPartition {
	t.Helper()
	commits, err := filepath.Glob(filepath.Join(table, "_delta_log", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, commits, "no commits in %s", table)
	sort.Strings(commits)
	var (
		schema *delta.StructType
		mode   string
		out    []parsedPartition
	)
	for _, c := range commits {
		f, err := os.Open(c)
		require.NoError(t, err)
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" {
				continue
			}
			var e logEntry
			require.NoError(t, json.Unmarshal([]byte(line), &e), "%s", c)
			if e.MetaData != nil {
				schema, err = delta.ParseSchema(e.MetaData.SchemaString)
				require.NoError(t, err)
				mode = e.MetaData.Configuration["delta.columnMapping.mode"]
			}
			var pv map[string]*string
			switch {
			case e.Add != nil:
				pv = e.Add.PartitionValues
			case e.Remove != nil:
				pv = e.Remove.PartitionValues
			case e.Cdc != nil:
				pv = e.Cdc.PartitionValues
			default:
				continue
			}
			require.NotNil(t, schema, "%s: file action before metaData", c)
			nm := NewNameMapping(schema, mode)
			for key, val := range pv {
				logical, ok := nm.ToLogical(key)
				require.True(t, ok, "%s: partition column %q not in the schema", c, key)
				field := schema.Field(logical[0])
				s, present := "", val != nil
				if val != nil {
					s = *val
				}
				v, err := ParsePartitionValue(field.Type, s, present)
				require.NoError(t, err, "%s: column %s", c, field.Name)
				arr, err := PartitionArray(memory.DefaultAllocator, field.Type, val, 2)
				require.NoError(t, err)
				assert.Equal(t, v == nil, arr.IsNull(1))
				arr.Release()
				out = append(out, parsedPartition{field.Name, v})
			}
		}
		require.NoError(t, sc.Err())
		f.Close()
	}
	return out
}

func values(ps []parsedPartition, col string) []any {
	var out []any
	for _, p := range ps {
		if p.column == col {
			out = append(out, p.value)
		}
	}
	return out
}

func TestPartitionValuesOfRealTables(t *testing.T) {
	tables := []struct {
		path  []string
		check func(t *testing.T, ps []parsedPartition)
	}{
		{[]string{"delta-rs", "partition-type-primitives"}, func(t *testing.T, ps []parsedPartition) {
			assert.Contains(t, values(ps, "year"), "2021.0")
			assert.Contains(t, values(ps, "is_active"), "true") // a string column
			assert.Contains(t, values(ps, "event_date"), "2023-01-02")
		}},
		{[]string{"delta-rs", "delta-2.2.0-partitioned-types"}, func(t *testing.T, ps []parsedPartition) {
			assert.ElementsMatch(t, []any{int32(4), int32(5), int32(6)}, values(ps, "c1"))
			assert.ElementsMatch(t, []any{"a", "b", "c"}, values(ps, "c2"))
		}},
		{[]string{"delta-rs", "delta-0.8.0-null-partition"}, func(t *testing.T, ps []parsedPartition) {
			assert.ElementsMatch(t, []any{"A", nil}, values(ps, "k"))
		}},
		{[]string{"delta-rs", "delta-0.8.0-special-partition"}, func(t *testing.T, ps []parsedPartition) {
			assert.ElementsMatch(t, []any{"A/A", "B B"}, values(ps, "x"))
		}},
		{[]string{"dat", "basic_partitioned", "delta"}, func(t *testing.T, ps []parsedPartition) {
			assert.Contains(t, values(ps, "letter"), nil)
			assert.Contains(t, values(ps, "letter"), "e")
		}},
		{[]string{"dat", "multi_partitioned", "delta"}, func(t *testing.T, ps []parsedPartition) {
			assert.Contains(t, values(ps, "date"), arrow.Date32(1))
			assert.Contains(t, values(ps, "date"), nil)
			assert.Contains(t, values(ps, "data"), []byte("hello"))
			assert.Contains(t, values(ps, "data"), []byte("\U0001F608"))
			assert.Contains(t, values(ps, "letter"), "/%20%f")
		}},
		{[]string{"dat", "multi_partitioned_2", "delta"}, func(t *testing.T, ps []parsedPartition) {
			assert.ElementsMatch(t, []any{false, true, true}, values(ps, "bool"))
			assert.Contains(t, values(ps, "time"), arrow.Timestamp((24*3600+8*3600+45*60)*1_000_000))
			assert.Contains(t, values(ps, "amount"), dec(t, "12000000000000000000"))
			assert.Contains(t, values(ps, "amount"), dec(t, "200000000000000000000"))
		}},
		{[]string{"r-fixtures", "column-mapping"}, func(t *testing.T, ps []parsedPartition) {
			assert.Contains(t, values(ps, "region"), "apac")
		}},
		{[]string{"r-fixtures", "timestamp-ntz"}, nil},
		{[]string{"r-fixtures", "column-mapping-id"}, nil},
		{[]string{"delta-rs", "table_with_column_mapping"}, nil},
		{[]string{"delta-rs", "delta-0.8.0-partitioned"}, nil},
		{[]string{"delta-rs", "cdf-table"}, nil},
		{[]string{"delta-rs", "http_requests"}, nil},
		{[]string{"kernel-cdf", "cdf-table-partitioned"}, nil},
	}
	for _, tc := range tables {
		t.Run(strings.Join(tc.path, "/"), func(t *testing.T) {
			dir := sharedtest.Path(t, append([]string{"delta"}, tc.path...)...)
			ps := parseTablePartitions(t, dir)
			require.NotEmpty(t, ps)
			if tc.check != nil {
				tc.check(t, ps)
			}
		})
	}
}

func FuzzParsePartitionValue(f *testing.F) {
	for _, s := range []string{"", "1", "-128", "2021-01-01", "2021-01-01 00:00:00.123456", "2021-01-01T00:00:00Z",
		"2021-01-01T00:00:00+05:30", "12.345", "1E+3", "NaN", "-Infinity", "true", "+290000-01-01", "9999999999999999999999999"} {
		f.Add(s)
	}
	types := []string{"string", "binary", "boolean", "byte", "short", "integer", "long", "float", "double", "date",
		"timestamp", "timestamp_ntz", "decimal(10,2)", "decimal(38,18)", "decimal(1,0)", "void"}
	f.Fuzz(func(t *testing.T, s string) {
		for _, typ := range types {
			dt, _ := delta.ParsePrimitive(typ)
			v, err := ParsePartitionValue(dt, s, true)
			if err != nil {
				continue
			}
			if v == nil && s != "" && typ != "void" {
				t.Fatalf("%s %q: nil value without error", typ, s)
			}
		}
	})
}
