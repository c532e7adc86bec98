package sharing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deltashare/deltashare/sharing/protocol"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testToken = "test-bearer-token-must-not-leak"

// recorded is one request seen by a test server.
type recorded struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

// testServer is an httptest server on loopback recording every request under /api.
type testServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

func newTestServer(t *testing.T, h http.HandlerFunc) *testServer {
	t.Helper()
	ts := &testServer{}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts.mu.Lock()
		ts.reqs = append(ts.reqs, recorded{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
		ts.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		h(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *testServer) requests() []recorded {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]recorded(nil), ts.reqs...)
}

func (ts *testServer) count() int { return len(ts.requests()) }

// sleepRecorder replaces real sleeping in retry tests.
type sleepRecorder struct {
	mu     sync.Mutex
	sleeps []time.Duration
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.sleeps = append(s.sleeps, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleepRecorder) get() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.sleeps...)
}

// testTable is the table of the test servers' handlers.
var testTable = protocol.Table{Share: "s", Schema: "d", Name: "t"}

func bearerProfile(endpoint string) *Profile {
	return &Profile{ShareCredentialsVersion: 1, Type: ProfileTypeBearerToken, Endpoint: endpoint, BearerToken: testToken}
}

// newTestClient returns a client for ts with retries that do not sleep.
func newTestClient(t *testing.T, ts *testServer, opts ...Option) (*Client, *sleepRecorder) {
	t.Helper()
	sr := &sleepRecorder{}
	all := append([]Option{WithRetryPolicy(RetryPolicy{Sleep: sr.sleep})}, opts...)
	c, err := NewClient(bearerProfile(ts.URL+"/api/"), all...)
	require.NoError(t, err)
	return c, sr
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeNDJSON(w http.ResponseWriter, version string, caps string, body []byte) {
	w.Header().Set("Content-Type", "application/x-ndjson; charset=utf-8")
	if version != "" {
		w.Header().Set(protocol.HeaderTableVersion, version)
	}
	if caps != "" {
		w.Header().Set(protocol.HeaderCapabilities, caps)
	}
	_, _ = w.Write(body)
}

// secretsIn fails the test if s holds a secret.
func assertNoLeak(t *testing.T, s string) {
	t.Helper()
	for _, secret := range []string{testToken, "must-not-leak", "private-secret", "signed-url-secret", "fixture-client-secret", "client-secret-xyz"} {
		assert.NotContains(t, s, secret)
	}
}

// discoveryServer serves the discovery fixtures (two shares listed on two pages, their schemas
// and tables); other paths answer 404 with notFound's body.
func discoveryServer(t *testing.T, notFound func(path string) protocol.ErrorBody) *testServer {
	fixtures := map[string][]byte{}
	for _, name := range []string{"shares-page-1.json", "shares-page-2.json", "schemas-sales.json", "schemas-operations.json", "tables-sales.json", "tables-operations.json"} {
		fixtures[name] = readFixture(t, "discovery", name)
	}
	byPath := map[string]string{
		"/api/shares/sales/schemas":                       "schemas-sales.json",
		"/api/shares/operations/schemas":                  "schemas-operations.json",
		"/api/shares/sales/all-tables":                    "tables-sales.json",
		"/api/shares/operations/schemas/reporting/tables": "tables-operations.json",
	}
	return newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch name, ok := byPath[r.URL.Path]; {
		case ok:
			writeRaw(w, 200, fixtures[name])
		case r.URL.Path == "/api/shares" && r.URL.Query().Get("pageToken") == "page-2":
			writeRaw(w, 200, fixtures["shares-page-2.json"])
		case r.URL.Path == "/api/shares":
			writeRaw(w, 200, fixtures["shares-page-1.json"])
		case r.URL.Path == "/api/shares/sales":
			writeJSON(w, 200, protocol.GetShareResponse{Share: protocol.Share{Name: "sales", ID: "share-sales"}})
		default:
			writeJSON(w, 404, notFound(r.URL.Path))
		}
	})
}

func TestListingsFromFixtures(t *testing.T) {
	ts := discoveryServer(t, func(path string) protocol.ErrorBody {
		return protocol.ErrorBody{ErrorCode: "RESOURCE_DOES_NOT_EXIST", Message: "no " + path}
	})
	c, _ := newTestClient(t, ts, WithPageSize(1))
	ctx := context.Background()

	shares, err := c.ListShares(ctx)
	require.NoError(t, err)
	assert.Equal(t, []protocol.Share{{Name: "sales", ID: "share-sales"}, {Name: "operations", ID: "share-operations"}}, shares)
	reqs := ts.requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "maxResults=1", reqs[0].RawQuery)
	assert.Equal(t, "maxResults=1&pageToken=page-2", reqs[1].RawQuery)
	assert.Equal(t, "Bearer "+testToken, reqs[0].Header.Get("Authorization"))
	assert.Equal(t, "deltashare/"+Version, reqs[0].Header.Get("User-Agent"))
	assert.Empty(t, reqs[0].Header.Get(protocol.HeaderCapabilities), "listings carry no capabilities")

	share, err := c.GetShare(ctx, "sales")
	require.NoError(t, err)
	assert.Equal(t, protocol.Share{Name: "sales", ID: "share-sales"}, share)

	schemas, err := c.ListSchemas(ctx, "sales")
	require.NoError(t, err)
	assert.Equal(t, []protocol.Schema{{Name: "default", Share: "sales"}, {Name: "analytics", Share: "sales"}}, schemas)

	schemas, err = c.ListSchemas(ctx, "operations")
	require.NoError(t, err)
	assert.Equal(t, []protocol.Schema{{Name: "reporting", Share: "operations"}}, schemas)

	tables, err := c.ListAllTables(ctx, "sales")
	require.NoError(t, err)
	require.Len(t, tables, 2)
	assert.Equal(t, protocol.Table{Share: "sales", Schema: "default", Name: "orders"}, tables[0].Table())
	assert.Equal(t, "share-sales", tables[0].ShareID)
	assert.Equal(t, "table-orders", tables[0].ID)
	assert.Equal(t, []string{"url", "dir"}, tables[0].AccessModes)
	assert.Equal(t, protocol.Table{Share: "sales", Schema: "analytics", Name: "forecast"}, tables[1].Table())
	for _, tb := range tables {
		assertNoLeak(t, tb.String())
		assertNoLeak(t, fmt.Sprintf("%v %+v", tb, tb))
	}

	tables, err = c.ListTables(ctx, "operations", "reporting")
	require.NoError(t, err)
	require.Len(t, tables, 1)
	assert.Equal(t, "incidents", tables[0].Name)

	_, err = c.ListTables(ctx, "operations", "nope")
	require.ErrorIs(t, err, protocol.ErrNotFound)
	assert.Contains(t, err.Error(), "RESOURCE_DOES_NOT_EXIST")
	assert.Contains(t, err.Error(), "GET /shares/operations/schemas/nope/tables")
}

