// Command deltashare-bench is the driver of `make bench`: it measures exports end to end
// through our Delta Sharing server and compares them with DuckDB converting the same Parquet
// files locally.
//
// It builds bin/deltashare, generates the bench table with the project's generator
// (demo.GenerateBench, cached under .bench/tables), starts `deltashare serve` on loopback with
// that table and ../shared/testdata/delta/delta-rs/COVID-19_NYT, runs `deltashare export` as a
// child process for every table × format (measuring wall time and the child's peak RSS), runs
// ../shared/bench/duckdb-anchor.sh on each table's folder (for Parquet, its own
// duckdb-parquet.mjs, which writes the export's codec), and prints one aligned table (also
// written to .bench/results.json). See docs/performance.md.
//
// Settings come from flags, each with an environment variable default (what make passes):
//
//	BENCH_ROWS=10000000      rows of the bench table
//	BENCH_ROWS_PER_FILE=1000000
//	BENCH_LARGE=1            also a table of 4 × BENCH_ROWS (memory growth check; slow, ~1.5 GB)
//	BENCH_REPEAT=3           runs of each measurement; the best time is kept
//	BENCH_FORMATS=csv,ndjson,parquet
//	BENCH_TABLES=bench,covid
//	BENCH_DUCKDB=0           skip the DuckDB anchor
//	BENCH_PARALLEL=N         pass --parallel N to the exports
//	BENCH_COMPRESSION=zstd   pass --compression to the Parquet exports; DuckDB writes the same codec
//	BENCH_HISTORY=on         the long-history server shape after the exports (off, only)
//	BENCH_SHAPES=small,wide,point,parallel   the shapes of real tables (docs/performance.md)
//	BENCH_SMALL_FILES=20000, BENCH_SMALL_ROWS=50, BENCH_WIDE_COLS=1000, BENCH_WIDE_ROWS=20000
//	BENCH_SWEEP=1,2,4,8      the --parallel values of the sweep
//
// With -cpuprofile FILE (and -profile-table, -profile-format) it instead runs one export in
// this process, through the same library calls as the CLI, against the served table, and
// writes a CPU profile (and -memprofile) for `go tool pprof`.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/deltashare/deltashare/sharing/reader"

	"github.com/deltashare/deltashare/export"
	"github.com/deltashare/deltashare/formats"
	"github.com/deltashare/deltashare/internal/bench"
	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/server/demo"
)

// generatorVersion is part of the cache key of generated tables: bump it when
// demo.GenerateBench changes what it writes.
const generatorVersion = 2

type config struct {
	dir, bin, goCmd, shared string
	build                   bool
	rows, rowsPerFile       int
	large                   bool
	repeat                  int
	formats, tables         []string
	duckdb                  bool
	parallel                int
	compression             string
	keepOutputs             bool

	cpuProfile, memProfile, profileTable, profileFormat string
	profileRepeat                                       int

	genDir            string // internal: generate a table in this child process and exit
	genRows, genFiles int
	genShape          string // internal: bench (default), small or wide
	genCols           int

	// The shapes of issue 12 (docs/performance.md): many small files, a wide table, a point
	// read and a parallelism sweep.
	shapes                []string
	smallFiles, smallRows int
	wideCols, wideRows    int
	sweep                 []int
}

func main() {
	cfg, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "deltashare-bench:", err)
		os.Exit(2)
	}
	if cfg.genDir != "" {
		// A child process: generating takes a few hundred MB, and the kernel counts the
		// parent's peak RSS at fork time into its children's ru_maxrss (Linux records the
		// hiwater mark of the memory a child leaves at exec), so the driver stays small.
		var err error
		switch cfg.genShape {
		case "small":
			err = generateSmall(cfg.genDir, cfg.genFiles, cfg.genRows)
		case "wide":
			err = generateWide(cfg.genDir, cfg.genCols, cfg.genRows, cfg.genFiles)
		default:
			err = demo.GenerateBench(cfg.genDir, cfg.genRows, cfg.genFiles)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "deltashare-bench:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if !historyOnly() {
		err = run(ctx, cfg)
	}
	if err == nil && historyEnabled() && cfg.cpuProfile == "" {
		err = runLongHistory(ctx, cfg)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "deltashare-bench:", err)
		os.Exit(1)
	}
}

