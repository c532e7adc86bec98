package export_test

// SharedTable under faults: exports through a fault-injecting proxy in front of our server
// (transient faults survived with byte-identical output, permanent ones ending with an error
// that names what failed, and nothing written). See docs/reliability.md. The exit codes these
// errors give, and Ctrl-C on the real process, are tested in cmd/deltashare.

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/export"
	"github.com/deltashare/deltashare/formats"
	"github.com/deltashare/deltashare/internal/exporttest"
	"github.com/deltashare/deltashare/internal/faultproxy"
	"github.com/deltashare/deltashare/internal/sharingtest"
	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/deltashare/deltashare/sharing/reader"
)

// faultDemoServer serves the demo tables behind a fault proxy: the client's endpoint and the
// signed file URLs both point at the proxy.
func faultDemoServer(t *testing.T) *testServer {
	t.Helper()
	return startServer(t, demoTables(t, nil), serverOptions{proxy: true})
}

func faultRule(name, method, path string, set func(*faultproxy.Rule)) *faultproxy.Rule {
	r := faultproxy.NewRule(name, method, path)
	set(r)
	return r
}

// TestExportSurvivesTransientFaults: with transient faults on the way, Export and
// ExportChanges succeed and write exactly what a clean run writes.
func TestExportSurvivesTransientFaults(t *testing.T) {
	t.Parallel()
	srv := faultDemoServer(t)
	orders := shared(t, srv.Client, "demo.sales.orders", reader.ReadOptions{})
	customers := shared(t, srv.Client, "demo.sales.customers", reader.ReadOptions{})
	exports := []struct {
		file string
		run  func(out string)
	}{
		{"orders.csv", func(out string) { exportTo(t, orders, out) }},
		{"changes.ndjson", func(out string) { changesTo(t, customers, changesFrom(0, -1), out) }},
	}
	cleanDir := t.TempDir()
	for _, e := range exports {
		e.run(filepath.Join(cleanDir, e.file))
	}
	for _, tc := range []struct {
		name  string
		rules []*faultproxy.Rule
	}{
		{"429 Retry-After and a 5xx burst", []*faultproxy.Rule{
			faultRule("429", "", `/(query|changes)$`, func(r *faultproxy.Rule) { r.Status, r.RetryAfter, r.Times = 429, "1", 1 }),
			faultRule("502", "GET", `^/files/`, func(r *faultproxy.Rule) { r.Status, r.Times = 502, 1 }),
			faultRule("503", "GET", `^/files/`, func(r *faultproxy.Rule) { r.Status, r.Times = 503, 1 })}},
		{"resets mid-NDJSON and mid-Parquet", []*faultproxy.Rule{
			faultRule("rst-ndjson", "", `/(query|changes)$`, func(r *faultproxy.Rule) { r.ResetAfterBytes, r.Times = 600, 1 }),
			faultRule("rst-parquet", "GET", `^/files/`, func(r *faultproxy.Rule) { r.ResetAfterBytes, r.Times = 2000, 2 })}},
		{"truncated Parquet and cut NDJSON", []*faultproxy.Rule{
			faultRule("cut-ndjson", "", `/(query|changes)$`, func(r *faultproxy.Rule) { r.TruncateAfterBytes, r.Times = 1234, 1 }),
			faultRule("cut-parquet", "GET", `^/files/`, func(r *faultproxy.Rule) { r.TruncateAfterBytes, r.Times = 300, 2 })}},
		{"file URLs expire during the export", []*faultproxy.Rule{
			faultRule("403", "GET", `^/files/`, func(r *faultproxy.Rule) { r.Status, r.Skip, r.Times = 403, 4, 1 })}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, e := range exports {
				srv.Proxy.Clear()
				srv.Proxy.Add(tc.rules...)
				e.run(filepath.Join(dir, e.file))
				want, err := os.ReadFile(filepath.Join(cleanDir, e.file))
				require.NoError(t, err)
				got, err := os.ReadFile(filepath.Join(dir, e.file))
				require.NoError(t, err)
				assert.Equal(t, string(want), string(got), "byte-identical to a clean run")
			}
			for _, r := range tc.rules {
				assert.Positive(t, r.Hits(), "fault %s applied", r.Name)
			}
			assert.ElementsMatch(t, []string{"orders.csv", "changes.ndjson"}, exporttest.Files(t, dir), "no temporary files left")
		})
	}
}

// TestExportPermanentFaults: a fault that does not go away ends the export with an error
// naming the failed file (a revoked credential: protocol.ErrUnauthorized, which the CLI turns
// into exit 4), no secret in the message, and nothing under a final name, not even a directory.
func TestExportPermanentFaults(t *testing.T) {
	t.Parallel()
	srv := faultDemoServer(t)
	for _, tc := range []struct {
		name   string
		rules  []*faultproxy.Rule
		auth   bool
		msg    []string
		output string
	}{
		{"file removed (404)", []*faultproxy.Rule{
			faultRule("404", "GET", `^/files/`, func(r *faultproxy.Rule) { r.Status, r.Skip = 404, 3 })},
			false, []string{"data file", "404", "read the table again"}, "orders.csv"},
		{"corrupt Parquet", []*faultproxy.Rule{
			faultRule("flip", "GET", `^/files/`, func(r *faultproxy.Rule) {
				r.Skip = 5
				r.Rewrite = func(b []byte) []byte { b[len(b)-2] ^= 0xFF; return b }
			})},
			false, []string{"data file", "not a readable parquet file"}, "lake/"},
		{"malformed NDJSON", []*faultproxy.Rule{
			faultRule("bad", "POST", `/query$`, func(r *faultproxy.Rule) {
				r.Rewrite = func(b []byte) []byte { return []byte(strings.Replace(string(b), `{"file":`, `{"file":{]`, 1)) }
			})},
			false, []string{"malformed", "line"}, "orders.parquet"},
		{"token revoked mid-export", []*faultproxy.Rule{
			faultRule("revoked", "POST", `/query$`, func(r *faultproxy.Rule) { r.Status, r.Skip = 401, 1 }),
			faultRule("expired", "GET", `^/files/`, func(r *faultproxy.Rule) { r.Status, r.Skip = 403, 6 })},
			true, []string{"data file", "401", "credential"}, "orders.ndjson"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.Proxy.Clear()
			srv.Proxy.Add(tc.rules...)
			dir := t.TempDir()
			out := filepath.Join(dir, tc.output)
			opts := export.Options{Output: out, Format: formats.Options{Format: formatOf(out)}}
			if strings.HasSuffix(tc.output, "/") {
				opts.Output += "/"
				opts.Format.Format, opts.MaxRowsPerFile = formats.Parquet, 100
			}
			_, err := shared(t, srv.Client, "demo.sales.orders", reader.ReadOptions{Parallel: 2}).Export(context.Background(), nil, opts)
			require.Error(t, err)
			assert.Equal(t, tc.auth, errors.Is(err, protocol.ErrUnauthorized), "%v", err)
			assert.False(t, errors.Is(err, protocol.ErrInvalidRead) || errors.Is(err, protocol.ErrInvalidProfile), "not a usage error: %v", err)
			for _, m := range tc.msg {
				assert.Contains(t, strings.ToLower(err.Error()), m)
			}
			assert.NotContains(t, err.Error(), sharingtest.Token)
			assert.NotContains(t, err.Error(), "sig=")
			assert.Empty(t, exporttest.DirEntries(t, dir), "nothing left behind, not even a directory")
		})
	}
}
