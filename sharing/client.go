package sharing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/deltashare/deltashare/internal/redact"
	"github.com/deltashare/deltashare/internal/watchdog"
	"github.com/deltashare/deltashare/sharing/protocol"

	"golang.org/x/oauth2"
)

// Version is the program version reported in the User-Agent header; main sets it.
var Version = "dev"

// DefaultTimeout is the default request timeout: the longest the client waits for response
// headers of a metadata or listing request, and for the next bytes of any response body.
const DefaultTimeout = 60 * time.Second

// queryHeaderFactor multiplies the timeout while waiting for the headers of a query or
// change-data request, which a server may take long to compute.
const queryHeaderFactor = 5

// maxJSONBody bounds a listing page.
const maxJSONBody = 256 << 20

// Client talks to one Delta Sharing server with one profile. It is safe for concurrent use.
type Client struct {
	profile   *Profile
	endpoint  string // without trailing slash
	hc        *http.Client
	base      *http.Client
	retry     RetryPolicy
	timeout   time.Duration
	log       *slog.Logger
	userAgent string
	caps      protocol.Capabilities
	pageSize  int
	now       func() time.Time
	limits    Limits
}

// Option configures a Client.
type Option func(*clientConfig)

type clientConfig struct {
	hc            *http.Client
	retry         *RetryPolicy
	timeout       time.Duration
	log           *slog.Logger
	userAgent     string
	caps          *protocol.Capabilities
	pageSize      int
	refreshMargin time.Duration
	tokenSource   oauth2.TokenSource
	now           func() time.Time
	limits        Limits
}

// Limits bound what the client accepts from a server, so that a server that misbehaves (an
// endless response, a line that never ends, page tokens that never end) costs bounded memory
// and time and ends with a clear error. A zero field takes its default.
type Limits struct {
	// MaxLineBytes bounds one line of a metadata, query or change-data response (default
	// protocol.DefaultMaxLineBytes).
	MaxLineBytes int
	// MaxPages bounds the pages of one listing, query or change-data response (default
	// DefaultMaxPages).
	MaxPages int
	// MaxResponseBytes bounds the bytes of one query or change-data response, all pages
	// together (default DefaultMaxResponseBytes). Query and Changes hold what they read in
	// memory: this bounds it too (QueryFiles hands the files out instead, and the table reader
	// keeps them on disk: there it bounds the disk used).
	MaxResponseBytes int64
	// MaxListingTime bounds the time one listing, query or change-data response may take, all
	// pages together (default DefaultMaxListingTime).
	MaxListingTime time.Duration
}

// Defaults of Limits.
const (
	DefaultMaxPages         = 100000
	DefaultMaxResponseBytes = 1 << 30
	DefaultMaxListingTime   = time.Hour
)