func envInt(name string, def int) int {
	if v := os.Getenv(name); v != "" {
		if n, err := strconv.Atoi(strings.ReplaceAll(v, "_", "")); err == nil {
			return n
		}
		fmt.Fprintf(os.Stderr, "deltashare-bench: ignoring %s=%q: not a number\n", name, v)
	}
	return def
}

func envStr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envBool(name string, def bool) bool {
	switch strings.ToLower(os.Getenv(name)) {
	case "1", "true", "yes", "on":
		return true
	case "0", "false", "no", "off":
		return false
	}
	return def
}

func parseFlags() (config, error) {
	var c config
	var fmts, tables string
	flag.StringVar(&c.dir, "dir", ".bench", "working directory for tables, outputs and results")
	flag.StringVar(&c.bin, "bin", "bin/deltashare", "the deltashare binary to build and measure")
	flag.StringVar(&c.goCmd, "go", envStr("GO", "go"), "go command used to build the binary")
	flag.BoolVar(&c.build, "build", true, "build the binary first")
	flag.StringVar(&c.shared, "shared", os.Getenv("DELTASHARE_SHARED"), "the shared folder (testdata/, bench/); default: ../shared, searched upwards")
	flag.IntVar(&c.rows, "rows", envInt("BENCH_ROWS", 10_000_000), "rows of the bench table (BENCH_ROWS)")
	flag.IntVar(&c.rowsPerFile, "rows-per-file", envInt("BENCH_ROWS_PER_FILE", 1_000_000), "rows per data file of the bench table (BENCH_ROWS_PER_FILE)")
	flag.BoolVar(&c.large, "large", envBool("BENCH_LARGE", false), "also a table 4x larger (BENCH_LARGE=1)")
	flag.IntVar(&c.repeat, "repeat", envInt("BENCH_REPEAT", 3), "runs of each measurement; the best is kept (BENCH_REPEAT)")
	flag.StringVar(&fmts, "formats", envStr("BENCH_FORMATS", "csv,ndjson,parquet"), "formats to export (BENCH_FORMATS)")
	flag.StringVar(&tables, "tables", envStr("BENCH_TABLES", "bench,covid"), "tables: bench (the generated ones) and/or covid (BENCH_TABLES)")
	flag.BoolVar(&c.duckdb, "duckdb", envBool("BENCH_DUCKDB", true), "run the DuckDB anchor (BENCH_DUCKDB=0 skips it)")
	flag.IntVar(&c.parallel, "parallel", envInt("BENCH_PARALLEL", 0), "pass --parallel N to the exports (BENCH_PARALLEL; 0: the CLI default)")
	flag.StringVar(&c.compression, "compression", envStr("BENCH_COMPRESSION", ""), "pass --compression to the Parquet exports (BENCH_COMPRESSION; empty: the CLI default)")
	flag.BoolVar(&c.keepOutputs, "keep-outputs", false, "keep the exported files in DIR/out")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "profile one in-process export (see -profile-table) into this file")
	flag.IntVar(&c.profileRepeat, "profile-repeat", 1, "with -cpuprofile: run the profiled export this many times")
	flag.StringVar(&c.memProfile, "memprofile", "", "with -cpuprofile: also write a heap profile here")
	flag.StringVar(&c.profileTable, "profile-table", "bench", "table of the profiled export: bench, covid, small or wide")
	flag.StringVar(&c.profileFormat, "profile-format", "csv", "format of the profiled export")
	flag.StringVar(&c.genDir, "generate-into", "", "internal: generate the bench table into this folder and exit")
	flag.IntVar(&c.genFiles, "generate-files", 1, "internal: files of -generate-into")
	flag.StringVar(&c.genShape, "generate-shape", "bench", "internal: shape of -generate-into (bench, small, wide)")
	flag.IntVar(&c.genCols, "generate-cols", 0, "internal: columns of a wide -generate-into")
	var shapes, sweep string
	flag.StringVar(&shapes, "shapes", envStr("BENCH_SHAPES", "small,wide,point,parallel"), "extra shapes: small, wide, point, parallel, or none (BENCH_SHAPES)")
	flag.IntVar(&c.smallFiles, "small-files", envInt("BENCH_SMALL_FILES", 20_000), "files of the small-files table (BENCH_SMALL_FILES)")
	flag.IntVar(&c.smallRows, "small-rows", envInt("BENCH_SMALL_ROWS", 50), "rows per file of the small-files table (BENCH_SMALL_ROWS)")
	flag.IntVar(&c.wideCols, "wide-cols", envInt("BENCH_WIDE_COLS", 1000), "columns of the wide table (BENCH_WIDE_COLS)")
	flag.IntVar(&c.wideRows, "wide-rows", envInt("BENCH_WIDE_ROWS", 20_000), "rows of the wide table, in 2 files (BENCH_WIDE_ROWS)")
	flag.StringVar(&sweep, "sweep", envStr("BENCH_SWEEP", "1,2,4,8"), "--parallel values of the parallelism sweep (BENCH_SWEEP)")
	flag.Parse()
	c.genRows = c.rows
	if flag.NArg() > 0 {
		return c, fmt.Errorf("no arguments expected, got %q", flag.Args())
	}
	c.formats = splitList(fmts)
	c.tables = splitList(tables)
	for _, s := range splitList(shapes) {
		switch s {
		case "none":
		case "small", "wide", "point", "parallel":
			c.shapes = append(c.shapes, s)
		default:
			return c, fmt.Errorf("shape %q: use small, wide, point, parallel or none", s)
		}
	}
	for _, s := range splitList(sweep) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return c, fmt.Errorf("sweep value %q: want a number of at least 1", s)
		}
		c.sweep = append(c.sweep, n)
	}
	for _, f := range c.formats {
		if _, ok := bench.Targets[f]; !ok {
			return c, fmt.Errorf("format %q: use csv, ndjson or parquet", f)
		}
	}
	for _, t := range c.tables {
		if t != "bench" && t != "covid" {
			return c, fmt.Errorf("table %q: use bench or covid", t)
		}
	}
	if c.rows < 1 || c.rowsPerFile < 1 || c.repeat < 1 {
		return c, errors.New("rows, rows per file and repeat must be at least 1")
	}
	return c, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(strings.ToLower(p)); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// table is one benchmarked table, or one shape measured on it.
