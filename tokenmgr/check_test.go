package tokenmgr

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deltashare/deltashare/sharing/protocol"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/internal/arrowtest"
	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/delta"
)

const (
	checkToken     = "check-test-bearer-token-9f8e7d6c"
	checkSignature = "X-Amz-Signature=SIGNATURE0123456789"
)

var checkNow = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

const testSchemaString = `{"type":"struct","fields":[` +
	`{"name":"id","type":"long","nullable":true,"metadata":{}},` +
	`{"name":"name","type":"string","nullable":true,"metadata":{}},` +
	`{"name":"p","type":"string","nullable":true,"metadata":{}}]}`

// fakeTable is a table of the test sharing server.
type fakeTable struct {
	share, schema, name string
	version             int64
	// files are names under /files/; file modes: "" real Parquet, "404", "text", "norange",
	// "big" (a footer larger than the first ranged read).
	files []string
	// unreported: the metadata gives no numFiles and size (as some servers do).
	unreported bool
}

func (tb fakeTable) numFiles() *int64 {
	if tb.unreported {
		return nil
	}
	n := int64(len(tb.files))
	return &n
}

func (tb fakeTable) size(data map[string][]byte) *int64 {
	if tb.unreported {
		return nil
	}
	var n int64
	for _, f := range tb.files {
		n += int64(len(data[f]))
	}
	return &n
}

// sharingServer is a small Delta Sharing server on loopback.
type sharingServer struct {
	*httptest.Server
	t      *testing.T
	tables []fakeTable
	data   map[string][]byte // file name → bytes
	mode   map[string]string // file name → mode
	reject bool
	// emptyShares are listed as shares without schemas or tables.
	emptyShares []string

	mu       sync.Mutex
	apiCalls []*http.Request
	fileReqs []*http.Request
	queries  []protocol.QueryRequest
}

func newSharingServer(t *testing.T, tables []fakeTable, mode map[string]string) *sharingServer {
	t.Helper()
	s := &sharingServer{t: t, tables: tables, data: map[string][]byte{}, mode: mode}
	if s.mode == nil {
		s.mode = map[string]string{}
	}
	for _, tb := range tables {
		for _, f := range tb.files {
			switch s.mode[f] {
			case "text":
				s.data[f] = []byte("this is not a parquet file, just some text\n")
			case "big":
				s.data[f] = arrowtest.SmallParquet(t, 7, 80<<10)
			default:
				s.data[f] = arrowtest.SmallParquet(t, 5, 0)
			}
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/shares", s.auth(s.listShares))
	mux.HandleFunc("GET /api/shares/{share}/schemas", s.auth(s.listSchemas))
	mux.HandleFunc("GET /api/shares/{share}/all-tables", s.auth(s.listTables))
	mux.HandleFunc("GET /api/shares/{share}/schemas/{schema}/tables/{table}/version", s.auth(s.version))
	mux.HandleFunc("GET /api/shares/{share}/schemas/{schema}/tables/{table}/metadata", s.auth(s.metadata))
	mux.HandleFunc("POST /api/shares/{share}/schemas/{schema}/tables/{table}/query", s.auth(s.query))
	mux.HandleFunc("GET /files/{name}", s.file)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *sharingServer) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.apiCalls = append(s.apiCalls, r)
		s.mu.Unlock()
		if s.reject || r.Header.Get("Authorization") != "Bearer "+checkToken {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(protocol.ErrorBody{ErrorCode: "UNAUTHENTICATED", Message: "token is not valid"})
			return
		}
		h(w, r)
	}
}

func writePage[T any](w http.ResponseWriter, items []T) {
	w.Header().Set("Content-Type", "application/json")
	_ = protocol.WriteLine(w, protocol.Page[T]{Items: items})
}

func (s *sharingServer) listShares(w http.ResponseWriter, _ *http.Request) {
	seen := map[string]bool{}
	items := []protocol.Share{}
	for _, name := range s.emptyShares {
		items = append(items, protocol.Share{Name: name})
	}
	for _, tb := range s.tables {
		if !seen[tb.share] {
			seen[tb.share] = true
			items = append(items, protocol.Share{Name: tb.share})
		}
	}
	writePage(w, items)
}

func (s *sharingServer) listSchemas(w http.ResponseWriter, r *http.Request) {
	seen := map[string]bool{}
	items := []protocol.Schema{}
	for _, tb := range s.tables {
		if tb.share == r.PathValue("share") && !seen[tb.schema] {
			seen[tb.schema] = true
			items = append(items, protocol.Schema{Name: tb.schema, Share: tb.share})
		}
	}
	writePage(w, items)
}