func TestListingPagesAndEdgeCases(t *testing.T) {
	tests := []struct {
		name    string
		pages   map[string]string // pageToken -> body
		want    []protocol.Share
		wantErr error
	}{
		{name: "missing items", pages: map[string]string{"": `{}`}, want: []protocol.Share{}},
		{name: "empty items, empty token", pages: map[string]string{"": `{"items":[],"nextPageToken":""}`}, want: []protocol.Share{}},
		{name: "empty body", pages: map[string]string{"": ``}, want: []protocol.Share{}},
		{name: "three pages with an empty middle page", pages: map[string]string{
			"":   `{"items":[{"name":"a"}],"nextPageToken":"t1"}`,
			"t1": `{"nextPageToken":"t2"}`,
			"t2": `{"items":[{"name":"b"},{"name":"c"}]}`,
		}, want: []protocol.Share{{Name: "a"}, {Name: "b"}, {Name: "c"}}},
		{name: "same token forever", pages: map[string]string{
			"":     `{"items":[{"name":"a"}],"nextPageToken":"loop"}`,
			"loop": `{"items":[{"name":"b"}],"nextPageToken":"loop"}`,
		}, wantErr: protocol.ErrProtocol},
		{name: "not json", pages: map[string]string{"": `<html>`}, wantErr: protocol.ErrProtocol},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				writeRaw(w, 200, []byte(tc.pages[r.URL.Query().Get("pageToken")]))
			})
			c, _ := newTestClient(t, ts)
			got, err := c.ListShares(context.Background())
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				assert.Less(t, ts.count(), 5)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Empty(t, ts.requests()[0].RawQuery, "no maxResults by default")
		})
	}
}

func TestListAllTablesFallback(t *testing.T) {
	all := readFixture(t, "discovery", "tables-sales.json")
	schemasSales := readFixture(t, "discovery", "schemas-sales.json")
	var page protocol.Page[protocol.TableInfo]
	require.NoError(t, json.Unmarshal(all, &page))
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/shares/sales/all-tables":
			writeJSON(w, 404, map[string]string{"error_code": "ENDPOINT_NOT_FOUND", "message": "no all-tables here"})
		case "/api/shares/sales/schemas":
			writeRaw(w, 200, schemasSales)
		case "/api/shares/sales/schemas/default/tables", "/api/shares/sales/schemas/analytics/tables":
			schema := strings.Split(r.URL.Path, "/")[5]
			var items []protocol.TableInfo
			for _, it := range page.Items {
				if it.Schema == schema {
					items = append(items, it)
				}
			}
			writeJSON(w, 200, protocol.Page[protocol.TableInfo]{Items: items})
		default:
			writeJSON(w, 404, protocol.ErrorBody{ErrorCode: "NOT_FOUND"})
		}
	})
	c, _ := newTestClient(t, ts)
	tables, err := c.ListAllTables(context.Background(), "sales")
	require.NoError(t, err)
	require.Len(t, tables, 2)
	assert.Equal(t, "orders", tables[0].Name)
	assert.Equal(t, "forecast", tables[1].Name)
	assert.Equal(t, 4, ts.count())

	_, err = c.ListAllTables(context.Background(), "nosuch")
	require.ErrorIs(t, err, protocol.ErrNotFound)
}

func TestTableVersion(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/shares/s/schemas/d/tables/t/version":
			if r.URL.Query().Get("startingTimestamp") != "" {
				w.Header().Set(protocol.HeaderTableVersion, "3")
			} else {
				w.Header().Set(protocol.HeaderTableVersion, "17")
			}
		case "/api/shares/s/schemas/d/tables/noheader/version":
		case "/api/shares/s/schemas/d/tables/bad/version":
			w.Header().Set(protocol.HeaderTableVersion, "x")
		case "/api/shares/my%20share/schemas/d/tables/t/version", "/api/shares/my share/schemas/d/tables/t/version":
			w.Header().Set(protocol.HeaderTableVersion, "5")
		default:
			writeJSON(w, 404, protocol.ErrorBody{})
		}
	})
	c, _ := newTestClient(t, ts)
	ctx := context.Background()
	v, err := c.TableVersion(ctx, testTable, "")
	require.NoError(t, err)
	assert.Equal(t, int64(17), v)
	v, err = c.TableVersion(ctx, testTable, "2022-01-01T00:00:00Z")
	require.NoError(t, err)
	assert.Equal(t, int64(3), v)
	reqs := ts.requests()
	assert.Equal(t, "GET", reqs[1].Method)
	assert.Equal(t, "startingTimestamp=2022-01-01T00%3A00%3A00Z", reqs[1].RawQuery)
	_, err = c.TableVersion(ctx, protocol.Table{Share: "s", Schema: "d", Name: "noheader"}, "")
	require.ErrorIs(t, err, protocol.ErrProtocol)
	assert.Contains(t, err.Error(), protocol.HeaderTableVersion)
	_, err = c.TableVersion(ctx, protocol.Table{Share: "s", Schema: "d", Name: "bad"}, "")
	require.ErrorIs(t, err, protocol.ErrProtocol)
	v, err = c.TableVersion(ctx, protocol.Table{Share: "my share", Schema: "d", Name: "t"}, "")
	require.NoError(t, err)
	assert.Equal(t, int64(5), v)
	_, err = c.TableVersion(ctx, protocol.Table{Share: "s", Schema: "", Name: "t"}, "")
	require.Error(t, err)
}

