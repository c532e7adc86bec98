package reader

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/internal/sharingtest"
	"github.com/deltashare/deltashare/sharing/protocol"
)

// wideRecord is a record of an id and cols more columns in turn: nullable longs (every 7th
// null), doubles, strings of few values (every 5th null; dictionary-encoded in files), ints,
// booleans and a struct of a long and a string; and the Delta schema string of it.
func wideRecord(t *testing.T, mem memory.Allocator, cols, rows int) (arrow.Record, string) {
	t.Helper()
	type df = map[string]any
	fields := []arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}
	dfields := []df{{"name": "id", "type": "long", "nullable": true, "metadata": df{}}}
	st := arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		arrow.Field{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true})
	for c := 1; c <= cols; c++ {
		name := fmt.Sprintf("c%03d", c)
		var at arrow.DataType
		var dt any
		switch c % 6 {
		case 1:
			at, dt = arrow.PrimitiveTypes.Int64, "long"
		case 2:
			at, dt = arrow.PrimitiveTypes.Float64, "double"
		case 3:
			at, dt = arrow.BinaryTypes.String, "string"
		case 4:
			at, dt = arrow.PrimitiveTypes.Int32, "integer"
		case 5:
			at, dt = arrow.FixedWidthTypes.Boolean, "boolean"
		default:
			at, dt = st, df{"type": "struct", "fields": []df{
				{"name": "a", "type": "long", "nullable": true, "metadata": df{}},
				{"name": "b", "type": "string", "nullable": true, "metadata": df{}}}}
		}
		fields = append(fields, arrow.Field{Name: name, Type: at, Nullable: true})
		dfields = append(dfields, df{"name": name, "type": dt, "nullable": true, "metadata": df{}})
	}
	b := array.NewRecordBuilder(mem, arrow.NewSchema(fields, nil))
	defer b.Release()
	words := []string{"Ohio", "", "New York", "Texas", "ünïcödé"}
	for r := range rows {
		b.Field(0).(*array.Int64Builder).Append(int64(r))
		for c := 1; c <= cols; c++ {
			v := r*cols + c
			switch fb := b.Field(c).(type) {
			case *array.Int64Builder:
				if v%7 == 0 {
					fb.AppendNull()
				} else {
					fb.Append(int64(v) * 1_000_003)
				}
			case *array.Float64Builder:
				fb.Append(float64(v) / 8)
			case *array.StringBuilder:
				if v%5 == 0 {
					fb.AppendNull()
				} else {
					fb.Append(words[(r/3+c)%len(words)])
				}
			case *array.Int32Builder:
				fb.Append(int32(v))
			case *array.BooleanBuilder:
				fb.Append(v%3 == 0)
			case *array.StructBuilder:
				if v%11 == 0 {
					fb.AppendNull()
					continue
				}
				fb.Append(true)
				fb.FieldBuilder(0).(*array.Int64Builder).Append(int64(-v))
				fb.FieldBuilder(1).(*array.StringBuilder).Append(fmt.Sprint("s", v%13))
			}
		}
	}
	schema, err := json.Marshal(df{"type": "struct", "fields": dfields})
	require.NoError(t, err)
	return b.NewRecord(), string(schema)
}

// A file of many columns whose chunks are a page each is read one column chunk at a time; a
// file of few columns with the record reader.
func TestReadColumnwiseChoice(t *testing.T) {
	mem := memory.NewGoAllocator()
	wide, _ := wideRecord(t, mem, 150, 2000)
	defer wide.Release()
	assert.True(t, readColumnwise(parquetFooter(t, wide, 1000)))
	narrow := longsRecord(mem, 10, 2000)
	defer narrow.Release()
	assert.False(t, readColumnwise(parquetFooter(t, narrow, 1000)))
}

