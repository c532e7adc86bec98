package reader

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/internal/faultproxy"
	"github.com/deltashare/deltashare/internal/sharingtest"
	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/predicate"
	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/deltashare/deltashare/sharing/server/demo"
)

// sharedTables returns every shared real table (by group-name, see realTables) and the DAT
// cases (dat-<case>).
func sharedTables(t testing.TB) map[string]string {
	tables := realTables(t)
	for name, d := range datCases(t) {
		tables["dat-"+name] = filepath.Join(d, "delta")
	}
	return tables
}

// sharedServer serves sharedTables with our server.
func sharedServer(t testing.TB, opts ...func(*sharingtest.Options)) *sharingtest.Env {
	o := sharingtest.Options{Tables: sharedTables(t)}
	for _, f := range opts {
		f(&o)
	}
	return startServer(t, o)
}

func openRead(t testing.TB, c *sharing.Client, name string, opts ReadOptions) ([]string, *Reader) {
	t.Helper()
	r, err := Open(context.Background(), c, protocol.Table{Share: "s", Schema: "d", Name: name}, opts)
	require.NoError(t, err)
	t.Cleanup(r.Release)
	return readAll(t, r), r
}

func TestReadValuesAndTypes(t *testing.T) {
	env := sharedServer(t)
	c := client(t, env)
	tests := []struct {
		table  string
		schema string // field: type, ...
		rows   []string
	}{
		{"delta-rs-table-with-dv-small", "value: int32", []string{"1", "2", "3", "4", "5", "6", "7", "8"}},
		{"r-fixtures-deletion-vectors", "", []string{`0|"zero"`, `2|"two"`, `4|"four"`}},
		{"delta-rs-table_with_edge_timestamps", "BIG_DATE: timestamp[us, tz=UTC], NORMAL_DATE: timestamp[us, tz=UTC], SOME_VALUE: int32",
			[]string{"ts:253402128000000000|ts:1643673600000000|2", "ts:253402214400000000|ts:1640995200000000|1"}},
		{"delta-rs-table_with_column_mapping", "Company Very Short: utf8, Super Name: utf8",
			[]string{`"BME"|"Timothy Lamb"`, `"BMS"|"Anthony Johnson"`, `"BMS"|"Mr. Daniel Ferguson MD"`, `"BMS"|"Nathan Bennett"`, `"BMS"|"Stephanie Mcgrath"`}},
		{"r-fixtures-column-mapping-id", "", []string{`31|"delta"|"latam"`, `32|"kernel"|"latam"`, `33|"arrow"|"latam"`}},
		{"r-fixtures-timestamp-ntz", "id: int64, observed_at: timestamp[us], region: utf8", []string{`21|ts:1767323045123456|"emea"`, `22|ts:1780819750654321|"emea"`}},
		{"delta-rs-delta-0_8_0-special-partition", "", []string{`"A/A"|1`, `"B B"|2`}},
		{"delta-rs-delta-0_8_0-null-partition", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.table, func(t *testing.T) {
			rows, r := openRead(t, c, tt.table, ReadOptions{Parallel: 2})
			if tt.schema != "" {
				var parts []string
				for _, f := range r.Schema().Fields() {
					parts = append(parts, f.Name+": "+f.Type.String())
				}
				assert.Equal(t, tt.schema, strings.Join(parts, ", "))
			}
			if tt.rows != nil {
				assert.Equal(t, tt.rows, sortedCopy(rows))
			}
		})
	}
	t.Run("logical types", func(t *testing.T) {
		rows, r := openRead(t, c, "r-fixtures-logical-types", ReadOptions{})
		types := map[string]string{}
		for _, f := range r.Schema().Fields() {
			types[f.Name] = f.Type.String()
		}
		assert.Contains(t, types["amount"], "decimal")
		assert.True(t, strings.HasPrefix(types["metrics"], "map<utf8, "), types["metrics"])
		assert.Equal(t, "timestamp[us, tz=UTC]", types["observed_at"])
		assert.Equal(t, "timestamp[us]", types["local_at"])
		assert.True(t, strings.HasPrefix(types["profile"], "struct<"), types["profile"])
		require.Len(t, rows, 3)
		assert.Contains(t, rows[0], `12345.6789|map["alpha":1.25,"beta":-2.50]`)
	})
	t.Run("null partition", func(t *testing.T) {
		rows, _ := openRead(t, c, "delta-rs-delta-0_8_0-null-partition", ReadOptions{})
		assert.Len(t, rows, 2)
		assert.Contains(t, strings.Join(rows, "\n"), "NULL")
	})
}