func TestMetadataBothFormats(t *testing.T) {
	tests := []struct {
		name       string
		fixture    string
		respCaps   string
		opts       protocol.MetadataOptions
		wantQuery  string
		wantFormat protocol.ResponseFormat
		check      func(t *testing.T, tm *protocol.TableMetadata)
	}{
		{name: "parquet, no response header", fixture: "table-metadata-parquet.ndjson", wantFormat: protocol.FormatParquet,
			check: func(t *testing.T, tm *protocol.TableMetadata) {
				assert.Equal(t, int64(12), tm.Version)
				assert.Equal(t, 1, tm.Protocol.MinReaderVersion)
				assert.Equal(t, "table-id", tm.Metadata.ID)
			}},
		{name: "delta with header, at version", fixture: "table-metadata-delta.ndjson", respCaps: "responseformat=delta",
			opts: protocol.MetadataOptions{Version: i64(12)}, wantQuery: "version=12", wantFormat: protocol.FormatDelta,
			check: func(t *testing.T, tm *protocol.TableMetadata) {
				assert.Equal(t, 3, tm.Protocol.MinReaderVersion)
				assert.True(t, tm.Protocol.HasReaderFeature("deletionVectors"))
				assert.Equal(t, i64(2048), tm.Size)
				assert.Equal(t, i64(3), tm.NumFiles)
			}},
		{name: "delta inferred from lines, at timestamp", fixture: "table-metadata-delta.ndjson",
			opts: protocol.MetadataOptions{Timestamp: "2024-01-01T00:00:00Z"}, wantQuery: "timestamp=2024-01-01T00%3A00%3A00Z", wantFormat: protocol.FormatDelta},
		{name: "private locations", fixture: "table-metadata-private.ndjson", wantFormat: protocol.FormatParquet,
			check: func(t *testing.T, tm *protocol.TableMetadata) {
				assert.Equal(t, []string{"url", "dir"}, tm.AccessModes)
				assertNoLeak(t, tm.String())
				assertNoLeak(t, fmt.Sprintf("%v %+v %#v", tm, *tm, *tm))
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := readFixture(t, "ndjson", tc.fixture)
			ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				writeNDJSON(w, "12", tc.respCaps, body)
			})
			c, _ := newTestClient(t, ts)
			tm, err := c.Metadata(context.Background(), testTable, tc.opts)
			require.NoError(t, err)
			assert.Equal(t, tc.wantFormat, tm.Format)
			req := ts.requests()[0]
			assert.Equal(t, "/api/shares/s/schemas/d/tables/t/metadata", req.Path)
			assert.Equal(t, tc.wantQuery, req.RawQuery)
			assert.Equal(t, "responseformat=delta,parquet;readerfeatures=deletionvectors,columnmapping,timestampntz;includeendstreamaction=true",
				req.Header.Get(protocol.HeaderCapabilities))
			if tc.check != nil {
				tc.check(t, tm)
			}
		})
	}
}

func TestMetadataErrors(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeNDJSON(w, "1", "", []byte(`{"protocol":{"minReaderVersion":1}}`+"\n"))
	})
	c, _ := newTestClient(t, ts)
	_, err := c.Metadata(context.Background(), testTable, protocol.MetadataOptions{})
	require.ErrorIs(t, err, protocol.ErrProtocol)
	_, err = c.Metadata(context.Background(), testTable, protocol.MetadataOptions{Version: i64(1), Timestamp: "x"})
	require.ErrorIs(t, err, protocol.ErrBadRequest)
}

// pagedQueryServer serves the two snapshot fixture pages, picking by the request's page token.
func pagedQueryServer(t *testing.T, caps string) *testServer {
	p1 := readFixture(t, "ndjson", "snapshot-page-1.ndjson")
	p2 := readFixture(t, "ndjson", "snapshot-page-2.ndjson")
	return newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		var req protocol.QueryRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeJSON(w, 400, protocol.ErrorBody{ErrorCode: "MALFORMED"})
			return
		}
		switch req.PageToken {
		case "":
			writeNDJSON(w, "42", caps, p1)
		case "next-page-token-private-secret":
			writeNDJSON(w, "42", caps, p2)
		default:
			writeJSON(w, 400, protocol.ErrorBody{ErrorCode: "BAD_TOKEN"})
		}
	})
}