func (l Limits) withDefaults() Limits {
	if l.MaxLineBytes <= 0 {
		l.MaxLineBytes = protocol.DefaultMaxLineBytes
	}
	if l.MaxPages <= 0 {
		l.MaxPages = DefaultMaxPages
	}
	if l.MaxResponseBytes <= 0 {
		l.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if l.MaxListingTime <= 0 {
		l.MaxListingTime = DefaultMaxListingTime
	}
	return l
}

// ErrResponseLimit: a server's response went past one of the client's Limits (it wraps
// protocol.ErrProtocol; a line too long also wraps protocol.ErrLineTooLong).
var ErrResponseLimit = fmt.Errorf("%w: response past the client's limits", protocol.ErrProtocol)

// WithLimits bounds what the client accepts from a server (see Limits).
func WithLimits(l Limits) Option { return func(c *clientConfig) { c.limits = l } }

// Limits returns the client's limits, defaults filled in.
func (c *Client) Limits() Limits { return c.limits }

// WithHTTPClient sets the HTTP client whose transport (proxy, TLS) carries every request; its
// own Timeout should be 0 (the client applies header and idle timeouts itself). Default: a
// clone of http.DefaultTransport, which honours HTTP_PROXY, HTTPS_PROXY and NO_PROXY.
func WithHTTPClient(hc *http.Client) Option { return func(c *clientConfig) { c.hc = hc } }

// WithRetryPolicy sets the retry policy (default DefaultRetryPolicy()).
func WithRetryPolicy(p RetryPolicy) Option { return func(c *clientConfig) { c.retry = &p } }

// WithTimeout sets the request timeout (default DefaultTimeout): the wait for response headers
// (five times as long for query and change-data requests) and the longest pause while reading
// a body. A long response that keeps arriving is never cut.
func WithTimeout(d time.Duration) Option { return func(c *clientConfig) { c.timeout = d } }

// WithLogger sets the logger for request and retry diagnostics (default: discard). Logs never
// hold tokens or query strings.
func WithLogger(l *slog.Logger) Option { return func(c *clientConfig) { c.log = l } }

// WithUserAgent sets the User-Agent header (default "deltashare/" + Version).
func WithUserAgent(ua string) Option { return func(c *clientConfig) { c.userAgent = ua } }

// WithCapabilities sets the capabilities announced to the server (default
// DefaultCapabilities()).
func WithCapabilities(caps protocol.Capabilities) Option {
	return func(c *clientConfig) { c.caps = &caps }
}

// WithPageSize sets maxResults on listing requests (default 0: the server decides).
func WithPageSize(n int) Option { return func(c *clientConfig) { c.pageSize = n } }

// WithTokenRefreshMargin sets how long before expiry an OAuth access token is replaced
// (default DefaultTokenRefreshMargin).
func WithTokenRefreshMargin(d time.Duration) Option {
	return func(c *clientConfig) { c.refreshMargin = d }
}

// WithTokenSource replaces the profile's credential with src (the profile then only gives the
// endpoint).
func WithTokenSource(src oauth2.TokenSource) Option {
	return func(c *clientConfig) { c.tokenSource = src }
}

// WithClock sets the clock used for token expiry and URL expiry checks (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *clientConfig) { c.now = now } }

// NewClient returns a client for the profile's server. An expired bearer token does not fail
// here: every request then fails with an [*ExpiredError] before anything is sent.
func NewClient(p *Profile, opts ...Option) (*Client, error) {
	if p == nil {
		return nil, profileErr("no profile given")
	}
	cfg := clientConfig{timeout: DefaultTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	endpoint := strings.TrimRight(p.Endpoint, "/")
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, profileErr(`the profile's "endpoint" must be an http or https URL`)
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	if cfg.timeout <= 0 {
		cfg.timeout = DefaultTimeout
	}
	base := cfg.hc
	if base == nil {
		base = &http.Client{Transport: defaultTransport()}
	}
	baseRT := base.Transport
	if baseRT == nil {
		baseRT = http.DefaultTransport
	}
	src := cfg.tokenSource
	if src == nil {
		tokenHC := &http.Client{Transport: baseRT, Timeout: cfg.timeout}
		src, err = newTokenSource(p, tokenHC, cfg.refreshMargin, cfg.now)
		if err != nil {
			return nil, err
		}
	}
	c := &Client{
		profile:  p,
		endpoint: endpoint,
		base:     base,
		hc: &http.Client{
			Transport:     &authTransport{base: baseRT, src: src, scheme: u.Scheme, host: u.Host},
			CheckRedirect: base.CheckRedirect,
			Jar:           base.Jar,
		},
		timeout:   cfg.timeout,
		log:       cfg.log,
		userAgent: cfg.userAgent,
		pageSize:  cfg.pageSize,
		now:       cfg.now,
		limits:    cfg.limits.withDefaults(),
	}
	if cfg.retry != nil {
		c.retry = cfg.retry.withDefaults()
	} else {
		c.retry = DefaultRetryPolicy()
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.userAgent == "" {
		c.userAgent = "deltashare/" + Version
	}
	if cfg.caps != nil {
		c.caps = *cfg.caps
	} else {
		c.caps = protocol.DefaultCapabilities()
	}
	return c, nil
}

// maxIdleConnsPerHost is how many idle connections the default transport keeps to one host.
// A read downloads --parallel files at once, usually all from one host (the server, or the
// storage that signs its URLs); Go's default of 2 closed every other connection after each
// file and opened a new one (a new TLS handshake on a real store) for the next.
const maxIdleConnsPerHost = 64

func defaultTransport() http.RoundTripper {
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		t = t.Clone()
		t.Proxy = http.ProxyFromEnvironment
		t.MaxIdleConnsPerHost = maxIdleConnsPerHost
		return t
	}
	return &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: maxIdleConnsPerHost}
}

// Profile returns the client's profile.
func (c *Client) Profile() *Profile { return c.profile }

// Endpoint returns the server's URL prefix (no trailing slash).
func (c *Client) Endpoint() string { return c.endpoint }

// HTTPClient returns the HTTP client without authentication, for fetching pre-signed file URLs
// (which must not receive the Authorization header).
func (c *Client) HTTPClient() *http.Client { return c.base }

// RetryPolicy returns the client's retry policy (defaults filled in), for reuse by downloads.
func (c *Client) RetryPolicy() RetryPolicy { return c.retry }

// Capabilities returns the capabilities the client announces.
func (c *Client) Capabilities() protocol.Capabilities { return c.caps }

// Logger returns the client\'s logger (never nil).
func (c *Client) Logger() *slog.Logger { return c.log }

// Now returns the current time by the client\'s clock.
func (c *Client) Now() time.Time { return c.now() }

// Timeout returns the request (header and idle) timeout.
func (c *Client) Timeout() time.Duration { return c.timeout }

// ---------------------------------------------------------------------------------------------
// Requests.

type request struct {
	method    string
	path      string // under the endpoint, already escaped
	query     url.Values
	body      []byte
	caps      bool // send the capabilities header
	slowStart bool // query/changes: longer wait for headers
}

func (r *request) describe() string { return r.method + " " + r.path }

// send performs r with retries. If consume is non-nil it runs inside the attempt (so a body that
// breaks off is fetched again) and the response is closed afterwards; otherwise the caller gets
// the open response with a watched body and must close it.
func (c *Client) send(ctx context.Context, r *request, consume func(*http.Response) error) (*http.Response, error) {
	var out *http.Response
	onRetry := func(attempt int, wait time.Duration, err error) {
		c.log.Warn("retrying request", "method", r.method, "path", r.path, "attempt", attempt, "wait", wait, "error", err.Error())
	}
	err := c.retry.DoWith(ctx, func(attempt int) error {
		resp, err := c.attempt(ctx, r, attempt)
		if err != nil {
			return err
		}
		if consume == nil {
			out = resp
			return nil
		}
		defer resp.Body.Close()
		if err := consume(resp); err != nil {
			return err
		}
		return nil
	}, IsRetryable, onRetry)
	return out, err
}

func (c *Client) attempt(ctx context.Context, r *request, attempt int) (*http.Response, error) {
	u := c.endpoint + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	actx, cancel := context.WithCancelCause(ctx)
	headerWait := c.timeout
	if r.slowStart {
		headerWait *= queryHeaderFactor
	}
	wd := watchdog.New(headerWait, c.timeout, func() { cancel(watchdog.ErrIdle) })
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(actx, r.method, u, body)
	if err != nil {
		wd.Stop()
		cancel(nil)
		return nil, fmt.Errorf("%s: %w", r.describe(), redact.Err(err))
	}
	req.Header.Set("User-Agent", c.userAgent)
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	if r.caps {
		if h := c.caps.Header(); h != "" {
			req.Header.Set(protocol.HeaderCapabilities, h)
		}
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		wd.Stop()
		err = c.transportError(ctx, actx, r, err)
		cancel(nil)
		c.log.Debug("request failed", "method", r.method, "path", r.path, "attempt", attempt, "elapsed", time.Since(start), "error", err.Error())
		return nil, err
	}
	c.log.Debug("response", "method", r.method, "path", r.path, "status", resp.StatusCode, "attempt", attempt, "elapsed", time.Since(start))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ae := protocol.NewAPIError(resp, c.now())
		ae.Method, ae.URL = r.method, r.path
		resp.Body.Close()
		wd.Stop()
		cancel(nil)
		return nil, ae
	}
	wd.BodyStarted()
	resp.Body = &watchdog.Body{RC: resp.Body, WD: wd, Ctx: actx, Parent: ctx, Cancel: cancel, What: r.describe(), Truncated: protocol.ErrTruncated}
	return resp, nil
}

