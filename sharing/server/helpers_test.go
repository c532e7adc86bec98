package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/internal/concurrenttest"
)

const testToken = "test-token-0123456789abcdef"

// makeTable creates a small Delta-looking table: a first commit and one data file, whose
// content is returned.
func makeTable(t *testing.T, dir string) []byte {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "_delta_log"), 0o755))
	commit := `{"protocol":{"minReaderVersion":1,"minWriterVersion":2}}` + "\n" +
		`{"metaData":{"id":"x","format":{"provider":"parquet","options":{}},"schemaString":"{\"type\":\"struct\",\"fields\":[]}","partitionColumns":[],"configuration":{}}}` + "\n" +
		`{"add":{"path":"part-00000.parquet","partitionValues":{},"size":64,"modificationTime":0,"dataChange":true}}` + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "_delta_log", "00000000000000000000.json"), []byte(commit), 0o644))
	data := make([]byte, 64)
	for i := range data {
		data[i] = byte('a' + i%26)
	}
	copy(data, "PAR1 "+filepath.Base(dir))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "part-00000.parquet"), data, 0o644))
	return data
}

// fixture is a running server over three shares on a loopback listener.
type fixture struct {
	srv   *Server
	base  string // BaseURL
	api   string // Endpoint
	logs  *concurrenttest.Buffer
	clock *concurrenttest.Clock
	root  string            // directory holding the tables
	data  map[string][]byte // table location → data file bytes
	stop  func()            // cancels Serve and waits for it
}

// baseConfig shares s1 (schemas a: t1, t2; b: t3), s2 (c: t4) and s3 (no schemas).
func baseConfig(t *testing.T, root string) (Config, map[string][]byte) {
	data := map[string][]byte{}
	var cfg Config
	for _, spec := range []string{"s1.a.t1", "s1.a.t2", "s1.b.t3", "s2.c.t4"} {
		dir := filepath.Join(root, strings.ReplaceAll(spec, ".", "_"))
		data[dir] = makeTable(t, dir)
		f, err := ParseTableFlag(spec + "=" + dir)
		require.NoError(t, err)
		cfg.AddTable(f)
	}
	cfg.Shares = append(cfg.Shares, Share{Name: "s3"})
	cfg.Tokens = []Token{{Name: "main", Value: testToken}}
	return cfg, data
}

func startFixture(t *testing.T, mod func(*Config), opts ...Option) *fixture {
	t.Helper()
	root := t.TempDir()
	cfg, data := baseConfig(t, root)
	if mod != nil {
		mod(&cfg)
	}
	f := &fixture{logs: &concurrenttest.Buffer{}, clock: concurrenttest.NewClock(time.Time{}), root: root, data: data}
	opts = append([]Option{WithLogger(slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		WithClock(f.clock.Now)}, opts...)
	srv, err := New(cfg, opts...)
	require.NoError(t, err)
	cancel, done := serveLoopback(t, srv)
	f.srv, f.base, f.api = srv, srv.BaseURL(), srv.Endpoint()
	var once sync.Once
	f.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(15 * time.Second):
				t.Error("Serve did not return after cancel")
			}
		})
	}
	t.Cleanup(f.stop)
	return f
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "body: %s", r.body)
	return m
}

// do sends a request; token "" sends no Authorization header.
func do(t *testing.T, method, url, token string, body io.Reader, hdr ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// serveLoopback serves srv on a free loopback port until cancel; done receives Serve's result.
func serveLoopback(t testing.TB, srv *Server) (cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	ln, err := srv.Listen("127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() { ch <- srv.Serve(ctx, ln) }()
	return cancel, ch
}