type table struct {
	bench.TableInfo
	formats  []string           // nil: all the configured formats
	parallel int                // --parallel of this line (0: the configured one)
	where    string             // --where of a point read (DuckDB runs the same filter)
	targets  map[string]float64 // speed targets of this shape (nil: bench.Targets)
	rssMB    float64            // peak RSS limit of this shape (0: the kind's)
}

func rowsLabel(n int) string {
	switch {
	case n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n%1_000 == 0:
		return fmt.Sprintf("%dk", n/1_000)
	}
	return strconv.Itoa(n)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

func run(ctx context.Context, cfg config) error {
	if err := os.MkdirAll(cfg.dir, 0o755); err != nil {
		return err
	}
	shared, err := findShared(cfg.shared)
	if err != nil && slicesContains(cfg.tables, "covid") {
		logf("%v; COVID-19_NYT and the DuckDB anchor are skipped", err)
	}
	if cfg.build {
		logf("building %s", cfg.bin)
		cmd := exec.CommandContext(ctx, cfg.goCmd, "build", "-o", cfg.bin, "./cmd/deltashare")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building %s: %w", cfg.bin, err)
		}
	}
	bin, err := filepath.Abs(cfg.bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("%s is missing: run make build (or drop -build=false)", cfg.bin)
	}

	var tables []table
	if slicesContains(cfg.tables, "bench") {
		sizes := []int{cfg.rows}
		if cfg.large {
			sizes = append(sizes, 4*cfg.rows)
		}
		for i, rows := range sizes {
			files := max(1, (rows+cfg.rowsPerFile-1)/cfg.rowsPerFile)
			path, err := generate(ctx, cfg.dir, fmt.Sprintf("bench_r%d_f%d", rows, files), []string{"-rows", strconv.Itoa(rows), "-generate-files", strconv.Itoa(files)})
			if err != nil {
				return err
			}
			kind := bench.KindBase
			if i == 1 {
				kind = bench.KindLarge
			}
			label := rowsLabel(rows)
			tables = append(tables, table{TableInfo: bench.TableInfo{
				Name: "bench-" + label, Kind: kind, Share: "bench.gen.rows_" + strings.ToLower(label),
				Path: path, Rows: int64(rows), Files: files,
			}})
		}
	}
	if slicesContains(cfg.tables, "covid") && shared != "" {
		p := filepath.Join(shared, "testdata", "delta", "delta-rs", "COVID-19_NYT")
		if _, err := os.Stat(p); err != nil {
			logf("%s missing: COVID-19_NYT skipped", p)
		} else {
			tables = append(tables, table{TableInfo: bench.TableInfo{Name: "COVID-19_NYT", Share: "bench.delta_rs.covid_19_nyt", Path: p}})
		}
	}
	tables, err = addShapes(ctx, cfg, tables)
	if err != nil {
		return err
	}
	if len(tables) == 0 {
		return errors.New("no tables to measure")
	}
	for i := range tables {
		tables[i].Bytes, tables[i].Files = dataSize(tables[i].Path)
	}
	for _, t := range tables {
		logf("table %s: %s, %d files, %.1f MB", t.Name, t.Path, t.Files, float64(t.Bytes)/bench.MB)
	}

	srv, err := startServer(ctx, bin, cfg.dir, tables)
	if err != nil {
		return err
	}
	defer srv.stop()

	if cfg.cpuProfile != "" {
		return profileExport(ctx, cfg, srv.profile, tables)
	}

	anchor := ""
	duckNote := "skipped (BENCH_DUCKDB=0)"
	if cfg.duckdb {
		anchor, duckNote = findAnchor(shared)
		if anchor == "" {
			logf("DuckDB anchor skipped: %s", duckNote)
		}
	}

	rep := &bench.Report{
		Date: time.Now().Format(time.RFC3339), CPU: bench.CPUModel(), CPUs: runtime.NumCPU(),
		GoVersion: runtime.Version(), LoadBefore: bench.LoadAvg(), Repeats: cfg.repeat, DuckDB: duckNote,
		ExportCommand: "deltashare export -p PROFILE TABLE -o FILE --format F --overwrite -q --output json",
	}
	if cfg.parallel > 0 {
		rep.ExportCommand += fmt.Sprintf(" --parallel %d", cfg.parallel)
	}
	if cfg.compression != "" {
		rep.ExportCommand += " (Parquet: --compression " + cfg.compression + ")"
	}
	rep.Host, _ = os.Hostname()
	if hwm, err := bench.ProcPeakRSS(os.Getpid()); err == nil {
		rep.DriverPeakMB = float64(hwm) / bench.MB
		logf("driver peak RSS %.1f MB: a child's measured peak RSS is never below it (Linux counts the parent's memory at fork)", rep.DriverPeakMB)
	}
	logf("load average before: %s (%d CPUs)", rep.LoadBefore, rep.CPUs)

	outDir := filepath.Join(cfg.dir, "out")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	duckOut := filepath.Join(cfg.dir, "duckdb-out")
	for _, t := range tables {
		rep.Tables = append(rep.Tables, t.TableInfo)
		samples := map[string][]bench.Sample{}
		duck := map[string][]bench.Anchor{}
		fmts := cfg.formats
		if t.formats != nil {
			fmts = t.formats
		}
		for i := 1; i <= cfg.repeat; i++ {
			for _, f := range fmts {
				if err := ctx.Err(); err != nil {
					return err
				}
				s, err := exportOnce(ctx, cfg, bin, srv.profile, t, f, outDir)
				if err != nil {
					return err
				}
				logf("%-13s %-7s run %d: %7.3fs %10.0f rows/s %7.1f MB/s peak RSS %6.1f MB (cpu %.2fs)", t.Name, f, i,
					s.Seconds, float64(s.Rows)/s.Seconds, float64(s.OutBytes)/bench.MB/s.Seconds, float64(s.PeakRSS)/bench.MB, s.CPUSeconds)
				samples[f] = append(samples[f], s)
			}
			if anchor == "" {
				continue
			}
			var got map[string]bench.Anchor
			if t.where != "" {
				got, err = runQueryAnchor(ctx, anchor, t.Path, duckOut, t.where)
			} else {
				got, err = runAnchors(ctx, anchor, t.Path, duckOut, fmts, cfg.compression)
			}
			if err != nil {
				logf("DuckDB anchor failed on %s, skipping it from here on: %v", t.Name, err)
				anchor, duckNote = "", "failed: "+err.Error()
				continue
			}
			for _, f := range fmts {
				if a, ok := got[f]; ok {
					duck[f] = append(duck[f], a)
					logf("%-13s %-7s duckdb %d: %7.3fs %10.0f rows/s", t.Name, f, i, a.Seconds, a.RowsPerSec)
				}
			}
			if i == 1 && t.where == "" {
				if note := checkDuckColumns(filepath.Join(duckOut, "csv"), t); note != "" {
					logf("%s", note)
					rep.Notes = append(rep.Notes, note)
				}
			}
		}
		for _, f := range fmts {
			r := bench.Best(t.Name, t.Kind, f, samples[f], duck[f])
			if tg, ok := t.targets[f]; ok {
				r.SetTarget(tg)
			}
			r.RSSLimitMB = t.rssMB
			rep.Results = append(rep.Results, r)
		}
	}
	rep.DuckDB = duckNote
	if hwm, err := bench.ProcPeakRSS(srv.cmd.Process.Pid); err == nil {
		rep.ServerPeakMB = float64(hwm) / bench.MB
	}
	rep.LoadAfter = bench.LoadAvg()
	bench.CheckRSS(rep.Results)

	fmt.Printf("\ndeltashare export through deltashare serve (loopback) vs DuckDB on the same Parquet files\n")
	fmt.Printf("%s, %d CPUs, %s; best of %d; load average before %s, after %s\n\n",
		rep.CPU, rep.CPUs, rep.GoVersion, cfg.repeat, rep.LoadBefore, rep.LoadAfter)
	if err := bench.WriteTable(os.Stdout, rep.Results); err != nil {
		return err
	}
	if rep.ServerPeakMB > 0 {
		fmt.Printf("\nserver (deltashare serve) peak RSS: %.1f MB\n", rep.ServerPeakMB)
	}
	fmt.Printf("DuckDB anchor: %s\n", rep.DuckDB)
	for _, n := range rep.Notes {
		fmt.Println(n)
	}
	resPath := filepath.Join(cfg.dir, "results.json")
	if err := rep.WriteJSON(resPath); err != nil {
		return err
	}
	fmt.Printf("results: %s\n", resPath)
	return nil
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// findShared locates the shared folder: the given one, else ../shared beside the module
// root or further up (git worktrees live deeper).
func findShared(given string) (string, error) {
	if given != "" {
		if st, err := os.Stat(given); err != nil || !st.IsDir() {
			return "", fmt.Errorf("shared folder %s not found", given)
		}
		return filepath.Abs(given)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := filepath.Dir(wd); ; d = filepath.Dir(d) {
		c := filepath.Join(d, "shared")
		if st, err := os.Stat(filepath.Join(c, "testdata")); err == nil && st.IsDir() {
			return c, nil
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	return "", errors.New("no ../shared folder found beside the project (set DELTASHARE_SHARED)")
}

// generate returns the cached bench table of rows rows in files files, generating it first
// when needed. A table counts as cached once its marker file is written (last).
func generate(ctx context.Context, dir, name string, genArgs []string) (string, error) {
	path, err := filepath.Abs(filepath.Join(dir, "tables", name))
	if err != nil {
		return "", err
	}
	key := fmt.Sprintf("generator=%d %s\n", generatorVersion, strings.Join(genArgs, " "))
	took, err := cachedTable(ctx, path, key, "bench table", name, func(tmp string) error {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		cmd := exec.CommandContext(ctx, self, append([]string{"-generate-into", tmp}, genArgs...)...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("generating the bench table: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if took > 0 {
		size, _ := dataSize(path)
		logf("generated in %.1fs (%.0f MB of data files)", took.Seconds(), float64(size)/bench.MB)
	}
	return path, nil
}

// cachedTable makes sure the table at path is the one key describes: it is when its marker file
// (written last) holds key (the log calls it what); else gen writes it into a temporary
// directory (the log calls it desc), which then takes path's place. took is how long the
// generation took, 0 for a cached table.
func cachedTable(ctx context.Context, path, key, what, desc string, gen func(tmp string) error) (took time.Duration, err error) {
	marker := filepath.Join(path, "BENCH_COMPLETE")
	if b, err := os.ReadFile(marker); err == nil && string(b) == key {
		logf("%s %s: cached", what, path)
		return 0, nil
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	logf("generating %s under %s", desc, path)
	start := time.Now()
	tmp := path + ".tmp"
	for _, p := range []string{tmp, path} {
		if err := os.RemoveAll(p); err != nil {
			return 0, err
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return 0, err
	}
	if err := gen(tmp); err != nil {
		_ = os.RemoveAll(tmp)
		return 0, err
	}
	if err := os.WriteFile(filepath.Join(tmp, "BENCH_COMPLETE"), []byte(key), 0o644); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return 0, err
	}
	return max(time.Since(start), time.Nanosecond), nil
}

// dataSize sums the Parquet data files of a table (outside _delta_log).
func dataSize(root string) (int64, int) {
	var n int64
	files := 0
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && d.Name() == "_delta_log" {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".parquet") {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
				files++
			}
		}
		return nil
	})
	return n, files
}

// server is a running `deltashare serve`.
type server struct {
	cmd     *exec.Cmd
	profile string
	done    chan error
}

func startServer(ctx context.Context, bin, dir string, tables []table) (*server, error) {
	profile, err := filepath.Abs(filepath.Join(dir, "profile.share"))
	if err != nil {
		return nil, err
	}
	_ = os.Remove(profile)
	args := []string{"serve", "--addr", "127.0.0.1:0", "--profile-out", profile, "--log-level", "warn"}
	served := map[string]bool{}
	for _, t := range tables {
		if !served[t.Share] {
			served[t.Share] = true
			args = append(args, "--table", t.Share+"="+t.Path)
		}
	}
	cmd := exec.Command(bin, args...)
	logPath := filepath.Join(dir, "serve.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logFile
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s serve: %w", bin, err)
	}
	s := &server{cmd: cmd, profile: profile, done: make(chan error, 1)}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "Delta Sharing endpoint:") {
				logf("server: %s", line)
			}
			if strings.HasPrefix(line, "profile file:") {
				ready <- line
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	go func() { s.done <- cmd.Wait(); logFile.Close() }()
	select {
	case <-ready:
		return s, nil
	case err := <-s.done:
		return nil, fmt.Errorf("deltashare serve exited at start (%v); see %s", err, logPath)
	case <-time.After(30 * time.Second):
		s.stop()
		return nil, fmt.Errorf("deltashare serve did not start within 30s; see %s", logPath)
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
}

// stop asks the server to shut down (SIGINT, graceful) and kills it after 10 seconds.
func (s *server) stop() {
	if s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd.Process = nil
}

var extensions = map[string]string{"csv": "csv", "ndjson": "ndjson", "parquet": "parquet"}

// exportOnce runs one `deltashare export` child and measures it.
func exportOnce(ctx context.Context, cfg config, bin, profile string, t table, format, outDir string) (bench.Sample, error) {
	out := filepath.Join(outDir, strings.ToLower(t.Name)+"."+extensions[format])
	args := []string{"export", "-p", profile, t.Share, "-o", out, "--format", format, "--overwrite", "-q", "--output", "json"}
	if t.parallel > 0 {
		args = append(args, "--parallel", strconv.Itoa(t.parallel))
	} else if cfg.parallel > 0 {
		args = append(args, "--parallel", strconv.Itoa(cfg.parallel))
	}
	if t.where != "" {
		args = append(args, "--where", t.where)
	}
	if format == "parquet" && cfg.compression != "" {
		args = append(args, "--compression", cfg.compression)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), "DELTASHARE_CONFIG_DIR="+filepath.Join(cfg.dir, "config"))
	m, err := bench.Measure(cmd)
	if err != nil {
		return bench.Sample{}, fmt.Errorf("%s %s: %w\n%s", bin, strings.Join(args, " "), err, stderr.String())
	}
	var sum struct {
		Rows  int64 `json:"rows"`
		Bytes int64 `json:"bytes"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		return bench.Sample{}, fmt.Errorf("export summary of %s: %w (got %q)", t.Name, err, stdout.String())
	}
	if t.Rows > 0 && sum.Rows != t.Rows {
		return bench.Sample{}, fmt.Errorf("export of %s gave %d rows, the table has %d", t.Name, sum.Rows, t.Rows)
	}
	if !cfg.keepOutputs {
		_ = os.Remove(out)
	}
	return bench.Sample{Measurement: m, Rows: sum.Rows, OutBytes: sum.Bytes}, nil
}

// findAnchor returns the DuckDB anchor script, or "" and why it cannot run.
func findAnchor(shared string) (string, string) {
	if shared == "" {
		return "", "skipped: no ../shared folder"
	}
	script := filepath.Join(shared, "bench", "duckdb-anchor.sh")
	if _, err := os.Stat(script); err != nil {
		return "", "skipped: " + script + " not found"
	}
	for _, tool := range []string{"bash", "node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Sprintf("skipped: %s is not installed (the anchor runs DuckDB from npm @duckdb/node-api)", tool)
		}
	}
	return script, "DuckDB " + "@duckdb/node-api via " + script
}

// runAnchors runs DuckDB once on a table folder for each format, each into its own folder
// under out. CSV and NDJSON come from the shared anchor; Parquet from the driver's own script,
// which writes the codec our export writes (compression: BENCH_COMPRESSION, empty for the
// CLI's default, snappy), so that both sides compress alike (the anchor always writes zstd).
func runAnchors(ctx context.Context, anchor, dir, out string, fmts []string, compression string) (map[string]bench.Anchor, error) {
	got := map[string]bench.Anchor{}
	for _, f := range fmts {
		var one map[string]bench.Anchor
		var err error
		if f == "parquet" {
			if home, _ := duckHome(); !fileExists(filepath.Join(home, "node_modules", "@duckdb", "node-api")) {
				// The first run on this machine: the anchor installs DuckDB.
				if _, err := runAnchor(ctx, anchor, dir, filepath.Join(out, f), []string{f}); err != nil {
					return nil, err
				}
			}
			one, err = runDuckScript(ctx, anchor, "deltashare-parquet.mjs", duckParquetScript, dir, filepath.Join(out, f), duckCodec(compression))
		} else {
			one, err = runAnchor(ctx, anchor, dir, filepath.Join(out, f), []string{f})
		}
		if err != nil {
			return nil, err
		}
		if a, ok := one[f]; ok {
			got[f] = a
		}
	}
	return got, nil
}

// duckCodec is DuckDB's name for the Parquet codec of an export's --compression value.
func duckCodec(compression string) string {
	c, _ := formats.ParseCompression(compression) // checked by the export's own parsing
	switch c {
	case formats.CompressionDefault:
		return string(formats.Snappy)
	case formats.None:
		return "uncompressed"
	}
	return string(c)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// runAnchor runs the DuckDB anchor once on a table folder.
func runAnchor(ctx context.Context, script, dir, out string, formats []string) (map[string]bench.Anchor, error) {
	var args []string
	args = append(args, script, dir, out)
	if len(formats) == 1 {
		args = append(args, formats[0])
	}
	cmd := exec.CommandContext(ctx, "bash", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%w: %s", err, strings.TrimSpace(lastLines(stderr.String(), 5)))
	}
	return bench.ParseAnchor(&stdout)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// checkDuckColumns says whether DuckDB's CSV has the table's partition column: the anchor
// reads `**/*.parquet`, and the Hive-style day=... directories are only columns when DuckDB
// detects Hive partitioning.
func checkDuckColumns(out string, t table) string {
	if t.Kind == bench.KindOther {
		return ""
	}
	f, err := os.Open(filepath.Join(out, "out.csv"))
	if err != nil {
		return ""
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	cols := strings.Split(strings.TrimSpace(line), ",")
	if slicesContains(cols, "day") {
		return fmt.Sprintf("DuckDB read %d columns on %s, with the partition column day (Hive partitioning detected)", len(cols), t.Name)
	}
	return fmt.Sprintf("DuckDB read %d columns on %s, without the partition column day (no Hive partitioning)", len(cols), t.Name)
}

// profileExport runs one export in this process with a CPU profile.
func profileExport(ctx context.Context, cfg config, profile string, tables []table) error {
	var t *table
	for i := range tables {
		if strings.HasPrefix(tables[i].Name, cfg.profileTable) && tables[i].where == "" && tables[i].parallel == 0 {
			t = &tables[i] // a shape by name: small, wide
			break
		}
	}
	for i := range tables {
		if t == nil && (cfg.profileTable == "covid") == (tables[i].Kind == bench.KindOther) && tables[i].Kind != bench.KindShape {
			t = &tables[i]
			break
		}
	}
	if t == nil {
		return fmt.Errorf("no table %q to profile", cfg.profileTable)
	}
	p, err := sharing.LoadProfile(profile, nil)
	if err != nil {
		return err
	}
	cl, err := sharing.NewClient(p)
	if err != nil {
		return err
	}
	parts := strings.Split(t.Share, ".")
	f, err := os.Create(cfg.cpuProfile)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	stopHeap := watchHeap(cfg.memProfile)
	defer stopHeap()
	fm, err := formats.ParseFormat(cfg.profileFormat)
	if err != nil {
		pprof.StopCPUProfile()
		return err
	}
	out := filepath.Join(cfg.dir, "out", "profile."+cfg.profileFormat)
	_ = os.MkdirAll(filepath.Dir(out), 0o755)
	start := time.Now()
	var rows int64
	for i := 0; i < max(cfg.profileRepeat, 1); i++ {
		n, err := profileOnce(ctx, cl, parts, fm, cfg.compression, out, cfg.parallel)
		if err != nil {
			pprof.StopCPUProfile()
			return err
		}
		rows += n
	}
	pprof.StopCPUProfile()
	secs := time.Since(start).Seconds()
	logf("profiled %s %s: %d rows in %.2fs (%.0f rows/s, %d runs); CPU profile %s", t.Name, cfg.profileFormat, rows, secs, float64(rows)/secs, max(cfg.profileRepeat, 1), cfg.cpuProfile)
	_ = os.Remove(out)
	return nil
}

// profileOnce runs one in-process export of the table to out and returns its rows.
func profileOnce(ctx context.Context, cl *sharing.Client, parts []string, fm formats.Format, compression, out string, parallel int) (int64, error) {
	t := export.NewSharedTable(cl, protocol.Table{Share: parts[0], Schema: parts[1], Name: parts[2]}, reader.ReadOptions{Parallel: parallel})
	fo := formats.Options{Format: fm}
	if compression != "" && fm == formats.Parquet {
		c, err := formats.ParseCompression(compression)
		if err != nil {
			return 0, err
		}
		fo.Compression = c
	}
	sum, err := t.Export(ctx, nil, export.Options{Output: out, Format: fo, Overwrite: true})
	if err != nil {
		return 0, err
	}
	return sum.Rows, nil
}

// watchHeap samples the live heap every 100ms and keeps the heap profile taken when it was
// largest; the returned function stops sampling and writes that profile to path (nothing when
// path is "").
func watchHeap(path string) func() {
	if path == "" {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	var best bytes.Buffer
	var bestLive uint64
	go func() {
		defer close(finished)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > bestLive {
				bestLive = ms.HeapAlloc
				best.Reset()
				_ = pprof.Lookup("heap").WriteTo(&best, 0)
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		if err := os.WriteFile(path, best.Bytes(), 0o644); err != nil {
			logf("writing the heap profile: %v", err)
			return
		}
		logf("heap profile at the largest heap (%.0f MB allocated): %s", float64(bestLive)/bench.MB, path)
	}
}
