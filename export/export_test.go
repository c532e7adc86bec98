package export

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/formats"
)

func TestSingleFileFormats(t *testing.T) {
	tests := []struct {
		name   string
		opts   formats.Options
		file   string
		verify func(t *testing.T, path string, mem memory.Allocator)
	}{
		{"csv", formats.Options{Format: formats.CSV}, "out.csv", func(t *testing.T, path string, _ memory.Allocator) {
			rows := readCSV(t, path)
			require.Len(t, rows, 1+12)
			assert.Equal(t, []string{"id", "name", "score", "region", "day", "ts", "ok"}, rows[0])
			for i, r := range rows[1:] {
				want := rowOf(int64(i))
				assert.Equal(t, fmt.Sprint(want.id), r[0])
				assert.Equal(t, want.name, r[1])
				assert.Equal(t, want.score, r[2])
				assert.Equal(t, want.region, r[3])
			}
			assert.Equal(t, "2022-01-08", rows[1][4])
			assert.Equal(t, "2023-11-14T22:13:20Z", rows[1][5])
			assert.Equal(t, "true", rows[1][6])
		}},
		{"ndjson", formats.Options{Format: formats.NDJSON}, "out.ndjson", func(t *testing.T, path string, _ memory.Allocator) {
			objs := readNDJSON(t, path)
			require.Len(t, objs, 12)
			for i, o := range objs {
				want := rowOf(int64(i))
				assert.EqualValues(t, want.id, o["id"])
				if want.name == "" {
					assert.Nil(t, o["name"])
				} else {
					assert.Equal(t, want.name, o["name"])
				}
				if want.score == "" {
					assert.Nil(t, o["score"])
				} else {
					assert.Equal(t, float64(i)/4, o["score"])
				}
			}
		}},
		{"json", formats.Options{Format: formats.JSON}, "out.json", func(t *testing.T, path string, _ memory.Allocator) {
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			var objs []map[string]any
			require.NoError(t, json.Unmarshal(b, &objs))
			require.Len(t, objs, 12)
			assert.EqualValues(t, 11, objs[11]["id"])
			assert.Nil(t, objs[3]["name"])
		}},
		{"parquet", formats.Options{Format: formats.Parquet}, "out.parquet", func(t *testing.T, path string, mem memory.Allocator) {
			tbl := readParquet(t, path, mem)
			defer tbl.Release()
			want := makeRecords(t, mem, 0, []int{12}, nil)
			defer releaseAll(want)
			require.EqualValues(t, 12, tbl.NumRows())
			require.Equal(t, testSchema().NumFields(), tbl.Schema().NumFields())
			for i, f := range testSchema().Fields() {
				assert.Equal(t, f.Name, tbl.Schema().Field(i).Name)
				assert.True(t, arrow.TypeEqual(f.Type, tbl.Schema().Field(i).Type), f.Name)
			}
			for c := 0; c < int(tbl.NumCols()); c++ {
				got, err := array.Concatenate(tbl.Column(c).Data().Chunks(), mem)
				require.NoError(t, err)
				assert.True(t, array.Equal(want[0].Column(c), got), "column %s", tbl.Schema().Field(c).Name)
				got.Release()
			}
		}},
		{"csv gzip", formats.Options{Format: formats.CSV, Compression: formats.Gzip}, "out.csv.gz", func(t *testing.T, path string, _ memory.Allocator) {
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, []byte{0x1f, 0x8b}, b[:2])
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			dir := t.TempDir()
			recs := makeRecords(t, mem, 0, []int{5, 0, 4, 3}, nil)
			defer releaseAll(recs)
			opts := Options{Output: filepath.Join(dir, tc.file), Format: tc.opts}
			if tc.opts.Format == formats.Parquet {
				opts.Format.Allocator = mem
			}
			sum, err := Run(context.Background(), newSource(recs), nil, opts)
			require.NoError(t, err)
			assert.Equal(t, []string{tc.file}, listFiles(t, dir))
			path := filepath.Join(dir, tc.file)
			fi, err := os.Stat(path)
			require.NoError(t, err)
			assert.EqualValues(t, 12, sum.Rows)
			assert.EqualValues(t, 1, sum.Files)
			assert.Equal(t, fi.Size(), sum.Bytes)
			assert.Equal(t, []string{path}, sum.Outputs)
			assert.EqualValues(t, -1, sum.TableVersion)
			tc.verify(t, path, mem)
		})
	}
}