func TestQueryPagingAndRefreshToken(t *testing.T) {
	ts := pagedQueryServer(t, "responseformat=delta;includeendstreamaction=true")
	c, _ := newTestClient(t, ts, WithClock(func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }))
	res, err := c.Query(context.Background(), testTable, protocol.QueryRequest{
		PredicateHints: []string{"id > 0"}, JSONPredicateHints: `{"op":"isNull","children":[{"op":"column","name":"id","valueType":"long"}]}`,
		LimitHint: i64(10), IncludeRefreshToken: true, MaxFiles: new(1),
	})
	require.NoError(t, err)
	assert.Equal(t, 2, res.Pages)
	assert.Equal(t, int64(42), res.Version)
	assert.Equal(t, protocol.FormatDelta, res.Format)
	require.NotNil(t, res.Protocol)
	require.NotNil(t, res.Metadata)
	assert.Equal(t, "paged-table", res.Metadata.Metadata.ID)
	assert.Empty(t, res.HistoricalMetadata, "the repeated head lines of page 2 are skipped")
	require.Len(t, res.Files, 2)
	assert.Equal(t, "file-a", res.Files[0].ID)
	assert.Equal(t, "file-b", res.Files[1].ID)
	assert.Equal(t, "refresh-token-private-secret", res.RefreshToken)
	assert.Equal(t, i64(4102444700000), res.MinURLExpirationTimestamp)
	assert.Equal(t, "", res.EndStream.NextPageToken)
	tm := res.TableMetadata()
	assert.Equal(t, int64(42), tm.Version)

	reqs := ts.requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, http.MethodPost, reqs[0].Method)
	assert.Equal(t, "/api/shares/s/schemas/d/tables/t/query", reqs[0].Path)
	assert.Equal(t, "application/json; charset=utf-8", reqs[0].Header.Get("Content-Type"))
	var first, second map[string]any
	require.NoError(t, json.Unmarshal(reqs[0].Body, &first))
	require.NoError(t, json.Unmarshal(reqs[1].Body, &second))
	assert.Equal(t, map[string]any{
		"predicateHints": []any{"id > 0"}, "jsonPredicateHints": `{"op":"isNull","children":[{"op":"column","name":"id","valueType":"long"}]}`,
		"limitHint": 10.0, "includeRefreshToken": true, "maxFiles": 1.0,
	}, first)
	assert.Equal(t, "next-page-token-private-secret", second["pageToken"])
	assert.Nil(t, second["includeRefreshToken"])
	assert.Equal(t, 1.0, second["maxFiles"])
	assertNoLeak(t, fmt.Sprintf("%v %v %v", res.Files, res.EndStream, res.Metadata))
}

func TestQuerySinglePageAndContinue(t *testing.T) {
	ts := pagedQueryServer(t, "responseformat=delta")
	c, _ := newTestClient(t, ts)
	res, err := c.Query(context.Background(), testTable, protocol.QueryRequest{SinglePage: true})
	require.NoError(t, err)
	require.Len(t, res.Files, 1)
	require.NotNil(t, res.EndStream)
	next := res.EndStream.NextPageToken
	assert.Equal(t, "next-page-token-private-secret", next)
	res, err = c.Query(context.Background(), testTable, protocol.QueryRequest{SinglePage: true, PageToken: next})
	require.NoError(t, err)
	require.Len(t, res.Files, 1)
	assert.Equal(t, "file-b", res.Files[0].ID)
	assert.Equal(t, 2, ts.count())
}

func TestQueryStreamCallback(t *testing.T) {
	ts := pagedQueryServer(t, "")
	c, _ := newTestClient(t, ts)
	var kinds []string
	info, err := c.QueryStream(context.Background(), testTable, protocol.QueryRequest{}, func(it protocol.Item) error {
		kinds = append(kinds, it.String()[:4])
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"Prot", "Meta", "File", "File"}, kinds)
	assert.Equal(t, 2, info.Pages)

	stop := errors.New("enough")
	_, err = c.QueryStream(context.Background(), testTable, protocol.QueryRequest{}, func(it protocol.Item) error {
		if it.File != nil {
			return stop
		}
		return nil
	})
	require.ErrorIs(t, err, stop)
}

func TestQueryPagingRules(t *testing.T) {
	p1 := readFixture(t, "ndjson", "snapshot-page-1.ndjson")
	otherMeta := bytes.Replace(readFixture(t, "ndjson", "snapshot-page-2.ndjson"), []byte("paged-table"), []byte("other-table"), 1)
	loop := bytes.Replace(p1, []byte(`"refreshToken"`), []byte(`"x"`), 1)
	tests := []struct {
		name    string
		page2   []byte
		v2      string
		now     time.Time
		wantErr error
		msg     string
	}{
		{name: "metadata changes between pages", page2: otherMeta, v2: "42", wantErr: protocol.ErrProtocol, msg: "different table metadata"},
		{name: "version changes between pages", page2: readFixture(t, "ndjson", "snapshot-page-2.ndjson"), v2: "43", wantErr: protocol.ErrProtocol, msg: "table version 43"},
		{name: "page token repeats", page2: loop, v2: "42", wantErr: protocol.ErrProtocol, msg: "repeated a page token"},
		{name: "urls expired before the next page", page2: nil, v2: "42", now: time.Date(2101, 1, 1, 0, 0, 0, 0, time.UTC), wantErr: protocol.ErrTruncated, msg: "expired"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				var req protocol.QueryRequest
				_ = json.NewDecoder(r.Body).Decode(&req)
				if req.PageToken == "" {
					writeNDJSON(w, "42", "", p1)
				} else {
					writeNDJSON(w, tc.v2, "", tc.page2)
				}
			})
			now := tc.now
			if now.IsZero() {
				now = time.Now()
			}
			c, _ := newTestClient(t, ts, WithClock(func() time.Time { return now }))
			_, err := c.Query(context.Background(), testTable, protocol.QueryRequest{})
			require.ErrorIs(t, err, tc.wantErr)
			assert.Contains(t, err.Error(), tc.msg)
			assertNoLeak(t, err.Error())
		})
	}
}

