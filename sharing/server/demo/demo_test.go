package demo

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"math/big"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/sharing/delta"
)

// repoRoot locates the module root from this file's path.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// treeFiles maps each regular file under dir (slash path) to its bytes.
func treeFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = b
		return err
	}))
	return out
}

func TestGeneratedTablesUpToDate(t *testing.T) {
	committed := filepath.Join(repoRoot(t), "testdata", "demo")
	_, err := os.Stat(committed)
	require.NoError(t, err, "testdata/demo is missing; run: go run ./sharing/server/demo/gen -o testdata/demo")
	fresh := t.TempDir()
	require.NoError(t, Generate(fresh))
	want, got := treeFiles(t, fresh), treeFiles(t, committed)
	for name, b := range want {
		g, ok := got[name]
		if !assert.True(t, ok, "%s missing from testdata/demo", name) {
			continue
		}
		assert.True(t, bytes.Equal(b, g), "%s differs from the generator's output", name)
	}
	for name := range got {
		_, ok := want[name]
		assert.True(t, ok, "%s in testdata/demo is not generated any more", name)
	}
	if t.Failed() {
		t.Log("testdata/demo is stale: run go run ./sharing/server/demo/gen -o testdata/demo and commit the result")
	}
}

func TestGenerateDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	require.NoError(t, Generate(a))
	require.NoError(t, Generate(b))
	fa, fb := treeFiles(t, a), treeFiles(t, b)
	require.Equal(t, len(fa), len(fb))
	for name, x := range fa {
		assert.True(t, bytes.Equal(x, fb[name]), name)
	}
	var total int
	for _, x := range fa {
		total += len(x)
	}
	assert.Less(t, total, 1<<20, "testdata/demo must stay well under 1 MB")
	t.Logf("demo tables: %d files, %d bytes", len(fa), total)
}

func TestGenerateRefusesExistingTables(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, Generate(dir))
	err := Generate(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "already holds a Delta table")
}

// snapshot replays the log to version v and returns the live add actions with their raw
// partition values (nil for JSON null).
type liveAdd struct {
	add *delta.Add
	pv  map[string]any
}

func snapshotFiles(t *testing.T, dir string, v int64) []liveAdd {
	t.Helper()
	live := map[string]liveAdd{}
	for ver := int64(0); ver <= v; ver++ {
		raw := rawLines(t, dir, ver)
		for i, a := range readLog(t, dir)[ver] {
			if a.Add != nil {
				live[a.Add.Path] = liveAdd{a.Add, raw[i]["add"]["partitionValues"].(map[string]any)}
			}
			if a.Remove != nil {
				_, ok := live[a.Remove.Path]
				require.True(t, ok, "version %d removes %s, which is not live", ver, a.Remove.Path)
				delete(live, a.Remove.Path)
			}
		}
	}
	out := make([]liveAdd, 0, len(live))
	for _, la := range live {
		out = append(out, la)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].add.Path < out[j].add.Path })
	return out
}

// fullRows reads a data file with pqarrow and puts the partition values back in place (all
// demo partition columns are strings).
func fullRows(t *testing.T, dir, logPath string, st *delta.StructType, pv map[string]any) (*arrow.Schema, []Row) {
	t.Helper()
	schema, stored := readArrow(t, localPath(t, dir, logPath))
	out := make([]Row, len(stored))
	for i, s := range stored {
		r := make(Row, 0, len(st.Fields)+1)
		k := 0
		for _, f := range st.Fields {
			if v, ok := pv[f.Name]; ok {
				r = append(r, v)
				continue
			}
			r = append(r, s[k])
			k++
		}
		r = append(r, s[k:]...) // _change_type of a cdc file
		out[i] = r
	}
	return schema, out
}

func normalizeRows(st *delta.StructType, rows []Row) []Row {
	out := make([]Row, len(rows))
	for i, r := range rows {
		n := make(Row, len(r))
		for j, f := range st.Fields {
			n[j] = normalize(f.Type, r[j])
		}
		out[i] = n
	}
	return out
}

