package sharing_test

// The client under faults: the real server (sharing/server, started by internal/sharingtest)
// behind a fault-injecting proxy (internal/faultproxy) that both the protocol requests and the
// signed file URLs go through. Transient faults must be retried and give exactly the rows of a clean read; permanent ones
// must end with a clear error naming the failed file. See docs/reliability.md.

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/deltashare/deltashare/sharing/reader"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/internal/faultproxy"
	"github.com/deltashare/deltashare/internal/sharingtest"
	"github.com/deltashare/deltashare/sharing"
)

const faultToken = "fault-token-0123456789abcdef"

var (
	ordersT    = protocol.Table{Share: "demo", Schema: "sales", Name: "orders"}
	customersT = protocol.Table{Share: "demo", Schema: "sales", Name: "customers"}
)

// faultEnv is our server serving the demo tables, reached only through a fault proxy.
type faultEnv struct {
	env   *sharingtest.Env
	proxy *faultproxy.Proxy
	// waits records the retry waits the client asked for (the client does not really sleep).
	mu    sync.Mutex
	waits []time.Duration
}

func startFaultEnv(t testing.TB) *faultEnv {
	t.Helper()
	env := sharingtest.Start(t, sharingtest.Options{Tables: sharingtest.Demo(t), Token: faultToken, Faults: true})
	return &faultEnv{env: env, proxy: env.Proxy}
}

// client returns a client of the proxy whose retries record their waits instead of sleeping,
// with a short idle timeout so that stalls are detected quickly.
func (e *faultEnv) client(t testing.TB) *sharing.Client {
	t.Helper()
	return e.env.Client(t, sharing.WithTimeout(400*time.Millisecond),
		sharing.WithRetryPolicy(sharing.RetryPolicy{MaxTries: 5, Sleep: func(ctx context.Context, d time.Duration) error {
			e.mu.Lock()
			e.waits = append(e.waits, d)
			e.mu.Unlock()
			return ctx.Err()
		}}))
}

// readRows reads the table (or its changes when changes is set) and returns every row as text.
func readRows(ctx context.Context, c *sharing.Client, tbl protocol.Table, changes bool) ([]string, []protocol.File, error) {
	opts := reader.ReadOptions{Parallel: 4}
	var r *reader.Reader
	var err error
	if changes {
		sv, ev := int64(0), int64(3)
		r, err = reader.OpenChanges(ctx, c, tbl, protocol.ChangesRequest{StartingVersion: &sv, EndingVersion: &ev}, opts)
	} else {
		r, err = reader.Open(ctx, c, tbl, opts)
	}
	if err != nil {
		return nil, nil, err
	}
	defer r.Release()
	var rows []string
	for r.Next() {
		rec := r.Record()
		for i := range int(rec.NumRows()) {
			var b strings.Builder
			for j, col := range rec.Columns() {
				if j > 0 {
					b.WriteByte('|')
				}
				b.WriteString(col.ValueStr(i))
			}
			rows = append(rows, b.String())
		}
	}
	return rows, r.Files(), r.Err()
}

const (
	filePath    = `^/files/`
	queryPath   = `/query$`
	changesPath = `/changes$`
)

func rule(name, method, path string, set func(*faultproxy.Rule)) *faultproxy.Rule {
	r := faultproxy.NewRule(name, method, path)
	set(r)
	return r
}

