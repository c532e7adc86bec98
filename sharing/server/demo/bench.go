package demo

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/deltashare/deltashare/sharing/delta"
)

const benchSchemaJSON = `{"type":"struct","fields":[
{"name":"id","type":"long","nullable":false,"metadata":{}},
{"name":"user_id","type":"long","nullable":true,"metadata":{}},
{"name":"amount","type":"decimal(18,4)","nullable":true,"metadata":{}},
{"name":"price","type":"double","nullable":true,"metadata":{}},
{"name":"quantity","type":"integer","nullable":true,"metadata":{}},
{"name":"name","type":"string","nullable":true,"metadata":{}},
{"name":"category","type":"string","nullable":true,"metadata":{}},
{"name":"is_active","type":"boolean","nullable":true,"metadata":{}},
{"name":"event_time","type":"timestamp","nullable":true,"metadata":{}},
{"name":"note","type":"string","nullable":true,"metadata":{}},
{"name":"day","type":"date","nullable":true,"metadata":{}}]}`

// BenchSchema returns the schema of the bench table: ten stored columns of mixed types (some
// with nulls) and the partition column `day`.
func BenchSchema() *delta.StructType {
	st, err := delta.ParseSchema(benchSchemaJSON)
	if err != nil {
		panic(err)
	}
	return st
}

// BenchBaseDay is the first partition value of the bench table's `day` column.
var BenchBaseDay = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

// benchDays bounds the distinct `day` partitions: file i holds day BenchBaseDay + i%benchDays.
const benchDays = 8

// DefaultBenchRowGroupRows is the bench table's row group size.
const DefaultBenchRowGroupRows = 256 * 1024

var benchCategories = func() [][]byte {
	names := []string{"books", "music", "garden", "toys", "grocery", "electronics", "sports", "beauty",
		"automotive", "office", "pets", "baby", "health", "outdoor", "kitchen", "tools"}
	out := make([][]byte, len(names))
	for i, n := range names {
		out[i] = []byte(n)
	}
	return out
}()

// GenerateBench writes a one-version table of rows rows in files data files (file i holds rows
// [i*rows/files, (i+1)*rows/files) and partition day = BenchBaseDay + i%8) under dir. Rows are
// pseudo-random from a fixed seed per file, so the table is the same on every run. Files are
// written in parallel (up to GOMAXPROCS at a time) and streamed in row groups: memory stays
// bounded whatever the row count.
func GenerateBench(dir string, rows int, files int) error {
	return generateBench(dir, rows, files, DefaultBenchRowGroupRows)
}

func generateBench(dir string, rows, files int, rowGroupRows int64) error {
	if rows < 0 || files < 1 {
		return fmt.Errorf("demo: bench table needs rows >= 0 and files >= 1, got %d rows in %d files", rows, files)
	}
	tbl, err := CreateTable(dir, TableOptions{
		Name: "bench", Description: "deltashare benchmark table", Seed: "deltashare-bench",
		Schema: BenchSchema(), PartitionColumns: []string{"day"}, RowGroupRows: rowGroupRows,
	})
	if err != nil {
		return err
	}
	tx, err := tbl.Begin("WRITE", map[string]any{"mode": "ErrorIfExists", "partitionBy": `["day"]`})
	if err != nil {
		return err
	}
	workers := min(runtime.GOMAXPROCS(0), files)
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	for i := 0; i < files; i++ {
		sem <- struct{}{}
		mu.Lock()
		stop := firstErr != nil
		mu.Unlock()
		if stop {
			<-sem
			break
		}
		day := BenchBaseDay.AddDate(0, 0, i%benchDays)
		// Created here, in order, so file numbering does not depend on scheduling.
		fw, err := tx.NewFile(map[string]any{"day": day})
		if err != nil {
			<-sem
			fail(err)
			break
		}
		lo, hi := int64(i)*int64(rows)/int64(files), int64(i+1)*int64(rows)/int64(files)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			if err := writeBenchFile(fw, uint64(i), lo, hi, day); err != nil {
				fw.Abort()
				fail(err)
				return
			}
			if err := fw.Close(); err != nil {
				fail(err)
			}
		}(i)
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	_, err = tx.Commit()
	return err
}

// writeBenchFile streams rows [lo, hi) into fw, building Parquet values directly (no boxing of
// Go values) in reused batches.
func writeBenchFile(fw *FileWriter, seed uint64, lo, hi int64, day time.Time) error {
	const batchRows = 4096
	const cols = 10
	rng := rand.New(rand.NewPCG(0x6465_6c74_6173_6861, seed))
	dayMicros := day.UnixMicro()
	batch := make([]parquet.Row, batchRows)
	for i := range batch {
		batch[i] = make(parquet.Row, cols)
	}
	arena := make([]byte, 0, batchRows*32)
	opt := func(v parquet.Value, col int) parquet.Value { return v.Level(0, 1, col) }
	null := func(col int) parquet.Value { return parquet.NullValue().Level(0, 0, col) }
	for start := lo; start < hi; start += batchRows {
		n := int(min(int64(batchRows), hi-start))
		arena = arena[:0]
		for r := 0; r < n; r++ {
			id := start + int64(r)
			row := batch[r][:cols]
			x := rng.Uint64()
			row[0] = parquet.Int64Value(id).Level(0, 0, 0)
			row[1] = opt(parquet.Int64Value(int64(x%1_000_003)), 1)
			if x>>20%50 == 0 {
				row[2] = null(2)
			} else {
				row[2] = opt(parquet.Int64Value(int64(x>>24%100_000_000_000)-1_000_000_000), 2)
			}
			if x>>30%20 == 0 {
				row[3] = null(3)
			} else {
				row[3] = opt(parquet.DoubleValue(rng.Float64()*1000), 3)
			}
			row[4] = opt(parquet.Int32Value(int32(x>>40%100)), 4)
			if x>>47%10 == 0 {
				row[5] = null(5)
			} else {
				s := len(arena)
				arena = append(arena, "user-"...)
				arena = strconv.AppendUint(arena, x%200_000, 10)
				row[5] = opt(parquet.ByteArrayValue(arena[s:len(arena):len(arena)]), 5)
			}
			row[6] = opt(parquet.ByteArrayValue(benchCategories[x>>51%16]), 6)
			row[7] = opt(parquet.BooleanValue(x>>55&1 == 1), 7)
			y := rng.Uint64()
			row[8] = opt(parquet.Int64Value(dayMicros+int64(y%86_400_000_000)), 8)
			if y>>40%10 != 0 {
				row[9] = null(9)
			} else {
				s := len(arena)
				arena = append(arena, "note #"...)
				arena = strconv.AppendInt(arena, id, 10)
				row[9] = opt(parquet.ByteArrayValue(arena[s:len(arena):len(arena)]), 9)
			}
			batch[r] = row
		}
		if err := fw.WriteParquetRows(batch[:n]); err != nil {
			return err
		}
	}
	return nil
}