func TestEmptySource(t *testing.T) {
	t.Run("single file has the header", func(t *testing.T) {
		dir := t.TempDir()
		sum, err := Run(context.Background(), newSource(nil), NewLocalSink(dir), Options{Output: "e.csv", Format: formats.Options{Format: formats.CSV}})
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(dir, "e.csv"))
		require.NoError(t, err)
		assert.Equal(t, "id,name,score,region,day,ts,ok\n", string(b))
		assert.EqualValues(t, 0, sum.Rows)
	})
	t.Run("directory has one empty part", func(t *testing.T) {
		dir := t.TempDir()
		_, err := Run(context.Background(), newSource(nil), NewLocalSink(dir), Options{Format: formats.Options{Format: formats.JSON}})
		require.NoError(t, err)
		assert.Equal(t, []string{"part-00000.json"}, listFiles(t, dir))
	})
	t.Run("partitioned writes nothing", func(t *testing.T) {
		dir := t.TempDir()
		sum, err := Run(context.Background(), newSource(nil), NewLocalSink(dir), Options{Format: formats.Options{Format: formats.CSV}, PartitionBy: []string{"region"}})
		require.NoError(t, err)
		assert.Empty(t, listFiles(t, dir))
		assert.EqualValues(t, 0, sum.Files)
	})
}

func TestDirectoryParts(t *testing.T) {
	tests := []struct {
		name    string
		files   []int // nil: source without FileBoundaries
		maxRows int64
		want    map[string][]string // part -> ids
	}{
		{"one part without boundaries", nil, 0, map[string][]string{"part-00000.csv": idRange(0, 20)}},
		{"one part per input file", []int{0, 0, 1, 2}, 0, map[string][]string{
			"part-00000.csv": idRange(0, 9), "part-00001.csv": idRange(9, 13), "part-00002.csv": idRange(13, 20)}},
		{"max rows rolls", nil, 6, map[string][]string{
			"part-00000.csv": idRange(0, 6), "part-00001.csv": idRange(6, 12), "part-00002.csv": idRange(12, 18), "part-00003.csv": idRange(18, 20)}},
		{"max rows ignores file boundaries", []int{0, 1, 2, 3}, 10, map[string][]string{
			"part-00000.csv": idRange(0, 10), "part-00001.csv": idRange(10, 20)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			recs := makeRecords(t, mem, 0, []int{5, 4, 4, 7}, nil)
			defer releaseAll(recs)
			var src Source = newSource(recs)
			if tc.files != nil {
				src = withFiles(newSource(recs), tc.files)
			}
			dir := t.TempDir()
			out := filepath.Join(dir, "out") + "/"
			sum, err := Run(context.Background(), src, nil, Options{Output: out, Format: formats.Options{Format: formats.CSV}, MaxRowsPerFile: tc.maxRows})
			require.NoError(t, err)
			got := map[string][]string{}
			for _, n := range listFiles(t, filepath.Join(dir, "out")) {
				got[n] = csvIDs(t, readCSV(t, filepath.Join(dir, "out", n)))
			}
			assert.Equal(t, tc.want, got)
			assert.EqualValues(t, len(tc.want), sum.Files)
			assert.EqualValues(t, 20, sum.Rows)
		})
	}
}

// partitionContent reads every CSV part under dir: relative path -> ids.
func partitionContent(t *testing.T, dir string) map[string][]string {
	got := map[string][]string{}
	for _, n := range listFiles(t, dir) {
		got[n] = csvIDs(t, readCSV(t, filepath.Join(dir, n)))
	}
	return got
}

func idsWhere(n int64, keep func(int64) bool) []string {
	var out []string
	for i := int64(0); i < n; i++ {
		if keep(i) {
			out = append(out, fmt.Sprint(i))
		}
	}
	return out
}

