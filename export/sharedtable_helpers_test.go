package export_test

// Helpers of the tests of SharedTable (package export_test): our own Delta Sharing server
// (sharing/server) on loopback over the demo tables or other Delta tables, a client of it, and
// tables whose later commits can be hidden and brought back.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/export"
	"github.com/deltashare/deltashare/formats"
	"github.com/deltashare/deltashare/internal/faultproxy"
	"github.com/deltashare/deltashare/internal/sharingtest"
	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/deltashare/deltashare/sharing/reader"
	"github.com/deltashare/deltashare/sharing/server"
	"github.com/deltashare/deltashare/sharing/server/demo"
)

// serverOptions vary a test server.
type serverOptions struct {
	config  func(*server.Config)
	options []server.Option
	proxy   bool // a fault proxy in front: the profile's endpoint and file URLs point at it
	client  []sharing.Option
}

// testServer is a running server and a client of it.
type testServer struct {
	Client *sharing.Client
	Proxy  *faultproxy.Proxy
}

// startServer serves tables ("share.schema.table" -> table root) on loopback with
// internal/sharingtest until the test ends, and returns a client of it.
func startServer(t testing.TB, tables map[string]string, o serverOptions) *testServer {
	t.Helper()
	env := sharingtest.Start(t, sharingtest.Options{Tables: tables, Faults: o.proxy, Config: o.config, ServerOptions: o.options})
	return &testServer{Client: env.Client(t, o.client...), Proxy: env.Proxy}
}

// demoServer serves the demo tables as demo.sales.orders and demo.sales.customers, and extra
// tables as demo.test.<name>.
func demoServer(t testing.TB, extra map[string]string) *testServer {
	t.Helper()
	return startServer(t, demoTables(t, extra), serverOptions{})
}

// demoTables are the committed demo tables (sharingtest.Demo) and extra tables as
// demo.test.<name>.
func demoTables(t testing.TB, extra map[string]string) map[string]string {
	tables := sharingtest.Demo(t)
	for n, d := range extra {
		tables["demo.test."+n] = d
	}
	return tables
}

// demoTableDir is the committed demo table name (orders, customers).
func demoTableDir(t testing.TB, name string) string {
	return sharingtest.Demo(t)["demo.sales."+name]
}

// table parses share.schema.table.
func table(t testing.TB, name string) protocol.Table {
	tb, err := protocol.ParseTable(name)
	require.NoError(t, err)
	return tb
}

// shared is table name of the server of cl, read with read.
func shared(t testing.TB, cl *sharing.Client, name string, read reader.ReadOptions) *export.SharedTable {
	return export.NewSharedTable(cl, table(t, name), read)
}

// formatOf is the format of an output file name, by its extension (as the CLI infers it).
func formatOf(name string) formats.Format {
	switch filepath.Ext(strings.TrimSuffix(name, "/")) {
	case ".parquet":
		return formats.Parquet
	case ".ndjson":
		return formats.NDJSON
	case ".json":
		return formats.JSON
	}
	return formats.CSV
}

// exportTo exports the table to out (a file, or a directory ending in /) in the format of its
// extension and requires success.
func exportTo(t testing.TB, st *export.SharedTable, out string) *export.Summary {
	t.Helper()
	sum, err := st.Export(context.Background(), nil, export.Options{Output: out, Format: formats.Options{Format: formatOf(out)}})
	require.NoError(t, err, "export to %s", out)
	return sum
}

// exportBytes exports the table as one stream in format f, as `-o -` does.
func exportBytes(t testing.TB, st *export.SharedTable, f formats.Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	_, err := st.Export(context.Background(), export.NewStreamSink(&buf), export.Options{Output: "-", Format: formats.Options{Format: f}})
	require.NoError(t, err)
	return buf.Bytes()
}

// changesFrom is a change data request from version from (to the latest when to < 0).
func changesFrom(from, to int64) protocol.ChangesRequest {
	req := protocol.ChangesRequest{StartingVersion: &from}
	if to >= 0 {
		req.EndingVersion = &to
	}
	return req
}

// changesTo exports the table's change data of req to out in the format of its extension.
func changesTo(t testing.TB, st *export.SharedTable, req protocol.ChangesRequest, out string) *export.Summary {
	t.Helper()
	sum, err := st.ExportChanges(context.Background(), req, nil, export.Options{Output: out, Format: formats.Options{Format: formatOf(out)}})
	require.NoError(t, err, "changes to %s", out)
	return sum
}

// changesBytes exports the table's change data of req as one stream in format f.
func changesBytes(t testing.TB, st *export.SharedTable, req protocol.ChangesRequest, f formats.Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	_, err := st.ExportChanges(context.Background(), req, export.NewStreamSink(&buf), export.Options{Output: "-", Format: formats.Options{Format: f}})
	require.NoError(t, err)
	return buf.Bytes()
}

