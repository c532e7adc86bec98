package main

// The long-history shape of `make bench`: two generated tables with the same shape, one of
// historyShort and one of historyLong commits, no checkpoint; the same requests are timed on
// both through `deltashare serve`, and the ratio says whether the server's cost grows with the
// history (it should grow with the range asked only).

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/deltashare/deltashare/internal/bench"
	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/deltashare/deltashare/sharing/server/demo"
)

const (
	historyShort = 500
	historyLong  = 5000
	// historyCompactEvery: every so many commits one commit rewrites all live files into one,
	// as a streaming table's periodic compaction does, so a snapshot holds the same number of
	// files (at most historyCompactEvery) whatever the history's length.
	historyCompactEvery  = 100
	historyRowsPerCommit = 10
	// historyGeneratorVersion is part of the cache key of the generated tables.
	historyGeneratorVersion = 1
)

// historyMode is BENCH_HISTORY: "on" (after the export shapes), "off", or "only".
var historyMode = flag.String("history", envStr("BENCH_HISTORY", "on"),
	"long-history server shape: on, off, or only (BENCH_HISTORY)")

var historyRepeat = flag.Int("history-repeat", envInt("BENCH_HISTORY_REPEAT", 21),
	"warm requests of each kind in the long-history shape (BENCH_HISTORY_REPEAT)")

func historyEnabled() bool {
	m := strings.ToLower(*historyMode)
	return m != "off" && m != "0" && m != "false"
}

func historyOnly() bool { return strings.ToLower(*historyMode) == "only" }

var historySchema = `{"type":"struct","fields":[
{"name":"id","type":"long","nullable":false,"metadata":{}},
{"name":"event","type":"string","nullable":true,"metadata":{}}]}`

// generateHistory writes a table of commits commits: an append of historyRowsPerCommit rows per
// commit, and every historyCompactEvery commits a rewrite of every live file into one.
func generateHistory(dir string, commits int) error {
	schema, err := delta.ParseSchema(historySchema)
	if err != nil {
		return err
	}
	tbl, err := demo.CreateTable(dir, demo.TableOptions{
		Name: "history", Description: "deltashare long-history benchmark table", Seed: "deltashare-history",
		Schema: schema, Configuration: map[string]string{"delta.enableChangeDataFeed": "true"},
		CommitInterval: time.Minute,
	})
	if err != nil {
		return err
	}
	var all []demo.Row
	var live []string
	for v := 0; v < commits; v++ {
		if v > 0 && v%historyCompactEvery == 0 {
			tx, err := tbl.Begin("OPTIMIZE", nil)
			if err != nil {
				return err
			}
			for _, p := range live {
				if err := tx.Remove(p); err != nil {
					return err
				}
			}
			adds, err := tx.Append(all)
			if err != nil {
				return err
			}
			if _, err := tx.Commit(); err != nil {
				return err
			}
			live = live[:0]
			for _, a := range adds {
				live = append(live, a.Path)
			}
			continue
		}
		tx, err := tbl.Begin("STREAMING UPDATE", map[string]any{"outputMode": "Append"})
		if err != nil {
			return err
		}
		rows := make([]demo.Row, historyRowsPerCommit)
		for i := range rows {
			id := int64(len(all) + i)
			rows[i] = demo.Row{id, fmt.Sprintf("event %d of commit %d", i, v)}
		}
		adds, err := tx.Append(rows)
		if err != nil {
			return err
		}
		if _, err := tx.Commit(); err != nil {
			return err
		}
		all = append(all, rows...)
		for _, a := range adds {
			live = append(live, a.Path)
		}
	}
	return nil
}

