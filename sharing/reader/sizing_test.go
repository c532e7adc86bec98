package reader

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/metadata"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/internal/sharingtest"
	"github.com/deltashare/deltashare/sharing/protocol"
)

// parquetFooter writes rec as a Parquet file of row groups of groupRows rows and returns its
// footer.
func parquetFooter(t *testing.T, rec arrow.Record, groupRows int64) *metadata.FileMetaData {
	t.Helper()
	var buf bytes.Buffer
	tbl := array.NewTableFromRecords(rec.Schema(), []arrow.Record{rec})
	defer tbl.Release()
	require.NoError(t, pqarrow.WriteTable(tbl, &buf, groupRows, parquet.NewWriterProperties(), pqarrow.DefaultWriterProps()))
	pf, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	defer pf.Close()
	return pf.MetaData()
}

func longsRecord(mem memory.Allocator, cols, rows int) arrow.Record {
	fields := make([]arrow.Field, cols)
	for i := range fields {
		fields[i] = arrow.Field{Name: "c" + strconv.Itoa(i), Type: arrow.PrimitiveTypes.Int64, Nullable: true}
	}
	b := array.NewRecordBuilder(mem, arrow.NewSchema(fields, nil))
	defer b.Release()
	for c := range cols {
		for r := range rows {
			b.Field(c).(*array.Int64Builder).Append(int64(r * (c + 1)))
		}
	}
	return b.NewRecord()
}

// A small file gets small stream buffers and one record of its rows; a wide file's records
// are cut by bytes; a large file's buffers stay at the cap.
func TestSizingFromFooter(t *testing.T) {
	mem := memory.NewGoAllocator()
	small := longsRecord(mem, 8, 50)
	defer small.Release()
	md := parquetFooter(t, small, 1024)
	assert.Equal(t, int64(minStreamBuffer), streamBufferSize(md, false), "50 longs a column fit the smallest buffer")
	assert.Equal(t, int64(50), batchRows(md, DefaultBatchSize, DefaultBatchBytes), "one record of the file's rows")

	wide := longsRecord(mem, 500, 600)
	defer wide.Release()
	md = parquetFooter(t, wide, 1024)
	assert.Equal(t, int64(500*9), rowBytes(md), "a long and a validity byte per column")
	assert.Equal(t, int64(600), batchRows(md, DefaultBatchSize, DefaultBatchBytes))
	assert.Equal(t, int64(minBatchRows), batchRows(md, DefaultBatchSize, 64<<10), "bytes bound the rows, down to the floor")
	assert.Equal(t, int64(466), batchRows(md, DefaultBatchSize, 2<<20))

	// 1,500 columns of 20 KB chunks: the buffers together stay within streamBuffersBytes,
	// each still large enough for a page header.
	wider := longsRecord(mem, 1500, 2500)
	defer wider.Release()
	md = parquetFooter(t, wider, 2500)
	assert.Equal(t, int64(pageHeaderPeek), streamBufferSize(md, false), "a column's share of the buffers, not its 20 KB chunk")
	assert.Greater(t, streamBufferSize(md, true), int64(pageHeaderPeek), "read by ranges: a chunk in one request")

	big := longsRecord(mem, 1, 300_000)
	defer big.Release()
	md = parquetFooter(t, big, 300_000)
	assert.Equal(t, int64(maxStreamBuffer), streamBufferSize(md, false), "a 2.4 MB chunk is streamed through the largest buffer")
	assert.Greater(t, decodeWeight(md, 1000, streamBufferSize(md, false)), int64(2*maxStreamBuffer))
}

// The byte budget holds back files past the limit, but never the file the consumer is at,
// and never when nothing is held.
func TestByteBudget(t *testing.T) {
	ctx := context.Background()
	b := newByteBudget(100)
	require.NoError(t, b.acquire(ctx, 0, 150), "alone: over the limit is allowed")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, b.acquire(cancelled, 1, 10), context.Canceled, "file 1 waits while 150 are held")
	require.NoError(t, b.acquire(ctx, 0, 50), "the head file always goes ahead")
	b.finish(0, 200)
	require.NoError(t, b.acquire(ctx, 1, 60))
	require.NoError(t, b.acquire(ctx, 2, 40))
	assert.ErrorIs(t, b.acquire(cancelled, 3, 1), context.Canceled, "full")
	done := make(chan error, 1)
	go func() { done <- b.acquire(ctx, 3, 30) }()
	b.finish(1, 60)
	require.NoError(t, <-done, "room again once file 1 is consumed")
}