// TestTransientFaultsAreSurvived: every transient fault is retried and the read gives exactly
// the rows of a clean read. A rule's faults number fewer than the client's 5 tries, so that even
// when they all hit one file, the read must succeed.
func TestTransientFaultsAreSurvived(t *testing.T) {
	env := startFaultEnv(t)
	clean := map[bool][]string{}
	for _, changes := range []bool{false, true} {
		tbl := ordersT
		if changes {
			tbl = customersT
		}
		rows, _, err := readRows(context.Background(), env.client(t), tbl, changes)
		require.NoError(t, err)
		require.NotEmpty(t, rows)
		clean[changes] = rows
	}
	for _, tc := range []struct {
		name    string
		changes bool
		rules   []*faultproxy.Rule
		check   func(t *testing.T, env *faultEnv)
	}{
		{name: "429 with Retry-After on the query", rules: []*faultproxy.Rule{
			rule("429", "POST", queryPath, func(r *faultproxy.Rule) { r.Status, r.RetryAfter, r.Times = 429, "1", 2 })},
			check: func(t *testing.T, env *faultEnv) {
				assert.Equal(t, []time.Duration{time.Second, time.Second}, env.waits, "Retry-After is honoured")
			}},
		{name: "429 with Retry-After on downloads", rules: []*faultproxy.Rule{
			rule("429", "GET", filePath, func(r *faultproxy.Rule) { r.Status, r.RetryAfter, r.Times = 429, "2", 3 })},
			check: func(t *testing.T, env *faultEnv) { assert.Contains(t, env.waits, 2*time.Second) }},
		{name: "burst of 500/502/503 on the query", rules: []*faultproxy.Rule{
			rule("500", "POST", queryPath, func(r *faultproxy.Rule) { r.Status, r.Times = 500, 1 }),
			rule("502", "POST", queryPath, func(r *faultproxy.Rule) { r.Status, r.Times = 502, 1 }),
			rule("503", "POST", queryPath, func(r *faultproxy.Rule) { r.Status, r.Times = 503, 2 })}},
		{name: "burst of 5xx on downloads", rules: []*faultproxy.Rule{
			rule("502", "GET", filePath, func(r *faultproxy.Rule) { r.Status, r.Times = 502, 2 }),
			rule("503", "GET", filePath, func(r *faultproxy.Rule) { r.Status, r.Times = 503, 2 })}},
		{name: "burst of 5xx on changes", changes: true, rules: []*faultproxy.Rule{
			rule("503", "GET", changesPath, func(r *faultproxy.Rule) { r.Status, r.Times = 503, 3 })}},
		{name: "connection reset mid-NDJSON (query)", rules: []*faultproxy.Rule{
			rule("rst", "POST", queryPath, func(r *faultproxy.Rule) { r.ResetAfterBytes, r.Times = 700, 2 })}},
		{name: "connection reset mid-NDJSON (changes)", changes: true, rules: []*faultproxy.Rule{
			rule("rst", "GET", changesPath, func(r *faultproxy.Rule) { r.ResetAfterBytes, r.Times = 900, 2 })}},
		{name: "connection reset mid-Parquet", rules: []*faultproxy.Rule{
			rule("rst", "GET", filePath, func(r *faultproxy.Rule) { r.ResetAfterBytes, r.Times = 1000, 4 })}},
		{name: "connection reset mid-Parquet (changes)", changes: true, rules: []*faultproxy.Rule{
			rule("rst", "GET", filePath, func(r *faultproxy.Rule) { r.ResetAfterBytes, r.Times = 500, 4 })}},
		{name: "stalled response before headers", rules: []*faultproxy.Rule{
			rule("stall", "GET", filePath, func(r *faultproxy.Rule) { r.Stall, r.Times = time.Hour, 2 })}},
		{name: "stalled query", rules: []*faultproxy.Rule{
			rule("stall", "POST", queryPath, func(r *faultproxy.Rule) { r.Stall, r.Times = time.Hour, 1 })}},
		{name: "stall mid-Parquet", rules: []*faultproxy.Rule{
			rule("stall", "GET", filePath, func(r *faultproxy.Rule) { r.Stall, r.StallAfterBytes, r.Times = time.Hour, 300, 2 })}},
		{name: "stall mid-NDJSON", rules: []*faultproxy.Rule{
			rule("stall", "POST", queryPath, func(r *faultproxy.Rule) { r.Stall, r.StallAfterBytes, r.Times = time.Hour, 500, 1 })}},
		{name: "truncated Parquet", rules: []*faultproxy.Rule{
			rule("cut", "GET", filePath, func(r *faultproxy.Rule) { r.TruncateAfterBytes, r.Times = 800, 4 })}},
		{name: "NDJSON cut mid-line", rules: []*faultproxy.Rule{
			rule("cut", "POST", queryPath, func(r *faultproxy.Rule) { r.TruncateAfterBytes, r.Times = 1500, 1 })}},
		{name: "NDJSON cut at a line end (no EndStreamAction)", rules: []*faultproxy.Rule{
			rule("cut", "POST", queryPath, func(r *faultproxy.Rule) {
				r.Times = 1
				r.Rewrite = func(b []byte) []byte { return dropLastLine(b) }
			})}},
		{name: "file URLs expire during the read", rules: []*faultproxy.Rule{
			rule("403", "GET", filePath, func(r *faultproxy.Rule) { r.Status, r.Skip, r.Times = 403, 3, 1 })},
			check: func(t *testing.T, env *faultEnv) {
				assert.GreaterOrEqual(t, env.proxy.Requests(), int64(18), "the query was sent again for new URLs")
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env.proxy.Clear()
			env.mu.Lock()
			env.waits = nil
			env.mu.Unlock()
			env.proxy.Add(tc.rules...)
			tbl := ordersT
			if tc.changes {
				tbl = customersT
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			rows, _, err := readRows(ctx, env.client(t), tbl, tc.changes)
			require.NoError(t, err)
			assert.Equal(t, clean[tc.changes], rows, "exactly the rows of a clean read")
			for _, r := range tc.rules {
				assert.Positive(t, r.Hits(), "fault %q was applied", r.Name)
			}
			if tc.check != nil {
				env.mu.Lock()
				defer env.mu.Unlock()
				tc.check(t, env)
			}
		})
	}
}

// dropLastLine removes the last NDJSON line (the EndStreamAction the client asked for).
func dropLastLine(b []byte) []byte {
	s := strings.TrimRight(string(b), "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return []byte(s[:i+1])
	}
	return b
}

// corruptFileLine replaces the first "file" line of an NDJSON response with broken JSON.
func corruptFileLine(b []byte) []byte {
	lines := strings.SplitAfter(string(b), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, `{"file"`) {
			lines[i] = `{"file": {"url": ` + "\n"
			break
		}
	}
	return []byte(strings.Join(lines, ""))
}

