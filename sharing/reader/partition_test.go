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
			nm := delta.NewNameMapping(schema, mode)
			for key, val := range pv {
				logical, ok := nm.ToLogical(key)
				require.True(t, ok, "%s: partition column %q not in the schema", c, key)
				field := schema.Field(logical[0])
				s, present := "", val != nil
				if val != nil {
					s = *val
				}
				v, err := delta.ParsePartitionValue(field.Type, s, present)
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

func dec(t testing.TB, unscaled string) decimal128.Num {
	n, err := decimal128.FromString(unscaled, 38, 0)
	require.NoError(t, err)
	return n
}
