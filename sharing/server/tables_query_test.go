package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deltashare/deltashare/sharing/protocol"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/sharing/predicate"
	"github.com/deltashare/deltashare/sharing/server/deltalog"
	"github.com/deltashare/deltashare/sharing/server/demo"
)

func ordersEnv(t *testing.T, mod func(*Config), opts ...Option) *tableEnv {
	return startTables(t, map[string]string{"orders": demoDir(t, "orders"), "customers": demoDir(t, "customers")}, mod, opts...)
}

func fileIDs(files []protocol.File) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.ID)
	}
	return out
}

// footerRows downloads every file and sums the Parquet row counts.
func footerRows(t *testing.T, files []protocol.File) int64 {
	var n int64
	for _, f := range files {
		st, b := download(t, f.URL)
		require.Equal(t, 200, st)
		n += parquetRowsOf(t, b)
	}
	return n
}

func TestQueryDemoOrdersTimeTravel(t *testing.T) {
	ctx := context.Background()
	env := ordersEnv(t, nil)
	dt, err := deltalog.Open(ctx, env.dirs["orders"])
	require.NoError(t, err)
	for v := int64(0); v <= 2; v++ {
		want, err := demo.ExpectedOrders(v)
		require.NoError(t, err)
		snap, err := dt.Snapshot(ctx, v)
		require.NoError(t, err)
		// Between commits for older versions; exactly the commit time for the latest (a later
		// time is after the latest commit, which time travel refuses).
		at := demo.OrdersBaseTime.Add(time.Duration(v) * time.Hour)
		if v < 2 {
			at = at.Add(30 * time.Minute)
		}
		ts := at.Format(time.RFC3339)
		for _, req := range []protocol.QueryRequest{{Version: &v}, {Timestamp: ts}} {
			res, err := env.client.Query(ctx, tbl("orders"), req)
			require.NoError(t, err, "%v", req)
			assert.Equal(t, v, res.Version)
			assert.Equal(t, snapshotRel(t, dt, env.dirs["orders"], snap), resultRel(t, res.Files))
			assert.Equal(t, int64(len(want)), footerRows(t, res.Files), "rows at v%d", v)
			require.NotNil(t, res.Metadata.Version)
			assert.Equal(t, v, *res.Metadata.Version)
			for _, f := range res.Files {
				assert.Equal(t, demo.OrdersBaseTime.Add(time.Duration(v)*time.Hour).UnixMilli(), *f.Timestamp)
			}
		}
		tm, err := env.client.Metadata(ctx, tbl("orders"), protocol.MetadataOptions{Version: &v})
		require.NoError(t, err)
		assert.Equal(t, v, tm.Version)
	}
	latest, err := env.client.Query(ctx, tbl("orders"), protocol.QueryRequest{})
	require.NoError(t, err)
	assert.Equal(t, int64(2), latest.Version)
	assert.Equal(t, protocol.FormatParquet, latest.Format)
	require.NotNil(t, latest.Metadata.NumFiles)
	assert.Equal(t, int64(len(latest.Files)), *latest.Metadata.NumFiles)

	v, err := env.client.TableVersion(ctx, tbl("orders"), "")
	require.NoError(t, err)
	assert.Equal(t, int64(2), v)
	v, err = env.client.TableVersion(ctx, tbl("orders"), demo.OrdersBaseTime.Add(30*time.Minute).Format(time.RFC3339))
	require.NoError(t, err)
	assert.Equal(t, int64(1), v, "the first version at or after the timestamp")
	v, err = env.client.TableVersion(ctx, tbl("orders"), "2000-01-01T00:00:00Z")
	require.NoError(t, err)
	assert.Equal(t, int64(0), v)
}

