package bench

import (
	"fmt"
	"io"
	"sort"
)

// HistoryTarget is the long-history shape's target: a request on the table with the long
// history costs at most this many times the same request on the table with the short one
// (the cost grows with the range asked, not with the history).
const HistoryTarget = 2.0

// HistoryResult is one request kind of the long-history shape, timed on the short and the long
// table: the median of the warm runs (the server has answered requests on the table before)
// and the first request after the server started (cold: nothing cached yet).
type HistoryResult struct {
	Request      string    `json:"request"`
	ShortCommits int       `json:"shortCommits"`
	LongCommits  int       `json:"longCommits"`
	ShortMs      float64   `json:"shortMedianMs"`
	LongMs       float64   `json:"longMedianMs"`
	Ratio        float64   `json:"ratio"` // LongMs / ShortMs
	ShortColdMs  float64   `json:"shortColdMs"`
	LongColdMs   float64   `json:"longColdMs"`
	ShortAllMs   []float64 `json:"shortAllMs"`
	LongAllMs    []float64 `json:"longAllMs"`
	Target       float64   `json:"target"`
	Verdict      string    `json:"verdict"` // PASS or MISS
}

// Median returns the median of xs (the mean of the two middle values for an even count), 0
// for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// NewHistoryResult reduces the timings (milliseconds) of one request kind: cold is the first
// request on each table, warm the repeated ones.
func NewHistoryResult(request string, shortCommits, longCommits int, shortCold, longCold float64, shortWarm, longWarm []float64) HistoryResult {
	r := HistoryResult{Request: request, ShortCommits: shortCommits, LongCommits: longCommits,
		ShortColdMs: round(shortCold, 2), LongColdMs: round(longCold, 2), Target: HistoryTarget}
	for _, x := range shortWarm {
		r.ShortAllMs = append(r.ShortAllMs, round(x, 2))
	}
	for _, x := range longWarm {
		r.LongAllMs = append(r.LongAllMs, round(x, 2))
	}
	r.ShortMs, r.LongMs = round(Median(shortWarm), 2), round(Median(longWarm), 2)
	if r.ShortMs > 0 {
		r.Ratio = round(Median(longWarm)/Median(shortWarm), 2)
	}
	r.Verdict = pass(r.ShortMs > 0 && r.Ratio <= HistoryTarget)
	return r
}

// WriteHistoryTable prints the long-history results as one aligned table.
func WriteHistoryTable(w io.Writer, results []HistoryResult) error {
	if len(results) == 0 {
		return nil
	}
	hdr := []string{"request",
		fmt.Sprintf("%d commits ms", results[0].ShortCommits), fmt.Sprintf("%d commits ms", results[0].LongCommits),
		"ratio", "target", "verdict", "cold ms (short / long)"}
	rows := [][]string{hdr}
	for _, r := range results {
		rows = append(rows, []string{r.Request, fmt.Sprintf("%.2f", r.ShortMs), fmt.Sprintf("%.2f", r.LongMs),
			fmt.Sprintf("%.2fx", r.Ratio), fmt.Sprintf("<=%.1fx", r.Target), r.Verdict,
			fmt.Sprintf("%.1f / %.1f", r.ShortColdMs, r.LongColdMs)})
	}
	return writeAligned(w, rows, func(i int) bool { return i > 0 && i < len(hdr)-1 })
}
