package main

// End-to-end tests on the shared real Delta tables, through the real path: our server on
// loopback → `deltashare export` / `deltashare changes` run in-process → files, compared with
// rows computed independently (e2e_helpers_test.go). Run them with the shared data:
//
//	DELTASHARE_SHARED_TESTDATA=/path/to/shared/testdata DELTASHARE_REQUIRE_SHARED=1 go test ./cmd/deltashare -run E2E

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/formats"
	"github.com/deltashare/deltashare/internal/sharedtest"
)

// TestE2EDAT: every DAT reader case, every expected version, exported to Parquet, CSV and
// NDJSON, equals the case's expected table_content.parquet rows, value by value.
func TestE2EDAT(t *testing.T) {
	t.Setenv("DELTASHARE_CONFIG_DIR", t.TempDir())
	root := sharedtest.Path(t, "delta", "dat")
	dirs, err := filepath.Glob(filepath.Join(root, "*"))
	require.NoError(t, err)
	require.Len(t, dirs, 11, "the DAT cases")
	tables := map[string]string{}
	for _, d := range dirs {
		tables[shareName(filepath.Base(d))] = filepath.Join(d, "delta")
	}
	profile, _ := serveTables(t, tables, nil)
	for _, d := range dirs {
		name := shareName(filepath.Base(d))
		versions, err := os.ReadDir(filepath.Join(d, "expected"))
		require.NoError(t, err)
		for _, v := range versions {
			t.Run(name+"/"+v.Name(), func(t *testing.T) {
				version := int64(-1)
				if v.Name() != "latest" {
					version, err = strconv.ParseInt(strings.TrimPrefix(v.Name(), "v"), 10, 64)
					require.NoError(t, err)
				}
				want := readParquetDir(t, filepath.Join(d, "expected", v.Name(), "table_content.parquet"))
				defer releaseAll(want)
				checkExports(t, profile, name, version, want, formats.CSV, formats.NDJSON)
			})
		}
	}
}

// deltaRSTables are the delta-rs tables of the snapshot test.
var deltaRSTables = []string{
	"table-with-dv-small", "table_with_deletion_logs", "table_with_column_mapping",
	"delta-0.8.0-null-partition", "delta-0.8.0-special-partition", "delta-2.2.0-partitioned-types",
	"partition-type-primitives", "table_with_edge_timestamps", "simple_table_with_checkpoint",
	"checkpoint-v2-table",
}

// TestE2EDeltaRSTables: the latest snapshot of delta-rs tables exported to Parquet and CSV has
// numRecords minus deletion vector cardinality rows (from the _delta_log JSON), and exactly the
// rows of an independent read of the live files (partition values added, deletion vector rows
// removed).
func TestE2EDeltaRSTables(t *testing.T) {
	t.Setenv("DELTASHARE_CONFIG_DIR", t.TempDir())
	tables := map[string]string{}
	for _, n := range deltaRSTables {
		tables[shareName(n)] = sharedtest.Path(t, "delta", "delta-rs", n)
	}
	profile, _ := serveTables(t, tables, nil)
	for _, n := range deltaRSTables {
		t.Run(n, func(t *testing.T) {
			dir := tables[shareName(n)]
			commits := readCommits(t, dir)
			latest := int64(len(commits) - 1)
			snap := snapshotAt(t, commits, latest)
			require.NotEmpty(t, snap.Files, "the table has data files")
			wantCount := snap.liveCount(t, dir)

			out := filepath.Join(t.TempDir(), "count.parquet")
			exportFile(t, profile, shareName(n), out)
			got := readParquetDir(t, out)
			schema := got[0].Schema()
			var rows int64
			for _, r := range got {
				rows += r.NumRows()
			}
			releaseAll(got)
			assert.Equal(t, wantCount, rows, "numRecords - DV cardinality")

			want := snapshotRecords(t, dir, commits, latest, schema)
			defer releaseAll(want)
			checkExports(t, profile, shareName(n), -1, want, formats.CSV)
		})
	}
}