func TestReadProjection(t *testing.T) {
	env := sharedServer(t)
	c := client(t, env)
	all, _ := openRead(t, c, "delta-rs-delta-2_2_0-partitioned-types", ReadOptions{Parallel: 1})
	proj, r := openRead(t, c, "delta-rs-delta-2_2_0-partitioned-types", ReadOptions{Parallel: 1, Columns: []string{"C3", "c1"}})
	assert.Equal(t, []string{"c3", "c1"}, schemaNames(r.Schema()), "schema spelling, order as given")
	require.Len(t, proj, len(all))
	for i := range all {
		f := strings.Split(all[i], "|")
		assert.Equal(t, f[2]+"|"+f[0], proj[i])
	}

	t.Run("partition columns only", func(t *testing.T) {
		rows, r := openRead(t, c, "delta-rs-delta-0_8_0-partitioned", ReadOptions{Columns: []string{"day", "year"}})
		assert.Equal(t, []string{"day", "year"}, schemaNames(r.Schema()))
		assert.Len(t, rows, 7)
	})
	t.Run("unknown column", func(t *testing.T) {
		_, err := Open(context.Background(), c, protocol.Table{Share: "s", Schema: "d", Name: "delta-rs-simple_table"}, ReadOptions{Columns: []string{"nope"}})
		require.ErrorIs(t, err, protocol.ErrInvalidRead)
		assert.Contains(t, err.Error(), `column "nope" is not in table`)
		assert.Contains(t, err.Error(), "id")
	})
	t.Run("twice", func(t *testing.T) {
		_, err := Open(context.Background(), c, protocol.Table{Share: "s", Schema: "d", Name: "delta-rs-simple_table"}, ReadOptions{Columns: []string{"id", "ID"}})
		require.ErrorIs(t, err, protocol.ErrInvalidRead)
	})
}

func TestReadWhere(t *testing.T) {
	env := sharedServer(t)
	c := client(t, env)
	tests := []struct {
		where string
		cols  []string
		want  []string
	}{
		{"amount > 0", []string{"id"}, []string{"101"}},
		{"amount IS NULL", []string{"id"}, []string{"103"}},
		{"NOT (amount > 0)", []string{"id"}, []string{"102"}}, // null is not "not greater"
		{"amount > 0 OR id = 103", []string{"id", "amount"}, []string{"101|12345.6789", "103|NULL"}},
		{"observed_at >= '2025-06-01T00:00:00Z'", []string{"id"}, []string{"102", "103"}},
	}
	for _, tt := range tests {
		t.Run(tt.where, func(t *testing.T) {
			before := len(env.Queries())
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			r, err := Open(context.Background(), c, protocol.Table{Share: "s", Schema: "d", Name: "r-fixtures-logical-types"}, ReadOptions{Where: tt.where, Columns: tt.cols, Allocator: mem, Limit: i64(100)})
			require.NoError(t, err)
			rows := readAll(t, r)
			r.Release()
			assert.Equal(t, tt.want, sortedCopy(rows))
			assert.Equal(t, tt.cols, schemaNames(r.Schema()))
			qs := env.Queries()[before:]
			require.Len(t, qs, 1)
			assert.Nil(t, qs[0].LimitHint, "no limitHint with a filter: the server cannot count matching rows")
			if qs[0].JSONPredicateHints != "" {
				_, err := predicate.ParseJSON([]byte(qs[0].JSONPredicateHints))
				assert.NoError(t, err, "hints must be valid JSON predicates: %s", qs[0].JSONPredicateHints)
			}
		})
	}
	t.Run("hints let the server skip files", func(t *testing.T) {
		_, whole := openRead(t, c, "delta-rs-delta-0_8_0-partitioned", ReadOptions{})
		rows, r := openRead(t, c, "delta-rs-delta-0_8_0-partitioned", ReadOptions{Where: "year = '2021' AND day = '4'"})
		assert.Len(t, rows, 1)
		q := lastQuery(t, env)
		assert.Contains(t, q.JSONPredicateHints, `"equal"`)
		assert.Less(t, r.FileCount(), whole.FileCount(), "the server skipped files")
	})
	t.Run("bad where", func(t *testing.T) {
		_, err := Open(context.Background(), c, protocol.Table{Share: "s", Schema: "d", Name: "r-fixtures-logical-types"}, ReadOptions{Where: "nope = 1"})
		require.ErrorIs(t, err, protocol.ErrInvalidRead)
		assert.Contains(t, err.Error(), "check the Where option")
	})
}

