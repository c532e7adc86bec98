package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/deltashare/deltashare/internal/atomicfile"
)

// Server is a Delta Sharing server. Create it with New; serve it with ListenAndServe, Listen
// and Serve, or mount Handler in your own http.Server.
type Server struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	signer  *Signer
	pages   pageTokens
	cat     *catalog
	tokens  *tokenStore
	acts    *activationStore
	tables  TableEndpoints
	handler http.Handler
	ttok    tableTokens // page and refresh tokens of the table endpoints
	dtables tableCache  // opened Delta logs, by table id

	mu      sync.Mutex
	baseURL string
	conns   *limitListener // of the last Serve
}

// Option configures New.
type Option func(*options)

type options struct {
	logger     *slog.Logger
	now        func() time.Time
	signingKey []byte
	tables     *TableEndpoints
}

// WithLogger sets the logger for the request log and server events (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithClock sets the clock used for expiries (tests).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithSigningKey sets the master key (at least MinSigningKeyLen bytes) signing file URLs and
// page tokens; it takes precedence over Config.SigningKeyFile. Default: random per New.
func WithSigningKey(key []byte) Option {
	return func(o *options) { o.signingKey = append([]byte(nil), key...) }
}

// WithTableEndpoints replaces the table endpoints (version, metadata, query, changes...) that
// New installs by default ([Server.DefaultTableEndpoints]); nil fields answer 501.
func WithTableEndpoints(e TableEndpoints) Option { return func(o *options) { o.tables = &e } }

// New validates cfg with [Config.Validate] and returns a server for it. Validate reads no
// environment: resolve tokens given by ValueEnv first, with [Config.ValidateWith] or
// [LoadConfig].
func New(cfg Config, opts ...Option) (*Server, error) {
	cfg.Tokens = append([]Token(nil), cfg.Tokens...)
	cfg.Shares = cloneShares(cfg.Shares)
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := options{logger: slog.Default(), now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	key := o.signingKey
	if key == nil && cfg.SigningKeyFile != "" {
		data, err := os.ReadFile(cfg.SigningKeyFile)
		if err != nil {
			return nil, fmt.Errorf("read the signing key file: %w", err)
		}
		key = bytes.TrimSpace(data)
		if len(key) < MinSigningKeyLen {
			return nil, fmt.Errorf("signing key file %s holds %d bytes: it needs at least %d random bytes", cfg.SigningKeyFile, len(key), MinSigningKeyLen)
		}
	}
	if key == nil {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
	}
	if len(key) < MinSigningKeyLen {
		return nil, errors.New("signing key is too short: use at least 32 random bytes")
	}
	signer, err := NewSigner(deriveKey(key, "file-url/v1"))
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		log:     o.logger,
		now:     o.now,
		signer:  signer,
		pages:   pageTokens{key: deriveKey(key, "page-token/v1")},
		cat:     newCatalog(&cfg),
		tokens:  &tokenStore{},
		acts:    &activationStore{byID: map[[sha256.Size]byte]*activation{}},
		baseURL: cfg.PublicURL,
		ttok:    tableTokens{key: deriveKey(key, "table-token/v1")},
	}
	if o.tables != nil {
		s.tables = *o.tables
	} else {
		s.tables = s.DefaultTableEndpoints()
	}
	for _, t := range cfg.Tokens {
		if err := s.tokens.add(t); err != nil {
			return nil, err
		}
	}
	s.handler = s.buildHandler()
	return s, nil
}

func cloneShares(in []Share) []Share {
	out := append([]Share(nil), in...)
	for i := range out {
		out[i].Schemas = append([]Schema(nil), out[i].Schemas...)
		for j := range out[i].Schemas {
			out[i].Schemas[j].Tables = append([]TableConfig(nil), out[i].Schemas[j].Tables...)
		}
	}
	return out
}

// Config returns the validated configuration (tokens included: do not log it raw).
func (s *Server) Config() Config { return s.cfg }