// transportError rewrites an http.Client error: the URL (with its query) is dropped, and a
// timeout of ours is reported as such rather than as a cancellation.
func (c *Client) transportError(parent, actx context.Context, r *request, err error) error {
	if parent.Err() == nil && errors.Is(context.Cause(actx), watchdog.ErrIdle) {
		return fmt.Errorf("%s: no response within %s: %w", r.describe(), c.timeout, watchdog.ErrIdle)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("%s: %w", r.describe(), redact.Err(err))
}

// getJSON GETs path and decodes its JSON body into v (an empty body leaves v as is).
func (c *Client) getJSON(ctx context.Context, path string, q url.Values, v any) error {
	r := &request{method: http.MethodGet, path: path, query: q}
	_, err := c.send(ctx, r, func(resp *http.Response) error {
		dec := json.NewDecoder(io.LimitReader(resp.Body, maxJSONBody))
		if err := dec.Decode(v); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			var se *json.SyntaxError
			var te *json.UnmarshalTypeError
			if errors.As(err, &se) || errors.As(err, &te) {
				return fmt.Errorf("%s: %w: the response is not the expected JSON (%s)", r.describe(), protocol.ErrProtocol, protocol.DescribeJSONError(err))
			}
			return err
		}
		return nil
	})
	return err
}

