package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/deltashare/deltashare/sharing/server/demo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func expectedOrders(t *testing.T, v int64) []demo.Row {
	rows, err := demo.ExpectedOrders(v)
	require.NoError(t, err)
	return rows
}

func readCSV(t *testing.T, path string) [][]string {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	return recs
}

func parquetRows(t *testing.T, path string) int64 {
	r, err := file.OpenParquetFile(path, false)
	require.NoError(t, err)
	defer r.Close()
	return r.NumRows()
}

// listDir returns every file under dir, relative, sorted.
func listDir(t *testing.T, dir string) []string {
	var out []string
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	}))
	sort.Strings(out)
	return out
}

func TestExportCSVFile(t *testing.T) {
	t.Setenv("DELTASHARE_CONFIG_DIR", t.TempDir())
	profile, _ := demoServer(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "orders.csv")

	r := run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", out, "--output", "json")
	require.Equal(t, 0, r.Code, r.Err)
	var sum struct {
		Rows, Files  int64
		TableVersion int64 `json:"tableVersion"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Out), &sum))
	assert.Equal(t, int64(2900), sum.Rows)
	assert.Equal(t, int64(2), sum.TableVersion)

	recs := readCSV(t, out)
	require.Len(t, recs, 2901)
	assert.Equal(t, []string{"order_id", "customer", "amount", "quantity", "discount", "is_member", "order_date", "created_at", "updated_at", "region"}, recs[0])
	want := map[string]bool{}
	for _, row := range expectedOrders(t, 2) {
		want[strconv.FormatInt(row[demo.OrderID].(int64), 10)] = true
	}
	got := map[string]bool{}
	for _, rec := range recs[1:] {
		got[rec[0]] = true
	}
	assert.Equal(t, want, got)
	assert.Equal(t, []string{"orders.csv"}, listDir(t, dir), "no temporary files left")

	// A second export does not overwrite without --overwrite, and leaves the file as it was.
	before, err := os.ReadFile(out)
	require.NoError(t, err)
	r = run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", out, "--limit", "3")
	assert.Equal(t, exitUsage, r.Code)
	assert.Contains(t, r.Err, "--overwrite")
	after, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, before, after)
	r = run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", out, "--limit", "3", "--overwrite", "-q")
	require.Equal(t, 0, r.Code, r.Err)
	assert.Len(t, readCSV(t, out), 4)
	assert.Empty(t, r.Out, "--quiet prints nothing")
}

func TestExportSlice(t *testing.T) {
	t.Setenv("DELTASHARE_CONFIG_DIR", t.TempDir())
	profile, _ := demoServer(t)

	// --where, --columns to NDJSON on stdout: exactly the matching rows, only those keys.
	r := run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", "-", "--format", "ndjson",
		"--where", "region = 'Europe' AND quantity >= 10", "--columns", "order_id,quantity,region")
	require.Equal(t, 0, r.Code, r.Err)
	want := map[int64]bool{}
	for _, row := range expectedOrders(t, 2) {
		if row[demo.OrderRegion] == "Europe" && row[demo.OrderQuantity].(int32) >= 10 {
			want[row[demo.OrderID].(int64)] = true
		}
	}
	require.NotEmpty(t, want)
	got := map[int64]bool{}
	sc := bufio.NewScanner(strings.NewReader(r.Out))
	for sc.Scan() {
		var obj map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &obj))
		assert.Len(t, obj, 3)
		assert.Equal(t, "Europe", obj["region"])
		got[int64(obj["order_id"].(float64))] = true
	}
	assert.Equal(t, want, got)
	assert.Contains(t, r.Err, "exported", "the summary goes to stderr when data goes to stdout")

	// --limit is exact.
	r = run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", "-", "--limit", "7", "-q")
	require.Equal(t, 0, r.Code, r.Err)
	assert.Equal(t, 8, strings.Count(r.Out, "\n"), "header and 7 rows")

	// --version: time travel to the first load.
	out := filepath.Join(t.TempDir(), "v0.parquet")
	r = run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", out, "--version", "0")
	require.Equal(t, 0, r.Code, r.Err)
	assert.Equal(t, int64(len(expectedOrders(t, 0))), parquetRows(t, out))
}

func TestExportPartitionedDir(t *testing.T) {
	t.Setenv("DELTASHARE_CONFIG_DIR", t.TempDir())
	profile, _ := demoServer(t)
	dir := filepath.Join(t.TempDir(), "lake") + "/"
	r := run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", dir, "--format", "parquet", "--partition-by", "region", "--compression", "zstd")
	require.Equal(t, 0, r.Code, r.Err)
	files := listDir(t, dir)
	var total int64
	perRegion := map[string]int64{}
	for _, f := range files {
		require.True(t, strings.HasSuffix(f, ".parquet"), f)
		n := parquetRows(t, filepath.Join(dir, f))
		total += n
		perRegion[strings.SplitN(f, "/", 2)[0]] += n
	}
	assert.Equal(t, int64(2900), total)
	want := map[string]int64{}
	for _, row := range expectedOrders(t, 2) {
		key := "region=__HIVE_DEFAULT_PARTITION__"
		if s, ok := row[demo.OrderRegion].(string); ok {
			key = "region=" + strings.ReplaceAll(s, "/", "%2F")
		}
		want[key]++
	}
	assert.Equal(t, want, perRegion)
}

func TestChangesCommand(t *testing.T) {
	t.Setenv("DELTASHARE_CONFIG_DIR", t.TempDir())
	profile, _ := demoServer(t)
	r := run(t, "", "changes", "-p", profile, "demo.sales.customers", "--starting-version", "0", "-o", "-", "--format", "ndjson", "--output", "json")
	require.Equal(t, 0, r.Code, r.Err)
	counts := map[string]int{}
	versions := map[float64]bool{}
	sc := bufio.NewScanner(strings.NewReader(r.Out))
	for sc.Scan() {
		var obj map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &obj))
		counts[obj["_change_type"].(string)]++
		versions[obj["_commit_version"].(float64)] = true
		assert.NotEmpty(t, obj["_commit_timestamp"])
	}
	want := map[string]int{}
	for _, ch := range demo.ExpectedCustomerChanges() {
		want[string(ch.Type)]++
	}
	assert.Equal(t, want, counts)
	assert.Len(t, versions, 5)
	var sum struct {
		TableVersion int64 `json:"tableVersion"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Err), &sum), r.Err)
	assert.Equal(t, int64(4), sum.TableVersion)

	// A range in the wrong order is a usage error.
	r = run(t, "", "changes", "-p", profile, "demo.sales.customers", "--starting-version", "3", "--ending-version", "1", "-o", "-")
	assert.Equal(t, exitUsage, r.Code)
	r = run(t, "", "changes", "-p", profile, "demo.sales.customers", "-o", "-")
	assert.Equal(t, exitUsage, r.Code)
}

