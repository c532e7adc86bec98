package server

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type route struct {
	method, path string
	want         int // with a valid token
}

func allRoutes() []route {
	const tbl = "/shares/s1/schemas/a/tables/t1"
	return []route{
		{"GET", "/shares", 200},
		{"GET", "/shares/s1", 200},
		{"GET", "/shares/s1/schemas", 200},
		{"GET", "/shares/s1/schemas/a/tables", 200},
		{"GET", "/shares/s1/all-tables", 200},
		{"GET", tbl + "/version", 200},
		{"HEAD", tbl, 200},
		{"GET", tbl + "/metadata", 200},
		{"POST", tbl + "/query", 200},
		{"GET", tbl + "/changes?startingVersion=0", 400}, // the table records no change data
		{"POST", tbl + "/queries/q1", 501},
		{"POST", tbl + "/temporary-table-credentials", 501},
		{"GET", "/no/such/endpoint", 404},
	}
}

func TestAuthOnEveryRoute(t *testing.T) {
	expired := time.Now().Add(-time.Hour)
	f := startFixture(t, func(c *Config) {
		c.Tokens = append(c.Tokens, Token{Name: "old", Value: "expired-token-value", Expires: &expired})
	})
	for _, rt := range allRoutes() {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			u := f.api + rt.path
			for _, tc := range []struct {
				name, token, want string
			}{
				{"missing", "", "missing bearer token"},
				{"wrong", "wrong-token-value", "invalid bearer token"},
				{"prefix of right", testToken[:len(testToken)-1], "invalid bearer token"},
				{"expired", "expired-token-value", "expired"},
			} {
				r := do(t, rt.method, u, tc.token, nil)
				require.Equal(t, http.StatusUnauthorized, r.status, tc.name)
				assert.Contains(t, r.header.Get("WWW-Authenticate"), "Bearer")
				if rt.method != "HEAD" {
					m := r.json(t)
					assert.Equal(t, CodeUnauthenticated, m["errorCode"], tc.name)
					assert.Contains(t, m["message"], tc.want, tc.name)
				}
			}
			r := do(t, rt.method, u, testToken, nil)
			require.Equal(t, rt.want, r.status, "body: %s", r.body)
			if rt.want == 501 && rt.method != "HEAD" {
				assert.Equal(t, CodeNotImplemented, r.json(t)["errorCode"])
			}
			// Lower-case scheme is fine too (RFC 7235: case-insensitive).
			req, _ := http.NewRequest(rt.method, u, nil)
			req.Header.Set("Authorization", "bearer "+testToken)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, rt.want, resp.StatusCode)
		})
	}
	logs := f.logs.String()
	assert.NotContains(t, logs, testToken)
	assert.NotContains(t, logs, "expired-token-value")
	assert.Contains(t, logs, "token=main", "the token's name is logged")
}

func TestRuntimeTokenAndExpiryByClock(t *testing.T) {
	f := startFixture(t, nil)
	require.Equal(t, 401, do(t, "GET", f.api+"/shares", "runtime-token-1", nil).status)
	exp := f.clock.Now().Add(time.Minute)
	require.NoError(t, f.srv.AddToken(Token{Name: "rt", Value: "runtime-token-1", Expires: &exp}))
	assert.Equal(t, 200, do(t, "GET", f.api+"/shares", "runtime-token-1", nil).status)
	assert.Error(t, f.srv.AddToken(Token{Value: "runtime-token-1"}), "duplicate value")
	assert.Error(t, f.srv.AddToken(Token{Value: "runtime-token-2", Shares: []string{"nope"}}))
	f.clock.Add(time.Minute)
	r := do(t, "GET", f.api+"/shares", "runtime-token-1", nil)
	assert.Equal(t, 401, r.status)
	assert.Contains(t, r.json(t)["message"], "expired at "+exp.UTC().Format(time.RFC3339))
}

func itemNames(t *testing.T, m map[string]any, keys ...string) []string {
	var out []string
	items, _ := m["items"].([]any)
	for _, it := range items {
		obj := it.(map[string]any)
		var parts []string
		for _, k := range keys {
			parts = append(parts, obj[k].(string))
		}
		out = append(out, strings.Join(parts, "."))
	}
	return out
}