func TestChangesPaging(t *testing.T) {
	p1 := readFixture(t, "ndjson", "cdf-page-1.ndjson")
	p2 := readFixture(t, "ndjson", "cdf-page-2.ndjson")
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("pageToken") == "cdf-page-two" {
			writeNDJSON(w, "", "responseformat=delta;includeendstreamaction=true", p2)
		} else {
			writeNDJSON(w, "", "responseformat=delta;includeendstreamaction=true", p1)
		}
	})
	c, _ := newTestClient(t, ts, WithClock(func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }))
	res, err := c.Changes(context.Background(), testTable, protocol.ChangesRequest{
		StartingVersion: i64(1), EndingVersion: i64(2), IncludeHistoricalMetadata: true, MaxFiles: new(1),
	})
	require.NoError(t, err)
	assert.Equal(t, int64(-1), res.Version)
	assert.Equal(t, protocol.FormatDelta, res.Format)
	require.Len(t, res.Files, 2)
	assert.Equal(t, protocol.FileRemove, res.Files[0].Kind)
	assert.Equal(t, protocol.FileCDF, res.Files[1].Kind)
	assert.Equal(t, "changed-two", res.Files[1].ID)
	reqs := ts.requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, http.MethodGet, reqs[0].Method)
	assert.Equal(t, "/api/shares/s/schemas/d/tables/t/changes", reqs[0].Path)
	assert.Equal(t, "endingVersion=2&includeHistoricalMetadata=true&maxFiles=1&startingVersion=1", reqs[0].RawQuery)
	assert.Equal(t, "endingVersion=2&includeHistoricalMetadata=true&maxFiles=1&pageToken=cdf-page-two&startingVersion=1", reqs[1].RawQuery)
	assert.NotEmpty(t, reqs[0].Header.Get(protocol.HeaderCapabilities))

	_, err = c.Changes(context.Background(), testTable, protocol.ChangesRequest{})
	require.ErrorIs(t, err, protocol.ErrBadRequest)
	_, err = c.Changes(context.Background(), testTable, protocol.ChangesRequest{StartingTimestamp: "2024-01-01T00:00:00Z", EndingTimestamp: "2024-02-01T00:00:00Z"})
	require.NoError(t, err)
	assert.Equal(t, "endingTimestamp=2024-02-01T00%3A00%3A00Z&startingTimestamp=2024-01-01T00%3A00%3A00Z", ts.requests()[2].RawQuery)
}

func TestEndStreamRules(t *testing.T) {
	head := `{"protocol":{"minReaderVersion":1}}` + "\n" +
		`{"metaData":{"id":"t","format":{"provider":"parquet"},"schemaString":"{}","partitionColumns":[]}}` + "\n" +
		`{"file":{"url":"https://x/a.parquet?sig=signed-url-secret","id":"a","partitionValues":{},"size":1}}` + "\n"
	tests := []struct {
		name     string
		caps     protocol.Capabilities
		respCaps string
		tail     string
		wantErr  error
		msg      string
		status   int
	}{
		{name: "promised and present (wrapped)", caps: protocol.DefaultCapabilities(), respCaps: "includeendstreamaction=true", tail: `{"endStreamAction":{}}`},
		{name: "promised and present (bare)", caps: protocol.DefaultCapabilities(), respCaps: "includeendstreamaction=true", tail: `{"minUrlExpirationTimestamp":4102444800000}`},
		{name: "promised and missing", caps: protocol.DefaultCapabilities(), respCaps: "responseformat=parquet;includeendstreamaction=true", wantErr: protocol.ErrTruncated, msg: "response truncated"},
		{name: "not promised by the server", caps: protocol.DefaultCapabilities(), respCaps: "includeendstreamaction=false"},
		{name: "no response header", caps: protocol.DefaultCapabilities()},
		{name: "not asked for, server says true", caps: protocol.Capabilities{ResponseFormats: []protocol.ResponseFormat{protocol.FormatParquet}}, respCaps: "includeendstreamaction=true"},
		{name: "error message", caps: protocol.DefaultCapabilities(), respCaps: "includeendstreamaction=true",
			tail: `{"endStreamAction":{"errorMessage":"storage failure at https://x/y?sig=must-not-leak","httpStatusErrorCode":500}}`, wantErr: protocol.ErrServer, msg: "storage failure", status: 500},
		{name: "error message without header, bare", caps: protocol.DefaultCapabilities(), tail: `{"errorMessage":"query failed"}`, msg: "query failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := head
			if tc.tail != "" {
				body += tc.tail + "\n"
			}
			ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				writeNDJSON(w, "1", tc.respCaps, []byte(body))
			})
			c, _ := newTestClient(t, ts, WithCapabilities(tc.caps))
			res, err := c.Query(context.Background(), testTable, protocol.QueryRequest{})
			if tc.msg == "" {
				require.NoError(t, err)
				assert.Len(t, res.Files, 1)
				return
			}
			require.Error(t, err)
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
			}
			assert.Contains(t, err.Error(), tc.msg)
			assertNoLeak(t, err.Error())
			if tc.status != 0 {
				var ae *protocol.APIError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, tc.status, ae.Status)
				assert.Equal(t, "POST", ae.Method)
			}
			if errors.Is(err, protocol.ErrTruncated) {
				assert.Equal(t, 5, ts.count(), "Query asks again for a truncated response, within the retry policy")
			} else {
				assert.Equal(t, 1, ts.count(), "a server's error is final")
			}
		})
	}
}

func TestQueryBrokenStreamIsRequestedAgain(t *testing.T) {
	good := readFixture(t, "ndjson", "snapshot-page-2.ndjson")
	tests := []struct {
		name    string
		breakIt func(w http.ResponseWriter)
	}{
		{name: "end stream missing", breakIt: func(w http.ResponseWriter) {
			writeNDJSON(w, "42", "includeendstreamaction=true", bytes.TrimSuffix(good, []byte(`{"minUrlExpirationTimestamp":4102444700000}`+"\n")))
		}},
		{name: "connection closes mid-body", breakIt: func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", fmt.Sprint(len(good)+1000))
			writeNDJSON(w, "42", "", good[:len(good)/2])
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1)%2 == 1 {
					tc.breakIt(w)
					return
				}
				writeNDJSON(w, "42", "includeendstreamaction=true", good)
			})
			c, sr := newTestClient(t, ts)
			assertQueryRetriedOnce(t, c, ts, sr)

			// The streaming form has handed out items already: it reports the break.
			_, err := c.QueryStream(context.Background(), testTable, protocol.QueryRequest{}, func(protocol.Item) error { return nil })
			require.Error(t, err)
			assert.True(t, IsRetryable(err), "%v", err)
			assert.Equal(t, 3, ts.count())

			// QueryFiles asks again too, after begin lets the caller drop the first attempt's files.
			n.Store(0) // the next response breaks off again
			var files []protocol.File
			begins := 0
			res, err := c.QueryFiles(context.Background(), testTable, protocol.QueryRequest{},
				func() error { begins++; files = files[:0]; return nil },
				func(f protocol.File) error { files = append(files, f); return nil })
			require.NoError(t, err)
			assert.Empty(t, res.Files, "the files went to the callback")
			assert.NotNil(t, res.Metadata)
			assert.Len(t, files, 1)
			assert.Equal(t, 2, begins)
			assert.Equal(t, 5, ts.count())
		})
	}
}