func TestQueryErrors(t *testing.T) {
	no := false
	env := ordersEnv(t, func(c *Config) {
		c.Shares[0].Schemas[0].Tables = append(c.Shares[0].Schemas[0].Tables,
			TableConfig{Name: "private", Location: demoDir(t, "orders"), HistoryShared: &no},
			TableConfig{Name: "recent", Location: demoDir(t, "orders"), StartVersion: 1})
	})
	for _, tc := range []struct {
		name, table, body, code, msg string
	}{
		{"version too new", "orders", `{"version":9}`, CodeInvalidParameterValue, "version 9 does not exist; the latest version is 2"},
		{"negative version", "orders", `{"version":-1}`, CodeInvalidParameterValue, "table version cannot be negative"},
		{"timestamp before", "orders", `{"timestamp":"2000-01-01T00:00:00Z"}`, CodeInvalidParameterValue, "timestamp is before the earliest available commit"},
		{"timestamp after", "orders", `{"timestamp":"2030-01-01T00:00:00Z"}`, CodeInvalidParameterValue, "after the latest commit"},
		{"bad timestamp", "orders", `{"timestamp":"last tuesday"}`, CodeInvalidParameterValue, "Invalid timestamp"},
		{"two versions", "orders", `{"version":1,"startingVersion":0}`, CodeInvalidParameterValue, "Please only provide one of"},
		{"maxFiles", "orders", `{"maxFiles":0}`, CodeInvalidParameterValue, "maxFiles must be positive"},
		{"refresh with version", "orders", `{"version":1,"includeRefreshToken":true}`, CodeInvalidParameterValue, "includeRefreshToken cannot be used"},
		{"bad refresh token", "orders", `{"refreshToken":"nope"}`, CodeInvalidParameterValue, "refresh token is invalid"},
		{"bad page token", "orders", `{"pageToken":"nope"}`, CodeInvalidParameterValue, "page token is invalid"},
		{"start after end", "orders", `{"startingVersion":2,"endingVersion":1}`, CodeInvalidParameterValue, "must be smaller than or equal to"},
		{"start after latest", "orders", `{"startingVersion":5}`, CodeInvalidParameterValue, "Start version cannot be greater"},
		{"end after latest", "orders", `{"startingVersion":0,"endingVersion":5}`, CodeInvalidParameterValue, "End version cannot be greater"},
		{"malformed", "orders", `{"version":`, CodeMalformedRequest, "not valid JSON"},
		{"history not shared", "private", `{"version":1}`, CodeInvalidParameterValue, "history sharing is not enabled on table: s.x.private"},
		{"before start version", "recent", `{"version":0}`, CodeInvalidParameterValue, "You can only query table data since version 1."},
		{"timestamp before start version", "recent", `{"timestamp":"2025-01-06T09:30:00Z"}`, CodeInvalidParameterValue, "since version 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, "POST", env.tableURL(tc.table, "/query"), testToken, strings.NewReader(tc.body))
			require.Equal(t, 400, r.status, "%s", r.body)
			m := r.json(t)
			assert.Equal(t, tc.code, m["errorCode"])
			assert.Contains(t, m["message"], tc.msg)
		})
	}
	for _, tc := range []struct{ name, url, msg string }{
		{"metadata version", env.tableURL("orders", "/metadata?version=7"), "does not exist"},
		{"metadata both", env.tableURL("orders", "/metadata?version=1&timestamp=2025-01-06T09:00:00Z"), "only provide one of"},
		{"metadata not a number", env.tableURL("orders", "/metadata?version=x"), "not a number"},
		{"metadata history", env.tableURL("private", "/metadata?version=1"), "history sharing is not enabled"},
		{"version timestamp", env.tableURL("orders", "/version?startingTimestamp=2030-01-01T00:00:00Z"), "Not a valid starting timestamp"},
		{"version bad timestamp", env.tableURL("orders", "/version?startingTimestamp=x"), "Invalid startingTimestamp"},
		{"version history", env.tableURL("private", "/version?startingTimestamp=2025-01-06T09:00:00Z"), "history sharing is not enabled"},
	} {
		r := do(t, "GET", tc.url, testToken, nil)
		require.Equal(t, 400, r.status, "%s: %s", tc.name, r.body)
		assert.Contains(t, r.json(t)["message"], tc.msg, tc.name)
	}
	// The latest snapshot of a table without shared history is fine.
	r := do(t, "POST", env.tableURL("private", "/query"), testToken, strings.NewReader(`{}`))
	assert.Equal(t, 200, r.status)
}

