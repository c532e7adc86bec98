package reader

import (
	"context"
	"strings"
	"testing"

	"github.com/deltashare/deltashare/internal/sharingtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDeletionVectorFilesFetchedOnce(t *testing.T) {
	tables := sharedTables(t)
	env := startServer(t, sharingtest.Options{Tables: tables})
	c := client(t, env)
	for _, table := range []string{"delta-rs-table_with_deletion_logs", "delta-rs-table-with-dv-small", "kernel-cdf-cdf-table-with-dv"} {
		before := env.FileGets()
		rows, r := openRead(t, c, table, ReadOptions{Parallel: 4})
		want, ok := statsCount(t, tables[table])
		require.True(t, ok)
		assert.Equal(t, want, int64(len(rows)), table)
		dvFiles := 0
		for k, n := range env.FileGets() {
			if n -= before[k]; n > 0 && strings.Contains(k, "deletion_vector_") {
				dvFiles++
				assert.Equal(t, 1, n, "%s fetched once", k)
			}
		}
		if table != "kernel-cdf-cdf-table-with-dv" { // its latest vector is inline
			assert.Positive(t, dvFiles, table)
		}
		_ = r
	}
	_ = context.Background
}
