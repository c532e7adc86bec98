package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/deltashare/deltashare/internal/atomicfile"
)

// MB is the unit of the MB/s and peak RSS figures: 10^6 bytes.
const MB = 1e6

// Targets are the minimum ratios of our rows/s to DuckDB's, by format.
var Targets = map[string]float64{"csv": 0.7, "ndjson": 1.0, "parquet": 0.5}

// RSSLimit is the peak RSS an export of the base (10M-row) table must stay under, and
// RSSGrowth how much more the export of the large (4×) table may take than the base one.
const (
	RSSLimit  = 300 * MB
	RSSGrowth = 1.2
)

// Table kinds: the base bench table has the RSS limit, the large one the growth bound.
const (
	KindBase  = "base"
	KindLarge = "large"
	KindOther = ""
	KindShape = "shape" // a shape of its own: its RSS limit is set on the result (RSSLimitMB)
)

// Measurement is one run of a child process.
type Measurement struct {
	Seconds    float64 // wall time, start to exit
	CPUSeconds float64 // user + system time of the child
	PeakRSS    int64   // the child's peak resident set size in bytes (0 when unknown)
}

// Measure runs cmd to completion and measures its wall time, CPU time and peak RSS (from the
// rusage the kernel reports at exit). The error is cmd.Run's.
func Measure(cmd *exec.Cmd) (Measurement, error) {
	start := time.Now()
	err := cmd.Run()
	m := Measurement{Seconds: time.Since(start).Seconds()}
	if ps := cmd.ProcessState; ps != nil {
		m.CPUSeconds = (ps.UserTime() + ps.SystemTime()).Seconds()
		m.PeakRSS = peakRSS(ps)
	}
	return m, err
}

// Sample is one measured export.
type Sample struct {
	Measurement
	Rows     int64
	OutBytes int64
}

// Anchor is one line of the DuckDB anchor:
// `duckdb <format> rows=<n> seconds=<s> rows_per_s=<r> out_bytes=<b>`.
type Anchor struct {
	Format     string  `json:"format"`
	Rows       int64   `json:"rows"`
	Seconds    float64 `json:"seconds"`
	RowsPerSec float64 `json:"rowsPerSec"`
	OutBytes   int64   `json:"outBytes"`
}

// ParseAnchor reads the anchor's output and returns its lines by format. Lines that are not
// anchor lines (npm notices) are ignored; a malformed anchor line is an error.
func ParseAnchor(r io.Reader) (map[string]Anchor, error) {
	out := map[string]Anchor{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || fields[0] != "duckdb" {
			continue
		}
		a := Anchor{Format: fields[1]}
		seen := 0
		for _, kv := range fields[2:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return nil, fmt.Errorf("bench: DuckDB anchor line %q: %q is not key=value", sc.Text(), kv)
			}
			var err error
			switch k {
			case "rows":
				a.Rows, err = strconv.ParseInt(v, 10, 64)
			case "seconds":
				a.Seconds, err = strconv.ParseFloat(v, 64)
			case "rows_per_s":
				a.RowsPerSec, err = strconv.ParseFloat(v, 64)
			case "out_bytes":
				a.OutBytes, err = strconv.ParseInt(v, 10, 64)
			default:
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("bench: DuckDB anchor line %q: %s: %w", sc.Text(), k, err)
			}
			seen++
		}
		if seen < 4 || a.Seconds <= 0 {
			return nil, fmt.Errorf("bench: DuckDB anchor line %q: want rows, seconds, rows_per_s and out_bytes", sc.Text())
		}
		out[a.Format] = a
	}
	return out, sc.Err()
}

// Result is the best of the repeated runs of one table and format, beside DuckDB's best.
type Result struct {
	Table      string    `json:"table"`
	Kind       string    `json:"kind,omitempty"`
	Format     string    `json:"format"`
	Rows       int64     `json:"rows"`
	Seconds    float64   `json:"seconds"` // best wall time
	CPUSeconds float64   `json:"cpuSeconds"`
	RowsPerSec float64   `json:"rowsPerSec"`
	OutBytes   int64     `json:"outBytes"`
	MBPerSec   float64   `json:"mbPerSec"` // output MB (10^6 bytes) per second
	PeakRSSMB  float64   `json:"peakRssMB"`
	AllSeconds []float64 `json:"allSeconds"`
	DuckDB     *Anchor   `json:"duckdb,omitempty"`
	DuckDBAll  []float64 `json:"duckdbAllSeconds,omitempty"`
	Ratio      float64   `json:"ratio,omitempty"` // our rows/s over DuckDB's
	// MedianRatio is DuckDB's median time over ours (the ratio of the medians of the runs).
	MedianRatio float64 `json:"medianRatio,omitempty"`
	MedianSecs  float64 `json:"medianSeconds"`
	Target      float64 `json:"target"`
	Speed       string  `json:"speed"`     // PASS, MISS, or n/a without DuckDB
	RSSTarget   string  `json:"rssTarget"` // what the RSS is held to
	RSS         string  `json:"rss"`       // PASS, MISS, or - when no RSS target applies
	RSSLimitMB  float64 `json:"rssLimitMB,omitempty"`
}

