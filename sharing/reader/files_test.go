package reader

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/deltashare/deltashare/sharing/server/demo"
)

func TestListFiles(t *testing.T) {
	env, c, orders := demoOrders(t)
	ctx := context.Background()

	// The latest version: every file with its rows from stats; the rows add up to the table's.
	all, err := ListFiles(ctx, c, orders, ListOptions{})
	require.NoError(t, err)
	assert.Equal(t, int64(2), all.Version)
	require.NotEmpty(t, all.Files)
	want, err := demo.ExpectedOrders(2)
	require.NoError(t, err)
	n, size, rows := all.Totals()
	assert.Equal(t, len(all.Files), n)
	assert.Equal(t, int64(len(want)), rows)
	var sum int64
	for _, f := range all.Files {
		require.NotNil(t, f.Rows, f.ID)
		assert.NotEmpty(t, f.ID)
		assert.Positive(t, f.Size)
		sum += f.Size
		assert.Contains(t, f.PartitionValues, "region")
		assert.WithinDuration(t, time.Now().Add(time.Hour), f.URLExpires, 10*time.Minute, "the server's URL lifetime")
	}
	assert.Equal(t, sum, size)

	// The filter goes to the server as a hint: only the Europe files come back.
	europe, err := ListFiles(ctx, c, orders, ListOptions{Where: "region = 'Europe'"})
	require.NoError(t, err)
	require.NotEmpty(t, europe.Files)
	assert.Less(t, len(europe.Files), len(all.Files))
	for _, f := range europe.Files {
		assert.Equal(t, "Europe", f.PartitionValues["region"])
	}
	q := env.Queries()
	assert.Contains(t, q[len(q)-1].JSONPredicateHints, "Europe")

	// Time travel and the limit hint are sent as asked.
	v0, err := ListFiles(ctx, c, orders, ListOptions{Version: i64(0), LimitHint: i64(5)})
	require.NoError(t, err)
	assert.Equal(t, int64(0), v0.Version)
	q = env.Queries()
	last := q[len(q)-1]
	require.NotNil(t, last.Version)
	assert.Equal(t, int64(0), *last.Version)
	require.NotNil(t, last.LimitHint)
	assert.Equal(t, int64(5), *last.LimitHint)

	// Bad filters and options are ErrInvalidRead; an unknown table is the server's 404.
	for _, o := range []ListOptions{
		{Where: "nosuch = 1"},
		{Where: "amount >"},
		{Version: i64(0), Timestamp: "2024-01-01T00:00:00Z"},
	} {
		_, err = ListFiles(ctx, c, orders, o)
		assert.ErrorIs(t, err, protocol.ErrInvalidRead, "%+v", o)
	}
	_, err = ListFiles(ctx, c, env.Table("demo.sales.nosuch"), ListOptions{})
	assert.ErrorIs(t, err, protocol.ErrNotFound)
}

func TestFileListTotals(t *testing.T) {
	var empty FileList
	n, size, rows := empty.Totals()
	assert.Equal(t, 0, n)
	assert.Zero(t, size)
	assert.Zero(t, rows)

	l := FileList{Files: []FileInfo{{Size: 10, Rows: i64(3)}, {Size: 5}, {Size: 1, Rows: i64(0)}}}
	n, size, rows = l.Totals()
	assert.Equal(t, 3, n)
	assert.Equal(t, int64(16), size)
	assert.Equal(t, int64(3), rows, "a file without a record count adds no rows")
}

func TestDescribe(t *testing.T) {
	env, c, orders := demoOrders(t)
	ctx := context.Background()

	d, err := Describe(ctx, c, orders, protocol.MetadataOptions{})
	require.NoError(t, err)
	assert.Equal(t, orders, d.Table)
	assert.Equal(t, int64(2), d.Version)
	assert.NotEmpty(t, d.ID)
	assert.NotEmpty(t, d.Format)
	assert.Positive(t, d.MinReaderVersion)
	assert.Equal(t, []string{"region"}, d.PartitionColumns)
	require.NotEmpty(t, d.Columns)
	assert.Equal(t, Column{Name: "order_id", Type: "long", Nullable: d.Columns[0].Nullable}, d.Columns[0])
	var types []string
	for _, col := range d.Columns {
		types = append(types, col.Type)
	}
	assert.Contains(t, types, "decimal(12,2)")
	assert.Contains(t, types, "timestamp_ntz")

	v0, err := Describe(ctx, c, orders, protocol.MetadataOptions{Version: i64(0)})
	require.NoError(t, err)
	assert.Equal(t, int64(0), v0.Version)

	customers, err := Describe(ctx, c, env.Table("demo.sales.customers"), protocol.MetadataOptions{})
	require.NoError(t, err)
	assert.NotNil(t, customers.PartitionColumns)

	_, err = Describe(ctx, c, env.Table("demo.sales.nosuch"), protocol.MetadataOptions{})
	assert.ErrorIs(t, err, protocol.ErrNotFound)
}