// ---------------------------------------------------------------------------------------------
// Listings.

func listAll[T any](ctx context.Context, c *Client, path string) ([]T, error) {
	out := []T{}
	l := c.newListing("GET " + path)
	token := ""
	for page := 1; ; page++ {
		q := url.Values{}
		if c.pageSize > 0 {
			q.Set("maxResults", strconv.Itoa(c.pageSize))
		}
		if token != "" {
			q.Set("pageToken", token)
		}
		var p protocol.Page[T]
		if err := c.getJSON(ctx, path, q, &p); err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if p.NextPageToken == "" {
			return out, nil
		}
		if err := l.nextPage(p.NextPageToken); err != nil {
			return nil, err
		}
		token = p.NextPageToken
	}
}

func sharePath(share string) string { return "/shares/" + url.PathEscape(share) }

// ListShares lists every share the credential can read, following all pages.
func (c *Client) ListShares(ctx context.Context) ([]protocol.Share, error) {
	return listAll[protocol.Share](ctx, c, "/shares")
}

// GetShare returns one share's details.
func (c *Client) GetShare(ctx context.Context, share string) (protocol.Share, error) {
	if share == "" {
		return protocol.Share{}, errors.New("GetShare: no share name given")
	}
	var r protocol.GetShareResponse
	if err := c.getJSON(ctx, sharePath(share), nil, &r); err != nil {
		return protocol.Share{}, err
	}
	return r.Share, nil
}

// ListSchemas lists the schemas of a share, following all pages.
func (c *Client) ListSchemas(ctx context.Context, share string) ([]protocol.Schema, error) {
	if share == "" {
		return nil, errors.New("ListSchemas: no share name given")
	}
	return listAll[protocol.Schema](ctx, c, sharePath(share)+"/schemas")
}

// ListTables lists the tables of a schema, following all pages.
func (c *Client) ListTables(ctx context.Context, share, schema string) ([]protocol.TableInfo, error) {
	if share == "" || schema == "" {
		return nil, errors.New("ListTables: a share and a schema name are needed")
	}
	return listAll[protocol.TableInfo](ctx, c, sharePath(share)+"/schemas/"+url.PathEscape(schema)+"/tables")
}

// ListAllTables lists every table of a share. Servers without the all-tables endpoint (answer
// 404) are served by listing the schemas and then each schema's tables.
func (c *Client) ListAllTables(ctx context.Context, share string) ([]protocol.TableInfo, error) {
	if share == "" {
		return nil, errors.New("ListAllTables: no share name given")
	}
	tables, err := listAll[protocol.TableInfo](ctx, c, sharePath(share)+"/all-tables")
	if err == nil || !errors.Is(err, protocol.ErrNotFound) {
		return tables, err
	}
	c.log.Debug("all-tables not available, listing schema by schema", "share", share)
	schemas, serr := c.ListSchemas(ctx, share)
	if serr != nil {
		return nil, serr
	}
	out := []protocol.TableInfo{}
	for _, s := range schemas {
		name := s.Name
		ts, err := c.ListTables(ctx, share, name)
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
	}
	return out, nil
}

// ListTablesIn lists the tables of schema share.schema, of every schema of share (schema ""),
// or of every share the credential can read (share and schema ""), following all pages.
func (c *Client) ListTablesIn(ctx context.Context, share, schema string) ([]protocol.TableInfo, error) {
	switch {
	case share != "" && schema != "":
		return c.ListTables(ctx, share, schema)
	case share != "":
		return c.ListAllTables(ctx, share)
	case schema != "":
		return nil, errors.New("ListTablesIn: a schema name needs its share name")
	}
	shares, err := c.ListShares(ctx)
	if err != nil {
		return nil, err
	}
	var all []protocol.TableInfo
	for _, s := range shares {
		ts, err := c.ListAllTables(ctx, s.Name)
		if err != nil {
			return nil, fmt.Errorf("share %s: %w", s.Name, err)
		}
		all = append(all, ts...)
	}
	return all, nil
}

// ---------------------------------------------------------------------------------------------
// Table version and metadata.