// Best reduces the samples of one table and format: the fastest run's time and throughput,
// and the highest peak RSS of all runs (memory does not depend on the machine's load, so
// the worst case is the honest figure).
func Best(table, kind, format string, samples []Sample, duck []Anchor) Result {
	r := Result{Table: table, Kind: kind, Format: format, Target: Targets[format], Speed: "n/a", RSS: "-", RSSTarget: "-"}
	best := -1
	var peak int64
	for i, s := range samples {
		r.AllSeconds = append(r.AllSeconds, round(s.Seconds, 3))
		if best < 0 || s.Seconds < samples[best].Seconds {
			best = i
		}
		peak = max(peak, s.PeakRSS)
	}
	if best >= 0 {
		s := samples[best]
		r.Rows, r.Seconds, r.CPUSeconds, r.OutBytes = s.Rows, s.Seconds, s.CPUSeconds, s.OutBytes
		if s.Seconds > 0 {
			r.RowsPerSec = float64(s.Rows) / s.Seconds
			r.MBPerSec = float64(s.OutBytes) / MB / s.Seconds
		}
	}
	r.PeakRSSMB = float64(peak) / MB
	r.MedianSecs = median(r.AllSeconds)
	for i := range duck {
		r.DuckDBAll = append(r.DuckDBAll, duck[i].Seconds)
		if r.DuckDB == nil || duck[i].Seconds < r.DuckDB.Seconds {
			a := duck[i]
			r.DuckDB = &a
		}
	}
	if r.DuckDB != nil && r.DuckDB.Seconds > 0 && r.DuckDB.Rows > 0 {
		// DuckDB's rows/s from its exact time (its printed rows_per_s is rounded).
		r.DuckDB.RowsPerSec = float64(r.DuckDB.Rows) / r.DuckDB.Seconds
		r.Ratio = r.RowsPerSec / r.DuckDB.RowsPerSec
		if m := median(r.AllSeconds); m > 0 {
			r.MedianRatio = median(r.DuckDBAll) / m
		}
		r.Speed = pass(r.Target > 0 && r.Ratio >= r.Target)
	}
	return r
}

// SetTarget replaces the speed target of a result (a shape's own); 0 leaves the ratio without
// a target.
func (r *Result) SetTarget(target float64) {
	r.Target = target
	switch {
	case r.DuckDB == nil:
		r.Speed = "n/a"
	case target <= 0:
		r.Speed = "-"
	default:
		r.Speed = pass(r.Ratio >= target)
	}
}

// CheckRSS applies the memory targets: results of the base table must stay under RSSLimit;
// those of the large table within RSSGrowth of the base table's same format (or of the base
// table's highest when that format was not run on it).
func CheckRSS(results []Result) {
	base := map[string]float64{}
	baseMax := 0.0
	for _, r := range results {
		if r.Kind == KindBase {
			base[r.Format] = r.PeakRSSMB
			baseMax = max(baseMax, r.PeakRSSMB)
		}
	}
	for i := range results {
		r := &results[i]
		switch r.Kind {
		case KindShape:
			if r.RSSLimitMB <= 0 {
				r.RSSTarget, r.RSS = "-", "-"
				continue
			}
			r.RSSTarget = fmt.Sprintf("<=%.0f", r.RSSLimitMB)
			r.RSS = pass(r.PeakRSSMB > 0 && r.PeakRSSMB <= r.RSSLimitMB)
		case KindOther:
			r.RSSTarget, r.RSS = "-", "-"
		case KindBase:
			r.RSSLimitMB = RSSLimit / MB
			r.RSSTarget = fmt.Sprintf("<%.0f", r.RSSLimitMB)
			r.RSS = pass(r.PeakRSSMB > 0 && r.PeakRSSMB < r.RSSLimitMB)
		case KindLarge:
			ref, ok := base[r.Format]
			if !ok {
				ref = baseMax
			}
			if ref <= 0 {
				r.RSSTarget, r.RSS = "no base run", "n/a"
				continue
			}
			r.RSSLimitMB = round(ref*RSSGrowth, 1)
			r.RSSTarget = fmt.Sprintf("<=%.0f", r.RSSLimitMB)
			r.RSS = pass(r.PeakRSSMB > 0 && r.PeakRSSMB <= r.RSSLimitMB)
		}
	}
}

