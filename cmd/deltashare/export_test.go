package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/deltashare/deltashare/internal/exporttest"

	"github.com/deltashare/deltashare/sharing/server/demo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExportCommand: export's smoke run, and what the command itself does: the summary on
// stdout (text, JSON, nothing with -q), an existing output refused as a usage error that names
// the flag. What is exported is tested in package export (sharedtable_test.go).
func TestExportCommand(t *testing.T) {
	profile := demoCommandLine(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "orders.csv")

	r := run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", out, "--output", "json")
	require.Equal(t, 0, r.Code, r.Err)
	assert.Empty(t, r.Err)
	var sum struct {
		Rows, Files  int64
		Outputs      []string
		TableVersion int64 `json:"tableVersion"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Out), &sum))
	assert.Equal(t, int64(2900), sum.Rows)
	assert.Equal(t, int64(2), sum.TableVersion)
	assert.Equal(t, []string{out}, sum.Outputs)
	assert.Len(t, exporttest.CSVRecords(t, out), 2901)

	// An existing output: exit 2, the flag that allows it named.
	r = run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", out, "--limit", "3")
	assert.Equal(t, exitUsage, r.Code)
	assert.Contains(t, r.Err, "--overwrite")
	assert.Empty(t, r.Out)
	r = run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", out, "--limit", "3", "--overwrite")
	require.Equal(t, 0, r.Code, r.Err)
	assert.Regexp(t, `^exported 3 rows to 1 file \(.+\) in [0-9.]+s( \(.+ rows/s\))?, table version 2\n$`, r.Out)
	r = run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", out, "--limit", "3", "--overwrite", "-q")
	require.Equal(t, 0, r.Code, r.Err)
	assert.Empty(t, r.Out, "--quiet prints nothing")
	assert.Empty(t, r.Err)
	assert.Len(t, exporttest.CSVRecords(t, out), 4)
}

// TestExportToStdout: with -o - the data goes to stdout and the summary to stderr.
func TestExportToStdout(t *testing.T) {
	profile := demoCommandLine(t)
	r := run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", "-", "--format", "ndjson",
		"--where", "region = 'Europe' AND quantity >= 10", "--columns", "order_id,quantity,region")
	require.Equal(t, 0, r.Code, r.Err)
	var n int
	sc := bufio.NewScanner(strings.NewReader(r.Out))
	for sc.Scan() {
		var obj map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &obj))
		assert.ElementsMatch(t, []string{"order_id", "quantity", "region"}, slices.Sorted(maps.Keys(obj)))
		n++
	}
	assert.Positive(t, n)
	assert.Contains(t, r.Err, fmt.Sprintf("exported %d rows", n), "the summary goes to stderr when data goes to stdout")

	r = run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", "-", "--limit", "7", "-q")
	require.Equal(t, 0, r.Code, r.Err)
	assert.Equal(t, 8, strings.Count(r.Out, "\n"), "CSV by default: header and 7 rows")
	assert.Empty(t, r.Err)
}

// TestChangesCommand: changes' smoke run: the change rows on stdout, the summary as JSON on
// stderr. The change rows themselves are tested in package export.
func TestChangesCommand(t *testing.T) {
	profile := demoCommandLine(t)
	r := run(t, "", "changes", "-p", profile, "demo.sales.customers", "--starting-version", "0", "-o", "-", "--format", "ndjson", "--output", "json")
	require.Equal(t, 0, r.Code, r.Err)
	counts := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(r.Out))
	for sc.Scan() {
		var obj map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &obj))
		counts[obj["_change_type"].(string)]++
	}
	want := map[string]int{}
	for _, ch := range demo.ExpectedCustomerChanges() {
		want[string(ch.Type)]++
	}
	assert.Equal(t, want, counts)
	var sum struct {
		TableVersion int64 `json:"tableVersion"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Err), &sum), r.Err)
	assert.Equal(t, int64(4), sum.TableVersion)
}

func TestExportFailuresLeaveNothing(t *testing.T) {
	profile := demoCommandLine(t)
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
		assert.Empty(t, exporttest.Files(t, dir), "%v left files", tc.args)
	}

	// A wrong token: exit 4, nothing written.
	data, err := os.ReadFile(profile)
	require.NoError(t, err)
	bad := filepath.Join(t.TempDir(), "bad.share")
	require.NoError(t, os.WriteFile(bad, []byte(strings.Replace(string(data), "test-token-0123456789abcdef", "revoked-token-value", 1)), 0o600))
	r := run(t, "", "export", "-p", bad, "demo.sales.orders", "-o", out)
	assert.Equal(t, exitAuth, r.Code, r.Err)
	assert.Empty(t, exporttest.Files(t, dir))

	// Interrupted (the context is cancelled, as on Ctrl-C): exit 130, nothing under a final name.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r = runCtx(t, ctx, "", "export", "-p", profile, "demo.sales.orders", "-o", out)
	assert.Equal(t, exitInterrupted, r.Code, r.Err)
	assert.Empty(t, exporttest.Files(t, dir))
}

func TestDemo(t *testing.T) {
	dir := t.TempDir()
	r := run(t, "", "demo", "--dir", dir)
	require.Equal(t, 0, r.Code, r.Err+r.Out)
	assert.Contains(t, r.Out, "a second download of the same link is refused")
	assert.Contains(t, r.Out, "Status:   ok")
	recs := exporttest.CSVRecords(t, filepath.Join(dir, "orders.csv"))
	assert.Len(t, recs, 2901)
	assert.Equal(t, int64(2900), exporttest.ParquetRows(t, filepath.Join(dir, "orders.parquet")))
	changes, err := os.ReadFile(filepath.Join(dir, "customers-changes.ndjson"))
	require.NoError(t, err)
	assert.Equal(t, len(demo.ExpectedCustomerChanges()), strings.Count(string(changes), "\n"))
	// The last step: demo.sales.customers as a Delta table, and its versions.
	assert.Contains(t, r.Out, "committed version 0 of the Delta table")
	assert.Contains(t, r.Out, "versions of the Delta table")
	assert.Regexp(t, `version 0: WRITE at \S+, source version \d+, \d+ data files added, 0 removed`, r.Out)
	_, err = os.Stat(filepath.Join(dir, "customers-delta", "_delta_log", "00000000000000000000.json"))
	require.NoError(t, err)
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

// TestExportOutputNames: an output named like a format (-o json, the Databricks CLI's habit) or
// with an extension of no format (-o out.xlsx) is refused with exit 2 and the flags meant, and
// nothing is written; --format that contradicts the extension writes what --format says and
// warns on stderr.
func TestExportOutputNames(t *testing.T) {
	credEnv(t)
	profile := demoEnv(t).ProfileFile(t)
	dir := t.TempDir()
	t.Chdir(dir)
	for _, tc := range []struct{ out, msg string }{
		{"json", "--output json"},
		{"out.xlsx", "--format"},
	} {
		r := run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", tc.out)
		assert.Equal(t, exitUsage, r.Code, "-o %s: %s", tc.out, r.Err)
		assert.Contains(t, r.Err, tc.msg, "-o %s", tc.out)
		assert.Empty(t, exporttest.Files(t, dir), "-o %s", tc.out)
	}

	r := run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", "x.csv", "--format", "parquet")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Err, "warning: --format parquet writes Parquet to x.csv, whose extension says CSV")
	data, err := os.ReadFile(filepath.Join(dir, "x.csv"))
	require.NoError(t, err)
	assert.Equal(t, "PAR1", string(data[:4]))

	r = run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", "y.csv", "-q")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Empty(t, r.Err, "no warning when the format comes from the extension")
}