// Handler returns the server's HTTP handler: the protocol endpoints under the prefix (bearer
// auth), the signed file URLs under /files/, and, with activation enabled, the activation
// endpoints; with the request log, panic recovery and the body limit around them.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) buildHandler() http.Handler {
	p := normPrefix(s.cfg.Prefix)
	api := http.NewServeMux()
	route := func(method, path string, h http.HandlerFunc) {
		api.HandleFunc(method+" "+p+path, h)
		allow := method
		if method == http.MethodGet {
			allow = "GET, HEAD"
		}
		// The same path with any other method: a JSON 405 (ServeMux's own is plain text).
		api.HandleFunc(p+path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			s.Error(w, r, Errorf(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "%s is not allowed here", r.Method))
		})
	}
	route("GET", "/shares", s.handleListShares)
	route("GET", "/shares/{share}", s.handleGetShare)
	route("GET", "/shares/{share}/schemas", s.handleListSchemas)
	route("GET", "/shares/{share}/schemas/{schema}/tables", s.handleListTables)
	route("GET", "/shares/{share}/all-tables", s.handleListAllTables)
	const tbl = "/shares/{share}/schemas/{schema}/tables/{table}"
	e := s.tables
	route("GET", tbl+"/version", s.tableRoute(e.Version, "table version"))
	route("HEAD", tbl, s.tableRoute(e.Version, "table version"))
	route("GET", tbl+"/metadata", s.tableRoute(e.Metadata, "table metadata"))
	route("POST", tbl+"/query", s.tableRoute(e.Query, "table query"))
	route("GET", tbl+"/changes", s.tableRoute(e.Changes, "table changes"))
	route("POST", tbl+"/queries/{queryId}", s.tableRoute(e.QueryStatus, "query status"))
	route("POST", tbl+"/temporary-table-credentials", s.tableRoute(e.TemporaryCredentials, "temporary table credentials"))
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.Error(w, r, Errorf(http.StatusNotFound, CodeEndpointNotFound, "no such endpoint: the protocol endpoints are under %s", s.cfg.Prefix))
	})
	protocol := s.authenticate(s.readBody(api))

	getOnly := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				w.Header().Set("Allow", "GET, HEAD")
				writeDatabricksError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, r.Method+" is not allowed here")
				return
			}
			h(w, r)
		}
	}
	info, retrieve, page := getOnly(s.handleActivationInfo), getOnly(s.handleActivation), getOnly(s.handleActivationPage)

	root := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		esc := r.URL.EscapedPath()
		switch {
		case strings.HasPrefix(esc, filesPath):
			s.handleFile(w, r)
		case s.cfg.Activation && strings.HasPrefix(esc, activationInfoPath):
			info(w, r)
		case s.cfg.Activation && strings.HasPrefix(esc, activationPath):
			retrieve(w, r)
		case s.cfg.Activation && esc == activationPagePath:
			page(w, r)
		default:
			// Signed file URLs above are exact (signed); protocol paths take doubled slashes.
			protocol.ServeHTTP(w, singleSlashes(r))
		}
	})
	return s.logRequests(s.limitBody(root))
}

// singleSlashes returns r with each run of slashes in its path made one slash
// ("/delta-sharing//shares" as clients build it from an endpoint ending in "/"): ServeMux would
// answer such a path with a redirect, which clients do not follow for a POST.
func singleSlashes(r *http.Request) *http.Request {
	esc := r.URL.EscapedPath()
	if !strings.Contains(esc, "//") {
		return r
	}
	var b strings.Builder
	for i := 0; i < len(esc); i++ {
		if esc[i] == '/' && i > 0 && esc[i-1] == '/' {
			continue
		}
		b.WriteByte(esc[i])
	}
	p, err := url.PathUnescape(b.String())
	if err != nil {
		return r
	}
	u := *r.URL
	u.Path, u.RawPath = p, b.String()
	r2 := r.Clone(r.Context())
	r2.URL = &u
	r2.RequestURI = u.RequestURI()
	return r2
}