// listDir returns every file under dir, relative, sorted.
func listDir(t testing.TB, dir string) []string {
	t.Helper()
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

// dirEntries lists the names in dir, hidden ones and directories included.
func dirEntries(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// copyTree copies a directory, keeping file modification times (commit timestamps of tables
// without in-commit timestamps come from them).
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	require.NoError(t, filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(target, b, 0o644); err != nil {
			return err
		}
		return os.Chtimes(target, info.ModTime(), info.ModTime())
	}))
}

// versionedTable is a copy of a Delta table whose later commits can be hidden and brought back,
// so that a server sees the table grow between sync runs.
type versionedTable struct {
	t      testing.TB
	dir    string
	hidden string
}

func newVersionedTable(t testing.TB, src string, upTo int64) *versionedTable {
	vt := &versionedTable{t: t, dir: filepath.Join(t.TempDir(), "table"), hidden: t.TempDir()}
	copyTree(t, src, vt.dir)
	ents, err := os.ReadDir(filepath.Join(vt.dir, "_delta_log"))
	require.NoError(t, err)
	for _, e := range ents {
		var v int64
		if _, err := fmt.Sscanf(e.Name(), "%020d.json", &v); err == nil && v > upTo {
			require.NoError(t, os.Rename(filepath.Join(vt.dir, "_delta_log", e.Name()), filepath.Join(vt.hidden, e.Name())))
		}
	}
	return vt
}

// publish brings back the commits up to version upTo.
func (vt *versionedTable) publish(upTo int64) {
	ents, err := os.ReadDir(vt.hidden)
	require.NoError(vt.t, err)
	for _, e := range ents {
		var v int64
		if _, err := fmt.Sscanf(e.Name(), "%020d.json", &v); err == nil && v <= upTo {
			require.NoError(vt.t, os.Rename(filepath.Join(vt.hidden, e.Name()), filepath.Join(vt.dir, "_delta_log", e.Name())))
		}
	}
}

// ndjsonObjects decodes NDJSON files (paths) as objects.
func ndjsonObjects(t testing.TB, paths ...string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var m map[string]any
			require.NoError(t, json.Unmarshal(sc.Bytes(), &m), p)
			out = append(out, m)
		}
		require.NoError(t, sc.Err())
	}
	return out
}

// runFiles returns the files the state records for the runs of a kind, as paths under dest.
func runFiles(st *export.State, dest string, kind export.RunKind) []string {
	var out []string
	for _, r := range st.Runs {
		if r.Kind == kind {
			for _, f := range r.Files {
				out = append(out, filepath.Join(dest, filepath.FromSlash(f)))
			}
		}
	}
	return out
}

// readState reads the sync state name under dest.
func readState(t testing.TB, dest, name string) *export.State {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dest, name))
	require.NoError(t, err)
	var st export.State
	require.NoError(t, json.Unmarshal(b, &st))
	return &st
}

// Demo table expectations.

func expectedOrders(t testing.TB, v int64) []demo.Row {
	rows, err := demo.ExpectedOrders(v)
	require.NoError(t, err)
	return rows
}

func expectedCustomerIDs(t testing.TB, v int64) []int64 {
	rows, err := demo.ExpectedCustomers(v)
	require.NoError(t, err)
	var out []int64
	for _, r := range rows {
		out = append(out, r[demo.CustomerID].(int64))
	}
	return out
}

func customerIDs(rows []map[string]any) []int64 {
	var out []int64
	for _, m := range rows {
		out = append(out, int64(m["customer_id"].(float64)))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func changeKey(id int64, typ string, v int64, email, tier string) string {
	return fmt.Sprintf("%d|%s|%d|%s|%s", id, typ, v, email, tier)
}

func expectedCustomerChangeKeys(from, to int64) []string {
	var out []string
	for _, c := range demo.ExpectedCustomerChanges() {
		if c.Version >= from && c.Version <= to {
			out = append(out, changeKey(c.Row[demo.CustomerID].(int64), string(c.Type), c.Version,
				c.Row[demo.CustomerEmail].(string), c.Row[demo.CustomerTier].(string)))
		}
	}
	sort.Strings(out)
	return out
}

func changeKeysOf(rows []map[string]any) []string {
	var out []string
	for _, m := range rows {
		out = append(out, changeKey(int64(m["customer_id"].(float64)), m["_change_type"].(string),
			int64(m["_commit_version"].(float64)), m["email"].(string), m["tier"].(string)))
	}
	sort.Strings(out)
	return out
}