func TestMetadataTruncatedIsRetried(t *testing.T) {
	var n atomic.Int32
	fixture := readFixture(t, "ndjson", "table-metadata-parquet.ndjson")
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		body := append([]byte(nil), fixture...)
		if n.Add(1) > 1 {
			body = append(body, []byte(`{"endStreamAction":{}}`+"\n")...)
		}
		writeNDJSON(w, "3", "includeendstreamaction=true", body)
	})
	c, sr := newTestClient(t, ts)
	tm, err := c.Metadata(context.Background(), testTable, protocol.MetadataOptions{})
	require.NoError(t, err)
	assert.Equal(t, "table-id", tm.Metadata.ID)
	assert.Equal(t, 2, ts.count())
	assert.Len(t, sr.get(), 1)
}

func TestCapabilities(t *testing.T) {
	delta := `{"protocol":{"deltaProtocol":{"minReaderVersion":3,"minWriterVersion":7}}}` + "\n" +
		`{"metaData":{"deltaMetadata":{"id":"t","format":{"provider":"parquet"},"schemaString":"{}","partitionColumns":[],"configuration":{}}}}` + "\n"
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeNDJSON(w, "1", "", []byte(delta))
	})
	parquetOnly := protocol.Capabilities{ResponseFormats: []protocol.ResponseFormat{protocol.FormatParquet}, ReaderFeatures: []string{"deletionvectors"}}
	c, _ := newTestClient(t, ts, WithCapabilities(parquetOnly))
	_, err := c.Metadata(context.Background(), testTable, protocol.MetadataOptions{})
	require.ErrorIs(t, err, protocol.ErrProtocol)
	assert.Contains(t, err.Error(), "delta format, which was not asked for")
	assert.Equal(t, "responseformat=parquet", ts.requests()[0].Header.Get(protocol.HeaderCapabilities))

	c, _ = newTestClient(t, ts, WithCapabilities(protocol.Capabilities{ResponseFormats: []protocol.ResponseFormat{protocol.FormatDelta}, ReaderFeatures: []string{"deletionVectors"}}))
	tm, err := c.Metadata(context.Background(), testTable, protocol.MetadataOptions{})
	require.NoError(t, err)
	assert.Equal(t, protocol.FormatDelta, tm.Format)
	assert.Equal(t, "responseformat=delta;readerfeatures=deletionvectors", ts.requests()[1].Header.Get(protocol.HeaderCapabilities))

	assert.Equal(t, map[string][]string{"responseformat": {"delta"}, "readerfeatures": {"a", "b"}}, protocol.ParseCapabilities(" ResponseFormat=Delta ; readerfeatures=a, b;junk;=x"))
	assert.False(t, protocol.Capabilities{}.Accepts(protocol.FormatDelta))
	assert.True(t, protocol.Capabilities{}.Accepts(protocol.FormatParquet))
	assert.Equal(t, "", protocol.Capabilities{}.Header())
}

func TestHugeLineThroughClient(t *testing.T) {
	stats := `{"numRecords":1,"pad":"` + strings.Repeat("s", 8<<20) + `"}`
	var body bytes.Buffer
	enc := protocol.NewEncoder(&body, protocol.FormatParquet)
	require.NoError(t, enc.Protocol(protocol.ProtocolAction{}))
	require.NoError(t, enc.Metadata(protocol.MetadataAction{Metadata: metaFor("t")}))
	require.NoError(t, enc.File(protocol.File{Kind: protocol.FileAdd, ID: "huge", URL: "https://x/h", Size: 1, Stats: stats}))
	require.NoError(t, enc.EndStream(protocol.EndStream{}))
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeNDJSON(w, "1", "includeendstreamaction=true", body.Bytes())
	})
	c, _ := newTestClient(t, ts)
	res, err := c.Query(context.Background(), testTable, protocol.QueryRequest{})
	require.NoError(t, err)
	require.Len(t, res.Files, 1)
	assert.Equal(t, stats, res.Files[0].Stats)
	assert.Equal(t, protocol.FormatParquet, res.Format)
}

