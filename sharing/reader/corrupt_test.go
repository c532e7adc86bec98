package reader

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/internal/sharingtest"
	"github.com/deltashare/deltashare/sharing/protocol"
)

// TestCorruptCompressedPage: a served data file with one flipped byte inside a snappy, zstd or
// gzip page (dictionary or data page; the file keeps its size) fails the read with an error
// that names the table, the file and the column, and is ErrCorruptFile; the process does not
// panic and every buffer is released. Reading only the other column still works.
func TestCorruptCompressedPage(t *testing.T) {
	for _, codec := range []compress.Compression{compress.Codecs.Snappy, compress.Codecs.Zstd, compress.Codecs.Gzip} {
		for _, dict := range []bool{true, false} {
			page := "data page"
			if dict {
				page = "dictionary page"
			}
			t.Run(fmt.Sprintf("%s %s", codec, page), func(t *testing.T) {
				dir := sharingtest.CompressedTable(t, codec)
				sharingtest.DamagePage(t, filepath.Join(dir, sharingtest.CompressedTableFile), "city", dict)
				env := startServer(t, sharingtest.Options{Tables: map[string]string{"damaged": dir}})
				c := client(t, env)
				table := protocol.Table{Share: "s", Schema: "d", Name: "damaged"}

				// The last options read the file by byte ranges (one column of two, a file larger
				// than MaxInMemoryFile).
				for _, opts := range []ReadOptions{{}, {Columns: []string{"city", "id"}}, {Where: "city = 'Porto'"}, {Columns: []string{"city"}, MaxInMemoryFile: 100}} {
					mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
					opts.Allocator, opts.Parallel = mem, 1
					r, err := Open(context.Background(), c, table, opts)
					require.NoError(t, err)
					for r.Next() {
					}
					err = r.Err()
					require.Error(t, err)
					assert.ErrorIs(t, err, ErrCorruptFile)
					msg := err.Error()
					assert.Contains(t, msg, "s.d.damaged", "names the table")
					assert.Contains(t, msg, "data file "+r.Files()[0].ID, "names the file")
					assert.Contains(t, msg, "column city", "names the column")
					assert.Contains(t, msg, "tell the data provider")
					r.Release()
					mem.AssertSize(t, 0)
				}

				r, err := Open(context.Background(), c, table, ReadOptions{Columns: []string{"id"}, Parallel: 1})
				require.NoError(t, err)
				rows := readAll(t, r)
				r.Release()
				assert.Len(t, rows, 2000, "the undamaged column reads")
			})
		}
	}
}