// rawQuery posts a query and splits the NDJSON lines.
func rawQuery(t *testing.T, env *tableEnv, table, body, caps string) (response, []map[string]json.RawMessage) {
	t.Helper()
	var hdr []string
	if caps != "" {
		hdr = []string{CapabilitiesHeader, caps}
	}
	r := do(t, "POST", env.tableURL(table, "/query"), testToken, strings.NewReader(body), hdr...)
	var lines []map[string]json.RawMessage
	if r.status == 200 {
		sc := bufio.NewScanner(bytes.NewReader(r.body))
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var m map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(sc.Bytes(), &m), sc.Text())
			lines = append(lines, m)
		}
	}
	return r, lines
}

func TestQueryEndStreamAndHeaders(t *testing.T) {
	env := ordersEnv(t, nil)
	for _, tc := range []struct {
		name, body, caps   string
		wantEnd, announced bool
	}{
		{"plain", `{}`, "", false, false},
		{"asked", `{}`, "responseformat=parquet;includeendstreamaction=true", true, true},
		{"refresh token", `{"includeRefreshToken":true}`, "", true, false},
		{"paged", `{"maxFiles":100}`, "responseformat=delta,parquet", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, lines := rawQuery(t, env, "orders", tc.body, tc.caps)
			require.Equal(t, 200, r.status, "%s", r.body)
			assert.Equal(t, "application/x-ndjson; charset=utf-8", r.header.Get("Content-Type"))
			assert.Equal(t, "2", r.header.Get("Delta-Table-Version"))
			wantCaps := "responseformat=parquet"
			if tc.announced {
				wantCaps += ";includeendstreamaction=true"
			}
			assert.Equal(t, wantCaps, r.header.Get(CapabilitiesHeader))
			require.GreaterOrEqual(t, len(lines), 3)
			assert.JSONEq(t, `{"minReaderVersion":1}`, string(lines[0]["protocol"]))
			assert.Contains(t, lines[1], "metaData")
			_, isEnd := lines[len(lines)-1]["endStreamAction"]
			assert.Equal(t, tc.wantEnd, isEnd)
			for _, l := range lines[2 : len(lines)-1] {
				assert.Contains(t, l, "file")
			}
			if isEnd {
				var es protocol.EndStream
				require.NoError(t, json.Unmarshal(lines[len(lines)-1]["endStreamAction"], &es))
				require.NotNil(t, es.MinURLExpirationTimestamp)
				assert.Equal(t, env.clock.Now().Add(DefaultURLTTL).UnixMilli(), *es.MinURLExpirationTimestamp)
				assert.Equal(t, strings.Contains(tc.body, "RefreshToken"), es.RefreshToken != "")
				assert.Empty(t, es.NextPageToken)
			}
		})
	}
	// The metadata endpoint answers in the format asked for, and a delta-only request gets delta.
	r := do(t, "GET", env.tableURL("orders", "/metadata"), testToken, nil, CapabilitiesHeader, "responseformat=delta")
	require.Equal(t, 200, r.status)
	assert.Equal(t, "responseformat=delta", r.header.Get(CapabilitiesHeader))
	assert.Contains(t, string(r.body), `"deltaProtocol":{"minReaderVersion":`)
	r = do(t, "GET", env.tableURL("orders", "/metadata"), testToken, nil, CapabilitiesHeader, "responseformat=csv")
	assert.Equal(t, 400, r.status)
	r = do(t, "POST", env.tableURL("orders", "/query"), testToken, strings.NewReader(`{}`), "fileidhash", "MD5")
	assert.Equal(t, 400, r.status)
	r = do(t, "POST", env.tableURL("orders", "/query"), testToken, strings.NewReader(`{}`), "fileidhash", "Delta")
	assert.Equal(t, 200, r.status)
	assert.Equal(t, "delta", r.header.Get("fileidhash"))
}

