package reader

import (
	"context"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/internal/sharedtest"
	"github.com/deltashare/deltashare/internal/sharingtest"
	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/deltashare/deltashare/sharing/server/demo"
)

// readCount counts the rows a read with opts returns.
func readCount(t *testing.T, r *Reader, err error) int64 {
	t.Helper()
	require.NoError(t, err)
	defer r.Release()
	return int64(len(readAll(t, r)))
}

func TestCountDemo(t *testing.T) {
	env, c, orders := demoOrders(t)
	ctx := context.Background()

	// Every file has numRecords and no deletion vector: from statistics, no file read.
	before := len(env.FileGets())
	n, err := Count(ctx, c, orders, CountOptions{})
	require.NoError(t, err)
	want, err := demo.ExpectedOrders(2)
	require.NoError(t, err)
	assert.Equal(t, &RowCount{Rows: int64(len(want)), Version: 2, FromStatistics: true, Files: n.Files}, n)
	assert.Positive(t, n.Files)
	assert.Equal(t, before, len(env.FileGets()), "no file downloaded")

	v0, err := Count(ctx, c, orders, CountOptions{Version: i64(0)})
	require.NoError(t, err)
	want0, err := demo.ExpectedOrders(0)
	require.NoError(t, err)
	assert.Equal(t, int64(len(want0)), v0.Rows)
	assert.Equal(t, int64(0), v0.Version)

	// A filter counts exactly by scanning the files the server returns.
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, where := range []string{"region = 'Europe'", "amount > 100", "region = 'Europe' AND amount > 100", "order_id < 0"} {
		n, err := Count(ctx, c, orders, CountOptions{Where: where, Allocator: mem, Parallel: 2})
		require.NoError(t, err, where)
		r, err := Open(ctx, c, orders, ReadOptions{Where: where})
		assert.Equal(t, readCount(t, r, err), n.Rows, where)
		assert.False(t, n.FromStatistics, where)
		assert.Equal(t, n.Files, n.Scanned, where)
		assert.Equal(t, int64(2), n.Version, where)
	}

	// Errors: a bad filter, both a version and a time, an unknown table.
	_, err = Count(ctx, c, orders, CountOptions{Where: "nosuch = 1"})
	assert.ErrorIs(t, err, protocol.ErrInvalidRead)
	_, err = Count(ctx, c, orders, CountOptions{Version: i64(0), Timestamp: "2025-01-01T00:00:00Z"})
	assert.Error(t, err)
	_, err = Count(ctx, c, env.Table("demo.sales.nosuch"), CountOptions{})
	assert.ErrorIs(t, err, protocol.ErrNotFound)
}

// TestCountScans: a deletion vector or a file without numRecords makes the count scan, and
// the scan counts what a read returns.
func TestCountScans(t *testing.T) {
	tables := map[string]string{
		"dv":                  sharedtest.Path(t, "delta", "delta-rs", "table-with-dv-small"),
		"nostats":             sharedtest.Path(t, "delta", "delta-rs", "simple_table"),
		"nostats_partitioned": sharedtest.Path(t, "delta", "delta-rs", "delta-0.8.0-partitioned"),
	}
	env := startServer(t, sharingtest.Options{Tables: tables})
	c := client(t, env)
	ctx := context.Background()
	for name := range tables {
		t.Run(name, func(t *testing.T) {
			tbl := protocol.Table{Share: "s", Schema: "d", Name: name}
			n, err := Count(ctx, c, tbl, CountOptions{})
			require.NoError(t, err)
			r, err := Open(ctx, c, tbl, ReadOptions{})
			assert.Equal(t, readCount(t, r, err), n.Rows)
			assert.False(t, n.FromStatistics)
			assert.Positive(t, n.Scanned)
			assert.Equal(t, n.Files, n.Scanned)
		})
	}
}

func TestCountColumn(t *testing.T) {
	schema := `{"type":"struct","fields":[
		{"name":"name","type":"string","nullable":true,"metadata":{}},
		{"name":"amount","type":"decimal(10,2)","nullable":true,"metadata":{}},
		{"name":"at","type":"date","nullable":true,"metadata":{}},
		{"name":"s","type":{"type":"struct","fields":[{"name":"x","type":"long","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}},
		{"name":"Region","type":"string","nullable":true,"metadata":{}}]}`
	tbl := protocol.Table{Share: "s", Schema: "d", Name: "t"}
	for _, tc := range []struct {
		partitions []string
		where      string
		want       string
	}{
		{want: "at"},
		{partitions: []string{"region"}, want: "Region"},
		{partitions: []string{"region"}, where: "amount > 1", want: "Region"},
		{where: "name = 'x' AND amount > 1", want: "name"},
		{where: "s.x > 1", want: "s"},
	} {
		got, err := countColumn(tbl, &delta.Metadata{SchemaString: schema, PartitionColumns: tc.partitions}, tc.where)
		require.NoError(t, err, "%+v", tc)
		assert.Equal(t, tc.want, got, "%+v", tc)
	}
	_, err := countColumn(tbl, &delta.Metadata{SchemaString: `{"type":"struct","fields":[]}`}, "")
	assert.Error(t, err)
	_, err = countColumn(tbl, &delta.Metadata{SchemaString: schema}, "nosuch = 1")
	assert.ErrorIs(t, err, protocol.ErrInvalidRead)
}