// limitBody refuses bodies over MaxBodyBytes: at once when Content-Length says so, otherwise
// when a handler reads past the limit (DecodeJSONBody then answers 413). A request with a body
// gets a read deadline of Config.BodyTimeout from its start, so that neither reading the body
// nor the server draining an unread one after the response can hold the connection longer.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > MaxBodyBytes {
			w.Header().Set("Connection", "close")
			s.Error(w, r, maxBodyError(MaxBodyBytes))
			return
		}
		if r.ContentLength != 0 {
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.cfg.BodyTimeout))
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// skipBody is for a response sent without reading the request's body (authentication failed):
// the connection is closed after the response instead of the server reading the rest of the
// body first, which a client trickling it could stretch to Config.BodyTimeout.
func skipBody(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength == 0 {
		return
	}
	w.Header().Set("Connection", "close")
	_ = http.NewResponseController(w).SetReadDeadline(time.Now())
}

// readBody reads the request body in full, within Config.BodyTimeout of the request's start
// (see limitBody), before the handler runs; then it lifts the read deadline, so that a long
// streamed response is not cut. A body not received in time is answered 408 and the connection
// closed. It runs after authentication: an unauthenticated request's body is never read.
func (s *Server) readBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		data, err := io.ReadAll(r.Body)
		_ = rc.SetReadDeadline(time.Time{})
		if err != nil {
			w.Header().Set("Connection", "close")
			var mbe *http.MaxBytesError
			var ne net.Error
			switch {
			case errors.As(err, &mbe):
				s.Error(w, r, maxBodyError(mbe.Limit))
			case errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
				_ = rc.SetReadDeadline(time.Now())
				s.Error(w, r, Errorf(http.StatusRequestTimeout, CodeRequestTimeout,
					"the request body was not received within %s", s.cfg.BodyTimeout))
			default:
				s.Error(w, r, Errorf(http.StatusBadRequest, CodeMalformedRequest, "could not read the request body"))
			}
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(data))
		next.ServeHTTP(w, r)
	})
}

// requestLog is filled in while a request is served and logged at its end.
type requestLog struct {
	principal string
}

type requestLogKey struct{}

func requestLogFrom(ctx context.Context) *requestLog {
	rl, _ := ctx.Value(requestLogKey{}).(*requestLog)
	return rl
}

// logPath is the request path safe to log: never the query string (signatures, page tokens),
// and activation codes replaced by a short hash tag.
func logPath(r *http.Request) string {
	p := r.URL.EscapedPath()
	for _, prefix := range []string{activationInfoPath, activationPath} {
		if code, ok := strings.CutPrefix(p, prefix); ok {
			return prefix + "{code:" + codeTag(code) + "}"
		}
	}
	if len(p) > 1024 {
		p = p[:1024] + "..."
	}
	return p
}

// logRequests writes one structured log line per request (method, path without query, status,
// bytes, duration, token name) and turns handler panics into 500s.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rl := &requestLog{}
		sw := &statusWriter{ResponseWriter: w}
		r = r.WithContext(context.WithValue(r.Context(), requestLogKey{}, rl))
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic serving request", "method", r.Method, "path", logPath(r), "panic", fmt.Sprint(v))
				if sw.status == 0 {
					WriteError(sw, nil, errors.New("panic"))
				}
			}
			attrs := []any{"method", r.Method, "path", logPath(r), "status", sw.statusCode(),
				"bytes", sw.bytes, "duration", time.Since(start).Round(time.Microsecond)}
			if rl.principal != "" {
				attrs = append(attrs, "token", rl.principal)
			}
			s.log.Info("request", attrs...)
		}()
		next.ServeHTTP(sw, r)
	})
}

// statusWriter records the status and the body size; it keeps Flush (NDJSON streaming) and
// ReadFrom (sendfile for file downloads) and unwraps for http.ResponseController.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(struct{ io.Writer }{w.ResponseWriter}, r)
	}
	w.bytes += n
	return n, err
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) statusCode() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// BaseURL is scheme://host:port of the server as recipients reach it: Config.PublicURL, or
// http:// and the listener's address once Listen or Serve ran ("" before).
func (s *Server) BaseURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baseURL
}