func TestQueryPaging(t *testing.T) {
	ctx := context.Background()
	env := ordersEnv(t, nil)
	all, err := env.client.Query(ctx, tbl("orders"), protocol.QueryRequest{})
	require.NoError(t, err)
	require.Greater(t, len(all.Files), 3)
	one := 1
	paged, err := env.client.Query(ctx, tbl("orders"), protocol.QueryRequest{MaxFiles: &one})
	require.NoError(t, err)
	assert.Equal(t, len(all.Files), paged.Pages)
	assert.Equal(t, fileIDs(all.Files), fileIDs(paged.Files), "every file once, in order")
	seen := map[string]bool{}
	for _, id := range fileIDs(paged.Files) {
		assert.False(t, seen[id], "duplicate %s", id)
		seen[id] = true
	}

	// Pages of a time-travel query stay at that version; pages of startingVersion queries too.
	v := int64(0)
	three := 3
	tt, err := env.client.Query(ctx, tbl("orders"), protocol.QueryRequest{Version: &v, MaxFiles: &three})
	require.NoError(t, err)
	ttAll, err := env.client.Query(ctx, tbl("orders"), protocol.QueryRequest{Version: &v})
	require.NoError(t, err)
	assert.Equal(t, fileIDs(ttAll.Files), fileIDs(tt.Files))
	start := int64(0)
	since, err := env.client.Query(ctx, tbl("orders"), protocol.QueryRequest{StartingVersion: &start})
	require.NoError(t, err)
	sincePaged, err := env.client.Query(ctx, tbl("orders"), protocol.QueryRequest{StartingVersion: &start, MaxFiles: &one})
	require.NoError(t, err)
	assert.Equal(t, fileIDs(since.Files), fileIDs(sincePaged.Files))

	// One page at a time: a tampered token, or one used with other parameters, is refused.
	first, err := env.client.Query(ctx, tbl("orders"), protocol.QueryRequest{MaxFiles: &one, SinglePage: true})
	require.NoError(t, err)
	require.NotNil(t, first.EndStream)
	tok := first.EndStream.NextPageToken
	require.NotEmpty(t, tok)
	payload, sig, _ := strings.Cut(tok, ".")
	tampered := payload[:len(payload)-2] + string('A'+(payload[len(payload)-2]-'A'+1)%26) + payload[len(payload)-1:] + "." + sig
	for _, bad := range []string{tampered, payload + ".AAAA", tok + "x"} {
		r := do(t, "POST", env.tableURL("orders", "/query"), testToken, strings.NewReader(fmt.Sprintf(`{"maxFiles":1,"pageToken":%q}`, bad)))
		assert.Equal(t, 400, r.status, "%s", r.body)
	}
	for _, body := range []string{
		fmt.Sprintf(`{"maxFiles":1,"pageToken":%q,"jsonPredicateHints":"{}"}`, tok),
		fmt.Sprintf(`{"maxFiles":1,"pageToken":%q,"version":1}`, tok),
	} {
		r := do(t, "POST", env.tableURL("orders", "/query"), testToken, strings.NewReader(body))
		assert.Equal(t, 400, r.status, "%s", r.body)
	}
	r := do(t, "POST", env.tableURL("customers", "/query"), testToken, strings.NewReader(fmt.Sprintf(`{"maxFiles":1,"pageToken":%q}`, tok)))
	assert.Equal(t, 400, r.status, "a token of another table")
	r = do(t, "POST", env.tableURL("orders", "/query"), testToken, strings.NewReader(fmt.Sprintf(`{"maxFiles":1,"pageToken":%q}`, tok)))
	assert.Equal(t, 200, r.status, "the genuine token")
}

