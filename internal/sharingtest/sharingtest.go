// Package sharingtest has one job: start our real Delta Sharing server (sharing/server) on
// loopback for the tests of any package, over Delta tables given by path (Demo: the committed
// demo tables; GenerateDemo: the same written afresh by sharing/server/demo), and hand back what a test needs to talk to it: the
// endpoint, the bearer token, a profile (in memory or as a file) and ready *sharing.Client
// values. The server is shut down by t.Cleanup.
//
// Options cover what tests vary: the tables and where they are shared, the token, whether
// history is shared, the signed URL lifetime, the signing key, a settable clock shared by the
// server and the clients made here (to expire URLs without waiting), and a fault-injecting
// proxy (internal/faultproxy) in front, through which both the protocol requests and the
// signed file URLs go. Every request that reaches the server is recorded (Requests, Queries),
// so a test can check what a client asked for.
//
// No test needs to, or should, write a Delta Sharing server of its own: to make the server
// misbehave, add faultproxy rules to Env.Proxy. The server is the real one, mounted from
// [server.Server.Handler] in an http.Server of this package (the recorder wraps it).
//
// CompressedTable and DamagePage write tables whose data files are damaged.
//
// Only tests import this package.
package sharingtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deltashare/deltashare/internal/concurrenttest"
	"github.com/deltashare/deltashare/internal/faultproxy"
	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/deltashare/deltashare/sharing/server"
	"github.com/deltashare/deltashare/sharing/server/demo"
)

// Defaults of Options.
const (
	// Token is the default bearer token.
	Token = "sharingtest-token-0123456789abcdef"
	// DefaultShare and DefaultSchema are where tables given by bare name are shared.
	DefaultShare  = "share"
	DefaultSchema = "default"
)

// Options describe the server to start. The zero value serves nothing (listings are empty)
// with token Token.
type Options struct {
	// Tables maps a table to its root directory (a folder holding _delta_log). A key is either
	// a bare table name, shared as Share.Schema.<name>, or a full "share.schema.table" name
	// (the share name may hold dots; see server.ParseTableFlag). Table names may not hold '.',
	// ' ' or '/': see TableName.
	Tables map[string]string
	// Share and Schema are where bare table names are shared (default DefaultShare and
	// DefaultSchema).
	Share, Schema string
	// Token is the bearer token the server accepts (default Token).
	Token string
	// NoHistory shares no table's history (time travel, startingVersion, change data feed):
	// historyShared: false for every table.
	NoHistory bool
	// URLTTL is the lifetime of signed file URLs (default the server's, an hour).
	URLTTL time.Duration
	// SigningKey signs file URLs and tokens (at least server.MinSigningKeyLen bytes; default
	// random per server).
	SigningKey []byte
	// Clock, when set, is the server's clock, and the clock of the clients Env.Client makes.
	Clock *Clock
	// Faults puts a fault-injecting proxy (Env.Proxy) in front of the server: the profile's
	// endpoint and the signed file URLs both point at the proxy. It starts with no rules.
	Faults bool
	// Logger receives the server's request log and events (default: discarded).
	Logger *slog.Logger
	// Config, when set, has the last word on the configuration (PublicURL is already set to
	// where clients reach the server).
	Config func(*server.Config)
	// ServerOptions are passed to server.New after the ones this package sets.
	ServerOptions []server.Option
}

// Env is a running server.
type Env struct {
	// Server is the server under test.
	Server *server.Server
	// URL is scheme://host:port where clients reach it: the proxy's with Options.Faults.
	URL string
	// Endpoint is the profile endpoint (URL plus the protocol prefix).
	Endpoint string
	// Direct is the server's own base URL, bypassing the proxy (equal to URL without one).
	Direct string
	// Token is the bearer token of Profile and Client: Options.Token, or when Options.Config
	// dropped it the first static token of the configuration ("" if there is none).
	Token string
	// Proxy is the fault proxy in front of the server (nil without Options.Faults).
	Proxy *faultproxy.Proxy
	// Clock is Options.Clock (nil: the real time).
	Clock *Clock

	share, schema string
	hs            *http.Server
	done          chan error
	closeOnce     sync.Once

	mu   sync.Mutex
	reqs []Request
}

