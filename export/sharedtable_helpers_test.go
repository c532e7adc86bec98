package export_test

// Helpers of the tests of SharedTable (package export_test): our own Delta Sharing server
// (sharing/server) on loopback over the demo tables or other Delta tables, and a client of it.
// Tables that grow between runs, the demo customers' expected rows and change keys, and reading
// back what a run wrote are internal/exporttest's, shared with the tests of cmd/deltashare.

import (
	"bytes"
	"context"
	"path/filepath"
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

// Demo table expectations.

func expectedOrders(t testing.TB, v int64) []demo.Row {
	rows, err := demo.ExpectedOrders(v)
	require.NoError(t, err)
	return rows
}
