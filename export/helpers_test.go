package export

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/stretchr/testify/require"
)

// Any array.RecordReader is a Source.
var _ Source = array.RecordReader(nil)

var regions = []string{"EMEA", "AMER", "a/b=c%d", ""} // "" stands for null

func testSchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "region", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
		{Name: "ok", Type: arrow.FixedWidthTypes.Boolean},
	}, nil)
}

// row is the expected content of one row.
type row struct {
	id     int64
	name   string // "" = null
	score  string // CSV text, "" = null
	region string // "" = null
}

func rowOf(i int64) row {
	r := row{id: i, region: regions[i%4]}
	if i%7 != 3 {
		r.name = fmt.Sprintf("name-%d", i)
	}
	if i%5 != 4 {
		r.score = fmt.Sprint(float64(i) / 4)
	}
	return r
}

// makeRecords builds records of the given sizes with consecutive ids from first; regionOf
// picks the region index of row i (nil: i%4).
func makeRecords(t testing.TB, mem memory.Allocator, first int64, sizes []int, regionOf func(int64) int) []arrow.Record {
	schema := testSchema()
	var out []arrow.Record
	id := first
	for _, n := range sizes {
		b := array.NewRecordBuilder(mem, schema)
		for k := 0; k < n; k++ {
			r := rowOf(id)
			if regionOf != nil {
				r.region = regions[regionOf(id)]
			}
			b.Field(0).(*array.Int64Builder).Append(id)
			if r.name == "" {
				b.Field(1).AppendNull()
			} else {
				b.Field(1).(*array.StringBuilder).Append(r.name)
			}
			if r.score == "" {
				b.Field(2).AppendNull()
			} else {
				b.Field(2).(*array.Float64Builder).Append(float64(id) / 4)
			}
			if r.region == "" {
				b.Field(3).AppendNull()
			} else {
				b.Field(3).(*array.StringBuilder).Append(r.region)
			}
			b.Field(4).(*array.Date32Builder).Append(arrow.Date32(19000 + id%3))
			b.Field(5).(*array.TimestampBuilder).Append(arrow.Timestamp(1_700_000_000_000_000 + id*1_000_000))
			b.Field(6).(*array.BooleanBuilder).Append(id%2 == 0)
			id++
		}
		out = append(out, b.NewRecord())
		b.Release()
	}
	return out
}

func releaseAll(recs []arrow.Record) {
	for _, r := range recs {
		r.Release()
	}
}

// testSource yields records, optionally with input file indexes, totals, a failure after
// failAfter records, or a hook run before each record.
type testSource struct {
	schema    *arrow.Schema
	recs      []arrow.Record
	files     []int // file index per record; nil: no FileBoundaries behaviour
	i         int
	failAfter int // >0: Next fails once this many records were yielded
	err       error
	before    func(i int)
}

func newSource(recs []arrow.Record) *testSource {
	return &testSource{schema: testSchema(), recs: recs, i: -1}
}

func (s *testSource) Schema() *arrow.Schema { return s.schema }
func (s *testSource) Next() bool {
	if s.failAfter > 0 && s.i+1 >= s.failAfter {
		s.err = errors.New("connection reset while reading file 3")
		return false
	}
	if s.i+1 >= len(s.recs) {
		return false
	}
	s.i++
	if s.before != nil {
		s.before(s.i)
	}
	return true
}
func (s *testSource) Record() arrow.Record { return s.recs[s.i] }
func (s *testSource) Err() error           { return s.err }
func (s *testSource) Release()             {}

// boundSource adds FileBoundaries and TotalsHint.
type boundSource struct {
	*testSource
	rows int64
}

func (s *boundSource) FileIndex() int              { return s.files[s.i] }
func (s *boundSource) FileCount() int              { return s.files[len(s.files)-1] + 1 }
func (s *boundSource) Totals() (rows, bytes int64) { return s.rows, 12345 }
func withFiles(s *testSource, files []int) *boundSource {
	s.files = files
	var n int64
	for _, r := range s.recs {
		n += r.NumRows()
	}
	return &boundSource{testSource: s, rows: n}
}

// listFiles returns every file under dir, relative and slash-separated, sorted.
func listFiles(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	sort.Strings(out)
	return out
}

// listAll returns every entry (directories too) under dir.
func listAll(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	}))
	return out
}

func readCSV(t testing.TB, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	return recs
}

func readNDJSON(t testing.TB, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), sc.Text())
		out = append(out, m)
	}
	require.NoError(t, sc.Err())
	return out
}

func readParquet(t testing.TB, path string, mem memory.Allocator) arrow.Table {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rdr, err := file.NewParquetReader(f)
	require.NoError(t, err)
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, mem)
	require.NoError(t, err)
	tbl, err := fr.ReadTable(context.Background())
	require.NoError(t, err)
	return tbl
}

// csvIDs returns the id column (first field) of CSV rows after the header.
func csvIDs(t testing.TB, rows [][]string) []string {
	var ids []string
	for _, r := range rows[1:] {
		ids = append(ids, r[0])
	}
	return ids
}

func idRange(from, to int64) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprint(i))
	}
	return out
}

func arrowRecord(schema *arrow.Schema, cols []arrow.Array) arrow.Record {
	n := int64(0)
	if len(cols) > 0 {
		n = int64(cols[0].Len())
	}
	return array.NewRecord(schema, cols, n)
}

// hintOf is the advice an error carries, options in braces ("" without advice).
func hintOf(err error) string {
	var h interface{ Hint() string }
	if errors.As(err, &h) {
		return h.Hint()
	}
	return ""
}