func TestQueryRefreshTokenAndURLExpiry(t *testing.T) {
	ctx := context.Background()
	env := ordersEnv(t, nil)
	res, err := env.client.Query(ctx, tbl("orders"), protocol.QueryRequest{IncludeRefreshToken: true})
	require.NoError(t, err)
	require.NotEmpty(t, res.RefreshToken)
	require.NotEmpty(t, res.Files)
	u := res.Files[0].URL
	st, _ := download(t, u)
	require.Equal(t, 200, st)

	env.clock.Add(DefaultURLTTL)
	st, body := download(t, u)
	assert.Equal(t, 403, st, "expired URL")
	assert.Contains(t, string(body), "expired")

	again, err := env.client.Query(ctx, tbl("orders"), protocol.QueryRequest{RefreshToken: res.RefreshToken, IncludeRefreshToken: true})
	require.NoError(t, err)
	assert.Equal(t, res.Version, again.Version)
	assert.Equal(t, fileIDs(res.Files), fileIDs(again.Files), "same files")
	assert.NotEqual(t, res.Files[0].URL, again.Files[0].URL, "fresh URLs")
	assert.Greater(t, *again.Files[0].ExpirationTimestamp, *res.Files[0].ExpirationTimestamp)
	assert.NotEmpty(t, again.RefreshToken)
	st, _ = download(t, again.Files[0].URL)
	assert.Equal(t, 200, st)

	// A refresh token binds the hints, and expires.
	r := do(t, "POST", env.tableURL("orders", "/query"), testToken, strings.NewReader(fmt.Sprintf(`{"refreshToken":%q,"limitHint":1}`, res.RefreshToken)))
	assert.Equal(t, 400, r.status)
	env.clock.Add(env.srv.refreshTokenTTL())
	r = do(t, "POST", env.tableURL("orders", "/query"), testToken, strings.NewReader(fmt.Sprintf(`{"refreshToken":%q}`, res.RefreshToken)))
	assert.Equal(t, 400, r.status)
	assert.Contains(t, r.json(t)["message"], "expired")
}

// A refresh token pins the version: after a new commit it still returns the old file set.
func TestQueryRefreshTokenPinsVersion(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	makeTable(t, dir)
	env := startTables(t, map[string]string{"t": dir}, nil)
	res, err := env.client.Query(ctx, tbl("t"), protocol.QueryRequest{IncludeRefreshToken: true})
	require.NoError(t, err)
	require.Len(t, res.Files, 1)
	commit := `{"add":{"path":"part-00001.parquet","partitionValues":{},"size":3,"modificationTime":0,"dataChange":true}}` + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "part-00001.parquet"), []byte("abc"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "_delta_log", "00000000000000000001.json"), []byte(commit), 0o644))
	latest, err := env.client.Query(ctx, tbl("t"), protocol.QueryRequest{})
	require.NoError(t, err)
	assert.Len(t, latest.Files, 2, "the new commit is seen")
	again, err := env.client.Query(ctx, tbl("t"), protocol.QueryRequest{RefreshToken: res.RefreshToken})
	require.NoError(t, err)
	assert.Equal(t, int64(0), again.Version)
	assert.Equal(t, fileIDs(res.Files), fileIDs(again.Files))
}