func byID(rows []Row) {
	sort.SliceStable(rows, func(i, j int) bool { return rows[i][0].(int64) < rows[j][0].(int64) })
}

func demoTable(t *testing.T, name string) string {
	t.Helper()
	for _, spec := range Tables {
		if spec.Name == name {
			return filepath.Join(repoRoot(t), "testdata", "demo", filepath.FromSlash(spec.Path))
		}
	}
	t.Fatalf("no demo table %q", name)
	return ""
}

func TestOrdersTable(t *testing.T) {
	dir := demoTable(t, "orders")
	st := OrdersSchema()
	log := readLog(t, dir)
	require.Len(t, log, 3)

	// Version 0 holds commitInfo (first, with in-commit timestamps), protocol and metadata.
	assert.Equal(t, &delta.Protocol{MinReaderVersion: 3, MinWriterVersion: 7,
		ReaderFeatures: []string{"timestampNtz"}, WriterFeatures: []string{"inCommitTimestamp", "timestampNtz"}}, log[0][1].Protocol)
	md := log[0][2].MetaData
	require.NotNil(t, md)
	assert.Equal(t, []string{"region"}, md.PartitionColumns)
	assert.Equal(t, "true", md.Configuration["delta.enableInCommitTimestamps"])
	got, err := md.Schema()
	require.NoError(t, err)
	assert.Equal(t, st, got)
	for v, acts := range log {
		ci := acts[0].CommitInfo
		require.NotNil(t, ci, "commitInfo is the first action of version %d", v)
		want := OrdersBaseTime.Add(time.Duration(v) * time.Hour).UnixMilli()
		assert.Equal(t, want, *ci.Timestamp)
		assert.Equal(t, want, *ci.InCommitTimestamp)
	}

	wantRows := map[int64]int{0: 2400, 1: 3000, 2: 2900}
	for v := int64(0); v <= 2; v++ {
		var rows []Row
		regions := map[string]bool{}
		for _, la := range snapshotFiles(t, dir, v) {
			// Directory name matches the (escaped) partition value; null is the Hive default.
			var rv *string
			if s, ok := la.pv["region"].(string); ok {
				rv = &s
			}
			dirName := delta.PartitionDir("region", rv)
			assert.Equal(t, dirName, filepath.Base(filepath.Dir(localPath(t, dir, la.add.Path))))
			regions[dirName] = true

			schema, fileRows := fullRows(t, dir, la.add.Path, st, la.pv)
			assert.Equal(t, "timestamp[us, tz=UTC]", schema.Field(7).Type.String(), "created_at")
			assert.Equal(t, "timestamp[us]", schema.Field(8).Type.String(), "updated_at is timestamp_ntz")
			assert.Equal(t, "decimal(12, 2)", schema.Field(2).Type.String())
			assert.Equal(t, "date32", schema.Field(6).Type.String())
			checkStats(t, st, []string{"region"}, la.add.Stats, fileRows)
			for _, r := range fileRows {
				assert.Equal(t, la.pv["region"], r[OrderRegion])
			}
			rows = append(rows, fileRows...)
		}
		assert.Len(t, regions, 4, "all four partitions, the null one included")
		byID(rows)
		want, err := ExpectedOrders(v)
		require.NoError(t, err)
		require.Len(t, want, wantRows[v])
		assert.Equal(t, normalizeRows(st, want), rows, "version %d", v)
	}
	_, err = ExpectedOrders(3)
	assert.Error(t, err)

	// The expected rows really have the variety the README promises.
	all, _ := ExpectedOrders(1)
	var nullCustomers, nullDiscounts, micros, unicode, quotes int
	for _, r := range all {
		if r[OrderCustomer] == nil {
			nullCustomers++
		} else if s := r[OrderCustomer].(string); strings.ContainsAny(s, `"'`) {
			quotes++
		} else if strings.ContainsFunc(s, func(r rune) bool { return r > 127 }) {
			unicode++
		}
		if r[OrderDiscount] == nil {
			nullDiscounts++
		}
		if r[OrderCreatedAt].(time.Time).Nanosecond()%1000000 != 0 {
			micros++
		}
	}
	for name, n := range map[string]int{"null customers": nullCustomers, "null discounts": nullDiscounts,
		"microsecond timestamps": micros, "unicode names": unicode, "quoted names": quotes} {
		assert.Positive(t, n, name)
	}
}