// TableVersion returns the table's current version, or with startingTimestamp (ISO 8601, UTC,
// e.g. 2022-01-01T00:00:00Z) the earliest version at or after that time.
func (c *Client) TableVersion(ctx context.Context, t protocol.Table, startingTimestamp string) (int64, error) {
	if err := t.Validate(); err != nil {
		return 0, err
	}
	q := url.Values{}
	if startingTimestamp != "" {
		q.Set("startingTimestamp", startingTimestamp)
	}
	r := &request{method: http.MethodGet, path: t.Path() + "/version", query: q}
	var version int64
	_, err := c.send(ctx, r, func(resp *http.Response) error {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		v, ok, err := versionHeader(resp)
		if err != nil {
			return fmt.Errorf("%s: %w", r.describe(), err)
		}
		if !ok {
			return fmt.Errorf("%s: %w: the server did not send the %s header", r.describe(), protocol.ErrProtocol, protocol.HeaderTableVersion)
		}
		version = v
		return nil
	})
	return version, err
}

func versionHeader(resp *http.Response) (int64, bool, error) {
	h := strings.TrimSpace(resp.Header.Get(protocol.HeaderTableVersion))
	if h == "" {
		return -1, false, nil
	}
	v, err := strconv.ParseInt(h, 10, 64)
	if err != nil || v < 0 {
		return -1, false, fmt.Errorf("%w: the %s header is not a version number", protocol.ErrProtocol, protocol.HeaderTableVersion)
	}
	return v, true, nil
}

// Metadata returns the table's protocol and metadata, at the latest version or at the version
// or timestamp given.
func (c *Client) Metadata(ctx context.Context, t protocol.Table, opts protocol.MetadataOptions) (*protocol.TableMetadata, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if opts.Version != nil && opts.Timestamp != "" {
		return nil, fmt.Errorf("%w: give a version or a timestamp, not both", protocol.ErrBadRequest)
	}
	q := url.Values{}
	if opts.Version != nil {
		q.Set("version", strconv.FormatInt(*opts.Version, 10))
	}
	if opts.Timestamp != "" {
		q.Set("timestamp", opts.Timestamp)
	}
	r := &request{method: http.MethodGet, path: t.Path() + "/metadata", query: q, caps: true}
	var tm *protocol.TableMetadata
	_, err := c.send(ctx, r, func(resp *http.Response) error {
		var p *protocol.ProtocolAction
		var m *protocol.MetadataAction
		pi, err := c.readPage(resp, c.newListing(r.describe()), r, 1, nil, func(it protocol.Item) error {
			switch {
			case it.Protocol != nil && p == nil:
				p = it.Protocol
			case it.Metadata != nil && m == nil:
				m = it.Metadata
			}
			return nil
		})
		if err != nil {
			return err
		}
		if p == nil || m == nil {
			return fmt.Errorf("%s: %w: the response lacks the protocol or the metaData line", r.describe(), protocol.ErrProtocol)
		}
		x := protocol.NewTableMetadata(pi.version, pi.format, p, m)
		tm = &x
		return nil
	})
	if err != nil {
		return nil, err
	}
	return tm, nil
}

// ---------------------------------------------------------------------------------------------
// Queries and change data.

// StreamInfo describes a streamed query or change-data response.
type StreamInfo struct {
	// Version is the Delta-Table-Version header of the first page (-1 when absent).
	Version int64
	// Format is the response format the server used.
	Format protocol.ResponseFormat
	// Pages is the number of pages read.
	Pages int
	// RefreshToken is the first page's refresh token (snapshot queries that asked for one).
	RefreshToken string
	// MinURLExpirationTimestamp is the earliest URL expiry announced by any page (ms).
	MinURLExpirationTimestamp *int64
	// EndStream is the last page's EndStreamAction, if it sent one. With SinglePage, its
	// NextPageToken continues the listing.
	EndStream *protocol.EndStream
}

// String describes the stream without its tokens.
func (s StreamInfo) String() string {
	out := fmt.Sprintf("StreamInfo{version=%d format=%s pages=%d", s.Version, s.Format, s.Pages)
	if s.RefreshToken != "" {
		out += " refreshToken=<redacted>"
	}
	if s.EndStream != nil {
		out += " end=" + s.EndStream.String()
	}
	return out + "}"
}

// GoString is String.
func (s StreamInfo) GoString() string { return s.String() }

// MinURLExpiration returns MinURLExpirationTimestamp as a time (zero when absent).
func (s StreamInfo) MinURLExpiration() time.Time { return protocol.MsTime(s.MinURLExpirationTimestamp) }

// QueryResult is a whole query or change-data response.
type QueryResult struct {
	StreamInfo
	// Protocol and Metadata are the response's first protocol and metaData lines.
	Protocol *protocol.ProtocolAction
	Metadata *protocol.MetadataAction
	// HistoricalProtocols and HistoricalMetadata are the later protocol and metaData lines (of
	// startingVersion queries and change-data requests that asked for them), in order.
	HistoricalProtocols []protocol.ProtocolAction
	HistoricalMetadata  []protocol.MetadataAction
	// Files are the file actions in response order.
	Files []protocol.File
}

