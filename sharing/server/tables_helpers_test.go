package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deltashare/deltashare/sharing/protocol"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/internal/concurrenttest"
	"github.com/deltashare/deltashare/internal/sharedtest"
	"github.com/deltashare/deltashare/sharing"
)

const tShare, tSchema = "s", "x"

// tableEnv is a server sharing some tables as s.x.<name>, on a loopback listener, with a client.
type tableEnv struct {
	srv    *Server
	api    string
	client *sharing.Client
	clock  *concurrenttest.Clock
	logs   *concurrenttest.Buffer
	dirs   map[string]string // table name -> location
}

var badNameChars = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// tableName turns "group/dir-name" into a valid table name.
func tableName(s string) string { return badNameChars.ReplaceAllString(s, "_") }

// startTables serves the tables (name -> directory) as s.x.<name>.
func startTables(t *testing.T, tables map[string]string, mod func(*Config), opts ...Option) *tableEnv {
	t.Helper()
	var cfg Config
	env := &tableEnv{clock: concurrenttest.NewClock(time.Time{}), logs: &concurrenttest.Buffer{}, dirs: map[string]string{}}
	for name, dir := range tables {
		cfg.AddTable(TableFlag{Share: tShare, Schema: tSchema, Table: name, Location: dir})
		env.dirs[name] = dir
	}
	cfg.Tokens = []Token{{Name: "main", Value: testToken}}
	if mod != nil {
		mod(&cfg)
	}
	opts = append([]Option{WithLogger(slog.New(slog.NewTextHandler(env.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		WithClock(env.clock.Now)}, opts...)
	srv, err := New(cfg, opts...)
	require.NoError(t, err)
	cancel, done := serveLoopback(t, srv)
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("Serve did not return")
		}
	})
	env.srv, env.api = srv, srv.Endpoint()
	env.client = env.newClient(t)
	return env
}

func (e *tableEnv) newClient(t *testing.T, opts ...sharing.Option) *sharing.Client {
	t.Helper()
	p := &sharing.Profile{ShareCredentialsVersion: 1, Type: sharing.ProfileTypeBearerToken, Endpoint: e.api, BearerToken: testToken}
	c, err := sharing.NewClient(p, append([]sharing.Option{sharing.WithRetryPolicy(sharing.RetryPolicy{MaxTries: 1})}, opts...)...)
	require.NoError(t, err)
	return c
}

func parquetOnly() sharing.Option {
	return sharing.WithCapabilities(protocol.Capabilities{ResponseFormats: []protocol.ResponseFormat{protocol.FormatParquet}})
}

func tbl(name string) protocol.Table {
	return protocol.Table{Share: tShare, Schema: tSchema, Name: name}
}

// tableURL is the protocol URL of table name plus suffix.
func (e *tableEnv) tableURL(name, suffix string) string {
	return e.api + "/shares/" + tShare + "/schemas/" + tSchema + "/tables/" + name + suffix
}

// download fetches a signed URL.
func download(t *testing.T, u string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

// urlRelPath recovers the table-relative path a signed URL names.
func urlRelPath(t *testing.T, u string) string {
	t.Helper()
	pu, err := url.Parse(u)
	require.NoError(t, err)
	rest, ok := strings.CutPrefix(pu.EscapedPath(), filesPath)
	require.True(t, ok, u)
	segs := strings.Split(rest, "/")[1:]
	for i, s := range segs {
		segs[i], err = url.PathUnescape(s)
		require.NoError(t, err)
	}
	return strings.Join(segs, "/")
}

// parquetRowsOf reads the row count from a Parquet file's footer.
func parquetRowsOf(t *testing.T, b []byte) int64 {
	t.Helper()
	r, err := file.NewParquetReader(bytes.NewReader(b))
	require.NoError(t, err)
	defer r.Close()
	return r.NumRows()
}

// readParquet reads a whole Parquet file into a table.
func readParquet(t *testing.T, b []byte) arrow.Table {
	t.Helper()
	pf, err := file.NewParquetReader(bytes.NewReader(b))
	require.NoError(t, err)
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	require.NoError(t, err)
	tb, err := fr.ReadTable(context.Background())
	require.NoError(t, err)
	pf.Close()
	return tb
}

// column returns the values of a column of tb as Go values (int64, string, or nil).
func column(t *testing.T, tb arrow.Table, name string) []any {
	t.Helper()
	idx := tb.Schema().FieldIndices(name)
	require.NotEmpty(t, idx, "column %s", name)
	var out []any
	for _, ch := range tb.Column(idx[0]).Data().Chunks() {
		for i := 0; i < ch.Len(); i++ {
			if ch.IsNull(i) {
				out = append(out, nil)
				continue
			}
			switch a := ch.(type) {
			case *array.Int64:
				out = append(out, a.Value(i))
			case *array.String:
				out = append(out, a.Value(i))
			case *array.Date32:
				out = append(out, a.Value(i).ToTime())
			default:
				out = append(out, a.ValueStr(i))
			}
		}
	}
	return out
}

// repoRoot is the module root (sharing/server is two levels down).
func repoRoot(t *testing.T) string {
	_, f, _, ok := runtime.Caller(0)
	require.True(t, ok)
	return filepath.Clean(filepath.Join(filepath.Dir(f), "..", ".."))
}

func demoDir(t *testing.T, table string) string {
	d := filepath.Join(repoRoot(t), "testdata", "demo", "sales", table)
	_, err := os.Stat(d)
	require.NoError(t, err, "testdata/demo is missing; run: go run ./sharing/server/demo/gen -o testdata/demo")
	return d
}

// sharedTables returns every shared Delta table by table name ("group_name"), and for DAT
// cases the case directory (with expected/).
func sharedTables(t *testing.T) (tables map[string]string, datCases map[string]string) {
	root := sharedtest.Path(t, "delta")
	tables, datCases = map[string]string{}, map[string]string{}
	for _, group := range []string{"dat", "delta-rs", "kernel-cdf", "r-fixtures"} {
		dirs, err := filepath.Glob(filepath.Join(root, group, "*"))
		require.NoError(t, err)
		for _, d := range dirs {
			loc := d
			if group == "dat" {
				loc = filepath.Join(d, "delta")
			}
			if _, err := os.Stat(filepath.Join(loc, "_delta_log")); err != nil {
				continue
			}
			name := tableName(group + "_" + filepath.Base(d))
			tables[name] = loc
			if group == "dat" {
				datCases[name] = d
			}
		}
	}
	require.NotEmpty(t, tables)
	return tables, datCases
}

func sortedNames(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// downloads fetches many URLs with a few workers, returning the bodies and statuses in order.
func downloads(t *testing.T, urls []string) ([][]byte, []int) {
	out := make([][]byte, len(urls))
	status := make([]int, len(urls))
	var wg sync.WaitGroup
	ch := make(chan int)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ch {
				resp, err := http.Get(urls[i])
				if err != nil {
					status[i] = -1
					continue
				}
				out[i], _ = io.ReadAll(resp.Body)
				resp.Body.Close()
				status[i] = resp.StatusCode
			}
		}()
	}
	for i := range urls {
		ch <- i
	}
	close(ch)
	wg.Wait()
	for i, s := range status {
		require.NotEqual(t, -1, s, "download %d failed", i)
	}
	return out, status
}