// Endpoint is the Delta Sharing endpoint of profile files: BaseURL plus the prefix.
func (s *Server) Endpoint() string {
	b := s.BaseURL()
	if b == "" {
		return ""
	}
	return b + normPrefix(s.cfg.Prefix)
}

func (s *Server) setBaseFromListener(ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.baseURL != "" {
		return
	}
	host, port, err := net.SplitHostPort(ln.Addr().String())
	if err != nil {
		s.baseURL = "http://" + ln.Addr().String()
		return
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	s.baseURL = "http://" + net.JoinHostPort(host, port)
}

// Listen opens a TCP listener on addr ("" means Config.Addr) and, unless Config.PublicURL is
// set, takes the base URL from it. With NoAuth it refuses anything but a loopback address.
func (s *Server) Listen(addr string) (net.Listener, error) {
	if addr == "" {
		addr = s.cfg.Addr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	if err := s.checkNoAuth(ln); err != nil {
		ln.Close()
		return nil, err
	}
	s.setBaseFromListener(ln)
	return ln, nil
}

// checkNoAuth refuses to serve without authentication anywhere but on loopback.
func (s *Server) checkNoAuth(ln net.Listener) error {
	if !s.cfg.NoAuth {
		return nil
	}
	if ta, ok := ln.Addr().(*net.TCPAddr); !ok || !ta.IP.IsLoopback() {
		return fmt.Errorf("refusing to serve without authentication on %s: listen on 127.0.0.1, or configure bearer tokens", ln.Addr())
	}
	return nil
}

// ListenAndServe is Listen followed by Serve.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := s.Listen(addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is cancelled, then shuts down gracefully: it stops accepting,
// lets in-flight requests finish for up to Config.ShutdownTimeout, then cuts the rest (a slow
// download). It returns nil after a shutdown asked for by ctx, and closes ln. With NoAuth it
// refuses a listener that is not on loopback.
//
// Timeouts suit large downloads: ReadHeaderTimeout bounds the headers, MaxHeaderBytes their size,
// IdleTimeout idle keep-alive connections, and there is no WriteTimeout (it would cut large
// files) nor ReadTimeout (it would cancel long streaming responses); bodies are bounded to
// MaxBodyBytes and Config.BodyTimeout instead, and read only after authentication. At most
// Config.MaxConnections connections are open at once; further ones wait to be accepted.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := s.checkNoAuth(ln); err != nil {
		ln.Close()
		return err
	}
	s.setBaseFromListener(ln)
	baseCtx, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	ln = newLimitListener(ln, s.cfg.MaxConnections, s.log)
	s.mu.Lock()
	s.conns = ln.(*limitListener)
	s.mu.Unlock()
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
	}
	s.log.Info("serving Delta Sharing", "endpoint", s.Endpoint(), "shares", len(s.cat.shares), "auth", !s.cfg.NoAuth)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "timeout", s.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		s.log.Warn("in-flight requests cut at shutdown", "err", err)
		cancelBase()
		_ = srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// profileJSON is a Delta Sharing profile file (version 1).
type profileJSON struct {
	ShareCredentialsVersion int    `json:"shareCredentialsVersion"`
	Endpoint                string `json:"endpoint"`
	BearerToken             string `json:"bearerToken"`
	ExpirationTime          string `json:"expirationTime,omitempty"`
}

// WriteProfile writes a ready profile file for token (with its expirationTime when the server
// knows the token) to path, with mode 0600, atomically: a temporary file in the same
// directory, fsync, rename, fsync of the directory.
func (s *Server) WriteProfile(path, token string) error {
	ep := s.Endpoint()
	if ep == "" {
		return errors.New("write profile: the server's URL is not known yet: set publicURL, or write the profile after Listen")
	}
	if err := validateTokenValue(token); err != nil {
		return fmt.Errorf("write profile: %w", err)
	}
	p := profileJSON{ShareCredentialsVersion: 1, Endpoint: ep, BearerToken: token}
	if exp, ok := s.tokenExpiry(token); ok && !exp.IsZero() {
		p.ExpirationTime = exp.UTC().Format(time.RFC3339)
	}
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(data, '\n'), 0o600)
}