// String summarizes the result without URLs or tokens.
func (r QueryResult) String() string {
	return fmt.Sprintf("QueryResult{%s files=%d historicalMetadata=%d}", r.StreamInfo.String(), len(r.Files), len(r.HistoricalMetadata))
}

// GoString is String.
func (r QueryResult) GoString() string { return r.String() }

// TableMetadata returns the response's protocol and metadata with its version.
func (r *QueryResult) TableMetadata() protocol.TableMetadata {
	return protocol.NewTableMetadata(r.Version, r.Format, r.Protocol, r.Metadata)
}

func (r *QueryResult) add(it protocol.Item) error {
	switch {
	case it.Protocol != nil:
		if r.Protocol == nil {
			r.Protocol = it.Protocol
		} else {
			r.HistoricalProtocols = append(r.HistoricalProtocols, *it.Protocol)
		}
	case it.Metadata != nil:
		if r.Metadata == nil {
			r.Metadata = it.Metadata
		} else {
			r.HistoricalMetadata = append(r.HistoricalMetadata, *it.Metadata)
		}
	case it.File != nil:
		r.Files = append(r.Files, *it.File)
	}
	return nil
}

// Query reads a table's files (a snapshot, a time-travel snapshot, or the changes since a
// version), following every page unless req.SinglePage, and collects them.
//
// Nothing has been handed out before it returns, so a response that breaks off mid-stream (a
// reset connection, a missing EndStreamAction) is requested again from the start, within the
// retry policy.
func (c *Client) Query(ctx context.Context, t protocol.Table, req protocol.QueryRequest) (*QueryResult, error) {
	return c.collect(ctx, func(fn func(protocol.Item) error) (*StreamInfo, error) { return c.QueryStream(ctx, t, req, fn) }, nil, nil)
}

// QueryFiles is Query handing each file line to file as it arrives instead of collecting the
// files (the result's Files stay empty), so that a caller can keep a response of very many
// files somewhere other than in memory. A response that breaks off mid-stream is requested
// again from the start, within the retry policy: begin is called before every attempt, so the
// caller drops what an earlier attempt handed it. An error from begin or file stops the query
// and is returned.
func (c *Client) QueryFiles(ctx context.Context, t protocol.Table, req protocol.QueryRequest, begin func() error, file func(protocol.File) error) (*QueryResult, error) {
	return c.collect(ctx, func(fn func(protocol.Item) error) (*StreamInfo, error) { return c.QueryStream(ctx, t, req, fn) }, begin, file)
}