// A wide table is read exactly (every type, nulls, dictionary strings, a struct), in records
// that are slices of row groups read column by column, whole and projected, with no memory
// left allocated after the read.
func TestColumnwiseReadExact(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec, schema := wideRecord(t, mem, 150, 2500)
	dir := t.TempDir()
	writeDeltaTable(t, dir, schema, nil, nil, []deltaFile{{name: "a.parquet", rec: rec}, {name: "b.parquet", rec: rec}})
	rec.Release()
	data, err := os.ReadFile(filepath.Join(dir, "a.parquet"))
	require.NoError(t, err)
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	require.NoError(t, err)
	require.Equal(t, 3, pf.NumRowGroups(), "row groups of 1024 rows")
	require.True(t, readColumnwise(pf.MetaData()), "the file is read column by column")
	require.NoError(t, pf.Close())

	env := startServer(t, sharingtest.Options{Tables: map[string]string{"t": dir}})
	c := client(t, env)
	tbl := protocol.Table{Share: "s", Schema: "d", Name: "t"}
	for _, tc := range []struct {
		name string
		opts ReadOptions
	}{
		{"all columns", ReadOptions{BatchSize: 300}},
		{"projected", ReadOptions{BatchSize: 700, Columns: []string{"c006", "c003", "id", "c001"}}},
		{"filtered", ReadOptions{BatchSize: 300, Where: "c004 > 100000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.Allocator = mem
			r, err := Open(context.Background(), c, tbl, opts)
			require.NoError(t, err)
			names := schemaNames(r.Schema())
			got := readAll(t, r)
			r.Release()
			want := expectedRows(t, dir, names)
			if opts.Where != "" {
				// c004 of row r (of each file's 2,500) is r*150+4.
				var kept []string
				for i, w := range want {
					if (i%2500)*150+4 > 100000 {
						kept = append(kept, w)
					}
				}
				want = kept
			}
			require.Len(t, want, map[bool]int{false: 5000, true: 2 * (2500 - 667)}[opts.Where != ""])
			assert.Equal(t, want, got)
		})
	}
}

// A damaged page of a wide file read column by column (a data page of an int column, the
// dictionary page of a string column) fails the read with ErrCorruptFile naming the column,
// without a panic, and every buffer is released (also those of the columns read before it).
func TestColumnwiseCorruptPage(t *testing.T) {
	for _, tc := range []struct {
		col  string
		dict bool
	}{{"c004", false}, {"c003", true}} {
		t.Run(tc.col, func(t *testing.T) {
			rec, schema := wideRecord(t, memory.DefaultAllocator, 150, 2500)
			dir := t.TempDir()
			writeDeltaTable(t, dir, schema, nil, nil, []deltaFile{{name: "a.parquet", rec: rec}})
			// The same file snappy-compressed (the page damage needs a codec), the log's size
			// kept right.
			path := filepath.Join(dir, "a.parquet")
			before, err := os.Stat(path)
			require.NoError(t, err)
			out, err := os.Create(path)
			require.NoError(t, err)
			tbl := array.NewTableFromRecords(rec.Schema(), []arrow.Record{rec})
			require.NoError(t, pqarrow.WriteTable(tbl, out, 1024, parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy)), pqarrow.DefaultWriterProps()))
			tbl.Release()
			rec.Release() // WriteTable closed out
			after, err := os.Stat(path)
			require.NoError(t, err)
			logPath := filepath.Join(dir, "_delta_log", "00000000000000000000.json")
			log, err := os.ReadFile(logPath)
			require.NoError(t, err)
			log = bytes.Replace(log, []byte(fmt.Sprintf(`"size":%d`, before.Size())), []byte(fmt.Sprintf(`"size":%d`, after.Size())), 1)
			require.NoError(t, os.WriteFile(logPath, log, 0o644))
			sharingtest.DamagePage(t, path, tc.col, tc.dict)

			env := startServer(t, sharingtest.Options{Tables: map[string]string{"t": dir}})
			c := client(t, env)
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			r, err := Open(context.Background(), c, protocol.Table{Share: "s", Schema: "d", Name: "t"}, ReadOptions{Allocator: mem, Parallel: 1, BatchSize: 300})
			require.NoError(t, err)
			for r.Next() {
			}
			err = r.Err()
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrCorruptFile)
			assert.Contains(t, err.Error(), "column "+tc.col)
			r.Release()
			mem.AssertSize(t, 0)
		})
	}
}
