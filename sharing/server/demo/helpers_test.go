package demo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/sharing/delta"
)

// readLog parses every commit of a table with delta.ParseAction, by version.
func readLog(t *testing.T, dir string) [][]*delta.Action {
	t.Helper()
	var out [][]*delta.Action
	for v := 0; ; v++ {
		name := filepath.Join(dir, "_delta_log", commitName(int64(v)))
		f, err := os.Open(name)
		if os.IsNotExist(err) {
			return out
		}
		require.NoError(t, err)
		var acts []*delta.Action
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			a, err := delta.ParseAction(sc.Bytes())
			require.NoError(t, err, "version %d line %q", v, sc.Text())
			acts = append(acts, a)
		}
		require.NoError(t, sc.Err())
		f.Close()
		out = append(out, acts)
	}
}

// rawLines decodes each commit line as generic JSON (to see nulls the typed actions hide).
func rawLines(t *testing.T, dir string, v int64) []map[string]map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "_delta_log", commitName(v)))
	require.NoError(t, err)
	var out []map[string]map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	for dec.More() {
		var m map[string]map[string]any
		require.NoError(t, dec.Decode(&m))
		out = append(out, m)
	}
	return out
}

// localPath turns a log path into the file's path on disk.
func localPath(t *testing.T, dir, logPath string) string {
	t.Helper()
	p, err := url.PathUnescape(logPath)
	require.NoError(t, err)
	return filepath.Join(dir, filepath.FromSlash(p))
}

// readArrow reads a Parquet file with Apache Arrow's pqarrow and converts it to rows of the Go
// values Row uses (decimals as the unscaled value's decimal string, times in UTC, structs and lists as []any).
func readArrow(t *testing.T, path string) (*arrow.Schema, []Row) {
	t.Helper()
	pf, err := file.OpenParquetFile(path, false)
	require.NoError(t, err)
	defer pf.Close()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1024}, mem)
	require.NoError(t, err)
	tbl, err := fr.ReadTable(context.Background())
	require.NoError(t, err)
	defer tbl.Release()
	rows := make([]Row, tbl.NumRows())
	for i := range rows {
		rows[i] = make(Row, tbl.NumCols())
	}
	for c := 0; c < int(tbl.NumCols()); c++ {
		r := 0
		for _, chunk := range tbl.Column(c).Data().Chunks() {
			for i := 0; i < chunk.Len(); i++ {
				rows[r][c] = arrowValue(t, chunk, i)
				r++
			}
		}
	}
	return tbl.Schema(), rows
}

func arrowValue(t *testing.T, a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch x := a.(type) {
	case *array.Int64, *array.Int32, *array.Int16, *array.Float32, *array.Float64, *array.Boolean, *array.String:
		return a.GetOneForMarshal(i) // the Go value of the Arrow type (int64, float32, string...)
	case *array.Int8:
		return x.Value(i) // its GetOneForMarshal gives a float64
	case *array.Binary:
		return append([]byte{}, x.Value(i)...)
	case *array.Date32:
		return time.Unix(int64(x.Value(i))*86400, 0).UTC()
	case *array.Timestamp:
		return time.UnixMicro(int64(x.Value(i))).UTC()
	case *array.Decimal128:
		return x.Value(i).BigInt().String()
	case *array.Struct:
		out := make([]any, x.NumField())
		for f := range out {
			out[f] = arrowValue(t, x.Field(f), i)
		}
		return out
	case *array.List:
		start, end := x.ValueOffsets(i)
		out := []any{}
		for j := start; j < end; j++ {
			out = append(out, arrowValue(t, x.ListValues(), int(j)))
		}
		return out
	}
	t.Fatalf("unexpected arrow array %T", a)
	return nil
}

// normalize converts an expected value of type dt to what arrowValue returns.
func normalize(dt delta.DataType, v any) any {
	if v == nil {
		return nil
	}
	switch t := dt.(type) {
	case *delta.DecimalType:
		u, _ := unscaledOf(v)
		return u.String()
	case *delta.StructType:
		vals, _ := asSlice(v)
		out := make([]any, len(vals))
		for i, f := range t.Fields {
			out[i] = normalize(f.Type, vals[i])
		}
		return out
	case *delta.ArrayType:
		vals, _ := asSlice(v)
		out := make([]any, len(vals))
		for i := range vals {
			out[i] = normalize(t.ElementType, vals[i])
		}
		return out
	case *delta.PrimitiveType:
		switch t.Name {
		case delta.TypeDate:
			return time.Unix(int64(DaysSinceEpoch(v.(time.Time)))*86400, 0).UTC()
		case delta.TypeTimestamp:
			return time.UnixMicro(v.(time.Time).UnixMicro()).UTC()
		case delta.TypeTimestampNTZ:
			return time.UnixMicro(NTZMicros(v.(time.Time))).UTC()
		}
	}
	return v
}

// storedRow drops the partition columns of a table row and normalizes the rest.
func storedRow(st *delta.StructType, partCols []string, r Row) Row {
	skip := map[string]bool{}
	for _, p := range partCols {
		skip[p] = true
	}
	var out Row
	for i, f := range st.Fields {
		if !skip[f.Name] {
			out = append(out, normalize(f.Type, r[i]))
		}
	}
	return out
}

// readParquetGo reads a file with parquet-go and returns its schema and rows.
func readParquetGo(t *testing.T, path string) (*parquet.File, []parquet.Row) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	require.NoError(t, err)
	pf, err := parquet.OpenFile(f, st.Size())
	require.NoError(t, err)
	var rows []parquet.Row
	for _, rg := range pf.RowGroups() {
		rr := rg.Rows()
		buf := make([]parquet.Row, 256)
		for {
			n, err := rr.ReadRows(buf)
			for _, r := range buf[:n] {
				rows = append(rows, r.Clone())
			}
			if err != nil {
				break
			}
		}
		require.NoError(t, rr.Close())
	}
	return pf, rows
}