// collect runs a streamed request into a QueryResult, starting over when the stream breaks.
// With file set, file lines go to it instead of the result.
func (c *Client) collect(ctx context.Context, stream func(fn func(protocol.Item) error) (*StreamInfo, error), begin func() error, file func(protocol.File) error) (*QueryResult, error) {
	var res *QueryResult
	err := c.retry.DoWith(ctx, func(int) error {
		res = &QueryResult{}
		if begin != nil {
			if err := begin(); err != nil {
				return err
			}
		}
		add := res.add
		if file != nil {
			add = func(it protocol.Item) error {
				if it.File != nil {
					return file(*it.File)
				}
				return res.add(it)
			}
		}
		info, err := stream(add)
		if err != nil {
			return err
		}
		res.StreamInfo = *info
		return nil
	}, isMidStream, func(attempt int, wait time.Duration, err error) {
		c.log.Warn("response broke off, requesting it again", "attempt", attempt, "wait", wait, "error", err.Error())
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// midStreamError marks a failure after the response's status was received: a broken or
// truncated body. The request-level retry cannot see it; the collecting forms retry it.
type midStreamError struct{ err error }

func (e *midStreamError) Error() string { return e.err.Error() }
func (e *midStreamError) Unwrap() error { return e.err }

func isMidStream(err error) bool {
	var m *midStreamError
	return errors.As(err, &m) && IsRetryable(err)
}

// QueryStream is Query calling fn for each protocol, metaData and file line as it arrives
// (EndStreamActions are not passed: they are summed up in the returned StreamInfo). The
// protocol and metaData lines repeated at the head of later pages are checked and skipped.
// An error from fn stops the stream and is returned.
func (c *Client) QueryStream(ctx context.Context, t protocol.Table, req protocol.QueryRequest, fn func(protocol.Item) error) (*StreamInfo, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	path := t.Path() + "/query"
	fetch := func(pageToken string, first bool) (*request, error) {
		body := req
		if !first {
			body.PageToken = pageToken
			body.RefreshToken = ""
			body.IncludeRefreshToken = false
		}
		b, err := json.Marshal(&body)
		if err != nil {
			return nil, err
		}
		return &request{method: http.MethodPost, path: path, body: b, caps: true, slowStart: true}, nil
	}
	return c.streamPages(ctx, fetch, req.SinglePage, fn)
}

// Changes reads a table's change data feed between two versions or timestamps, following
// every page unless req.SinglePage, and collects it.
func (c *Client) Changes(ctx context.Context, t protocol.Table, req protocol.ChangesRequest) (*QueryResult, error) {
	return c.collect(ctx, func(fn func(protocol.Item) error) (*StreamInfo, error) { return c.ChangesStream(ctx, t, req, fn) }, nil, nil)
}

// ChangesStream is Changes calling fn for each line as it arrives (see QueryStream).
func (c *Client) ChangesStream(ctx context.Context, t protocol.Table, req protocol.ChangesRequest, fn func(protocol.Item) error) (*StreamInfo, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	path := t.Path() + "/changes"
	fetch := func(pageToken string, first bool) (*request, error) {
		q := url.Values{}
		if req.StartingVersion != nil {
			q.Set("startingVersion", strconv.FormatInt(*req.StartingVersion, 10))
		}
		if req.StartingTimestamp != "" {
			q.Set("startingTimestamp", req.StartingTimestamp)
		}
		if req.EndingVersion != nil {
			q.Set("endingVersion", strconv.FormatInt(*req.EndingVersion, 10))
		}
		if req.EndingTimestamp != "" {
			q.Set("endingTimestamp", req.EndingTimestamp)
		}
		if req.IncludeHistoricalMetadata {
			q.Set("includeHistoricalMetadata", "true")
		}
		if req.IncludeHistoricalProtocol && c.caps.Accepts(protocol.FormatDelta) {
			q.Set("includeHistoricalProtocol", "true")
		}
		if req.MaxFiles != nil {
			q.Set("maxFiles", strconv.Itoa(*req.MaxFiles))
		}
		token := req.PageToken
		if !first {
			token = pageToken
		}
		if token != "" {
			q.Set("pageToken", token)
		}
		return &request{method: http.MethodGet, path: path, query: q, caps: true, slowStart: true}, nil
	}
	return c.streamPages(ctx, fetch, req.SinglePage, fn)
}

// pageInfo is what one page of a streamed response told.
type pageInfo struct {
	version   int64
	format    protocol.ResponseFormat
	end       *protocol.EndStream
	protocol  []byte // encoded head protocol line, for comparison across pages
	metadata  []byte // encoded head metaData line
	sawHeadMD bool
}

// head holds the first page's head lines, which later pages must repeat.
type head struct {
	protocol, metadata []byte
	version            int64
}

func (c *Client) streamPages(ctx context.Context, fetch func(pageToken string, first bool) (*request, error), single bool, fn func(protocol.Item) error) (*StreamInfo, error) {
	info := &StreamInfo{Version: -1}
	token := ""
	var first *head
	var l *listing
	for page := 1; ; page++ {
		r, err := fetch(token, page == 1)
		if err != nil {
			return nil, err
		}
		if l == nil {
			l = c.newListing(r.describe())
		}
		resp, err := c.send(ctx, r, nil)
		if err != nil {
			return nil, err
		}
		pi, err := c.readPage(resp, l, r, page, first, fn)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		info.Pages = page
		info.EndStream = pi.end
		if page == 1 {
			info.Version, info.Format = pi.version, pi.format
			if !pi.sawHeadMD {
				return nil, fmt.Errorf("%s: %w: the response has no metaData line", r.describe(), protocol.ErrProtocol)
			}
			first = &head{protocol: pi.protocol, metadata: pi.metadata, version: pi.version}
			if pi.end != nil {
				info.RefreshToken = pi.end.RefreshToken
			}
		}
		if pi.end != nil && pi.end.MinURLExpirationTimestamp != nil {
			if info.MinURLExpirationTimestamp == nil || *pi.end.MinURLExpirationTimestamp < *info.MinURLExpirationTimestamp {
				v := *pi.end.MinURLExpirationTimestamp
				info.MinURLExpirationTimestamp = &v
			}
		}
		if single || pi.end == nil || pi.end.NextPageToken == "" {
			return info, nil
		}
		next := pi.end.NextPageToken
		if err := l.nextPage(next); err != nil {
			return nil, err
		}
		if exp := info.MinURLExpiration(); !exp.IsZero() && !c.now().Before(exp) {
			return nil, fmt.Errorf("%s: the file URLs of the first %d page(s) expired at %s before the next page was read: %w; retry, or ask for larger pages (maxFiles)",
				r.describe(), page, exp.Format(time.RFC3339), protocol.ErrTruncated)
		}
		token = next
	}
}

// readPage decodes one response page, applying the end-of-stream rules, and passes its items
// to fn. On pages after the first (first != nil) the head protocol and metaData lines are
// compared with the first page's and skipped.
func (c *Client) readPage(resp *http.Response, l *listing, r *request, page int, first *head, fn func(protocol.Item) error) (*pageInfo, error) {
	pi := &pageInfo{version: -1}
	v, ok, err := versionHeader(resp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.describe(), err)
	}
	if ok {
		pi.version = v
	}
	if first != nil && first.version >= 0 && pi.version >= 0 && pi.version != first.version {
		return nil, fmt.Errorf("%s: %w: page %d is of table version %d, the first page of version %d", r.describe(), protocol.ErrProtocol, page, pi.version, first.version)
	}
	respCaps := protocol.ParseCapabilities(resp.Header.Get(protocol.HeaderCapabilities))
	var headerFormat protocol.ResponseFormat
	if fs := respCaps[protocol.CapResponseFormat]; len(fs) > 0 {
		headerFormat = protocol.ResponseFormat(fs[0])
	}
	promised := c.caps.IncludeEndStreamAction && len(respCaps[protocol.CapIncludeEndStreamAction]) > 0 && respCaps[protocol.CapIncludeEndStreamAction][0] == "true"

	dec := protocol.NewDecoder(l.body(resp.Body))
	dec.SetMaxLineBytes(c.limits.MaxLineBytes)
	lastWasEnd := false
	sawHeadProto := false
	for {
		it, err := dec.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var le *protocol.LineError
			if errors.As(err, &le) {
				return nil, fmt.Errorf("%s: %w", r.describe(), err)
			}
			if errors.Is(err, protocol.ErrLineTooLong) {
				return nil, fmt.Errorf("%s: %w (Limits.MaxLineBytes raises the bound)", r.describe(), err)
			}
			if errors.Is(err, ErrResponseLimit) {
				return nil, err
			}
			return nil, &midStreamError{err}
		}
		lastWasEnd = it.EndStream != nil
		if it.EndStream != nil {
			es := *it.EndStream
			pi.end = &es
			if err := es.Err(); err != nil {
				var ae *protocol.APIError
				if errors.As(err, &ae) {
					ae.Method, ae.URL = r.method, r.path
				}
				return nil, err
			}
			continue
		}
		if it.Format != "" {
			if !c.caps.Accepts(it.Format) {
				return nil, fmt.Errorf("%s: %w: the server answered in the %s format, which was not asked for", r.describe(), protocol.ErrProtocol, it.Format)
			}
			if pi.format == "" {
				pi.format = it.Format
			}
		}
		if it.Protocol != nil && !sawHeadProto {
			sawHeadProto = true
			line, _ := protocol.EncodeDeltaLine(it)
			if first != nil {
				if !bytes.Equal(line, first.protocol) {
					return nil, fmt.Errorf("%s: %w: page %d has a different protocol than the first page", r.describe(), protocol.ErrProtocol, page)
				}
				continue
			}
			pi.protocol = line
		} else if it.Metadata != nil && !pi.sawHeadMD {
			pi.sawHeadMD = true
			line, _ := protocol.EncodeDeltaLine(it)
			if first != nil {
				if !bytes.Equal(line, first.metadata) {
					return nil, fmt.Errorf("%s: %w: page %d has different table metadata than the first page", r.describe(), protocol.ErrProtocol, page)
				}
				continue
			}
			pi.metadata = line
		}
		if fn != nil {
			if err := fn(it); err != nil {
				return nil, err
			}
		}
	}
	// The lines are the truth; the header speaks for responses without format-specific lines.
	if pi.format == "" {
		pi.format = headerFormat
	}
	if pi.format == "" {
		pi.format = protocol.FormatParquet
	}
	if promised && !lastWasEnd {
		return nil, &midStreamError{fmt.Errorf("%s: %w: the server promised an EndStreamAction and the response ended without one after %d lines; retry", r.describe(), protocol.ErrTruncated, dec.Line())}
	}
	return pi, nil
}