func TestPartitionBy(t *testing.T) {
	mod := func(k int64) func(int64) bool { return func(i int64) bool { return i%4 == k } }
	tests := []struct {
		name     string
		opts     Options
		regionOf func(int64) int
		want     map[string][]string
	}{
		{"interleaved values, null and escaping", Options{PartitionBy: []string{"Region"}}, nil, map[string][]string{
			"region=EMEA/part-00000.csv":                       idsWhere(20, mod(0)),
			"region=AMER/part-00000.csv":                       idsWhere(20, mod(1)),
			"region=a%2Fb%3Dc%25d/part-00000.csv":              idsWhere(20, mod(2)),
			"region=__HIVE_DEFAULT_PARTITION__/part-00000.csv": idsWhere(20, mod(3)),
		}},
		{"grouped input", Options{PartitionBy: []string{"region"}}, func(i int64) int { return int(i / 8) }, map[string][]string{
			"region=EMEA/part-00000.csv":          idRange(0, 8),
			"region=AMER/part-00000.csv":          idRange(8, 16),
			"region=a%2Fb%3Dc%25d/part-00000.csv": idRange(16, 20),
		}},
		{"two levels", Options{PartitionBy: []string{"region", "ok"}}, func(i int64) int { return int(i % 2) }, map[string][]string{
			"region=EMEA/ok=true/part-00000.csv":  idsWhere(20, func(i int64) bool { return i%2 == 0 }),
			"region=AMER/ok=false/part-00000.csv": idsWhere(20, func(i int64) bool { return i%2 == 1 }),
		}},
		{"max open files finishes the least recently used", Options{PartitionBy: []string{"region"}, MaxOpenFiles: 1},
			func(i int64) int { return int(i/3) % 2 }, map[string][]string{
				// Records of 7, 9 and 4 rows; the value changes every 3 rows. Within a record
				// each value is written once, in order of first appearance; a new value with the
				// one slot taken finishes the open part.
				"region=EMEA/part-00000.csv": {"0", "1", "2", "6"},
				"region=AMER/part-00000.csv": {"3", "4", "5"},
				"region=EMEA/part-00001.csv": {"7", "8", "12", "13", "14"},
				"region=AMER/part-00001.csv": {"9", "10", "11", "15", "16", "17"},
				"region=EMEA/part-00002.csv": {"18", "19"},
			}},
		{"max rows per partition", Options{PartitionBy: []string{"region"}, MaxRowsPerFile: 3}, func(i int64) int { return int(i % 2) }, map[string][]string{
			"region=EMEA/part-00000.csv": {"0", "2", "4"},
			"region=EMEA/part-00001.csv": {"6", "8", "10"},
			"region=EMEA/part-00002.csv": {"12", "14", "16"},
			"region=EMEA/part-00003.csv": {"18"},
			"region=AMER/part-00000.csv": {"1", "3", "5"},
			"region=AMER/part-00001.csv": {"7", "9", "11"},
			"region=AMER/part-00002.csv": {"13", "15", "17"},
			"region=AMER/part-00003.csv": {"19"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			recs := makeRecords(t, mem, 0, []int{7, 9, 4}, tc.regionOf)
			defer releaseAll(recs)
			dir := t.TempDir()
			opts := tc.opts
			opts.Format = formats.Options{Format: formats.CSV, Allocator: mem} // mem also serves compute.Take
			sum, err := Run(context.Background(), newSource(recs), NewLocalSink(dir), opts)
			require.NoError(t, err)
			assert.Equal(t, tc.want, partitionContent(t, dir))
			assert.EqualValues(t, len(tc.want), sum.Files)
			assert.EqualValues(t, 20, sum.Rows)
			for n := range tc.want {
				header := readCSV(t, filepath.Join(dir, n))[0]
				for _, c := range opts.PartitionBy {
					assert.NotContains(t, header, strings.ToLower(c), "partition column left in the file")
				}
			}
		})
	}
}

func TestPartitionKeepColumnsParquet(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	recs := makeRecords(t, mem, 0, []int{7, 9, 4}, nil)
	defer releaseAll(recs)
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprint("keep=", keep), func(t *testing.T) {
			dir := t.TempDir()
			_, err := Run(context.Background(), newSource(recs), NewLocalSink(dir), Options{
				Format:      formats.Options{Format: formats.Parquet, Allocator: mem},
				PartitionBy: []string{"region"}, KeepPartitionColumns: keep})
			require.NoError(t, err)
			tbl := readParquet(t, filepath.Join(dir, "region=a%2Fb%3Dc%25d", "part-00000.parquet"), mem)
			defer tbl.Release()
			assert.EqualValues(t, 5, tbl.NumRows())
			_, has := tbl.Schema().FieldsByName("region")
			assert.Equal(t, keep, has)
			ids, err := array.Concatenate(tbl.Column(0).Data().Chunks(), mem)
			require.NoError(t, err)
			defer ids.Release()
			assert.Equal(t, []int64{2, 6, 10, 14, 18}, ids.(*array.Int64).Int64Values())
			if keep {
				reg, err := array.Concatenate(tbl.Column(3).Data().Chunks(), mem)
				require.NoError(t, err)
				defer reg.Release()
				assert.Equal(t, "a/b=c%d", reg.(*array.String).Value(0))
			}
		})
	}
}