// walk pages through a listing with maxResults=1, collecting items.
func walk(t *testing.T, f *fixture, path string, keys ...string) []string {
	var all []string
	tok := ""
	for i := 0; i < 20; i++ {
		u := f.api + path + "?maxResults=1"
		if tok != "" {
			u += "&pageToken=" + url.QueryEscape(tok)
		}
		r := do(t, "GET", u, testToken, nil)
		require.Equal(t, 200, r.status, "%s", r.body)
		assert.Equal(t, "application/json; charset=utf-8", r.header.Get("Content-Type"))
		m := r.json(t)
		names := itemNames(t, m, keys...)
		assert.LessOrEqual(t, len(names), 1)
		all = append(all, names...)
		next, has := m["nextPageToken"]
		if !has {
			return all
		}
		tok = next.(string)
		require.NotEmpty(t, tok)
	}
	t.Fatal("paging did not end")
	return nil
}

func TestListingPaging(t *testing.T) {
	f := startFixture(t, nil)
	assert.Equal(t, []string{"s1", "s2", "s3"}, walk(t, f, "/shares", "name"))
	assert.Equal(t, []string{"a.s1", "b.s1"}, walk(t, f, "/shares/s1/schemas", "name", "share"))
	assert.Equal(t, []string{"s1.a.t1", "s1.a.t2"}, walk(t, f, "/shares/s1/schemas/a/tables", "share", "schema", "name"))
	assert.Equal(t, []string{"s1.a.t1", "s1.a.t2", "s1.b.t3"}, walk(t, f, "/shares/s1/all-tables", "share", "schema", "name"))
	assert.Empty(t, walk(t, f, "/shares/s3/all-tables", "name"))

	// Without maxResults: everything on one page, no nextPageToken; tables carry their ids.
	m := do(t, "GET", f.api+"/shares/s1/all-tables", testToken, nil).json(t)
	assert.NotContains(t, m, "nextPageToken")
	items := m["items"].([]any)
	require.Len(t, items, 3)
	t1 := items[0].(map[string]any)
	tab, ok := f.srv.LookupTable("s1", "a", "t1")
	require.True(t, ok)
	assert.Equal(t, map[string]any{"name": "t1", "schema": "a", "share": "s1", "shareId": tab.ShareID, "id": tab.ID}, t1)

	// An empty listing still has an items array.
	assert.Equal(t, "{\"items\":[]}\n", string(do(t, "GET", f.api+"/shares/s3/schemas", testToken, nil).body))

	// maxResults=0: no items but a token to go on.
	m = do(t, "GET", f.api+"/shares?maxResults=0", testToken, nil).json(t)
	assert.Empty(t, m["items"])
	assert.NotEmpty(t, m["nextPageToken"])

	// Get share.
	m = do(t, "GET", f.api+"/shares/s2", testToken, nil).json(t)
	assert.Equal(t, "s2", m["share"].(map[string]any)["name"])
	assert.NotEmpty(t, m["share"].(map[string]any)["id"])
}

func TestListingBadParameters(t *testing.T) {
	f := startFixture(t, nil)
	first := do(t, "GET", f.api+"/shares/s1/all-tables?maxResults=1", testToken, nil).json(t)
	tok := first["nextPageToken"].(string)
	sharesTok := do(t, "GET", f.api+"/shares?maxResults=1", testToken, nil).json(t)["nextPageToken"].(string)
	off, sig, _ := strings.Cut(tok, ".")
	bad := []string{
		"/shares?maxResults=-1",
		"/shares?maxResults=abc",
		"/shares?maxResults=1.5",
		"/shares?maxResults=1001",
		"/shares?maxResults=99999999999",
		"/shares?maxResults=",
		"/shares?pageToken=garbage",
		"/shares/s1/all-tables?pageToken=" + url.QueryEscape("2."+sig), // offset changed
		"/shares/s1/all-tables?pageToken=" + url.QueryEscape(off+"."+sig[:len(sig)-2]+"AA"), // signature changed
		"/shares/s1/all-tables?pageToken=" + url.QueryEscape(sharesTok),                     // other listing
		"/shares/s2/all-tables?pageToken=" + url.QueryEscape(tok),                           // other share
		"/shares/s1/schemas?pageToken=" + url.QueryEscape(tok),                              // other kind
	}
	for _, p := range bad {
		r := do(t, "GET", f.api+p, testToken, nil)
		assert.Equal(t, 400, r.status, p)
		assert.Equal(t, CodeInvalidParameterValue, r.json(t)["errorCode"], p)
	}
	// The genuine token still works.
	assert.Equal(t, 200, do(t, "GET", f.api+"/shares/s1/all-tables?pageToken="+url.QueryEscape(tok), testToken, nil).status)

	// A token from another server (another key) is refused.
	g := startFixture(t, nil)
	r := do(t, "GET", g.api+"/shares/s1/all-tables?pageToken="+url.QueryEscape(tok), testToken, nil)
	assert.Equal(t, 400, r.status)
}