// historyTable returns the cached long-history table of commits commits, generating it first.
func historyTable(ctx context.Context, dir string, commits int) (string, error) {
	path, err := filepath.Abs(filepath.Join(dir, "tables", fmt.Sprintf("history_c%d", commits)))
	if err != nil {
		return "", err
	}
	key := fmt.Sprintf("history-generator=%d commits=%d\n", historyGeneratorVersion, commits)
	took, err := cachedTable(ctx, path, key, "history table", fmt.Sprintf("the long-history table: %d commits", commits), func(tmp string) error {
		if err := generateHistory(tmp, commits); err != nil {
			return fmt.Errorf("generating the long-history table: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if took > 0 {
		logf("generated in %.1fs", took.Seconds())
	}
	return path, nil
}

// historyRequest is one kind of request of the shape; k (0 for the cold request, then 1, 2...)
// moves the versions asked one back per run, so no two runs ask the same versions.
type historyRequest struct {
	name   string
	method string
	path   func(latest, k int) string // after .../tables/{table}
	body   func(latest, k int) string
}

var historyRequests = []historyRequest{
	{name: "changes, last 10 versions", method: http.MethodGet, path: func(l, k int) string {
		return fmt.Sprintf("/changes?startingVersion=%d&endingVersion=%d", l-9-k, l-k)
	}},
	{name: "query, time travel (latest-10)", method: http.MethodPost, path: func(int, int) string { return "/query" },
		body: func(l, k int) string { return fmt.Sprintf(`{"version":%d}`, l-10-k) }},
	{name: "query, latest", method: http.MethodPost, path: func(int, int) string { return "/query" },
		body: func(int, int) string { return `{}` }},
	{name: "version", method: http.MethodGet, path: func(int, int) string { return "/version" }},
}

// runLongHistory generates (or reuses) the two tables, times every request kind on both with a
// fresh server per kind (the first request on each table is the cold figure), prints the table
// and writes DIR/history.json.
func runLongHistory(ctx context.Context, cfg config) error {
	if err := os.MkdirAll(cfg.dir, 0o755); err != nil {
		return err
	}
	bin, err := filepath.Abs(cfg.bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil || (historyOnly() && cfg.build) {
		logf("building %s", cfg.bin)
		cmd := exec.CommandContext(ctx, cfg.goCmd, "build", "-o", cfg.bin, "./cmd/deltashare")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building %s: %w", cfg.bin, err)
		}
	}
	sizes := []int{historyShort, historyLong}
	paths := make([]string, len(sizes))
	for i, n := range sizes {
		if paths[i], err = historyTable(ctx, cfg.dir, n); err != nil {
			return err
		}
	}
	reps := max(*historyRepeat, 1)
	loadBefore := bench.LoadAvg()
	var results []bench.HistoryResult
	tables := make([]table, len(sizes))
	for i, n := range sizes {
		tables[i] = table{TableInfo: bench.TableInfo{Name: fmt.Sprintf("history-%d", n), Share: fmt.Sprintf("bench.history.c%d", n), Path: paths[i]}}
	}
	for _, rq := range historyRequests {
		// A fresh server per request kind, serving both tables; the requests alternate between
		// the tables, so a change of the machine's load weighs on both alike.
		srv, err := startServer(ctx, bin, cfg.dir, tables)
		if err != nil {
			return err
		}
		times := make([][]float64, len(sizes))
		for k := 0; k <= reps && err == nil; k++ {
			for i, n := range sizes {
				var ms float64
				if ms, err = timeHistoryRequest(ctx, srv.profile, tables[i].Share, rq, n-1, k); err != nil {
					err = fmt.Errorf("%s on %s: %w", rq.name, tables[i].Name, err)
					break
				}
				times[i] = append(times[i], ms)
			}
		}
		srv.stop()
		if err != nil {
			return err
		}
		for i, n := range sizes {
			logf("%-32s %5d commits: cold %7.2f ms, warm median %7.2f ms", rq.name, n, times[i][0], bench.Median(times[i][1:]))
		}
		results = append(results, bench.NewHistoryResult(rq.name, sizes[0], sizes[1], times[0][0], times[1][0], times[0][1:], times[1][1:]))
	}
	loadAfter := bench.LoadAvg()
	fmt.Printf("\nlong history: deltashare serve on tables of %d and %d commits (no checkpoint), request wall time over loopback\n", sizes[0], sizes[1])
	fmt.Printf("median of %d warm requests (each asks versions one older than the last); load average before %s, after %s\n\n", reps, loadBefore, loadAfter)
	if err := bench.WriteHistoryTable(os.Stdout, results); err != nil {
		return err
	}
	b, err := json.MarshalIndent(map[string]any{
		"date": time.Now().Format(time.RFC3339), "loadavgBefore": loadBefore, "loadavgAfter": loadAfter,
		"warmRequests": reps, "results": results,
	}, "", "  ")
	if err != nil {
		return err
	}
	out := filepath.Join(cfg.dir, "history.json")
	if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Printf("results: %s\n", out)
	return nil
}

// timeHistoryRequest sends the request once (for run k) and returns its wall time in
// milliseconds, up to the end of the body. The response must be 200.
func timeHistoryRequest(ctx context.Context, profile, share string, rq historyRequest, latest, k int) (float64, error) {
	b, err := os.ReadFile(profile)
	if err != nil {
		return 0, err
	}
	var p struct {
		Endpoint    string `json:"endpoint"`
		BearerToken string `json:"bearerToken"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return 0, fmt.Errorf("profile %s: %w", profile, err)
	}
	parts := strings.Split(share, ".")
	base := fmt.Sprintf("%s/shares/%s/schemas/%s/tables/%s", strings.TrimRight(p.Endpoint, "/"), parts[0], parts[1], parts[2])
	var body io.Reader
	if rq.body != nil {
		body = strings.NewReader(rq.body(latest, k))
	}
	req, err := http.NewRequestWithContext(ctx, rq.method, base+rq.path(latest, k), body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+p.BearerToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := historyClient.Do(req)
	if err != nil {
		return 0, err
	}
	var buf bytes.Buffer
	_, err = io.Copy(&buf, resp.Body)
	resp.Body.Close()
	ms := float64(time.Since(start).Microseconds()) / 1000
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s %s: %s: %s", rq.method, rq.path(latest, k), resp.Status, strings.TrimSpace(buf.String()))
	}
	return ms, nil
}

// historyClient keeps connections alive between requests, as a client of the server would.
var historyClient = &http.Client{Timeout: time.Minute}
