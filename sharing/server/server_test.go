package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteProfile(t *testing.T) {
	exp := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	f := startFixture(t, func(c *Config) {
		c.Tokens = append(c.Tokens, Token{Name: "dated", Value: "dated-token-value", Expires: &exp})
	})
	dir := t.TempDir()
	path := filepath.Join(dir, "profile.share")
	require.NoError(t, os.WriteFile(path, []byte("old content that is longer than the new one ..............................................................................."), 0o644))
	require.NoError(t, f.srv.WriteProfile(path, testToken))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	var p map[string]any
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &p))
	assert.Equal(t, map[string]any{"shareCredentialsVersion": 1.0, "endpoint": f.api, "bearerToken": testToken}, p)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left")

	require.NoError(t, f.srv.WriteProfile(path, "dated-token-value"))
	data, err = os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &p))
	assert.Equal(t, "2031-05-06T07:08:09Z", p["expirationTime"])

	// The written profile works against the server.
	assert.Equal(t, 200, do(t, "GET", p["endpoint"].(string)+"/shares", p["bearerToken"].(string), nil).status)

	assert.Error(t, f.srv.WriteProfile(filepath.Join(dir, "missing", "p.share"), testToken))
	assert.Error(t, f.srv.WriteProfile(path, "bad token"))
}

func TestLogsHaveNoSecrets(t *testing.T) {
	f := startFixture(t, nil)
	tab := tableOf(t, f, "s1", "a", "t1")
	u, _ := f.srv.SignURL(tab.ID, "part-00000.parquet", f.clock.Now())
	do(t, "GET", u, "", nil)
	m := do(t, "GET", f.api+"/shares?maxResults=1", testToken, nil).json(t)
	pageTok := m["nextPageToken"].(string)
	do(t, "GET", f.api+"/shares?maxResults=1&pageToken="+pageTok, testToken, nil)
	do(t, "GET", f.api+"/shares", "wrong-secret-token", nil)
	logs := f.logs.String()
	for _, s := range []string{testToken, "wrong-secret-token", "sig=", "expires=", pageTok, "maxResults", "Authorization", "Bearer"} {
		assert.NotContains(t, logs, s)
	}
	for _, s := range []string{"method=GET", "path=/delta-sharing/shares", "status=200", "status=401", "bytes=", "duration="} {
		assert.Contains(t, logs, s)
	}
}

// TestGracefulShutdownCutsSlowDownload: with a download stuck on a client that does not read,
// cancelling the context makes Serve return within the shutdown timeout.
func TestGracefulShutdownCutsSlowDownload(t *testing.T) {
	root := t.TempDir()
	cfg, _ := baseConfig(t, root)
	cfg.ShutdownTimeout = 200 * time.Millisecond
	big := filepath.Join(cfg.Shares[0].Schemas[0].Tables[0].Location, "big.parquet")
	require.NoError(t, os.WriteFile(big, bytes.Repeat([]byte("x"), 16<<20), 0o644))
	srv, err := New(cfg, WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	cancel, done := serveLoopback(t, srv)

	tab, _ := srv.LookupTable("s1", "a", "t1")
	u, _ := srv.SignURL(tab.ID, "big.parquet", time.Now())
	// A raw connection with a tiny receive buffer that reads only the first bytes.
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.BaseURL(), "http://"))
	require.NoError(t, err)
	defer conn.Close()
	_ = conn.(*net.TCPConn).SetReadBuffer(4096)
	path := strings.TrimPrefix(u, srv.BaseURL())
	_, err = fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
	require.NoError(t, err)
	head := make([]byte, 12)
	_, err = io.ReadFull(conn, head)
	require.NoError(t, err)
	require.Equal(t, "HTTP/1.1 200", string(head))

	start := time.Now()
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
		assert.Less(t, time.Since(start), 5*time.Second)
		assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond, "the download was still in flight")
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the shutdown timeout")
	}
}