func TestNamesAndNotFound(t *testing.T) {
	f := startFixture(t, nil)
	m := do(t, "GET", f.api+"/shares/S1/schemas/A/tables", testToken, nil).json(t)
	assert.Equal(t, []string{"s1.a.t1", "s1.a.t2"}, itemNames(t, m, "share", "schema", "name"), "canonical names, case-insensitive match")
	assert.Equal(t, 200, do(t, "GET", f.api+"/shares/S1/schemas/A/tables/T1/metadata", testToken, nil).status)

	for _, p := range []string{
		"/shares/nope", "/shares/nope/schemas", "/shares/nope/all-tables", "/shares/s1/schemas/nope/tables",
		"/shares/s1/schemas/a/tables/nope/metadata", "/shares/s1%2Fschemas", "/shares/s1%2Fa/schemas",
		"/shares/s1/schemas/a%2F..%2Fb/tables",
	} {
		r := do(t, "GET", f.api+p, testToken, nil)
		assert.Equal(t, 404, r.status, p)
		assert.Equal(t, CodeResourceDoesNotExist, r.json(t)["errorCode"], p)
	}
	r := do(t, "GET", f.api+"/shares/nope", testToken, nil)
	assert.Contains(t, r.json(t)["message"], `"nope"`)

	// Method not allowed: JSON with Allow.
	r = do(t, "POST", f.api+"/shares", testToken, nil)
	assert.Equal(t, 405, r.status)
	assert.Equal(t, "GET, HEAD", r.header.Get("Allow"))
	assert.Equal(t, CodeMethodNotAllowed, r.json(t)["errorCode"])
	r = do(t, "GET", f.api+"/shares/s1/schemas/a/tables/t1/query", testToken, nil)
	assert.Equal(t, 405, r.status)

	// Unknown endpoint.
	r = do(t, "GET", f.api+"/sharez", testToken, nil)
	assert.Equal(t, 404, r.status)
	assert.Equal(t, CodeEndpointNotFound, r.json(t)["errorCode"])
}

func TestTokenRestrictedToShares(t *testing.T) {
	f := startFixture(t, func(c *Config) {
		c.Tokens = append(c.Tokens, Token{Name: "s2only", Value: "s2-only-token", Shares: []string{"S2"}})
	})
	m := do(t, "GET", f.api+"/shares", "s2-only-token", nil).json(t)
	assert.Equal(t, []string{"s2"}, itemNames(t, m, "name"))
	assert.Equal(t, 200, do(t, "GET", f.api+"/shares/s2/all-tables", "s2-only-token", nil).status)
	for _, p := range []string{"/shares/s1", "/shares/s1/schemas", "/shares/s1/all-tables", "/shares/s1/schemas/a/tables/t1/metadata"} {
		assert.Equal(t, 404, do(t, "GET", f.api+p, "s2-only-token", nil).status, p)
	}
}