// Start starts a server with opts on 127.0.0.1 and stops it when the test ends. It fails the
// test when the configuration is invalid.
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	e := &Env{share: opts.Share, schema: opts.Schema, Clock: opts.Clock, Token: opts.Token, done: make(chan error, 1)}
	if e.share == "" {
		e.share = DefaultShare
	}
	if e.schema == "" {
		e.schema = DefaultSchema
	}
	if e.Token == "" {
		e.Token = Token
	}
	cfg := server.Config{Addr: "127.0.0.1:0", URLTTL: opts.URLTTL,
		Tokens: []server.Token{{Name: "sharingtest", Value: e.Token}}}
	keys := make([]string, 0, len(opts.Tables))
	for k := range opts.Tables {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the catalog's order does not depend on map order
	for _, k := range keys {
		tf, err := e.tableFlag(k, opts.Tables[k])
		if err != nil {
			t.Fatalf("sharingtest: %v", err)
		}
		cfg.AddTable(tf)
	}
	if opts.NoHistory {
		no := false
		for i := range cfg.Shares {
			for j := range cfg.Shares[i].Schemas {
				for k := range cfg.Shares[i].Schemas[j].Tables {
					cfg.Shares[i].Schemas[j].Tables[k].HistoryShared = &no
				}
			}
		}
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("sharingtest: listen: %v", err)
	}
	e.Direct = "http://" + ln.Addr().String()
	e.URL = e.Direct
	if opts.Faults {
		p, err := faultproxy.New(e.Direct)
		if err != nil {
			ln.Close()
			t.Fatalf("sharingtest: %v", err)
		}
		e.Proxy, e.URL = p, p.URL
	}
	cfg.PublicURL = e.URL
	if opts.Config != nil {
		opts.Config(&cfg)
	}
	if !slices.ContainsFunc(cfg.Tokens, func(tk server.Token) bool { return tk.Value == e.Token }) {
		e.Token = "" // Config replaced the token: take the first static one, if any
		if len(cfg.Tokens) > 0 {
			e.Token = cfg.Tokens[0].Value
		}
	}

	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	sopts := []server.Option{server.WithLogger(logger)}
	if opts.Clock != nil {
		sopts = append(sopts, server.WithClock(opts.Clock.Now))
	}
	if opts.SigningKey != nil {
		sopts = append(sopts, server.WithSigningKey(opts.SigningKey))
	}
	srv, err := server.New(cfg, append(sopts, opts.ServerOptions...)...)
	if err != nil {
		ln.Close()
		if e.Proxy != nil {
			e.Proxy.Close()
		}
		t.Fatalf("sharingtest: %v", err)
	}
	e.Server = srv
	e.Endpoint = srv.Endpoint()
	// The timeouts of server.Serve: bounded headers, no write timeout (large files).
	e.hs = &http.Server{
		Handler:           e.record(srv.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	go func() { e.done <- e.hs.Serve(ln) }()
	t.Cleanup(e.Close)
	return e
}

// Close stops the proxy and the server at once, cutting requests in flight; it is safe to call
// more than once (Start registers it with t.Cleanup). Tests that count goroutines call it.
func (e *Env) Close() {
	e.closeOnce.Do(func() {
		if e.Proxy != nil {
			e.Proxy.Close()
		}
		_ = e.hs.Close()
		<-e.done // Close closed the listener: Serve returns at once
	})
}

func (e *Env) tableFlag(key, dir string) (server.TableFlag, error) {
	if !strings.Contains(key, ".") {
		return server.TableFlag{Share: e.share, Schema: e.schema, Table: key, Location: dir}, nil
	}
	return server.ParseTableFlag(key + "=" + dir)
}

// Table is the protocol reference of a table given as in Options.Tables (a bare name or
// share.schema.table).
func (e *Env) Table(key string) protocol.Table {
	if !strings.Contains(key, ".") {
		return protocol.Table{Share: e.share, Schema: e.schema, Name: key}
	}
	i := strings.LastIndexByte(key, '.')
	j := strings.LastIndexByte(key[:i], '.')
	return protocol.Table{Share: key[:j], Schema: key[j+1 : i], Name: key[i+1:]}
}

// Profile is a bearer token profile of the server (through the proxy with Options.Faults).
func (e *Env) Profile() *sharing.Profile {
	return &sharing.Profile{ShareCredentialsVersion: 1, Type: sharing.ProfileTypeBearerToken, Endpoint: e.Endpoint, BearerToken: e.Token}
}

// ProfileFile writes the profile to a file of a temporary directory (mode 0600, with the
// token's expirationTime when it has one) and returns its path.
func (e *Env) ProfileFile(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sharingtest.share")
	if err := e.Server.WriteProfile(p, e.Token); err != nil {
		t.Fatalf("sharingtest: %v", err)
	}
	return p
}

// Client returns a client of the server with the profile, the Clock (if any) and opts; its
// idle connections are closed when the test ends.
func (e *Env) Client(t testing.TB, opts ...sharing.Option) *sharing.Client {
	t.Helper()
	var all []sharing.Option
	if e.Clock != nil {
		all = append(all, sharing.WithClock(e.Clock.Now))
	}
	c, err := sharing.NewClient(e.Profile(), append(all, opts...)...)
	if err != nil {
		t.Fatalf("sharingtest: %v", err)
	}
	t.Cleanup(c.HTTPClient().CloseIdleConnections)
	return c
}

// NoRetryWait is a client option: retries as by default, without sleeping between tries.
func NoRetryWait() sharing.Option {
	return sharing.WithRetryPolicy(sharing.RetryPolicy{Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
}

// Formats is a client option announcing the default capabilities but only the response
// formats fs (the server answers in the first one it can).
func Formats(fs ...protocol.ResponseFormat) sharing.Option {
	caps := protocol.DefaultCapabilities()
	caps.ResponseFormats = fs
	return sharing.WithCapabilities(caps)
}

// ---------------------------------------------------------------------------------------------
// Recording.

// maxRecordedBody bounds the request body kept by the recorder (query bodies are small).
const maxRecordedBody = 1 << 20

// Request is a request that reached the server (behind the proxy, if any: requests a fault
// rule answered never reach it).
type Request struct {
	Method string
	// Path is the escaped path; RawQuery the query string (signed file URLs carry their
	// signature there).
	Path, RawQuery string
	Header         http.Header
	// Body is the request body (its first MiB).
	Body []byte
}

// IsFile reports whether the request is for a signed file URL.
func (r Request) IsFile() bool { return strings.HasPrefix(r.Path, "/files/") }

// Query decodes the body of a table query request (POST .../query).
func (r Request) Query() (protocol.QueryRequest, bool) {
	var q protocol.QueryRequest
	if r.Method != http.MethodPost || !strings.HasSuffix(r.Path, "/query") {
		return q, false
	}
	return q, json.Unmarshal(r.Body, &q) == nil
}

func (e *Env) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq := Request{Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, Header: r.Header.Clone()}
		if r.Body != nil && r.Body != http.NoBody {
			b, err := io.ReadAll(io.LimitReader(r.Body, maxRecordedBody))
			rq.Body = b
			rest := r.Body
			if err != nil {
				rest = io.NopCloser(errReader{err})
			}
			r.Body = readCloser{io.MultiReader(bytes.NewReader(b), rest), r.Body}
		}
		e.mu.Lock()
		e.reqs = append(e.reqs, rq)
		e.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

type readCloser struct {
	io.Reader
	io.Closer
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// Requests returns the requests that reached the server so far, in arrival order.
func (e *Env) Requests() []Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.reqs)
}

// Queries returns the bodies of the table queries that reached the server so far, in order.
func (e *Env) Queries() []protocol.QueryRequest {
	var out []protocol.QueryRequest
	for _, r := range e.Requests() {
		if q, ok := r.Query(); ok {
			out = append(out, q)
		}
	}
	return out
}

// FileGets returns how many GET requests for signed file URLs reached the server, by escaped
// path (the same file's URLs differ only in their query strings).
func (e *Env) FileGets() map[string]int {
	out := map[string]int{}
	for _, r := range e.Requests() {
		if r.IsFile() && r.Method == http.MethodGet {
			out[r.Path]++
		}
	}
	return out
}

// ---------------------------------------------------------------------------------------------
// Clock.

// Clock is a settable clock, safe for concurrent use.
type Clock = concurrenttest.Clock

// NewClock returns a clock reading t (the current time, to the second, when t is zero).
func NewClock(t time.Time) *Clock { return concurrenttest.NewClock(t) }

// ---------------------------------------------------------------------------------------------
// Tables.

// TableName turns any string (a fixture folder name, say) into a valid table name: '.', ' ',
// '/' and control characters become '_'.
func TableName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == ' ' || r == '/' || r < 0x20 || r == 0x7f {
			return '_'
		}
		return r
	}, s)
}