func TestReadLimit(t *testing.T) {
	env := sharedServer(t)
	c := client(t, env)
	const table = "delta-rs-simple_table_with_checkpoint" // 11 rows, one per file
	all, r := openRead(t, c, table, ReadOptions{Parallel: 1})
	require.Len(t, all, 11)
	require.Greater(t, r.FileCount(), 5)
	for _, n := range []int64{0, 1, 3, 11, 20} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			before := fileGets(env)
			r, err := Open(context.Background(), c, protocol.Table{Share: "s", Schema: "d", Name: table}, ReadOptions{Parallel: 1, Limit: &n, Allocator: mem})
			require.NoError(t, err)
			rows := readAll(t, r)
			r.Release()
			assert.Equal(t, all[:min(int(n), len(all))], append([]string{}, rows...))
			q := lastQuery(t, env)
			require.NotNil(t, q.LimitHint)
			assert.Equal(t, n, *q.LimitHint)
			if n < 11 {
				assert.LessOrEqual(t, fileGets(env)-before, int(n)+1, "the read stops fetching once the limit is reached")
			}
		})
	}
	t.Run("limit with a filter and parallel workers", func(t *testing.T) {
		rows, _ := openRead(t, c, "delta-rs-http_requests", ReadOptions{Parallel: 4, Limit: i64(10), Where: "EdgeResponseStatus = 200"})
		assert.Len(t, rows, 10)
	})
}

func TestReadParallelOrderDeterministic(t *testing.T) {
	env := sharedServer(t)
	c := client(t, env)
	for _, table := range []string{"delta-rs-http_requests", "dat-multi_partitioned", "delta-rs-simple_table_with_checkpoint"} {
		t.Run(table, func(t *testing.T) {
			var one []string
			for _, p := range []int{1, 8, 3} {
				var done []FileDone
				rows, r := openRead(t, c, table, ReadOptions{Parallel: p, BatchSize: 100, Progress: func(fd FileDone) { done = append(done, fd) }})
				if one == nil {
					one = rows
				} else {
					assert.Equal(t, one, rows, "parallel %d", p)
				}
				require.Len(t, done, r.FileCount())
				var sum int64
				for i, fd := range done {
					assert.Equal(t, i, fd.Index)
					assert.Equal(t, r.Files()[i].ID, fd.ID)
					sum += fd.Rows
				}
				rowsN, bytes := r.Done()
				assert.Equal(t, int64(len(rows)), sum)
				assert.Equal(t, sum, rowsN)
				assert.Positive(t, bytes)
			}
		})
	}
}

func TestReadRangeAndSpill(t *testing.T) {
	env := sharedServer(t)
	c := client(t, env)
	const table = "delta-rs-http_requests"
	all, _ := openRead(t, c, table, ReadOptions{Parallel: 2})
	require.Zero(t, rangedGets(env))

	t.Run("spill to a temporary file", func(t *testing.T) {
		dir := t.TempDir()
		rows, _ := openRead(t, c, table, ReadOptions{Parallel: 2, MaxInMemoryFile: 1000, TempDir: dir})
		assert.Equal(t, all, rows)
		left, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Empty(t, left, "temporary files are removed")
		assert.Zero(t, rangedGets(env))
	})
	t.Run("range reads for a projection", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		r, err := Open(context.Background(), c, protocol.Table{Share: "s", Schema: "d", Name: table}, ReadOptions{Parallel: 2, MaxInMemoryFile: 1000, Columns: []string{"ClientIP", "date"}, Allocator: mem})
		require.NoError(t, err)
		rows := readAll(t, r)
		r.Release()
		require.Len(t, rows, len(all))
		for i := range all {
			f := strings.Split(all[i], "|")
			assert.Equal(t, f[1]+"|"+f[0], rows[i])
		}
		assert.Positive(t, rangedGets(env), "large files are read by byte ranges")
	})
}