func TestQueryStartingVersion(t *testing.T) {
	ctx := context.Background()
	env := ordersEnv(t, nil)
	start := int64(1)
	res, err := env.client.Query(ctx, tbl("orders"), protocol.QueryRequest{StartingVersion: &start})
	require.NoError(t, err)
	assert.Equal(t, int64(1), res.Version)
	var want []string
	for v := int64(1); v <= 2; v++ {
		acts, err := commitActions(&Table{Location: env.dirs["orders"]}, v)
		require.NoError(t, err)
		for _, a := range acts {
			if a.Add != nil && a.Add.DataChange {
				want = append(want, fmt.Sprintf("%d add %s", v, a.Add.Path))
			}
			if a.Remove != nil && a.Remove.DataChange {
				want = append(want, fmt.Sprintf("%d remove %s", v, a.Remove.Path))
			}
		}
	}
	require.NotEmpty(t, want)
	var got []string
	for _, f := range res.Files {
		require.NotNil(t, f.Version)
		assert.Equal(t, demo.OrdersBaseTime.Add(time.Duration(*f.Version)*time.Hour).UnixMilli(), *f.Timestamp)
		// log paths are escaped: region=Asia%252FPacific is the directory region=Asia%2FPacific
		got = append(got, fmt.Sprintf("%d %s %s", *f.Version, f.Kind, escapeLogPath(urlRelPath(t, f.URL))))
	}
	assert.Equal(t, want, got)
	end := int64(1)
	res, err = env.client.Query(ctx, tbl("orders"), protocol.QueryRequest{StartingVersion: &start, EndingVersion: &end})
	require.NoError(t, err)
	for _, f := range res.Files {
		assert.Equal(t, int64(1), *f.Version)
		assert.Equal(t, protocol.FileAdd, f.Kind)
	}
}

func escapeLogPath(rel string) string { return strings.ReplaceAll(rel, "%", "%25") }

func TestQueryLimitHint(t *testing.T) {
	ctx := context.Background()
	env := ordersEnv(t, nil)
	all, err := env.client.Query(ctx, tbl("orders"), protocol.QueryRequest{})
	require.NoError(t, err)
	records := func(f protocol.File) int64 {
		st, err := predicate.ParseStats(f.Stats)
		require.NoError(t, err)
		require.NotNil(t, st.NumRecords)
		return *st.NumRecords
	}
	for _, limit := range []int64{0, 1, 150, 700, 2000, 1 << 40} {
		res, err := env.client.Query(ctx, tbl("orders"), protocol.QueryRequest{LimitHint: &limit})
		require.NoError(t, err)
		require.LessOrEqual(t, len(res.Files), len(all.Files))
		assert.Equal(t, append([]string{}, fileIDs(all.Files)[:len(res.Files)]...), append([]string{}, fileIDs(res.Files)...), "a prefix, limit %d", limit)
		var sum, beforeLast int64
		for i, f := range res.Files {
			if i == len(res.Files)-1 {
				beforeLast = sum
			}
			sum += records(f)
		}
		if len(res.Files) < len(all.Files) {
			assert.GreaterOrEqual(t, sum, limit, "enough rows for limit %d", limit)
		}
		if len(res.Files) > 0 {
			assert.Less(t, beforeLast, limit, "no file more than needed, limit %d", limit)
		}
		if limit > 0 && limit < 2000 {
			assert.Less(t, len(res.Files), len(all.Files), "limit %d skips files", limit)
		}
	}
	// With predicate hints, the limit cannot be applied to files.
	limit := int64(1)
	res, err := env.client.Query(ctx, tbl("orders"), protocol.QueryRequest{LimitHint: &limit, PredicateHints: []string{"region = 'Europe'"}})
	require.NoError(t, err)
	assert.Len(t, res.Files, len(all.Files))
}