// A filtered read of a file of several row groups reads its footer and the row groups whose
// statistics can match, by range, and nothing else; the rows are exactly the matching ones.
func TestWhereReadsOnlyMatchingRowGroups(t *testing.T) {
	defer func(v int64) { minSkipFileSize = v }(minSkipFileSize)
	minSkipFileSize = 0
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	const rows, group = 4096, 1024
	sch := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, sch)
	for i := range rows {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("payload %d %s", i, strings.Repeat("x", i%97)))
	}
	rec := b.NewRecord()
	b.Release()
	dir := t.TempDir()
	schema := `{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},{"name":"s","type":"string","nullable":true,"metadata":{}}]}`
	writeDeltaTable(t, dir, schema, nil, nil, []deltaFile{{name: "f.parquet", rec: rec}})
	rec.Release()
	data, err := os.ReadFile(filepath.Join(dir, "f.parquet"))
	require.NoError(t, err)
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	require.NoError(t, err)
	md := pf.MetaData()
	require.Equal(t, 4, len(md.RowGroups))
	// span of row group g's column chunks in the file
	span := func(g int) (int64, int64) {
		lo, hi := int64(len(data)), int64(0)
		for c := range md.RowGroup(g).NumColumns() {
			cc, err := md.RowGroup(g).ColumnChunk(c)
			require.NoError(t, err)
			start := cc.DataPageOffset()
			if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 {
				start = min(start, cc.DictionaryPageOffset())
			}
			lo, hi = min(lo, start), max(hi, start+cc.TotalCompressedSize())
		}
		return lo, hi
	}
	require.NoError(t, pf.Close())

	env := startServer(t, sharingtest.Options{Tables: map[string]string{"t": dir}})
	c := client(t, env)
	for _, tc := range []struct {
		where string
		want  []int // row groups read
		rows  int
	}{
		{"id = 2500", []int{2}, 1},
		{"id >= 1000 AND id < 1030", []int{0, 1}, 30},
		{"id = 99999", nil, 0},
		{"id >= 0", []int{0, 1, 2, 3}, rows},
	} {
		t.Run(tc.where, func(t *testing.T) {
			before := len(env.Requests())
			r, err := Open(context.Background(), c, protocol.Table{Share: "s", Schema: "d", Name: "t"}, ReadOptions{Allocator: mem, Parallel: 1, Where: tc.where})
			require.NoError(t, err)
			got := readAll(t, r)
			r.Release()
			assert.Len(t, got, tc.rows)
			read := map[int]bool{}
			for _, rq := range env.Requests()[before:] {
				if !rq.IsFile() || rq.Method != http.MethodGet {
					continue
				}
				rg := rq.Header.Get("Range")
				if len(tc.want) == len(md.RowGroups) && rg == "" {
					for g := range md.RowGroups {
						read[g] = true // the whole file
					}
					continue
				}
				require.NotEmpty(t, rg, "a ranged GET")
				var from, to int64
				_, err := fmt.Sscanf(rg, "bytes=%d-%d", &from, &to)
				require.NoError(t, err, rg)
				if to == int64(len(data))-1 && from >= int64(len(data))-footerTail {
					continue // the footer (its read of the file's tail may overlap the last group)
				}
				for g := range md.RowGroups {
					lo, hi := span(g)
					if from < hi && to >= lo {
						read[g] = true
					}
				}
			}
			var groups []int
			for g := range md.RowGroups {
				if read[g] {
					groups = append(groups, g)
				}
			}
			assert.Equal(t, tc.want, groups, "row groups fetched")
		})
	}
}
