package reader

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/sharing/protocol"
)

func TestReadSchema(t *testing.T) {
	env, c, orders := demoOrders(t)
	ctx := context.Background()

	s, err := ReadSchema(ctx, c, orders, protocol.MetadataOptions{})
	require.NoError(t, err)
	assert.Equal(t, int64(2), s.Version)
	assert.Equal(t, []string{"region"}, s.PartitionColumns)
	require.Len(t, s.Columns, len(s.Delta.Fields))
	require.Equal(t, len(s.Columns), s.Arrow.NumFields())
	assert.Equal(t, SchemaColumn{Name: "order_id", Type: "long", SQLType: "BIGINT", ArrowType: "int64", Nullable: s.Columns[0].Nullable}, s.Columns[0])
	partitions := 0
	for i, col := range s.Columns {
		assert.Equal(t, col.Name, s.Arrow.Field(i).Name)
		assert.Equal(t, col.Nullable, s.Arrow.Field(i).Nullable)
		if col.Name == "region" {
			assert.Equal(t, 1, col.Partition)
			partitions++
		} else {
			assert.Zero(t, col.Partition, col.Name)
		}
	}
	assert.Equal(t, 1, partitions)

	// The Arrow schema is the one a read returns.
	r, err := Open(ctx, c, orders, ReadOptions{Limit: i64(0)})
	require.NoError(t, err)
	defer r.Release()
	assert.True(t, r.Schema().Equal(s.Arrow), "read %v\nschema %v", r.Schema(), s.Arrow)

	ddl := s.DDL()
	assert.Contains(t, ddl, "CREATE TABLE `demo`.`sales`.`orders` (\n  `order_id` BIGINT")
	assert.Contains(t, ddl, "DECIMAL(12,2)")
	assert.Contains(t, ddl, "TIMESTAMP_NTZ")
	assert.Contains(t, ddl, "\n)\nUSING DELTA\nPARTITIONED BY (`region`)\nCOMMENT 'Demo orders';\n")

	v0, err := ReadSchema(ctx, c, orders, protocol.MetadataOptions{Version: i64(0)})
	require.NoError(t, err)
	assert.Equal(t, int64(0), v0.Version)
	_, err = ReadSchema(ctx, c, env.Table("demo.sales.nosuch"), protocol.MetadataOptions{})
	assert.ErrorIs(t, err, protocol.ErrNotFound)
}
