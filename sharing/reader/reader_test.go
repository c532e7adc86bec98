package reader

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/internal/sharedtest"
	"github.com/deltashare/deltashare/internal/sharingtest"
	"github.com/deltashare/deltashare/sharing/predicate"
	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/deltashare/deltashare/sharing/server/deltalog"
)

// datCases returns the DAT cases: name -> case directory.
func datCases(t testing.TB) map[string]string {
	root := sharedtest.Path(t, "delta", "dat")
	dirs, err := filepath.Glob(filepath.Join(root, "*"))
	require.NoError(t, err)
	out := map[string]string{}
	for _, d := range dirs {
		out[filepath.Base(d)] = d
	}
	return out
}

func TestReadDAT(t *testing.T) {
	cases := datCases(t)
	tables := map[string]string{}
	for name, d := range cases {
		tables[name] = filepath.Join(d, "delta")
	}
	env := startServer(t, sharingtest.Options{Tables: tables})
	for _, format := range []protocol.ResponseFormat{protocol.FormatDelta, protocol.FormatParquet} {
		c := client(t, env, sharingtest.Formats(format)) // the server answers in this format
		for name, d := range cases {
			versions, err := os.ReadDir(filepath.Join(d, "expected"))
			require.NoError(t, err)
			for _, v := range versions {
				t.Run(string(format)+"/"+name+"/"+v.Name(), func(t *testing.T) {
					mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
					defer mem.AssertSize(t, 0)
					opts := ReadOptions{Allocator: mem, Parallel: 3}
					if v.Name() != "latest" {
						n := mustAtoi(t, strings.TrimPrefix(v.Name(), "v"))
						opts.Version = &n
					}
					r, err := Open(context.Background(), c, protocol.Table{Share: "s", Schema: "d", Name: name}, opts)
					require.NoError(t, err)
					defer r.Release()
					estRows, _ := r.Totals()
					got := readAll(t, r)
					want := expectedRows(t, filepath.Join(d, "expected", v.Name(), "table_content.parquet"), schemaNames(r.Schema()))
					if estRows >= 0 { // files with statistics announce the exact total
						assert.Equal(t, int64(len(want)), estRows, "Totals")
					}
					assert.Equal(t, sortedCopy(want), sortedCopy(got))
					rows, _ := r.Done()
					assert.Equal(t, int64(len(want)), rows)
				})
			}
		}
	}
}

func mustAtoi(t testing.TB, s string) int64 {
	var n int64
	for _, c := range s {
		require.True(t, c >= '0' && c <= '9', "not a number: %s", s)
		n = n*10 + int64(c-'0')
	}
	return n
}

// realTables returns the shared delta-rs, kernel-cdf and r-fixtures tables by group/name.
func realTables(t testing.TB) map[string]string {
	root := sharedtest.Path(t, "delta")
	out := map[string]string{}
	for _, group := range []string{"delta-rs", "kernel-cdf", "r-fixtures"} {
		dirs, err := filepath.Glob(filepath.Join(root, group, "*"))
		require.NoError(t, err)
		for _, d := range dirs {
			if _, err := os.Stat(filepath.Join(d, "_delta_log")); err == nil {
				out[group+"-"+filepath.Base(d)] = d
			}
		}
	}
	return out
}

// statsCount is the live row count of the latest snapshot from the log's statistics
// (numRecords minus deletion vector cardinality); false when a file lacks numRecords.
func statsCount(t testing.TB, dir string) (int64, bool) {
	tbl, err := deltalog.Open(context.Background(), dir)
	require.NoError(t, err)
	v, err := tbl.LatestVersion(context.Background())
	require.NoError(t, err)
	snap, err := tbl.Snapshot(context.Background(), v)
	require.NoError(t, err)
	var n int64
	for _, f := range snap.Files {
		st, err := predicate.ParseStats(f.Stats)
		if err != nil || st == nil || st.NumRecords == nil {
			return 0, false
		}
		n += *st.NumRecords
		if f.DeletionVector != nil {
			n -= f.DeletionVector.Cardinality
		}
	}
	return n, true
}

func TestReadRealTablesRowCounts(t *testing.T) {
	tables := realTables(t)
	delete(tables, "delta-rs-COVID-19_NYT") // volume: see BenchmarkReadCOVID
	// Their data files were not kept (only the logs): see TestReadMissingFile.
	delete(tables, "delta-rs-checkpoints_vacuumed")
	delete(tables, "delta-rs-checkpoint_with_partitions")
	env := startServer(t, sharingtest.Options{Tables: tables})
	c := client(t, env)
	for name, dir := range tables {
		name := sharingtest.TableName(name)
		t.Run(name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			r, err := Open(context.Background(), c, protocol.Table{Share: "s", Schema: "d", Name: name}, ReadOptions{Allocator: mem, Parallel: 2})
			require.NoError(t, err)
			defer r.Release()
			rows := readAll(t, r)
			if want, ok := statsCount(t, dir); ok {
				assert.Equal(t, want, int64(len(rows)))
			}
			t.Logf("%s: %d rows, schema %v", name, len(rows), schemaNames(r.Schema()))
		})
	}
}