// rangedGets counts the file downloads that reached the server with a Range header.
func rangedGets(env *sharingtest.Env) int {
	n := 0
	for _, r := range env.Requests() {
		if r.IsFile() && r.Header.Get("Range") != "" {
			n++
		}
	}
	return n
}

func TestReadURLRefresh(t *testing.T) {
	for _, token := range []bool{true, false} {
		t.Run(fmt.Sprintf("refreshToken=%v", token), func(t *testing.T) {
			clock := sharingtest.NewClock(time.Time{})
			// Without refresh tokens: a server that hands out none (the proxy drops them).
			env := sharedServer(t, func(o *sharingtest.Options) { o.URLTTL, o.Clock, o.Faults = 10*time.Minute, clock, !token })
			var dropped *faultproxy.Rule
			if !token {
				dropped = env.Proxy.Add(proxyRule("no refresh token", "POST", `/query$`, func(r *faultproxy.Rule) { r.Rewrite = dropRefreshToken }))
			}
			c := client(t, env)
			const table = "delta-rs-simple_table_with_checkpoint"
			want, _ := openRead(t, c, table, ReadOptions{Parallel: 1})
			before := len(env.Queries())
			// Each finished file moves the clock 4 minutes: URLs handed out at the start
			// expire mid-read.
			rows, r := openRead(t, c, table, ReadOptions{Parallel: 1, Progress: func(FileDone) { clock.Add(4 * time.Minute) }})
			assert.Equal(t, want, rows)
			assert.GreaterOrEqual(t, r.URLRefreshes(), int64(2))
			qs := env.Queries()[before:]
			require.Greater(t, len(qs), 1)
			assert.True(t, qs[0].IncludeRefreshToken, "the first query asks for a refresh token")
			for _, q := range qs[1:] {
				if token {
					assert.NotEmpty(t, q.RefreshToken, "refresh by token")
					assert.Nil(t, q.Version, "refresh by token")
				} else {
					assert.Empty(t, q.RefreshToken)
					require.NotNil(t, q.Version, "refresh at the version read")
					assert.Equal(t, r.Version(), *q.Version)
				}
			}
			if dropped != nil {
				assert.Positive(t, dropped.Hits())
			}
		})
	}
	t.Run("403 once", func(t *testing.T) {
		env := sharedServer(t, withFaults)
		refused := env.Proxy.Add(proxyRule("403", "GET", `^/files/.*\.parquet$`, func(r *faultproxy.Rule) { r.Status, r.Times = http.StatusForbidden, 1 }))
		c := client(t, env)
		rows, r := openRead(t, c, "delta-rs-simple_table_with_checkpoint", ReadOptions{Parallel: 2})
		assert.Len(t, rows, 11)
		assert.Equal(t, int64(1), r.URLRefreshes())
		assert.Equal(t, int64(1), refused.Hits())
	})
	t.Run("403 always", func(t *testing.T) {
		env := sharedServer(t, withFaults)
		env.Proxy.Add(proxyRule("403", "GET", `^/files/`, func(r *faultproxy.Rule) { r.Status = http.StatusForbidden }))
		c := client(t, env)
		r, err := Open(context.Background(), c, protocol.Table{Share: "s", Schema: "d", Name: "delta-rs-simple_table"}, ReadOptions{Parallel: 1})
		require.NoError(t, err)
		defer r.Release()
		for r.Next() {
		}
		require.ErrorIs(t, r.Err(), protocol.ErrForbidden)
		assert.Contains(t, r.Err().Error(), r.Files()[0].ID)
		assertNoLeak(t, r.Err().Error(), r.Files())
	})
}

// dropRefreshToken removes the refreshToken of the EndStreamAction of an NDJSON response, as a
// server that hands out none would answer.
func dropRefreshToken(b []byte) []byte {
	lines := bytes.SplitAfter(b, []byte("\n"))
	for i, l := range lines {
		if !bytes.Contains(l, []byte(`"endStreamAction"`)) {
			continue
		}
		var m map[string]map[string]json.RawMessage
		if json.Unmarshal(l, &m) != nil || m["endStreamAction"] == nil {
			continue
		}
		delete(m["endStreamAction"], "refreshToken")
		nb, err := json.Marshal(m)
		if err != nil {
			continue
		}
		lines[i] = append(nb, '\n')
	}
	return bytes.Join(lines, nil)
}

