package deltalog

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/deltashare/deltashare/internal/sharedtest"
	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"
)

// realTables returns every shared Delta table (DAT cases use their delta/ folder), by name.
func realTables(t testing.TB) map[string]string {
	root := sharedtest.Path(t, "delta")
	out := map[string]string{}
	for _, group := range []string{"dat", "delta-rs", "kernel-cdf", "r-fixtures"} {
		dirs, err := filepath.Glob(filepath.Join(root, group, "*"))
		require.NoError(t, err)
		for _, d := range dirs {
			if group == "dat" {
				d = filepath.Join(d, "delta")
			}
			if _, err := os.Stat(filepath.Join(d, "_delta_log")); err == nil {
				out[group+"/"+filepath.Base(filepath.Clean(filepath.Join(d, map[bool]string{true: "..", false: "."}[group == "dat"])))] = d
			}
		}
	}
	require.NotEmpty(t, out)
	return out
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// numRecords returns the numRecords of an add's stats.
func numRecords(a *delta.Add) (int64, bool) {
	if a.Stats == "" {
		return 0, false
	}
	var s struct {
		NumRecords *int64 `json:"numRecords"`
	}
	if json.Unmarshal([]byte(a.Stats), &s) != nil || s.NumRecords == nil {
		return 0, false
	}
	return *s.NumRecords, true
}

// statsRows is the live row count from stats: numRecords minus deletion vector cardinalities.
func statsRows(s *Snapshot) (int64, bool) {
	var n int64
	for _, f := range s.Files {
		r, ok := numRecords(f)
		if !ok {
			return 0, false
		}
		n += r
		if f.DeletionVector != nil {
			n -= f.DeletionVector.Cardinality
		}
	}
	return n, true
}

// footerRows reads the row count of a data file from its Parquet footer.
func footerRows(t testing.TB, tbl *Table, a *delta.Add) int64 {
	t.Helper()
	p, err := tbl.AbsPath(a.Path)
	require.NoError(t, err)
	return parquetRows(t, p)
}

func parquetRows(t testing.TB, p string) int64 {
	t.Helper()
	f, err := os.Open(p)
	require.NoError(t, err)
	defer f.Close()
	st, err := f.Stat()
	require.NoError(t, err)
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	require.NoError(t, err, p)
	return pf.NumRows()
}

// liveFooterRows counts live rows from footers minus deletion vector cardinalities.
func liveFooterRows(t testing.TB, tbl *Table, s *Snapshot) int64 {
	var n int64
	for _, f := range s.Files {
		n += footerRows(t, tbl, f)
		if f.DeletionVector != nil {
			n -= f.DeletionVector.Cardinality
		}
	}
	return n
}

// fileKey identifies a live file for comparisons.
func fileKey(a *delta.Add) string { return decodePath(a.Path) + "|" + dvID(a.DeletionVector) }

func mustOpen(t testing.TB, dir string) *Table {
	t.Helper()
	tbl, err := Open(context.Background(), dir)
	require.NoError(t, err, dir)
	return tbl
}

// forEachRealTable runs test as a subtest for every shared table, in name order, with the table
// (named name, in dir) opened and its log listed.
func forEachRealTable(t *testing.T, test func(t *testing.T, name, dir string, tbl *Table, l *logListing)) {
	tables := realTables(t)
	for _, name := range sortedKeys(tables) {
		t.Run(name, func(t *testing.T) {
			tbl := mustOpen(t, tables[name])
			l, err := list(context.Background(), tbl.s)
			require.NoError(t, err)
			test(t, name, tables[name], tbl, l)
		})
	}
}