// Demo returns the committed demo tables (testdata/demo of this module, written by
// sharing/server/demo and kept current by its TestGeneratedTablesUpToDate) as Options.Tables:
// full name (demo.sales.orders, demo.sales.customers) to directory. demo.ExpectedOrders and
// demo.ExpectedCustomerChanges give their rows. Tests must not write into them: use
// GenerateDemo for a private copy.
func Demo(t testing.TB) map[string]string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatalf("sharingtest: cannot locate the module")
	}
	// file is <module>/internal/sharingtest/sharingtest.go
	dir := filepath.Join(filepath.Dir(file), "..", "..", "testdata", "demo")
	tables := demoTables(dir)
	for _, d := range tables {
		if _, err := os.Stat(filepath.Join(d, "_delta_log")); err != nil {
			t.Fatalf("sharingtest: the demo tables are missing (%v); run: go run ./sharing/server/demo/gen -o testdata/demo", err)
		}
	}
	return tables
}

// GenerateDemo writes the demo tables afresh into a temporary directory of the test (half a
// second or so) and returns them like Demo.
func GenerateDemo(t testing.TB) map[string]string {
	t.Helper()
	dir := t.TempDir()
	if err := demo.Generate(dir); err != nil {
		t.Fatalf("sharingtest: %v", err)
	}
	return demoTables(dir)
}

func demoTables(dir string) map[string]string {
	out := map[string]string{}
	for _, s := range demo.Tables {
		out[s.Share+"."+s.Schema+"."+s.Name] = filepath.Join(dir, filepath.FromSlash(s.Path))
	}
	return out
}