// checkStats compares a file's stats string with statistics computed here from the rows read
// back with Arrow.
func checkStats(t *testing.T, st *delta.StructType, partCols []string, stats string, rows []Row) {
	t.Helper()
	var got struct {
		NumRecords int64                      `json:"numRecords"`
		MinValues  map[string]json.RawMessage `json:"minValues"`
		MaxValues  map[string]json.RawMessage `json:"maxValues"`
		NullCount  map[string]int64           `json:"nullCount"`
	}
	require.NoError(t, json.Unmarshal([]byte(stats), &got))
	assert.Equal(t, int64(len(rows)), got.NumRecords)
	for i, f := range st.Fields {
		if contains(partCols, f.Name) {
			assert.NotContains(t, got.NullCount, f.Name, "no stats for partition columns")
			continue
		}
		var nulls int64
		var vals []any
		for _, r := range rows {
			switch {
			case r[i] == nil:
				nulls++
			case strings.HasPrefix(f.Type.String(), "decimal"):
				u, _ := new(big.Int).SetString(r[i].(string), 10)
				vals = append(vals, u)
			default:
				vals = append(vals, r[i])
			}
		}
		assert.Equal(t, nulls, got.NullCount[f.Name], "nullCount of %s", f.Name)
		if len(vals) == 0 || f.Type.String() == "boolean" {
			assert.NotContains(t, got.MinValues, f.Name)
			continue
		}
		lo, hi := vals[0], vals[0]
		for _, v := range vals[1:] {
			if less(v, lo) {
				lo = v
			}
			if less(hi, v) {
				hi = v
			}
		}
		assert.JSONEq(t, statJSON(f.Type, lo), string(got.MinValues[f.Name]), "min of %s", f.Name)
		assert.JSONEq(t, statJSON(f.Type, hi), string(got.MaxValues[f.Name]), "max of %s", f.Name)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// less orders values as read back by readArrow.
func less(a, b any) bool {
	switch x := a.(type) {
	case int64:
		return x < b.(int64)
	case int32:
		return x < b.(int32)
	case float64:
		return x < b.(float64)
	case string:
		return x < b.(string)
	case time.Time:
		return x.Before(b.(time.Time))
	case *big.Int:
		return x.Cmp(b.(*big.Int)) < 0
	}
	panic("unexpected type")
}

func statJSON(dt delta.DataType, v any) string {
	switch t := dt.(type) {
	case *delta.DecimalType:
		return formatDecimal(v.(*big.Int), t.Scale)
	case *delta.PrimitiveType:
		switch t.Name {
		case delta.TypeDate:
			return `"` + v.(time.Time).Format(time.DateOnly) + `"`
		case delta.TypeTimestamp:
			return `"` + v.(time.Time).Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z") + `"`
		case delta.TypeTimestampNTZ:
			return `"` + v.(time.Time).Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000") + `"`
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func TestCustomersChangeDataFeed(t *testing.T) {
	dir := demoTable(t, "customers")
	st := CustomersSchema()
	log := readLog(t, dir)
	require.Len(t, log, 5)
	assert.Equal(t, &delta.Protocol{MinReaderVersion: 1, MinWriterVersion: 7,
		WriterFeatures: []string{"changeDataFeed", "inCommitTimestamp"}}, log[0][1].Protocol)
	require.True(t, log[0][2].MetaData.ChangeDataFeedEnabled())

	// Snapshots at every version.
	for v := int64(0); v < 5; v++ {
		var rows []Row
		for _, la := range snapshotFiles(t, dir, v) {
			_, fileRows := fullRows(t, dir, la.add.Path, st, la.pv)
			checkStats(t, st, []string{"country"}, la.add.Stats, fileRows)
			rows = append(rows, fileRows...)
		}
		byID(rows)
		want, err := ExpectedCustomers(v)
		require.NoError(t, err)
		assert.Equal(t, normalizeRows(st, want), rows, "version %d", v)
	}

	// The change data feed, read as a CDF reader must: cdc files when a version has them,
	// else added rows as inserts and removed rows as deletes.
	type change struct {
		Version int64
		Time    int64
		Type    string
		Row     Row
	}
	var got []change
	cdcVersions := map[int64]bool{}
	for v, acts := range log {
		ts := *acts[0].CommitInfo.InCommitTimestamp
		raw := rawLines(t, dir, int64(v))
		hasCDC := false
		for _, a := range acts {
			hasCDC = hasCDC || a.CDC != nil
		}
		for i, a := range acts {
			switch {
			case hasCDC && a.CDC != nil:
				cdcVersions[int64(v)] = true
				assert.False(t, a.CDC.DataChange)
				assert.True(t, strings.HasPrefix(a.CDC.Path, "_change_data/country="+a.CDC.PartitionValues["country"]+"/cdc-"), a.CDC.Path)
				pv := raw[i]["cdc"]["partitionValues"].(map[string]any)
				schema, rows := fullRows(t, dir, a.CDC.Path, st, pv)
				require.Equal(t, "_change_type", schema.Field(schema.NumFields()-1).Name)
				assert.Equal(t, len(st.Fields), schema.NumFields(), "data columns minus the partition column, plus _change_type")
				for _, r := range rows {
					got = append(got, change{int64(v), ts, r[len(r)-1].(string), r[:len(r)-1]})
				}
			case !hasCDC && a.Add != nil:
				pv := raw[i]["add"]["partitionValues"].(map[string]any)
				_, rows := fullRows(t, dir, a.Add.Path, st, pv)
				for _, r := range rows {
					got = append(got, change{int64(v), ts, "insert", r})
				}
			case !hasCDC && a.Remove != nil:
				t.Fatalf("version %d removes without change data", v)
			}
		}
	}
	assert.Equal(t, map[int64]bool{1: true, 2: true, 4: true}, cdcVersions)
	order := map[string]int{"delete": 0, "update_preimage": 1, "update_postimage": 2, "insert": 3}
	sort.SliceStable(got, func(i, j int) bool {
		a, b := got[i], got[j]
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		if a.Row[0].(int64) != b.Row[0].(int64) {
			return a.Row[0].(int64) < b.Row[0].(int64)
		}
		return order[a.Type] < order[b.Type]
	})
	var want []change
	for _, c := range ExpectedCustomerChanges() {
		want = append(want, change{c.Version, c.Timestamp.UnixMilli(), string(c.Type), normalizeRows(st, []Row{c.Row})[0]})
	}
	assert.Equal(t, want, got)

	// The feed has every kind of change, and the expected rows are easy to reason about.
	kinds := map[string]int{}
	for _, c := range want {
		kinds[c.Type]++
	}
	assert.Equal(t, map[string]int{"insert": 15, "update_preimage": 3, "update_postimage": 3, "delete": 1}, kinds)
}

func TestTablesSpecs(t *testing.T) {
	dir := filepath.Join(repoRoot(t), "testdata", "demo")
	for _, spec := range Tables {
		log := readLog(t, filepath.Join(dir, filepath.FromSlash(spec.Path)))
		assert.Equal(t, spec.LatestVersion, int64(len(log)-1), spec.Name)
		assert.Equal(t, spec.ChangeDataFeed, log[0][2].MetaData.ChangeDataFeedEnabled(), spec.Name)
		assert.Equal(t, spec.Name, log[0][2].MetaData.Name)
		assert.Equal(t, path.Clean(spec.Path), spec.Path)
	}
}