func TestReadDownloadFaults(t *testing.T) {
	const table = "delta-rs-simple_table_with_checkpoint"
	// Each fault applies to the first tries of every data file (a rule per file).
	tests := []struct {
		name  string
		fault func(r *faultproxy.Rule)
	}{
		{"503", func(r *faultproxy.Rule) { r.Status, r.Times = http.StatusServiceUnavailable, 2 }},
		{"429", func(r *faultproxy.Rule) { r.Status, r.Times = http.StatusTooManyRequests, 1 }},
		{"connection reset", func(r *faultproxy.Rule) { r.ResetAfterBytes, r.Times = 0, 1 }},
		// The whole file's Content-Length, a few bytes, then a reset.
		{"truncated with content-length", func(r *faultproxy.Rule) { r.ResetAfterBytes, r.Times = 21, 1 }},
		// No Content-Length, a few bytes, then a clean end.
		{"truncated chunked", func(r *faultproxy.Rule) { r.TruncateAfterBytes, r.Times = 21, 1 }},
	}
	env := sharedServer(t, withFaults)
	_, clean := openRead(t, client(t, env), table, ReadOptions{Parallel: 3})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env.Proxy.Clear()
			rules := map[string]*faultproxy.Rule{}
			for _, f := range clean.Files() {
				p := escapedPath(t, f.URL)
				rules[p] = proxyRule(tt.name+" "+f.ID, "GET", "^"+regexp.QuoteMeta(p)+"$", tt.fault)
				env.Proxy.Add(rules[p])
			}
			c := client(t, env)
			rows, r := openRead(t, c, table, ReadOptions{Parallel: 3})
			assert.Len(t, rows, 11)
			require.Len(t, r.Files(), len(rules))
			for _, f := range r.Files() {
				rule := rules[escapedPath(t, f.URL)]
				require.NotNil(t, rule, f.URL)
				assert.Equal(t, int64(rule.Times), rule.Hits(), "%s: the fault applied", f.ID)
				assert.GreaterOrEqual(t, rule.Seen(), int64(2), "%s: fetched again", f.ID)
			}
		})
	}
}

func TestReadMissingFile(t *testing.T) {
	env := sharedServer(t)
	c := client(t, env)
	r, err := Open(context.Background(), c, protocol.Table{Share: "s", Schema: "d", Name: "delta-rs-checkpoints_vacuumed"}, ReadOptions{Parallel: 1})
	require.NoError(t, err)
	defer r.Release()
	for r.Next() {
	}
	err = r.Err()
	require.ErrorIs(t, err, protocol.ErrNotFound)
	assert.Contains(t, err.Error(), "data file "+r.Files()[0].ID)
	assertNoLeak(t, err.Error(), r.Files())
	assert.NotContains(t, err.Error(), "/files/")
	assert.Equal(t, 1, env.FileGets()[escapedPath(t, r.Files()[0].URL)], "404 is not retried")
}

// goroutines waits for the goroutine count to come down to at most n.
func goroutines(n int) int {
	var g int
	for range 100 {
		g = runtime.NumGoroutine()
		if g <= n {
			return g
		}
		time.Sleep(20 * time.Millisecond)
	}
	return g
}

func TestReadCancelAndLeaks(t *testing.T) {
	base := runtime.NumGoroutine()
	env := startServer(t, sharingtest.Options{Tables: realTables(t), Faults: true})
	tr := &http.Transport{}
	c := client(t, env, sharing.WithHTTPClient(&http.Client{Transport: tr}))
	const table = "delta-rs-http_requests"

	t.Run("cancel mid-read returns promptly", func(t *testing.T) {
		// Every download hangs until the client gives up.
		env.Proxy.Add(proxyRule("hang", "GET", `^/files/`, func(r *faultproxy.Rule) { r.Stall = time.Hour }))
		defer env.Proxy.Clear()
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		ctx, cancel := context.WithCancel(context.Background())
		r, err := Open(ctx, c, protocol.Table{Share: "s", Schema: "d", Name: table}, ReadOptions{Parallel: 4, Allocator: mem})
		require.NoError(t, err)
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		assert.False(t, r.Next())
		assert.Less(t, time.Since(start), 5*time.Second)
		assert.ErrorIs(t, r.Err(), context.Canceled)
		r.Release()
		mem.AssertSize(t, 0)
	})
	t.Run("release after a partial read", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		r, err := Open(context.Background(), c, protocol.Table{Share: "s", Schema: "d", Name: table}, ReadOptions{Parallel: 4, Allocator: mem, BatchSize: 10})
		require.NoError(t, err)
		require.True(t, r.Next())
		require.True(t, r.Next())
		r.Release()
		mem.AssertSize(t, 0)
	})
	t.Run("error mid-read", func(t *testing.T) {
		env.Proxy.Add(proxyRule("404", "GET", `^/files/`, func(r *faultproxy.Rule) { r.Status = http.StatusNotFound }))
		defer env.Proxy.Clear()
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		r, err := Open(context.Background(), c, protocol.Table{Share: "s", Schema: "d", Name: table}, ReadOptions{Parallel: 4, Allocator: mem})
		require.NoError(t, err)
		for r.Next() {
		}
		require.Error(t, r.Err())
		r.Release()
		mem.AssertSize(t, 0)
	})
	tr.CloseIdleConnections()
	// The server and the proxy were started after base was taken: stop them, so that what
	// is left over is the reader's.
	env.Close()
	if g := goroutines(base); g > base {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines before, %d after:\n%s", base, g, buf[:runtime.Stack(buf, true)])
	}
}

