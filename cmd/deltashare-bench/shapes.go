package main

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/parquet-go/parquet-go"

	"github.com/deltashare/deltashare/internal/bench"
	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/deltashare/deltashare/sharing/server/demo"
)

// The table shapes of `make bench` besides the bench table (docs/performance.md): many small
// files (what streaming writers leave) and a wide table (hundreds of columns). Both are
// one-version tables written with the demo writer, pseudo-random from a fixed seed.

const smallSchemaJSON = `{"type":"struct","fields":[
{"name":"id","type":"long","nullable":false,"metadata":{}},
{"name":"user_id","type":"long","nullable":true,"metadata":{}},
{"name":"price","type":"double","nullable":true,"metadata":{}},
{"name":"quantity","type":"integer","nullable":true,"metadata":{}},
{"name":"name","type":"string","nullable":true,"metadata":{}},
{"name":"category","type":"string","nullable":true,"metadata":{}},
{"name":"is_active","type":"boolean","nullable":true,"metadata":{}},
{"name":"event_time","type":"timestamp","nullable":true,"metadata":{}}]}`

var categories = []string{"books", "music", "garden", "toys", "grocery", "electronics", "sports", "beauty"}

// generateSmall writes files data files of rowsPerFile rows each (8 columns, no partitions).
func generateSmall(dir string, files, rowsPerFile int) error {
	st, err := delta.ParseSchema(smallSchemaJSON)
	if err != nil {
		return err
	}
	const base = int64(1_717_200_000_000_000) // 2024-06-01 in microseconds
	return generateShape(dir, "small", st, files, func(fw *demo.FileWriter, i int) error {
		rng := rand.New(rand.NewPCG(0x736d_616c_6c, uint64(i)))
		rows := make([]parquet.Row, rowsPerFile)
		var arena []byte
		for r := range rows {
			id := int64(i)*int64(rowsPerFile) + int64(r)
			x := rng.Uint64()
			s := len(arena)
			arena = append(arena, "user-"...)
			arena = strconv.AppendUint(arena, x%200_000, 10)
			name := arena[s:len(arena):len(arena)]
			rows[r] = parquet.Row{
				parquet.Int64Value(id).Level(0, 0, 0),
				parquet.Int64Value(int64(x%1_000_003)).Level(0, 1, 1),
				parquet.DoubleValue(rng.Float64()*1000).Level(0, 1, 2),
				parquet.Int32Value(int32(x>>40%100)).Level(0, 1, 3),
				parquet.ByteArrayValue(name).Level(0, 1, 4),
				parquet.ByteArrayValue([]byte(categories[x>>50%8])).Level(0, 1, 5),
				parquet.BooleanValue(x>>55&1 == 1).Level(0, 1, 6),
				parquet.Int64Value(base+int64(x>>8%86_400_000_000)).Level(0, 1, 7),
			}
		}
		return fw.WriteParquetRows(rows)
	})
}

// wideType is the type of column c (c >= 1) of the wide table: longs, doubles, strings of
// few values and integers, in turn.
func wideType(c int) string {
	return [...]string{"long", "double", "string", "integer"}[c%4]
}