func TestExportFailuresLeaveNothing(t *testing.T) {
	t.Setenv("DELTASHARE_CONFIG_DIR", t.TempDir())
	profile, _ := demoServer(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "x.csv")

	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"export", "-p", profile, "demo.sales.nosuch", "-o", out}, exitError, "404"},
		{[]string{"export", "-p", profile, "demo.sales.orders", "-o", out, "--format", "xls"}, exitUsage, "xls"},
		{[]string{"export", "-p", profile, "demo.sales.orders", "-o", out, "--where", "bogus >"}, exitUsage, "--where"},
		{[]string{"export", "-p", profile, "demo.sales.orders", "-o", out, "--columns", "nope"}, exitUsage, "nope"},
		{[]string{"export", "-p", profile, "demo.sales.orders", "-o", out, "--limit", "-5"}, exitUsage, "--limit"},
		{[]string{"export", "-p", profile, "demo.sales.orders", "-o", out, "--format", "parquet", "--null", "NULL"}, exitUsage, "null"},
		{[]string{"export", "-p", profile, "demo.sales.orders", "-o", out, "--version", "99"}, exitError, "version"},
		{[]string{"export", "-p", profile, "demo.sales.orders", "-o", out, "--version", "1", "--timestamp", "2025-01-06T10:00:00Z"}, exitUsage, "not both"},
		{[]string{"metadata", "-p", profile, "demo.sales.orders", "--version", "1", "--timestamp", "2025-01-06T10:00:00Z"}, exitUsage, "not both"},
	} {
		r := run(t, "", tc.args...)
		assert.Equal(t, tc.code, r.Code, "%v: %s", tc.args, r.Err)
		assert.Contains(t, strings.ToLower(r.Err), strings.ToLower(tc.msg), "%v", tc.args)
		assert.Empty(t, listDir(t, dir), "%v left files", tc.args)
	}

	// A wrong token: exit 4, nothing written.
	data, err := os.ReadFile(profile)
	require.NoError(t, err)
	bad := filepath.Join(t.TempDir(), "bad.share")
	require.NoError(t, os.WriteFile(bad, []byte(strings.Replace(string(data), "test-token-0123456789abcdef", "revoked-token-value", 1)), 0o600))
	r := run(t, "", "export", "-p", bad, "demo.sales.orders", "-o", out)
	assert.Equal(t, exitAuth, r.Code, r.Err)
	assert.Empty(t, listDir(t, dir))

	// Interrupted (the context is cancelled, as on Ctrl-C): exit 130, nothing under a final name.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r = runCtx(t, ctx, "", "export", "-p", profile, "demo.sales.orders", "-o", out)
	assert.Equal(t, exitInterrupted, r.Code, r.Err)
	assert.Empty(t, listDir(t, dir))
}

func TestDemo(t *testing.T) {
	dir := t.TempDir()
	r := run(t, "", "demo", "--dir", dir)
	require.Equal(t, 0, r.Code, r.Err+r.Out)
	assert.Contains(t, r.Out, "a second download of the same link is refused")
	assert.Contains(t, r.Out, "Status:   ok")
	recs := readCSV(t, filepath.Join(dir, "orders.csv"))
	assert.Len(t, recs, 2901)
	assert.Equal(t, int64(2900), parquetRows(t, filepath.Join(dir, "orders.parquet")))
	changes, err := os.ReadFile(filepath.Join(dir, "customers-changes.ndjson"))
	require.NoError(t, err)
	assert.Equal(t, len(demo.ExpectedCustomerChanges()), strings.Count(string(changes), "\n"))
	// The stored credential is private, and its token never printed.
	st, err := os.Stat(filepath.Join(dir, "config", "credentials", "demo.share"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	cred, err := os.ReadFile(filepath.Join(dir, "config", "credentials", "demo.share"))
	require.NoError(t, err)
	var p struct{ BearerToken string }
	require.NoError(t, json.Unmarshal(cred, &p))
	require.NotEmpty(t, p.BearerToken)
	assert.NotContains(t, r.Out+r.Err, p.BearerToken)
	assert.NotContains(t, r.Out+r.Err, "retrieve_config.html?")

	// Running it again works (fresh credential store, outputs replaced).
	r = run(t, "", "demo", "--dir", dir)
	require.Equal(t, 0, r.Code, r.Err+r.Out)
}