func TestReadChanges(t *testing.T) {
	env := sharedServer(t)
	c := client(t, env)
	t.Run("kernel cdf-table", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		r, err := OpenChanges(context.Background(), c, protocol.Table{Share: "s", Schema: "d", Name: "kernel-cdf-cdf-table"}, protocol.ChangesRequest{StartingVersion: i64(0)}, ReadOptions{Allocator: mem, Parallel: 3})
		require.NoError(t, err)
		rows := readAll(t, r)
		names := schemaNames(r.Schema())
		r.Release()
		assert.Equal(t, []string{ColChangeType, ColCommitVersion, ColCommitTimestamp}, names[len(names)-3:])
		counts := map[string]int{}
		last := int64(-1)
		for _, row := range rows {
			f := strings.Split(row, "|")
			counts[f[len(f)-3]]++
			v, err := strconv.ParseInt(f[len(f)-2], 10, 64)
			require.NoError(t, err)
			assert.GreaterOrEqual(t, v, last, "ordered by commit version")
			last = v
			assert.True(t, strings.HasPrefix(f[len(f)-1], "ts:"))
		}
		assert.Positive(t, counts[`"insert"`])
		t.Logf("change types: %v", counts)
	})
	t.Run("demo customers", func(t *testing.T) {
		denv := sharingtest.Start(t, sharingtest.Options{Tables: sharingtest.Demo(t)})
		dc := client(t, denv)
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		r, err := OpenChanges(context.Background(), dc, denv.Table("demo.sales.customers"), protocol.ChangesRequest{StartingVersion: i64(0)}, ReadOptions{Allocator: mem})
		require.NoError(t, err)
		got := readAll(t, r)
		r.Release()
		var want []string
		for _, ch := range demo.ExpectedCustomerChanges() {
			want = append(want, customerRow(ch.Row)+fmt.Sprintf("|%q|%d|ts:%d", string(ch.Type), ch.Version, ch.Timestamp.UnixMicro()))
		}
		assert.Equal(t, sortedCopy(want), sortedCopy(got))
		// Within a version the order is the files'; across versions it is ascending.
		for i := 1; i < len(got); i++ {
			a, b := strings.Split(got[i-1], "|"), strings.Split(got[i], "|")
			av, _ := strconv.Atoi(a[len(a)-2])
			bv, _ := strconv.Atoi(b[len(b)-2])
			assert.LessOrEqual(t, av, bv)
		}
	})
	t.Run("projection and where on change columns", func(t *testing.T) {
		r, err := OpenChanges(context.Background(), c, protocol.Table{Share: "s", Schema: "d", Name: "kernel-cdf-cdf-table"}, protocol.ChangesRequest{StartingVersion: i64(0)},
			ReadOptions{Columns: []string{"_change_type", "id"}, Where: "_change_type = 'insert'"})
		require.NoError(t, err)
		defer r.Release()
		rows := readAll(t, r)
		assert.Equal(t, []string{ColChangeType, "id"}, schemaNames(r.Schema()))
		for _, row := range rows {
			assert.True(t, strings.HasPrefix(row, `"insert"|`), row)
		}
	})
}

