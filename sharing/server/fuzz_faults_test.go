package server

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// FuzzTableToken: page and refresh tokens are opaque to clients and signed; a token the
// server did not make (for this kind and table) is never accepted.
func FuzzTableToken(f *testing.F) {
	k := tableTokens{key: []byte("0123456789abcdef0123456789abcdef")}
	good := k.encode(tableToken{Kind: tokQueryPage, Table: "tid", Version: 3, Params: "h", Offset: 7})
	f.Add(good, tokQueryPage, "tid")
	f.Add(good, tokQueryPage, "other")
	f.Add(good+"x", tokQueryPage, "tid")
	f.Add("eyJrIjoicXAifQ.AAAA", tokQueryPage, "tid")
	f.Add(strings.Repeat("A", 5000), tokQueryPage, "tid")
	f.Fuzz(func(t *testing.T, tok, kind, table string) {
		got, ok := k.decode(tok, kind, table)
		if !ok {
			return
		}
		if got.Kind != kind || got.Table != table || got.Offset < 0 || got.Version < 0 {
			t.Fatalf("accepted %q for %s/%s: %+v", tok, kind, table, got)
		}
		if k.encode(got) != tok {
			t.Fatalf("accepted a token %q that the server did not make", tok)
		}
	})
}

// fuzzServer serves the demo orders table as demo.sales.orders.
func fuzzServer(f *testing.F) http.Handler {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "testdata", "demo", "sales", "orders")
	var cfg Config
	cfg.AddTable(TableFlag{Share: "demo", Schema: "sales", Table: "orders", Location: dir})
	cfg.Tokens = []Token{{Name: "main", Value: testToken}}
	cfg.PublicURL = "http://127.0.0.1:9"
	s, err := New(cfg, WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		f.Fatal(err)
	}
	return s.Handler()
}

// checkErrorAnswer: a request never makes the server fail (5xx), and every refusal is a JSON
// body with an errorCode.
func checkErrorAnswer(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("%s: status %d: %s", what, rec.Code, rec.Body.String())
	}
	if rec.Code >= 400 {
		var body struct {
			ErrorCode string `json:"errorCode"`
			Message   string `json:"message"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.ErrorCode == "" || body.Message == "" {
			t.Fatalf("%s: status %d without a JSON error body: %q", what, rec.Code, rec.Body.String())
		}
	}
}

// FuzzRequests: query bodies, changes parameters and the capabilities header, all untrusted,
// give 200 or a 4xx with a JSON error body, never a 5xx or a panic.
func FuzzRequests(f *testing.F) {
	h := fuzzServer(f)
	for _, s := range []struct{ body, query, caps string }{
		{`{}`, "startingVersion=0", ""},
		{`{"version": 1, "limitHint": 3}`, "startingVersion=0&endingVersion=2", "responseformat=delta"},
		{`{"predicateHints": ["x = 1"], "jsonPredicateHints": "{\"op\":\"equal\"}"}`, "startingTimestamp=2020-01-01T00:00:00Z", "responseformat=parquet,delta;readerfeatures=deletionvectors"},
		{`{"timestamp": "yesterday"}`, "startingVersion=-1", "includeendstreamaction=true"},
		{`{"startingVersion": 2, "endingVersion": 1}`, "startingVersion=99999999999999999999", ";;;==,"},
		{`{"maxFiles": -1, "pageToken": "abc"}`, "startingVersion=0&maxFiles=0&pageToken=x", "responseformat=nonsense"},
		{`{"refreshToken": "zzz", "includeRefreshToken": true}`, "%zz", strings.Repeat("a=b;", 100)},
		{`{"version": 1} {"version": 2}`, "", ""},
		{`[`, "", ""},
		{`{"version": "1"}`, "", ""},
	} {
		f.Add([]byte(s.body), s.query, s.caps)
	}
	const tbl = "/delta-sharing/shares/demo/schemas/sales/tables/orders"
	f.Fuzz(func(t *testing.T, body []byte, query, caps string) {
		req := httptest.NewRequest(http.MethodPost, tbl+"/query", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set("Content-Type", "application/json")
		if !strings.ContainsAny(caps, "\r\n\x00") {
			req.Header.Set(CapabilitiesHeader, caps)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkErrorAnswer(t, "query", rec)

		if strings.ContainsAny(query, " #\x00\r\n\t") {
			return
		}
		req = httptest.NewRequest(http.MethodGet, "/x", nil)
		req.URL.Path = tbl + "/changes"
		req.URL.RawQuery = query
		req.Header.Set("Authorization", "Bearer "+testToken)
		if !strings.ContainsAny(caps, "\r\n\x00") {
			req.Header.Set(CapabilitiesHeader, caps)
		}
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkErrorAnswer(t, "changes", rec)
		_, _ = io.Copy(io.Discard, rec.Body)
	})
}