// TestPermanentFaultsFailClearly: faults that do not go away end the read with an error that
// says what failed (the data file by id) and unwraps to the right sentinel.
func TestPermanentFaultsFailClearly(t *testing.T) {
	env := startFaultEnv(t)
	for _, tc := range []struct {
		name     string
		rules    []*faultproxy.Rule
		is       error
		msg      []string
		namesOne bool // the error names one of the read's data files
		maxHits  int64
	}{
		{name: "5xx on every download", rules: []*faultproxy.Rule{
			rule("500", "GET", filePath, func(r *faultproxy.Rule) { r.Status = 500 })},
			is: protocol.ErrServer, msg: []string{"500"}, namesOne: true},
		{name: "Parquet always truncated", rules: []*faultproxy.Rule{
			rule("cut", "GET", filePath, func(r *faultproxy.Rule) { r.TruncateAfterBytes = 100 })},
			is: protocol.ErrTruncated, namesOne: true},
		{name: "Parquet always reset", rules: []*faultproxy.Rule{
			rule("rst", "GET", filePath, func(r *faultproxy.Rule) { r.ResetAfterBytes = 100 })},
			namesOne: true},
		{name: "corrupt Parquet footer", rules: []*faultproxy.Rule{
			rule("flip", "GET", filePath, func(r *faultproxy.Rule) {
				r.Rewrite = func(b []byte) []byte { b[len(b)-1] ^= 0xFF; return b }
			})},
			msg: []string{"not a readable Parquet file"}, namesOne: true},
		{name: "corrupt Parquet footer length", rules: []*faultproxy.Rule{
			rule("flip", "GET", filePath, func(r *faultproxy.Rule) {
				r.Rewrite = func(b []byte) []byte { b[len(b)-6] ^= 0x7F; return b }
			})},
			msg: []string{"parquet"}, namesOne: true},
		{name: "malformed NDJSON line", rules: []*faultproxy.Rule{
			rule("bad", "POST", queryPath, func(r *faultproxy.Rule) { r.Rewrite = corruptFileLine })},
			is: protocol.ErrProtocol, maxHits: 1},
		{name: "NDJSON always without its EndStreamAction", rules: []*faultproxy.Rule{
			rule("cut", "POST", queryPath, func(r *faultproxy.Rule) { r.Rewrite = dropLastLine })},
			is: protocol.ErrTruncated},
		{name: "URLs refused even after a refresh", rules: []*faultproxy.Rule{
			rule("403", "GET", filePath, func(r *faultproxy.Rule) { r.Status = 403 })},
			is: protocol.ErrForbidden, msg: []string{"403"}, namesOne: true},
		{name: "token revoked mid-read", rules: []*faultproxy.Rule{
			rule("revoked", "POST", queryPath, func(r *faultproxy.Rule) { r.Status, r.Skip = 401, 1 }),
			rule("expired", "GET", filePath, func(r *faultproxy.Rule) { r.Status, r.Skip = 403, 2 })},
			is: protocol.ErrUnauthorized, msg: []string{"credential"}, namesOne: true},
		{name: "token rejected", rules: []*faultproxy.Rule{
			rule("401", "POST", queryPath, func(r *faultproxy.Rule) { r.Status = 401 })},
			is: protocol.ErrUnauthorized, maxHits: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env.proxy.Clear()
			env.proxy.Add(tc.rules...)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			rows, files, err := readRows(ctx, env.client(t), ordersT, false)
			require.Error(t, err, "read %d rows", len(rows))
			t.Log(err)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
			for _, m := range tc.msg {
				assert.Contains(t, strings.ToLower(err.Error()), strings.ToLower(m))
			}
			if tc.namesOne {
				named := false
				for _, f := range files {
					named = named || strings.Contains(err.Error(), "data file "+f.ID)
				}
				assert.True(t, named, "the error names the failed file: %v", err)
			}
			if tc.maxHits > 0 {
				assert.LessOrEqual(t, tc.rules[0].Hits(), tc.maxHits, "not retried")
			}
			assert.NotContains(t, err.Error(), faultToken)
			assert.NotContains(t, err.Error(), "sig=")
			assert.False(t, errors.Is(err, context.DeadlineExceeded), "ended by the fault, not the test's deadline")
		})
	}
}

// TestDecoderCutLine: a body that ends inside a line is a truncation (retried), a complete
// line that is wrong is a protocol error (not retried).
func TestDecoderCutLine(t *testing.T) {
	for _, tc := range []struct {
		body string
		is   error
	}{
		{`{"protocol":{"minReaderVersion":1}}` + "\n" + `{"metaData":{"id":"x","form`, protocol.ErrTruncated},
		{`{"protocol":{"minReaderVersion":1}}` + "\n" + `{"file":{"id":"x"}}`, protocol.ErrProtocol},
		{`{"protocol":{"minReaderVersion":1}}` + "\n" + `{"file": {"url": ` + "\n{}\n", protocol.ErrProtocol},
	} {
		dec := protocol.NewDecoder(strings.NewReader(tc.body))
		var err error
		for err == nil {
			_, err = dec.Next()
		}
		assert.ErrorIs(t, err, tc.is, "%q", tc.body)
		assert.Equal(t, errors.Is(err, protocol.ErrTruncated), sharing.IsRetryable(err))
	}
}