func TestOptionErrors(t *testing.T) {
	csvOpts := formats.Options{Format: formats.CSV}
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"partition needs a directory", Options{Output: "x.csv", Format: csvOpts, PartitionBy: []string{"region"}}, "end the output with /"},
		{"max rows needs a directory", Options{Output: "x.csv", Format: csvOpts, MaxRowsPerFile: 3}, "needs a directory output"},
		{"stdout partition", Options{Output: "-", Format: csvOpts, PartitionBy: []string{"region"}}, "not standard output"},
		{"unknown column", Options{Format: csvOpts, PartitionBy: []string{"country"}}, `"country" is not in the table; its columns are id, name`},
		{"twice", Options{Format: csvOpts, PartitionBy: []string{"region", "REGION"}}, "given twice"},
		{"float type ok, bool ok, but not every column", Options{Format: csvOpts, PartitionBy: []string{"id", "name", "score", "region", "day", "ts", "ok"}}, "every column is a partition column"},
		{"bad format", Options{Format: formats.Options{Format: "xml"}}, "unknown format"},
		{"negative max rows", Options{Format: csvOpts, MaxRowsPerFile: -1}, "must be positive"},
		{"bad prefix", Options{Format: csvOpts, PartPrefix: "_x"}, "part prefix"},
		{"bad name", Options{Output: "../x.csv", Format: csvOpts}, "not a clean relative path"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := Run(context.Background(), newSource(nil), NewLocalSink(dir), tc.opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, listFiles(t, dir))
		})
	}
	t.Run("binary partition column", func(t *testing.T) {
		schema := arrow.NewSchema([]arrow.Field{{Name: "b", Type: arrow.BinaryTypes.Binary}, {Name: "x", Type: arrow.PrimitiveTypes.Int32}}, nil)
		rdr, err := array.NewRecordReader(schema, nil)
		require.NoError(t, err)
		_, err = Run(context.Background(), rdr, NewLocalSink(t.TempDir()), Options{Format: csvOpts, PartitionBy: []string{"b"}})
		require.ErrorContains(t, err, "cannot be a partition column")
	})
	t.Run("type the format cannot write", func(t *testing.T) {
		schema := arrow.NewSchema([]arrow.Field{{Name: "d", Type: arrow.FixedWidthTypes.MonthDayNanoInterval}}, nil)
		rdr, err := array.NewRecordReader(schema, nil)
		require.NoError(t, err)
		dir := t.TempDir()
		_, err = Run(context.Background(), rdr, NewLocalSink(dir), Options{Output: "x.csv", Format: csvOpts})
		require.ErrorContains(t, err, "cannot write this table as csv")
		assert.Empty(t, listFiles(t, dir))
	})
}