func TestTableEndpointsPlugIn(t *testing.T) {
	type queryBody struct {
		Limit *int `json:"limitHint"`
	}
	var got *Table
	var caps Capabilities
	eps := TableEndpoints{
		Version: func(w http.ResponseWriter, r *http.Request, t *Table) {
			got = t
			w.Header().Set("Delta-Table-Version", "0")
		},
		Query: func(w http.ResponseWriter, r *http.Request, t *Table) {
			caps = ParseCapabilities(r.Header.Get(CapabilitiesHeader))
			var b queryBody
			if err := DecodeJSONBody(r, &b); err != nil {
				WriteError(w, nil, err)
				return
			}
			w.Header().Set("Content-Type", "application/x-ndjson")
			_, _ = io.WriteString(w, "{}\n")
		},
		QueryStatus: func(w http.ResponseWriter, r *http.Request, t *Table) {
			_, _ = io.WriteString(w, r.PathValue("queryId"))
		},
	}
	f := startFixture(t, nil, WithTableEndpoints(eps))
	tbl := f.api + "/shares/S1/schemas/a/tables/T2"
	r := do(t, "GET", tbl+"/version", testToken, nil)
	require.Equal(t, 200, r.status)
	assert.Equal(t, "0", r.header.Get("Delta-Table-Version"))
	require.NotNil(t, got)
	assert.Equal(t, "t2", got.Name)
	assert.Equal(t, "s1", got.Share)
	assert.DirExists(t, got.Location)
	assert.Equal(t, 200, do(t, "HEAD", tbl, testToken, nil).status)

	r = do(t, "POST", tbl+"/query", testToken, strings.NewReader(`{"limitHint": 3}`),
		CapabilitiesHeader, "responseFormat=Delta,parquet;readerFeatures=deletionVectors")
	require.Equal(t, 200, r.status, "%s", r.body)
	assert.True(t, caps.Has("responseformat", "delta"))
	assert.True(t, caps.Has("READERFEATURES", "DeletionVectors"))
	assert.Equal(t, "q-42", string(do(t, "POST", tbl+"/queries/q-42", testToken, nil).body))

	r = do(t, "POST", tbl+"/query", testToken, strings.NewReader(`{"limitHint": `))
	assert.Equal(t, 400, r.status)
	assert.Equal(t, CodeMalformedRequest, r.json(t)["errorCode"])

	// Too large: announced by Content-Length, and chunked (found while reading).
	big := strings.Repeat(" ", MaxBodyBytes+10) + "{}"
	r = do(t, "POST", tbl+"/query", testToken, strings.NewReader(big))
	assert.Equal(t, 413, r.status)
	assert.Equal(t, CodeRequestTooLarge, r.json(t)["errorCode"])
	r = do(t, "POST", tbl+"/query", testToken, io.MultiReader(strings.NewReader(big))) // unknown length: chunked
	assert.Equal(t, 413, r.status)
	assert.Equal(t, CodeRequestTooLarge, r.json(t)["errorCode"])
	// Even on an endpoint that reads no body, an announced oversize body is refused.
	r = do(t, "POST", f.api+"/shares/s1/schemas/a/tables/t1/temporary-table-credentials", testToken, strings.NewReader(big))
	assert.Equal(t, 413, r.status)
}

func TestParseCapabilities(t *testing.T) {
	c := ParseCapabilities(" responseformat=delta,Parquet ; readerfeatures=deletionvectors,columnmapping;;asyncQuery=true;empty=")
	assert.Equal(t, Capabilities{
		"responseformat": {"delta", "parquet"},
		"readerfeatures": {"deletionvectors", "columnmapping"},
		"asyncquery":     {"true"},
		"empty":          nil,
	}, c)
	assert.Empty(t, ParseCapabilities(""))
}

func TestPrefixRoot(t *testing.T) {
	f := startFixture(t, func(c *Config) { c.Prefix = "/" })
	assert.Equal(t, f.base, f.api)
	assert.Equal(t, 200, do(t, "GET", f.base+"/shares", testToken, nil).status)
	g := startFixture(t, func(c *Config) { c.Prefix = "/custom/ds/" })
	assert.Equal(t, g.base+"/custom/ds", g.api)
	assert.Equal(t, 200, do(t, "GET", g.api+"/shares", testToken, nil).status)
	assert.Equal(t, 404, do(t, "GET", g.base+"/delta-sharing/shares", testToken, nil).status)
}
