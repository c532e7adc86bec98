package sharing

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
	for _, format := range []ResponseFormat{FormatDelta, FormatParquet} {
		l := newLake(t, tables)
		l.format = format
		c := l.client(t)
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
					r, err := Open(context.Background(), c, Table{"s", "d", name}, opts)
					require.NoError(t, err)
					defer r.Release()
					got := readAll(t, r)
					want := expectedRows(t, filepath.Join(d, "expected", v.Name(), "table_content.parquet"), schemaNames(r.Schema()))
					assert.Equal(t, sortedCopy(want), sortedCopy(got))
					rows, _ := r.Totals()
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