// File skipping with jsonPredicateHints never drops a file holding a matching row, and does
// skip files for selective predicates.
func TestQueryPredicateSkipping(t *testing.T) {
	ctx := context.Background()
	env := ordersEnv(t, nil)
	all, err := env.client.Query(ctx, tbl("orders"), protocol.QueryRequest{})
	require.NoError(t, err)
	rows, err := demo.ExpectedOrders(2)
	require.NoError(t, err)
	byID := map[int64]demo.Row{}
	for _, r := range rows {
		byID[r[demo.OrderID].(int64)] = r
	}
	// The ids each file holds.
	fileRows := map[string][]demo.Row{}
	for _, f := range all.Files {
		st, b := download(t, f.URL)
		require.Equal(t, 200, st)
		tb := readParquet(t, b)
		for _, id := range column(t, tb, "order_id") {
			r, ok := byID[id.(int64)]
			require.True(t, ok)
			fileRows[f.ID] = append(fileRows[f.ID], r)
		}
		tb.Release()
	}
	region := func(r demo.Row) any { return r[demo.OrderRegion] }
	id := func(r demo.Row) int64 { return r[demo.OrderID].(int64) }
	day := func(r demo.Row) time.Time { return r[demo.OrderDate].(time.Time) }
	aug := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	skipped := 0
	for _, tc := range []struct {
		where string
		match func(demo.Row) bool
	}{
		{"region = 'Europe'", func(r demo.Row) bool { return region(r) == "Europe" }},
		{"region = 'Asia/Pacific'", func(r demo.Row) bool { return region(r) == "Asia/Pacific" }},
		{"region IS NULL", func(r demo.Row) bool { return region(r) == nil }},
		{"region IS NOT NULL", func(r demo.Row) bool { return region(r) != nil }},
		{"order_id < 50", func(r demo.Row) bool { return id(r) < 50 }},
		{"order_id >= 2950", func(r demo.Row) bool { return id(r) >= 2950 }},
		{"order_id > 150 AND order_id <= 160", func(r demo.Row) bool { return id(r) > 150 && id(r) <= 160 }},
		{"order_date >= DATE '2024-08-01'", func(r demo.Row) bool { return !day(r).Before(aug) }},
		{"NOT (region = 'Americas')", func(r demo.Row) bool { return region(r) != nil && region(r) != "Americas" }},
		{"region = 'Europe' OR order_id < 10", func(r demo.Row) bool { return region(r) == "Europe" || id(r) < 10 }},
		{"NOT (order_id < 2000 OR region IS NULL)", func(r demo.Row) bool { return !(id(r) < 2000 || region(r) == nil) }},
		{"region = 'Mars'", func(r demo.Row) bool { return false }},
	} {
		t.Run(tc.where, func(t *testing.T) {
			e, err := predicate.Parse(tc.where)
			require.NoError(t, err)
			e, err = predicate.Bind(e, demo.OrdersSchema())
			require.NoError(t, err)
			h := predicate.Hints(e)
			require.NotNil(t, h)
			js, err := json.Marshal(h)
			require.NoError(t, err)
			res, err := env.client.Query(ctx, tbl("orders"), protocol.QueryRequest{JSONPredicateHints: string(js)})
			require.NoError(t, err)
			got := map[string]bool{}
			for _, f := range res.Files {
				got[f.ID] = true
			}
			for _, f := range all.Files {
				for _, r := range fileRows[f.ID] {
					if tc.match(r) {
						require.True(t, got[f.ID], "file %s holds matching order %d but was skipped", f.ID, id(r))
						break
					}
				}
			}
			skipped += len(all.Files) - len(res.Files)
		})
	}
	assert.Greater(t, skipped, 20, "selective predicates skip files")

	// Hints that cannot be used are ignored: every file comes back.
	for _, hint := range []string{`not json`, `{"op":"frobnicate"}`, `{"op":"equal","children":[{"op":"column","name":"nope","valueType":"int"},{"op":"literal","value":"1","valueType":"int"}]}`} {
		res, err := env.client.Query(ctx, tbl("orders"), protocol.QueryRequest{JSONPredicateHints: hint})
		require.NoError(t, err)
		assert.Len(t, res.Files, len(all.Files), hint)
	}
	assert.Contains(t, env.logs.String(), "ignoring jsonPredicateHints")
}