func (s *sharingServer) listTables(w http.ResponseWriter, r *http.Request) {
	items := []protocol.TableInfo{}
	for _, tb := range s.tables {
		if tb.share == r.PathValue("share") {
			items = append(items, protocol.TableInfo{Share: tb.share, Schema: tb.schema, Name: tb.name})
		}
	}
	writePage(w, items)
}

func (s *sharingServer) table(w http.ResponseWriter, r *http.Request) *fakeTable {
	for i, tb := range s.tables {
		if tb.share == r.PathValue("share") && tb.schema == r.PathValue("schema") && tb.name == r.PathValue("table") {
			return &s.tables[i]
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	_ = json.NewEncoder(w).Encode(protocol.ErrorBody{ErrorCode: "RESOURCE_DOES_NOT_EXIST", Message: "no such table"})
	return nil
}

func (s *sharingServer) version(w http.ResponseWriter, r *http.Request) {
	if tb := s.table(w, r); tb != nil {
		w.Header().Set(protocol.HeaderTableVersion, strconv.FormatInt(tb.version, 10))
	}
}

func (s *sharingServer) head(enc *protocol.Encoder, tb *fakeTable) {
	require.NoError(s.t, enc.Protocol(protocol.ProtocolAction{Protocol: delta.Protocol{MinReaderVersion: 1}}))
	require.NoError(s.t, enc.Metadata(protocol.MetadataAction{Metadata: delta.Metadata{
		ID: "id-" + tb.name, Name: tb.name, Format: delta.Format{Provider: "parquet"},
		SchemaString: testSchemaString, PartitionColumns: []string{"p"},
	}, NumFiles: tb.numFiles(), Size: tb.size(s.data)}))
}

func (s *sharingServer) metadata(w http.ResponseWriter, r *http.Request) {
	tb := s.table(w, r)
	if tb == nil {
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set(protocol.HeaderTableVersion, strconv.FormatInt(tb.version, 10))
	s.head(protocol.NewEncoder(w, protocol.FormatParquet), tb)
}

func (s *sharingServer) query(w http.ResponseWriter, r *http.Request) {
	tb := s.table(w, r)
	if tb == nil {
		return
	}
	var req protocol.QueryRequest
	require.NoError(s.t, json.NewDecoder(r.Body).Decode(&req))
	s.mu.Lock()
	s.queries = append(s.queries, req)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set(protocol.HeaderTableVersion, strconv.FormatInt(tb.version, 10))
	w.Header().Set(protocol.HeaderCapabilities, "responseformat=parquet;includeendstreamaction=true")
	enc := protocol.NewEncoder(w, protocol.FormatParquet)
	s.head(enc, tb)
	files := tb.files
	next := ""
	if req.MaxFiles != nil && len(files) > *req.MaxFiles {
		files, next = files[:*req.MaxFiles], "page-2"
	}
	exp := checkNow.Add(time.Hour).UnixMilli()
	for _, f := range files {
		require.NoError(s.t, enc.File(protocol.File{
			Kind: protocol.FileAdd, ID: "file-" + f, URL: s.URL + "/files/" + f + "?" + checkSignature,
			PartitionValues: map[string]string{"p": "a"}, Size: int64(len(s.data[f])), ExpirationTimestamp: &exp,
		}))
	}
	require.NoError(s.t, enc.EndStream(protocol.EndStream{NextPageToken: next}))
}

func (s *sharingServer) file(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.fileReqs = append(s.fileReqs, r)
	s.mu.Unlock()
	name := r.PathValue("name")
	data, ok := s.data[name]
	if !ok || s.mode[name] == "404" || !strings.Contains(r.URL.RawQuery, checkSignature) {
		http.Error(w, "NoSuchKey", http.StatusNotFound)
		return
	}
	if s.mode[name] == "norange" {
		_, _ = w.Write(data) // ignores Range
		return
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
}

func (s *sharingServer) counts() (api, files int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.apiCalls), len(s.fileReqs)
}

func (s *sharingServer) client(t *testing.T, expiry time.Time) *sharing.Client {
	t.Helper()
	p := &sharing.Profile{ShareCredentialsVersion: 1, Type: sharing.ProfileTypeBearerToken,
		Endpoint: s.URL + "/api", BearerToken: checkToken, ExpirationTime: expiry}
	c, err := sharing.NewClient(p, sharing.WithClock(func() time.Time { return checkNow }),
		sharing.WithRetryPolicy(sharing.RetryPolicy{MaxTries: 1}))
	require.NoError(t, err)
	return c
}

func defaultTables() []fakeTable {
	return []fakeTable{
		{share: "s1", schema: "default", name: "good", version: 3, files: []string{"g1.parquet", "g2.parquet"}},
		{share: "s1", schema: "default", name: "empty", version: 0},
		{share: "s2", schema: "sales", name: "orders", version: 12, files: []string{"o1.parquet"}},
	}
}

// assertReportClean checks that neither rendering of the report holds a secret.
func assertReportClean(t *testing.T, r *CheckReport) {
	t.Helper()
	js, err := json.Marshal(r)
	require.NoError(t, err)
	for _, out := range []string{r.Text(), string(js), r.String()} {
		assert.NotContains(t, out, checkToken)
		assert.NotContains(t, out, "SIGNATURE0123456789")
		assert.NotContains(t, out, "X-Amz")
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name       string
		mode       map[string]string
		expiry     time.Time
		warn       time.Duration
		reject     bool
		only       []protocol.Table
		wantStatus CheckStatus
		wantExit   int
		wantBad    map[string]string // table → error substring
		noRequests bool
	}{
		{name: "all good", expiry: checkNow.Add(90 * 24 * time.Hour), wantStatus: CheckOK, wantExit: 0},
		{name: "no expiry", wantStatus: CheckOK, wantExit: 0},
		{name: "server ignores Range", mode: map[string]string{"g1.parquet": "norange", "o1.parquet": "norange"}, wantStatus: CheckOK, wantExit: 0},
		{name: "footer beyond the first read", mode: map[string]string{"o1.parquet": "big"}, wantStatus: CheckOK, wantExit: 0},
		{name: "expiring", expiry: checkNow.Add(3 * 24 * time.Hour), warn: 7 * 24 * time.Hour, wantStatus: CheckExpiring, wantExit: 5},
		{name: "warning disabled", expiry: checkNow.Add(3 * 24 * time.Hour), warn: -1, wantStatus: CheckOK, wantExit: 0},
		{name: "rejected", reject: true, expiry: checkNow.Add(90 * 24 * time.Hour), wantStatus: CheckRejected, wantExit: 4},
		{name: "expired", expiry: checkNow.Add(-time.Hour), wantStatus: CheckExpired, wantExit: 4, noRequests: true},
		{name: "file missing", mode: map[string]string{"o1.parquet": "404"}, wantStatus: CheckPartial, wantExit: 3,
			wantBad: map[string]string{"s2.sales.orders": "404 Not Found; the file no longer exists"}},
		{name: "not parquet", mode: map[string]string{"g1.parquet": "text"}, wantStatus: CheckPartial, wantExit: 3,
			wantBad: map[string]string{"s1.default.good": "PAR1"}},
		{name: "partial outranks expiring", mode: map[string]string{"g1.parquet": "text"}, expiry: checkNow.Add(24 * time.Hour),
			wantStatus: CheckPartial, wantExit: 3, wantBad: map[string]string{"s1.default.good": "not a Parquet file"}},
		{name: "named tables only", only: []protocol.Table{{Share: "s2", Schema: "sales", Name: "orders"}}, mode: map[string]string{"g1.parquet": "404"},
			wantStatus: CheckOK, wantExit: 0},
		{name: "named table missing", only: []protocol.Table{{Share: "s2", Schema: "sales", Name: "nope"}},
			wantStatus: CheckPartial, wantExit: 3, wantBad: map[string]string{"s2.sales.nope": "404"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newSharingServer(t, defaultTables(), tc.mode)
			srv.reject = tc.reject
			r, err := Check(context.Background(), srv.client(t, tc.expiry), CheckOptions{
				Tables: tc.only, WarnExpiry: tc.warn, Now: func() time.Time { return checkNow }, Parallel: 2,
			})
			require.NoError(t, err)
			assert.Equal(t, tc.wantStatus, r.Status, r.Text())
			assert.Equal(t, tc.wantExit, r.ExitCode())
			assert.Equal(t, srv.URL+"/api", r.Endpoint)
			assertReportClean(t, r)

			api, files := srv.counts()
			if tc.noRequests {
				assert.Zero(t, api+files, "an expired token sends nothing")
			}
			if !tc.expiry.IsZero() {
				require.NotNil(t, r.ExpiresInSeconds)
				assert.Equal(t, int64(tc.expiry.Sub(checkNow)/time.Second), *r.ExpiresInSeconds)
				assert.Equal(t, tc.expiry, r.ExpirationTime)
			} else {
				assert.Nil(t, r.ExpiresInSeconds)
			}
			switch tc.wantStatus {
			case CheckRejected, CheckExpired:
				assert.False(t, r.TokenAccepted)
				assert.Equal(t, tc.wantStatus == CheckExpired, r.Expired)
				assert.NotEmpty(t, r.Error)
				assert.Empty(t, r.Tables)
				return
			}
			assert.True(t, r.TokenAccepted)
			require.Len(t, r.Shares, 2)
			assert.Equal(t, ShareReport{Name: "s1", Schemas: []string{"default"}, Tables: 2}, r.Shares[0])
			assert.Equal(t, ShareReport{Name: "s2", Schemas: []string{"sales"}, Tables: 1}, r.Shares[1])

			want := []string{"s1.default.empty", "s1.default.good", "s2.sales.orders"}
			if tc.only != nil {
				want = nil
				for _, tb := range tc.only {
					want = append(want, tb.String())
				}
			}
			require.Len(t, r.Tables, len(want))
			for i, tr := range r.Tables {
				assert.Equal(t, want[i], tr.Table.String())
				if sub, bad := tc.wantBad[tr.Table.String()]; bad {
					assert.Contains(t, tr.Error, sub)
					assert.False(t, tr.FooterOK)
					assert.Contains(t, r.Text(), "FAIL  "+tr.Table.String())
					continue
				}
				require.Empty(t, tr.Error, tr.Table.String())
				assert.Equal(t, "parquet", tr.Format)
				assert.Equal(t, "parquet", tr.FileFormat)
				assert.Equal(t, 3, tr.Columns)
				assert.Equal(t, []string{"p"}, tr.PartitionColumns)
				if tr.Table.Name == "empty" {
					assert.Equal(t, int64(0), tr.Version)
					require.NotNil(t, tr.NumFiles)
					assert.Zero(t, *tr.NumFiles)
					assert.False(t, tr.FooterOK)
					continue
				}
				require.NotNil(t, tr.NumFiles)
				wantFiles := map[string]int64{"good": 2, "orders": 1}[tr.Table.Name]
				assert.Equal(t, wantFiles, *tr.NumFiles, "the table's file count, not the one file read")
				assert.True(t, tr.FooterOK)
				assert.Equal(t, 2, tr.FooterColumns, "top-level columns stored in the file (p is a partition column)")
				if tc.mode["o1.parquet"] == "big" && tr.Table.Name == "orders" {
					assert.Equal(t, int64(7), tr.FooterRows)
				} else {
					assert.Equal(t, int64(5), tr.FooterRows)
				}
			}

			srv.mu.Lock()
			defer srv.mu.Unlock()
			for _, q := range srv.queries {
				require.NotNil(t, q.MaxFiles)
				assert.Equal(t, 1, *q.MaxFiles)
				require.NotNil(t, q.LimitHint)
				assert.Equal(t, int64(1), *q.LimitHint)
			}
			perFile := map[string]int{}
			for _, fr := range srv.fileReqs {
				perFile[fr.PathValue("name")]++
			}
			if tc.mode["o1.parquet"] == "big" {
				assert.Equal(t, 2, perFile["o1.parquet"], "a footer larger than the first read takes a second range request")
			} else if tc.only == nil && tc.mode["o1.parquet"] == "" {
				assert.Equal(t, 1, perFile["o1.parquet"])
			}
			assert.Zero(t, perFile["g2.parquet"], "only the first file is read")
			for _, fr := range srv.fileReqs {
				assert.Empty(t, fr.Header.Get("Authorization"), "signed URLs get no bearer token")
				rg := fr.Header.Get("Range")
				assert.True(t, strings.HasPrefix(rg, "bytes="), "footer read by range")
				assert.True(t, strings.HasSuffix(rg, "-"+strconv.Itoa(len(srv.data[fr.PathValue("name")])-1)), "a range at the file's end: %s", rg)
			}
		})
	}
}

func TestCheckReportJSONAndText(t *testing.T) {
	srv := newSharingServer(t, defaultTables(), map[string]string{"o1.parquet": "404"})
	r, err := Check(context.Background(), srv.client(t, checkNow.Add(10*24*time.Hour)), CheckOptions{Now: func() time.Time { return checkNow }})
	require.NoError(t, err)
	js, err := json.Marshal(r)
	require.NoError(t, err)
	var back map[string]any
	require.NoError(t, json.Unmarshal(js, &back))
	assert.Equal(t, "partial", back["status"])
	assert.Equal(t, float64(3), back["exitCode"])
	assert.Equal(t, true, back["tokenAccepted"])
	assert.Equal(t, float64(10*24*3600), back["expiresInSeconds"], "whole seconds")
	assert.Equal(t, float64(7*24*3600), back["warnExpirySeconds"])
	assert.Equal(t, "2030-06-11T12:00:00Z", back["expirationTime"])
	assert.Equal(t, float64(2), back["readableTables"])
	assert.Equal(t, float64(1), back["unreadableTables"])
	assert.NotContains(t, back, "daysLeft")
	tables := back["tables"].([]any)
	require.Len(t, tables, 3)
	orders := tables[2].(map[string]any)
	assert.Equal(t, map[string]any{"share": "s2", "schema": "sales", "name": "orders", "fullName": "s2.sales.orders"}, orders["table"])
	assert.Contains(t, orders["error"], "data file file-o1.parquet")
	assert.Contains(t, orders["error"], "404 Not Found")

	text := r.Text()
	assert.Contains(t, text, "Token:    accepted, expires 2030-06-11T12:00:00Z (10d left)")
	assert.Contains(t, text, "ok    s1.default.good: version 3, parquet, 3 columns (partitioned by p), 2 files; a data file's footer read: 5 rows")
	assert.Contains(t, text, "ok    s2: 1 schema, 1 table")
	assert.Contains(t, text, "Tables:   3 (2 readable, 1 unreadable)")
	assert.Contains(t, text, "ok    s1.default.empty: version 0, parquet, 3 columns (partitioned by p), no data files")
	assert.Contains(t, text, "FAIL  s2.sales.orders: data file file-o1.parquet: GET: 404 Not Found; the file no longer exists at its URL")
	assert.Contains(t, text, "Status:   partial (exit 3)")
	assertReportClean(t, r)
}

// TestCheckNothingReadable: a credential whose shares hold no table yet is not "ok": the
// report says no table is readable yet and exits 3.
func TestCheckNothingReadable(t *testing.T) {
	srv := newSharingServer(t, nil, nil)
	srv.emptyShares = []string{"s1"}
	r, err := Check(context.Background(), srv.client(t, time.Time{}), CheckOptions{Now: func() time.Time { return checkNow }})
	require.NoError(t, err)
	assert.True(t, r.TokenAccepted)
	assert.Equal(t, CheckEmpty, r.Status)
	assert.Equal(t, 3, r.ExitCode())
	assert.Contains(t, r.Text(), "ok    s1: 0 schemas, 0 tables")
	assert.Contains(t, r.Text(), "Status:   empty: no table is readable yet")
	assert.Contains(t, r.Text(), "(exit 3)")
	js, err := json.Marshal(r)
	require.NoError(t, err)
	assert.Contains(t, string(js), `"status":"empty"`)
	assert.Contains(t, string(js), `"exitCode":3`)
	assert.Contains(t, string(js), `"readableTables":0`)
}

// TestCheckFileCountNotReported: without numFiles in the metadata the count is left out, not
// guessed from the one file read.
func TestCheckFileCountNotReported(t *testing.T) {
	tables := defaultTables()
	tables[2].unreported = true
	srv := newSharingServer(t, tables, nil)
	r, err := Check(context.Background(), srv.client(t, time.Time{}), CheckOptions{Now: func() time.Time { return checkNow }})
	require.NoError(t, err)
	require.Equal(t, CheckOK, r.Status, r.Text())
	assert.Nil(t, r.Tables[2].NumFiles)
	assert.Contains(t, r.Text(), "ok    s2.sales.orders: version 12, parquet, 3 columns (partitioned by p), file count not reported by the server; a data file's footer read: 5 rows")
}

func TestCheckUnreachableServerIsAnError(t *testing.T) {
	srv := newSharingServer(t, defaultTables(), nil)
	c := srv.client(t, time.Time{})
	srv.Close()
	_, err := Check(context.Background(), c, CheckOptions{})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), checkToken)
}