func TestRetries(t *testing.T) {
	okBody := []byte(`{"items":[{"name":"s"}]}`)
	tests := []struct {
		name       string
		failures   []func(w http.ResponseWriter) // one per failing attempt, then success
		policy     RetryPolicy
		wantCount  int
		wantErr    error
		wantSleeps []time.Duration
	}{
		{name: "429 with Retry-After", failures: []func(http.ResponseWriter){
			func(w http.ResponseWriter) {
				w.Header().Set("Retry-After", "2")
				writeJSON(w, 429, protocol.ErrorBody{ErrorCode: "TOO_MANY", Message: "slow down"})
			},
		}, wantCount: 2, wantSleeps: []time.Duration{2 * time.Second}},
		{name: "503 burst", failures: []func(http.ResponseWriter){
			func(w http.ResponseWriter) { writeJSON(w, 503, protocol.ErrorBody{}) },
			func(w http.ResponseWriter) { writeJSON(w, 503, protocol.ErrorBody{}) },
			func(w http.ResponseWriter) { writeJSON(w, 502, nil) },
		}, wantCount: 4},
		{name: "connection reset", failures: []func(http.ResponseWriter){resetConnection}, wantCount: 2},
		{name: "gives up after max tries", policy: RetryPolicy{MaxTries: 3}, failures: []func(http.ResponseWriter){
			func(w http.ResponseWriter) { writeJSON(w, 500, protocol.ErrorBody{}) },
			func(w http.ResponseWriter) { writeJSON(w, 500, protocol.ErrorBody{}) },
			func(w http.ResponseWriter) { writeJSON(w, 500, protocol.ErrorBody{ErrorCode: "STILL_BROKEN"}) },
		}, wantCount: 3, wantErr: protocol.ErrServer},
		{name: "no retry on 400", failures: []func(http.ResponseWriter){func(w http.ResponseWriter) { writeJSON(w, 400, protocol.ErrorBody{}) }}, wantCount: 1, wantErr: protocol.ErrBadRequest},
		{name: "no retry on 401", failures: []func(http.ResponseWriter){func(w http.ResponseWriter) { writeJSON(w, 401, protocol.ErrorBody{}) }}, wantCount: 1, wantErr: protocol.ErrUnauthorized},
		{name: "no retry on 404", failures: []func(http.ResponseWriter){func(w http.ResponseWriter) { writeJSON(w, 404, protocol.ErrorBody{}) }}, wantCount: 1, wantErr: protocol.ErrNotFound},
		{name: "no retry on 501", failures: []func(http.ResponseWriter){func(w http.ResponseWriter) { writeJSON(w, 501, protocol.ErrorBody{}) }}, wantCount: 1, wantErr: protocol.ErrServer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1)) - 1
				if i < len(tc.failures) {
					tc.failures[i](w)
					return
				}
				writeRaw(w, 200, okBody)
			})
			sr := &sleepRecorder{}
			p := tc.policy
			p.Sleep = sr.sleep
			c, err := NewClient(bearerProfile(ts.URL+"/api"), WithRetryPolicy(p))
			require.NoError(t, err)
			// Query (a POST, which the HTTP transport never retries by itself) and a listing.
			shares, err := c.ListShares(context.Background())
			assert.Equal(t, tc.wantCount, ts.count())
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				assertNoLeak(t, err.Error())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []protocol.Share{{Name: "s"}}, shares)
			assert.Len(t, sr.get(), tc.wantCount-1)
			if tc.wantSleeps != nil {
				assert.Equal(t, tc.wantSleeps, sr.get())
			}
		})
	}
}

func TestQueryRetriedAfterConnectionReset(t *testing.T) {
	var n atomic.Int32
	body := readFixture(t, "ndjson", "snapshot-page-2.ndjson")
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			resetConnection(w)
			return
		}
		writeNDJSON(w, "42", "", body)
	})
	c, sr := newTestClient(t, ts)
	assertQueryRetriedOnce(t, c, ts, sr)
}

// assertQueryRetriedOnce queries testTable through c and checks that it got its one file on
// the second request to ts, after one wait of our retry (not the transport's).
func assertQueryRetriedOnce(t *testing.T, c *Client, ts *testServer, sr *sleepRecorder) {
	t.Helper()
	res, err := c.Query(context.Background(), testTable, protocol.QueryRequest{})
	require.NoError(t, err)
	assert.Len(t, res.Files, 1)
	assert.Equal(t, 2, ts.count())
	assert.Len(t, sr.get(), 1, "our retry, not the transport's")
}

// resetConnection hijacks the connection and closes it with a TCP reset.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func TestTimeouts(t *testing.T) {
	t.Run("no headers within the timeout", func(t *testing.T) {
		release := make(chan struct{})
		ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		defer close(release)
		c, _ := newTestClient(t, ts, WithTimeout(50*time.Millisecond), WithRetryPolicy(RetryPolicy{MaxTries: 1}))
		_, err := c.ListShares(context.Background())
		require.Error(t, err)
		assert.True(t, IsRetryable(err), "a timeout is retryable: %v", err)
		assert.Contains(t, err.Error(), "no response within")
	})
	t.Run("a slow but steady stream is not cut", func(t *testing.T) {
		ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(protocol.HeaderTableVersion, "1")
			lines := []string{
				`{"protocol":{"minReaderVersion":1}}`,
				`{"metaData":{"id":"t","format":{"provider":"parquet"},"schemaString":"{}","partitionColumns":[]}}`,
			}
			for i := range 6 {
				lines = append(lines, fmt.Sprintf(`{"file":{"url":"https://x/%d","id":"%d","partitionValues":{},"size":1}}`, i, i))
			}
			for _, l := range lines {
				_, _ = io.WriteString(w, l+"\n")
				w.(http.Flusher).Flush()
				time.Sleep(30 * time.Millisecond)
			}
		})
		c, _ := newTestClient(t, ts, WithTimeout(120*time.Millisecond), WithRetryPolicy(RetryPolicy{MaxTries: 1}))
		res, err := c.Query(context.Background(), testTable, protocol.QueryRequest{})
		require.NoError(t, err)
		assert.Len(t, res.Files, 6)
	})
	t.Run("a stalled body fails", func(t *testing.T) {
		release := make(chan struct{})
		ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, `{"protocol":{"minReaderVersion":1}}`+"\n")
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		defer close(release)
		c, _ := newTestClient(t, ts, WithTimeout(50*time.Millisecond), WithRetryPolicy(RetryPolicy{MaxTries: 1}))
		_, err := c.Query(context.Background(), testTable, protocol.QueryRequest{})
		require.Error(t, err)
		assert.True(t, IsRetryable(err), "%v", err)
		assert.Contains(t, err.Error(), "stalled")
	})
	t.Run("caller cancellation is not retried", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			cancel()
			<-r.Context().Done()
		})
		c, sr := newTestClient(t, ts)
		_, err := c.ListShares(ctx)
		require.ErrorIs(t, err, context.Canceled)
		assert.Empty(t, sr.get())
	})
}