// customerRow renders a demo customers row like cell does.
func customerRow(row demo.Row) string {
	parts := []string{
		fmt.Sprint(row[demo.CustomerID]),
		strconv.Quote(row[demo.CustomerName].(string)),
		strconv.Quote(row[demo.CustomerEmail].(string)),
		strconv.Quote(row[demo.CustomerTier].(string)),
		decimal128.FromI64(row[demo.CustomerLifetimeValue].(int64)).ToString(2),
		fmt.Sprintf("date:%d", demo.DaysSinceEpoch(row[demo.CustomerSignupDate].(time.Time))),
		fmt.Sprintf("ts:%d", row[demo.CustomerUpdatedAt].(time.Time).UnixMicro()),
		strconv.Quote(row[demo.CustomerCountry].(string)),
	}
	for i, p := range parts {
		if row[i] == nil {
			parts[i] = "NULL"
		}
		_ = p
	}
	return strings.Join(parts, "|")
}

func TestReadOptionsErrors(t *testing.T) {
	env := sharedServer(t)
	c := client(t, env)
	tbl := protocol.Table{Share: "s", Schema: "d", Name: "delta-rs-simple_table"}
	_, err := Open(context.Background(), c, tbl, ReadOptions{Version: i64(1), Timestamp: "2020-01-01T00:00:00Z"})
	assert.ErrorIs(t, err, protocol.ErrInvalidRead)
	_, err = Open(context.Background(), c, tbl, ReadOptions{Limit: i64(-1)})
	assert.ErrorIs(t, err, protocol.ErrInvalidRead)
	_, err = OpenChanges(context.Background(), c, tbl, protocol.ChangesRequest{StartingVersion: i64(0)}, ReadOptions{Version: i64(1)})
	assert.ErrorIs(t, err, protocol.ErrInvalidRead)
	_, err = Open(context.Background(), nil, tbl, ReadOptions{})
	assert.Error(t, err)
}

func TestReadShard(t *testing.T) {
	env := sharedServer(t)
	c := client(t, env)
	const table = "delta-rs-simple_table_with_checkpoint"
	all, r := openRead(t, c, table, ReadOptions{})
	var parts []string
	for i := range 3 {
		rows, rr := openRead(t, c, table, ReadOptions{Shard: func(id string) bool { return shardOf(id, 3) == i }})
		parts = append(parts, rows...)
		for _, f := range rr.Files() {
			assert.Equal(t, i, shardOf(f.ID, 3))
		}
	}
	assert.Equal(t, sortedCopy(all), sortedCopy(parts))
	assert.Positive(t, r.FileCount())
}

func shardOf(id string, n int) int {
	h := 0
	for _, c := range id {
		h = h*31 + int(c)
	}
	if h < 0 {
		h = -h
	}
	return h % n
}

func TestReadChangesRealTables(t *testing.T) {
	env := sharedServer(t)
	c := client(t, env)
	for _, table := range []string{"kernel-cdf-cdf-table-simple", "kernel-cdf-cdf-column-mapping-name-mode", "kernel-cdf-cdf-table-with-dv",
		"kernel-cdf-cdf-table-partitioned", "kernel-cdf-cdf-table-update-ops", "kernel-cdf-cdf-table-delete-conditional-two-rows",
		"delta-rs-cdf-table-with-cdc-and-dvs", "delta-rs-cdf-table-non-partitioned"} {
		t.Run(table, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			start := int64(0)
			if table == "kernel-cdf-cdf-column-mapping-name-mode" {
				// Its change data feed is enabled at version 1: the server refuses earlier
				// versions, as the protocol's reference server does.
				start = 1
			}
			r, err := OpenChanges(context.Background(), c, protocol.Table{Share: "s", Schema: "d", Name: table}, protocol.ChangesRequest{StartingVersion: &start}, ReadOptions{Allocator: mem, Parallel: 2})
			require.NoError(t, err)
			defer r.Release()
			rows := readAll(t, r)
			counts := map[string]int{}
			for _, row := range rows {
				f := strings.Split(row, "|")
				counts[f[len(f)-3]]++
			}
			assert.Positive(t, counts[`"insert"`])
			// cdf-table-update-ops writes "update_pre"/"update_post" in its change files.
			assert.Equal(t, counts[`"update_preimage"`]+counts[`"update_pre"`], counts[`"update_postimage"`]+counts[`"update_post"`])
			t.Logf("%s: %v", table, counts)
		})
	}
}