// median of xs (the mean of the middle two for an even count); 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func pass(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// Column headers of the results table.
var header = []string{"table", "format", "rows", "seconds", "rows/s", "MB/s", "peak RSS MB",
	"duckdb rows/s", "ratio", "median ratio", "target", "speed", "RSS target", "RSS"}

// rightAligned marks the numeric columns.
var rightAligned = []bool{false, false, true, true, true, true, true, true, true, true, true, false, true, false}

// WriteTable prints the results as one aligned table.
func WriteTable(w io.Writer, results []Result) error {
	rows := [][]string{header}
	for _, r := range results {
		duck, ratio, mratio := "-", "-", "-"
		if r.DuckDB != nil {
			duck = fmt.Sprintf("%.0f", r.DuckDB.RowsPerSec)
			ratio = fmt.Sprintf("%.2fx", r.Ratio)
			mratio = fmt.Sprintf("%.2fx", r.MedianRatio)
		}
		rows = append(rows, []string{
			r.Table, r.Format, strconv.FormatInt(r.Rows, 10), fmt.Sprintf("%.3f", r.Seconds),
			fmt.Sprintf("%.0f", r.RowsPerSec), fmt.Sprintf("%.1f", r.MBPerSec), fmt.Sprintf("%.1f", r.PeakRSSMB),
			duck, ratio, mratio, fmt.Sprintf("%.2fx", r.Target), r.Speed, r.RSSTarget, r.RSS,
		})
	}
	return writeAligned(w, rows, func(i int) bool { return rightAligned[i] })
}

// writeAligned prints rows as columns two spaces apart, padded to their widest cell: on the
// left where right(column) holds, else on the right but for the last column.
func writeAligned(w io.Writer, rows [][]string, right func(column int) bool) error {
	var widths []int
	for _, row := range rows {
		for i, c := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], len(c))
		}
	}
	var b strings.Builder
	for _, row := range rows {
		for i, c := range row {
			if i > 0 {
				b.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[i]-len(c))
			switch {
			case right(i):
				b.WriteString(pad + c)
			case i == len(row)-1:
				b.WriteString(c)
			default:
				b.WriteString(c + pad)
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// TableInfo describes a benchmarked table.
type TableInfo struct {
	Name  string `json:"name"`
	Kind  string `json:"kind,omitempty"`
	Share string `json:"share"` // share.schema.table on our server
	Path  string `json:"path"`
	Rows  int64  `json:"rows,omitempty"`
	Files int    `json:"files,omitempty"`
	Bytes int64  `json:"bytes"` // total size of the Parquet data files
}

// Report is what .bench/results.json holds.
type Report struct {
	Date          string      `json:"date"`
	Host          string      `json:"host"`
	CPU           string      `json:"cpu"`
	CPUs          int         `json:"cpus"`
	GoVersion     string      `json:"goVersion"`
	LoadBefore    string      `json:"loadavgBefore"`
	LoadAfter     string      `json:"loadavgAfter"`
	Repeats       int         `json:"repeats"`
	Tables        []TableInfo `json:"tables"`
	Results       []Result    `json:"results"`
	DuckDB        string      `json:"duckdb"` // how the anchor ran, or why it was skipped
	ServerPeakMB  float64     `json:"serverPeakRssMB,omitempty"`
	DriverPeakMB  float64     `json:"driverPeakRssMB,omitempty"` // a floor of every measured peak RSS
	ExportCommand string      `json:"exportCommand"`
	Notes         []string    `json:"notes,omitempty"`
}

// WriteJSON writes the report to path (indented), atomically.
func (r *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o644)
}

// LoadAvg returns the first three fields of /proc/loadavg, or "unknown".
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// CPUModel returns the CPU model name from /proc/cpuinfo, or "unknown".
func CPUModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// ProcPeakRSS returns the peak RSS (VmHWM) of a running process from /proc, in bytes.
func ProcPeakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) == 0 {
				break
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return 0, err
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}