func TestExpiredTokenSendsNothing(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { writeRaw(w, 200, []byte(`{}`)) })
	for _, version := range []int{1, 2} {
		p := bearerProfile(ts.URL + "/api")
		p.ShareCredentialsVersion = version
		p.ExpirationTime = time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
		c, err := NewClient(p)
		require.NoError(t, err)
		_, err = c.ListShares(context.Background())
		require.ErrorIs(t, err, protocol.ErrTokenExpired)
		assert.Contains(t, err.Error(), "2020-01-02T03:04:05Z")
		assert.Contains(t, err.Error(), "new")
		assertNoLeak(t, err.Error())
		_, err = c.Query(context.Background(), testTable, protocol.QueryRequest{})
		require.ErrorIs(t, err, protocol.ErrTokenExpired)
	}
	assert.Equal(t, 0, ts.count())
}

func TestAuthOnlyForEndpointHost(t *testing.T) {
	other := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {})
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { writeRaw(w, 200, []byte(`{}`)) })
	c, _ := newTestClient(t, ts)
	resp, err := c.hc.Get(other.URL + "/file.parquet?sig=x")
	require.NoError(t, err)
	resp.Body.Close()
	resp, err = c.HTTPClient().Get(other.URL + "/file.parquet")
	require.NoError(t, err)
	resp.Body.Close()
	for _, r := range other.requests() {
		assert.Empty(t, r.Header.Get("Authorization"))
	}
	_, err = c.ListShares(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "Bearer "+testToken, ts.requests()[0].Header.Get("Authorization"))
}

func TestUserAgent(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { writeRaw(w, 200, []byte(`{}`)) })
	old := Version
	Version = "1.2.3"
	t.Cleanup(func() { Version = old })
	c, _ := newTestClient(t, ts)
	_, err := c.ListShares(context.Background())
	require.NoError(t, err)
	c, _ = newTestClient(t, ts, WithUserAgent("custom/9"))
	_, err = c.ListShares(context.Background())
	require.NoError(t, err)
	reqs := ts.requests()
	assert.Equal(t, "deltashare/1.2.3", reqs[0].Header.Get("User-Agent"))
	assert.Equal(t, "custom/9", reqs[1].Header.Get("User-Agent"))
}

func TestLoggerNeverShowsSecrets(t *testing.T) {
	var n atomic.Int32
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			writeJSON(w, 503, protocol.ErrorBody{Message: "busy"})
			return
		}
		writeRaw(w, 200, []byte(`{"items":[],"nextPageToken":""}`))
	})
	var logs bytes.Buffer
	c, _ := newTestClient(t, ts, WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	_, err := c.ListShares(context.Background())
	require.NoError(t, err)
	assert.Contains(t, logs.String(), "retrying")
	assertNoLeak(t, logs.String())
}

func TestNewClientErrors(t *testing.T) {
	_, err := NewClient(nil)
	require.ErrorIs(t, err, protocol.ErrInvalidProfile)
	_, err = NewClient(&Profile{Type: ProfileTypeBearerToken, Endpoint: "ftp://x", BearerToken: "t"})
	require.ErrorIs(t, err, protocol.ErrInvalidProfile)
	_, err = NewClient(&Profile{Type: "basic", Endpoint: "https://x"})
	require.ErrorIs(t, err, protocol.ErrInvalidProfile)
	c, err := NewClient(bearerProfile("https://h/api/"))
	require.NoError(t, err)
	assert.Equal(t, "https://h/api", c.Endpoint())
	assert.Equal(t, DefaultTimeout, c.Timeout())
	assert.Equal(t, 5, c.RetryPolicy().MaxTries)
}

func TestQueryRequestValidate(t *testing.T) {
	tests := []struct {
		req protocol.QueryRequest
		ok  bool
	}{
		{protocol.QueryRequest{}, true},
		{protocol.QueryRequest{Version: i64(1)}, true},
		{protocol.QueryRequest{StartingVersion: i64(1), EndingVersion: i64(3)}, true},
		{protocol.QueryRequest{Version: i64(1), Timestamp: "t"}, false},
		{protocol.QueryRequest{Version: i64(1), StartingVersion: i64(1)}, false},
		{protocol.QueryRequest{EndingVersion: i64(3)}, false},
	}
	for i, tc := range tests {
		err := tc.req.Validate()
		if tc.ok {
			assert.NoError(t, err, i)
		} else {
			assert.ErrorIs(t, err, protocol.ErrBadRequest, i)
		}
	}
}

// countingTransport counts the requests it carries.
type countingTransport struct {
	n    atomic.Int32
	base http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(r)
}

func TestWithHTTPClient(t *testing.T) {
	tok := newTokenServer(t, 3600)
	api := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { writeRaw(w, 200, []byte(`{}`)) })
	ct := &countingTransport{base: http.DefaultTransport}
	hc := &http.Client{Transport: ct}
	c, err := NewClient(oauthProfile(api.URL+"/api", tok.URL+"/token", testClientSecret), WithHTTPClient(hc))
	require.NoError(t, err)
	_, err = c.ListShares(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int32(2), ct.n.Load(), "the token request and the listing both use the given transport")
	assert.Same(t, hc, c.HTTPClient())
}

func TestFormatFromLinesOverHeader(t *testing.T) {
	body := readFixture(t, "ndjson", "table-metadata-delta.ndjson")
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeNDJSON(w, "1", "responseformat=parquet", body)
	})
	c, _ := newTestClient(t, ts)
	tm, err := c.Metadata(context.Background(), testTable, protocol.MetadataOptions{})
	require.NoError(t, err)
	assert.Equal(t, protocol.FormatDelta, tm.Format)
}