// Predicates name logical columns; under column mapping the server matches physical names.
func TestQueryPredicateColumnMapping(t *testing.T) {
	ctx := context.Background()
	tables, _ := sharedTables(t)
	dir := tables["kernel-cdf_cdf-column-mapping-name-mode"]
	require.NotEmpty(t, dir)
	env := startTables(t, map[string]string{"cm": dir}, nil)
	dt, err := deltalog.Open(ctx, dir)
	require.NoError(t, err)
	snap, err := dt.Snapshot(ctx, -1)
	require.NoError(t, err)
	require.Equal(t, "name", snap.Metadata.ColumnMappingMode())
	all, err := env.client.Query(ctx, tbl("cm"), protocol.QueryRequest{})
	require.NoError(t, err)
	assert.Equal(t, protocol.FormatDelta, all.Format)
	// A predicate on the first column that is impossible for every file's stats.
	f := snap.Schema.Fields[0]
	phys := f.PhysicalName("name")
	require.NotEqual(t, f.Name, phys)
	typ := f.Type.String()
	if typ == "integer" {
		typ = "int"
	}
	hint := fmt.Sprintf(`{"op":"isNull","children":[{"op":"column","name":%q,"valueType":%q}]}`, f.Name, typ)
	res, err := env.client.Query(ctx, tbl("cm"), protocol.QueryRequest{JSONPredicateHints: hint})
	require.NoError(t, err)
	var want int
	for _, a := range snap.Files {
		st, _ := predicate.ParseStats(a.Stats)
		if st == nil || st.NullCount == nil {
			want++
			continue
		}
		if n, ok := st.NullCount[phys]; !ok || fmt.Sprint(n) != "0" {
			want++
		}
	}
	assert.Equal(t, want, len(res.Files), "files kept by the physical-name null counts")
	assert.Less(t, want, len(snap.Files), "the hint skips files (only through physical names)")
}

func TestQueryDeltaFormatDVAndParquetOnly(t *testing.T) {
	ctx := context.Background()
	tables, _ := sharedTables(t)
	dir := tables["delta-rs_table-with-dv-small"]
	env := startTables(t, map[string]string{"dv": dir}, nil)
	_, err := env.newClient(t, parquetOnly()).Query(ctx, tbl("dv"), protocol.QueryRequest{})
	var ae *protocol.APIError
	require.True(t, errors.As(err, &ae), "%v", err)
	assert.Equal(t, 400, ae.Status)
	assert.Equal(t, CodeUnsupportedOperation, ae.Code)
	assert.Contains(t, ae.Message, "Unsupported Delta Table Properties")

	// delta without the deletionvectors reader feature is refused too.
	r := do(t, "POST", env.tableURL("dv", "/query"), testToken, strings.NewReader(`{}`), CapabilitiesHeader, "responseformat=delta;readerfeatures=columnmapping")
	assert.Equal(t, 400, r.status)

	r = do(t, "POST", env.tableURL("dv", "/query"), testToken, strings.NewReader(`{}`), CapabilitiesHeader, "responseformat=delta;readerfeatures=deletionvectors")
	require.Equal(t, 200, r.status, "%s", r.body)
	assert.Contains(t, string(r.body), `"storageType":"p"`)
	assert.Contains(t, string(r.body), `"deletionVectorFileId":`)
	assert.NotContains(t, string(r.body), `"storageType":"u"`)
}

// A log path leading outside the table root is refused with a safe 500, before any line.
func TestQueryPathOutsideRoot(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "t")
	makeTable(t, root)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "secret.parquet"), []byte("secret"), 0o644))
	commit := `{"add":{"path":"../secret.parquet","partitionValues":{},"size":6,"modificationTime":0,"dataChange":true}}` + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(root, "_delta_log", "00000000000000000001.json"), []byte(commit), 0o644))
	env := startTables(t, map[string]string{"t": root}, nil)
	r := do(t, "POST", env.tableURL("t", "/query"), testToken, strings.NewReader(`{}`))
	require.Equal(t, http.StatusInternalServerError, r.status)
	m := r.json(t)
	assert.Equal(t, CodeInternalError, m["errorCode"])
	assert.Contains(t, m["message"], "outside its directory")
	assert.NotContains(t, string(r.body), "secret")
	assert.Contains(t, env.logs.String(), "refusing a file outside the table root")
	// The previous version is fine.
	r = do(t, "POST", env.tableURL("t", "/query"), testToken, strings.NewReader(`{"version":0}`))
	assert.Equal(t, 200, r.status)
}
