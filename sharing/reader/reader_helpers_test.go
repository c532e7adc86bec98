package reader

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/deltashare/deltashare/sharing/delta"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/internal/arrowtest"
	"github.com/deltashare/deltashare/internal/faultproxy"
	"github.com/deltashare/deltashare/internal/sharingtest"
	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/protocol"
)

// cell renders one value for comparisons (arrowtest.Cell): integers in decimal whatever their
// width, timestamps as microseconds since the epoch whatever their unit and zone, dates as
// days, decimals exactly, binary in hex, nested values recursively (struct field names
// lower-cased).
func cell(a arrow.Array, i int) string { return arrowtest.Cell(a, i, timeCell) }

// timeCell renders timestamps as "ts:" microseconds since the epoch and dates as "date:" days.
func timeCell(a arrow.Array, i int) (string, bool) {
	switch v := a.(type) {
	case *array.Timestamp:
		u := v.DataType().(*arrow.TimestampType).Unit
		mul, div := unitFactor(u, arrow.Microsecond)
		x := int64(v.Value(i))
		if div > 1 {
			x = delta.FloorDiv(x, div)
		} else {
			x *= mul
		}
		return "ts:" + strconv.FormatInt(x, 10), true
	case *array.Date32:
		return "date:" + strconv.Itoa(int(v.Value(i))), true
	case *array.Date64:
		return "date:" + strconv.FormatInt(int64(v.Value(i))/86400000, 10), true
	}
	return "", false
}

// recRows renders the rows of rec, columns in the order of names (matched
// case-insensitively; a missing column is an error).
func recRows(t testing.TB, rec arrow.Record, names []string) []string {
	t.Helper()
	idx := make([]int, len(names))
	for k, n := range names {
		idx[k] = -1
		for c := range int(rec.NumCols()) {
			if strings.EqualFold(rec.ColumnName(c), n) {
				idx[k] = c
			}
		}
		require.GreaterOrEqual(t, idx[k], 0, "column %s missing from %v", n, rec.Schema())
	}
	out := make([]string, rec.NumRows())
	for i := range out {
		parts := make([]string, len(idx))
		for k, c := range idx {
			parts[k] = cell(rec.Column(c), i)
		}
		out[i] = strings.Join(parts, "|")
	}
	return out
}

// readAll drains a reader: the rows rendered (in order), the schema.
func readAll(t testing.TB, r *Reader) []string {
	t.Helper()
	var names []string
	for _, f := range r.Schema().Fields() {
		names = append(names, f.Name)
	}
	var rows []string
	for r.Next() {
		rec := r.Record()
		require.Same(t, r.Schema(), rec.Schema(), "records carry the reader's schema (consumers compare pointers first)")
		rows = append(rows, recRows(t, rec, names)...)
	}
	require.NoError(t, r.Err())
	return rows
}

// expectedRows reads a DAT expected table_content.parquet folder, columns in the order names.
func expectedRows(t testing.TB, dir string, names []string) []string {
	t.Helper()
	parts, err := filepath.Glob(filepath.Join(dir, "*.parquet"))
	require.NoError(t, err)
	var rows []string
	for _, p := range parts {
		f, err := os.Open(p)
		require.NoError(t, err)
		pf, err := file.NewParquetReader(f)
		require.NoError(t, err)
		fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1 << 16}, memory.DefaultAllocator)
		require.NoError(t, err)
		tbl, err := fr.ReadTable(context.Background())
		require.NoError(t, err)
		tr := array.NewTableReader(tbl, 1<<16)
		for tr.Next() {
			rows = append(rows, recRows(t, tr.Record(), names)...)
		}
		tr.Release()
		tbl.Release()
		pf.Close()
		f.Close()
	}
	return rows
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func schemaNames(s *arrow.Schema) []string {
	var out []string
	for _, f := range s.Fields() {
		out = append(out, f.Name)
	}
	return out
}

// ---------------------------------------------------------------------------------------------
// Our server (internal/sharingtest), for the tests that read tables through it.

func i64(v int64) *int64 { return &v }

// startServer starts our Delta Sharing server with o, sharing bare table names as s.d.<name>.
// Table names are made valid with sharingtest.TableName ('.' becomes '_').
func startServer(t testing.TB, o sharingtest.Options) *sharingtest.Env {
	t.Helper()
	tables := make(map[string]string, len(o.Tables))
	for name, dir := range o.Tables {
		tables[sharingtest.TableName(name)] = dir
	}
	o.Tables, o.Share, o.Schema = tables, "s", "d"
	return sharingtest.Start(t, o)
}

// demoOrders starts our server over the demo tables and returns it, a client of it and the
// orders table.
func demoOrders(t testing.TB) (*sharingtest.Env, *sharing.Client, protocol.Table) {
	t.Helper()
	env := sharingtest.Start(t, sharingtest.Options{Tables: sharingtest.Demo(t)})
	return env, env.Client(t), env.Table("demo.sales.orders")
}

// withFaults puts the fault proxy in front of the server (env.Proxy).
func withFaults(o *sharingtest.Options) { o.Faults = true }

// client returns a client of env that asks for delta-format responses and retries without
// sleeping.
func client(t testing.TB, env *sharingtest.Env, opts ...sharing.Option) *sharing.Client {
	t.Helper()
	return env.Client(t, append([]sharing.Option{sharingtest.NoRetryWait(), sharingtest.Formats(protocol.FormatDelta)}, opts...)...)
}

// proxyRule is a fault proxy rule for method and path, set up by set.
func proxyRule(name, method, path string, set func(*faultproxy.Rule)) *faultproxy.Rule {
	r := faultproxy.NewRule(name, method, path)
	set(r)
	return r
}

// lastQuery is the body of the last table query the server received.
func lastQuery(t testing.TB, env *sharingtest.Env) protocol.QueryRequest {
	t.Helper()
	qs := env.Queries()
	require.NotEmpty(t, qs)
	return qs[len(qs)-1]
}

// fileGets counts the file downloads the server received.
func fileGets(env *sharingtest.Env) int {
	n := 0
	for _, v := range env.FileGets() {
		n += v
	}
	return n
}

// escapedPath is the path of a signed file URL, the key of env.FileGets.
func escapedPath(t testing.TB, u string) string {
	t.Helper()
	pu, err := url.Parse(u)
	require.NoError(t, err)
	return pu.EscapedPath()
}

// assertNoLeak checks that s shows neither the bearer token nor the signatures of the files'
// URLs.
func assertNoLeak(t *testing.T, s string, files []protocol.File) {
	t.Helper()
	assert.NotContains(t, s, sharingtest.Token)
	assert.NotContains(t, s, "sig=")
	for _, f := range files {
		pu, err := url.Parse(f.URL)
		require.NoError(t, err)
		sig := pu.Query().Get("sig")
		require.NotEmpty(t, sig)
		assert.NotContains(t, s, sig)
	}
}