func TestGracefulShutdownWaitsForQuickRequests(t *testing.T) {
	root := t.TempDir()
	cfg, _ := baseConfig(t, root)
	release := make(chan struct{})
	started := make(chan struct{})
	eps := TableEndpoints{Version: func(w http.ResponseWriter, r *http.Request, _ *Table) {
		close(started)
		<-release
		w.Header().Set("Delta-Table-Version", "7")
	}}
	srv, err := New(cfg, WithLogger(slog.New(slog.DiscardHandler)), WithTableEndpoints(eps))
	require.NoError(t, err)
	cancel, done := serveLoopback(t, srv)
	got := make(chan response, 1)
	go func() {
		got <- do(t, "GET", srv.Endpoint()+"/shares/s1/schemas/a/tables/t1/version", testToken, nil)
	}()
	<-started
	cancel()
	time.Sleep(50 * time.Millisecond)
	close(release)
	r := <-got
	assert.Equal(t, 200, r.status)
	assert.Equal(t, "7", r.header.Get("Delta-Table-Version"))
	require.NoError(t, <-done)
	_, err = net.Dial("tcp", strings.TrimPrefix(srv.BaseURL(), "http://"))
	assert.Error(t, err, "listener closed")
}

func TestHandlerWithHTTPTest(t *testing.T) {
	cfg, _ := baseConfig(t, t.TempDir())
	srv, err := New(cfg, WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	assert.Equal(t, "", srv.BaseURL(), "unknown until Listen or Serve")
	assert.Equal(t, "", srv.Endpoint())
	assert.Error(t, srv.WriteProfile(filepath.Join(t.TempDir(), "p"), testToken))
	assert.Equal(t, 200, do(t, "GET", ts.URL+"/delta-sharing/shares", testToken, nil).status)
}

func TestNewErrors(t *testing.T) {
	cfg, _ := baseConfig(t, t.TempDir())
	_, err := New(cfg, WithSigningKey([]byte("short")))
	assert.ErrorContains(t, err, "too short")

	keyFile := filepath.Join(t.TempDir(), "key")
	require.NoError(t, os.WriteFile(keyFile, []byte("tiny"), 0o600))
	c := cfg
	c.SigningKeyFile = keyFile
	_, err = New(c)
	assert.ErrorContains(t, err, "at least 32")

	// The same key file gives URLs and page tokens that survive a restart.
	require.NoError(t, os.WriteFile(keyFile, bytes.Repeat([]byte("k"), 40), 0o600))
	a, err := New(c)
	require.NoError(t, err)
	b, err := New(c)
	require.NoError(t, err)
	tab, _ := a.LookupTable("s1", "a", "t1")
	now := time.Now()
	ua, _ := a.SignURL(tab.ID, "part-00000.parquet", now)
	ub, _ := b.SignURL(tab.ID, "part-00000.parquet", now)
	assert.Equal(t, ua, ub)

	c = cfg
	c.Tokens = nil
	_, err = New(c)
	assert.ErrorContains(t, err, "no bearer token configured")
}

func TestNoAuth(t *testing.T) {
	cfg, _ := baseConfig(t, t.TempDir())
	cfg.Tokens = nil
	cfg.NoAuth = true
	srv, err := New(cfg, WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	if runtime.GOOS == "linux" {
		_, err = srv.Listen("0.0.0.0:0")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "refusing to serve without authentication")
	}
	cancel, done := serveLoopback(t, srv)
	assert.Equal(t, 200, do(t, "GET", srv.Endpoint()+"/shares", "", nil).status)
	cancel()
	require.NoError(t, <-done)
}

func TestBaseURLFromListener(t *testing.T) {
	cfg, _ := baseConfig(t, t.TempDir())
	srv, err := New(cfg)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv.setBaseFromListener(ln)
	ln.Close()
	assert.Equal(t, "http://"+ln.Addr().String(), srv.BaseURL())
	assert.Equal(t, "http://"+ln.Addr().String()+"/delta-sharing", srv.Endpoint())
}