// generateWide writes a table of cols columns (an id, then longs, doubles, strings and
// integers in turn) and rows rows in files files.
func generateWide(dir string, cols, rows, files int) error {
	var b strings.Builder
	b.WriteString(`{"type":"struct","fields":[{"name":"id","type":"long","nullable":false,"metadata":{}}`)
	for c := 1; c < cols; c++ {
		fmt.Fprintf(&b, `,{"name":"c%04d","type":"%s","nullable":true,"metadata":{}}`, c, wideType(c))
	}
	b.WriteString(`]}`)
	st, err := delta.ParseSchema(b.String())
	if err != nil {
		return err
	}
	strs := make([][]byte, 1000)
	for i := range strs {
		strs[i] = []byte("value-" + strconv.Itoa(i*7919))
	}
	return generateShape(dir, "wide", st, files, func(fw *demo.FileWriter, i int) error {
		rng := rand.New(rand.NewPCG(0x77_6964_65, uint64(i)))
		lo, hi := i*rows/files, (i+1)*rows/files
		const batch = 512
		buf := make([]parquet.Row, 0, batch)
		for r := lo; r < hi; r++ {
			row := make(parquet.Row, cols)
			row[0] = parquet.Int64Value(int64(r)).Level(0, 0, 0)
			for c := 1; c < cols; c++ {
				x := rng.Uint64()
				if x%20 == 0 {
					row[c] = parquet.NullValue().Level(0, 0, c)
					continue
				}
				var v parquet.Value
				switch c % 4 {
				case 0: // long
					v = parquet.Int64Value(int64(x >> 8 % 10_000_000_000))
				case 1: // double
					v = parquet.DoubleValue(float64(x>>11) / (1 << 43))
				case 2: // string
					v = parquet.ByteArrayValue(strs[x>>20%uint64(len(strs))])
				case 3: // integer
					v = parquet.Int32Value(int32(x >> 40 % 100_000))
				}
				row[c] = v.Level(0, 1, c)
			}
			buf = append(buf, row)
			if len(buf) == batch || r == hi-1 {
				if err := fw.WriteParquetRows(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
		return nil
	})
}

// generateShape creates a one-version table under dir and writes its files data files with
// write, up to GOMAXPROCS at a time.
func generateShape(dir, name string, st *delta.StructType, files int, write func(fw *demo.FileWriter, i int) error) error {
	tbl, err := demo.CreateTable(dir, demo.TableOptions{Name: name, Description: "deltashare benchmark shape " + name, Seed: "deltashare-bench-" + name, Schema: st})
	if err != nil {
		return err
	}
	tx, err := tbl.Begin("WRITE", map[string]any{"mode": "ErrorIfExists"})
	if err != nil {
		return err
	}
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for i := 0; i < files; i++ {
		mu.Lock()
		stop := first != nil
		mu.Unlock()
		if stop {
			break
		}
		fw, err := tx.NewFile(nil)
		if err != nil {
			return err
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			err := write(fw, i)
			if err != nil {
				fw.Abort()
			} else {
				err = fw.Close()
			}
			if err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	if first != nil {
		return first
	}
	_, err = tx.Commit()
	return err
}

//go:embed duckdb-query.mjs
var duckQueryScript []byte

//go:embed duckdb-parquet.mjs
var duckParquetScript []byte

// addShapes appends the lines of the configured shapes: the small-files and wide tables
// (generated, cached like the bench table), the point read and the parallelism sweep (both on
// the base bench table).
func addShapes(ctx context.Context, cfg config, tables []table) ([]table, error) {
	var base *table
	for i := range tables {
		if tables[i].Kind == bench.KindBase {
			base = &tables[i]
		}
	}
	var out []table
	for _, s := range cfg.shapes {
		switch s {
		case "small":
			name := fmt.Sprintf("small_f%d_r%d", cfg.smallFiles, cfg.smallRows)
			path, err := generate(ctx, cfg.dir, name, []string{"-generate-shape", "small",
				"-generate-files", strconv.Itoa(cfg.smallFiles), "-rows", strconv.Itoa(cfg.smallRows)})
			if err != nil {
				return nil, err
			}
			out = append(out, table{
				TableInfo: bench.TableInfo{Name: fmt.Sprintf("small-%dx%d", cfg.smallFiles, cfg.smallRows), Kind: bench.KindShape,
					Share: "bench.shapes.small", Path: path, Rows: int64(cfg.smallFiles) * int64(cfg.smallRows)},
				formats: []string{"csv", "parquet"}, targets: map[string]float64{"csv": 0.7, "parquet": 0.5}, rssMB: 300,
			})
		case "wide":
			name := fmt.Sprintf("wide_c%d_r%d", cfg.wideCols, cfg.wideRows)
			path, err := generate(ctx, cfg.dir, name, []string{"-generate-shape", "wide",
				"-generate-cols", strconv.Itoa(cfg.wideCols), "-generate-files", "2", "-rows", strconv.Itoa(cfg.wideRows)})
			if err != nil {
				return nil, err
			}
			out = append(out, table{
				TableInfo: bench.TableInfo{Name: fmt.Sprintf("wide-%dx%s", cfg.wideCols, rowsLabel(cfg.wideRows)), Kind: bench.KindShape,
					Share: "bench.shapes.wide", Path: path, Rows: int64(cfg.wideRows)},
				formats: []string{"csv", "parquet"}, targets: map[string]float64{"csv": 1.0, "parquet": 0.5}, rssMB: 400,
			})
		case "point":
			if base == nil {
				logf("point read skipped: it reads the bench table (BENCH_TABLES without bench)")
				continue
			}
			t := *base
			t.Name, t.Kind, t.Rows = base.Name+" id=X", bench.KindShape, 1
			t.where = fmt.Sprintf("id = %d", base.Rows/2+12_345)
			t.formats, t.targets, t.rssMB = []string{"csv"}, map[string]float64{"csv": 0}, 300
			out = append(out, t)
		case "parallel":
			if base == nil {
				logf("parallelism sweep skipped: it reads the bench table (BENCH_TABLES without bench)")
				continue
			}
			for _, n := range cfg.sweep {
				t := *base
				t.Name, t.Kind, t.parallel = fmt.Sprintf("%s p=%d", base.Name, n), bench.KindShape, n
				t.formats, t.targets, t.rssMB = []string{"parquet"}, map[string]float64{"parquet": 0.5}, 300
				out = append(out, t)
			}
		}
	}
	return append(tables, out...), nil
}

// runQueryAnchor runs DuckDB on a table folder with a filter (the point read), with the
// anchor's installation of DuckDB (the anchor script has run before on the bench table).
func runQueryAnchor(ctx context.Context, anchorScript, dir, out, where string) (map[string]bench.Anchor, error) {
	return runDuckScript(ctx, anchorScript, "deltashare-query.mjs", duckQueryScript, dir, out, where)
}

// runDuckScript runs one of the driver's own DuckDB scripts with the anchor's installation
// of DuckDB.
func runDuckScript(ctx context.Context, anchorScript, name string, src []byte, args ...string) (map[string]bench.Anchor, error) {
	home, err := duckHome()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(home, "node_modules", "@duckdb", "node-api")); err != nil {
		return nil, fmt.Errorf("DuckDB is not installed under %s (the anchor %s installs it on its first run)", home, anchorScript)
	}
	script := filepath.Join(home, name)
	if err := os.WriteFile(script, src, 0o644); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "node", append([]string{script}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%w: %s", err, strings.TrimSpace(lastLines(stderr.String(), 5)))
	}
	return bench.ParseAnchor(&stdout)
}

// duckHome is the folder of the anchor's DuckDB installation.
func duckHome() (string, error) {
	if home := os.Getenv("DUCKDB_ANCHOR_HOME"); home != "" {
		return home, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(cache, "duckdb-anchor"), nil
}