func TestStdout(t *testing.T) {
	recs := makeRecords(t, memory.DefaultAllocator, 0, []int{3, 2}, nil)
	defer releaseAll(recs)
	t.Run("ndjson", func(t *testing.T) {
		var buf bytes.Buffer
		sum, err := Run(context.Background(), newSource(recs), NewStreamSink(&buf), Options{Output: "-", Format: formats.Options{Format: formats.NDJSON}})
		require.NoError(t, err)
		assert.Equal(t, 5, strings.Count(buf.String(), "\n"))
		assert.EqualValues(t, buf.Len(), sum.Bytes)
		assert.Equal(t, []string{"-"}, sum.Outputs)
	})
	t.Run("parquet streams too", func(t *testing.T) {
		var buf bytes.Buffer
		_, err := Run(context.Background(), newSource(recs), NewStreamSink(&buf), Options{Output: "-", Format: formats.Options{Format: formats.Parquet}})
		require.NoError(t, err)
		b := buf.Bytes()
		require.Greater(t, len(b), 8)
		assert.Equal(t, "PAR1", string(b[:4]))
		assert.Equal(t, "PAR1", string(b[len(b)-4:]))
		path := filepath.Join(t.TempDir(), "x.parquet")
		require.NoError(t, os.WriteFile(path, b, 0o644))
		tbl := readParquet(t, path, memory.DefaultAllocator)
		defer tbl.Release()
		assert.EqualValues(t, 5, tbl.NumRows())
	})
	t.Run("a directory output refuses the stream sink", func(t *testing.T) {
		_, err := Run(context.Background(), newSource(recs), NewStreamSink(&bytes.Buffer{}), Options{Format: formats.Options{Format: formats.CSV}})
		require.ErrorContains(t, err, "standard output takes a single file: set the Output option to -")
		assert.Equal(t, "set {Output} to -, with neither partitioning nor a directory", hintOf(err))
		assert.ErrorIs(t, err, ErrOutputMismatch)
	})
	t.Run("a single file refuses partitioning and a maximum of rows per file", func(t *testing.T) {
		for _, opts := range []Options{{PartitionBy: []string{"region"}}, {MaxRowsPerFile: 2}} {
			opts.Output, opts.Format = "x.csv", formats.Options{Format: formats.CSV}
			dir := t.TempDir()
			_, err := Run(context.Background(), newSource(recs), NewLocalSink(dir), opts)
			require.ErrorContains(t, err, "needs a directory output, not a single file")
			assert.ErrorIs(t, err, ErrOutputMismatch, "the caller's options, not a failure")
			assert.NotErrorIs(t, err, ErrExists)
		}
	})
}

func TestPartitionWithFileBoundaries(t *testing.T) {
	recs := makeRecords(t, memory.DefaultAllocator, 0, []int{4, 4, 4}, func(i int64) int { return int(i % 2) })
	defer releaseAll(recs)
	dir := t.TempDir()
	src := withFiles(newSource(recs), []int{0, 0, 1})
	_, err := Run(context.Background(), src, NewLocalSink(dir), Options{Format: formats.Options{Format: formats.CSV}, PartitionBy: []string{"region"}})
	require.NoError(t, err)
	assert.Equal(t, map[string][]string{
		"region=EMEA/part-00000.csv": {"0", "2", "4", "6"},
		"region=AMER/part-00000.csv": {"1", "3", "5", "7"},
		"region=EMEA/part-00001.csv": {"8", "10"},
		"region=AMER/part-00001.csv": {"9", "11"},
	}, partitionContent(t, dir))
}

// OnSchema is called once, with the source's schema, before the first record is read.
func TestOnSchema(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	recs := makeRecords(t, mem, 0, []int{5, 4}, nil)
	defer releaseAll(recs)
	src := newSource(recs)
	read := 0
	src.before = func(int) { read++ }
	var got []*arrow.Schema
	readBefore := -1
	opts := Options{Output: "o.csv", Format: formats.Options{Format: formats.CSV}, OnSchema: func(s *arrow.Schema) {
		got = append(got, s)
		readBefore = read
	}}
	sum, err := Run(context.Background(), src, NewLocalSink(t.TempDir()), opts)
	require.NoError(t, err)
	assert.EqualValues(t, 9, sum.Rows)
	require.Len(t, got, 1)
	assert.Same(t, src.Schema(), got[0])
	assert.Zero(t, readBefore, "called before the first record is read")
}
