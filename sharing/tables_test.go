package sharing_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/internal/sharingtest"
	"github.com/deltashare/deltashare/sharing/protocol"
)

func TestListTablesIn(t *testing.T) {
	tables := sharingtest.Demo(t)
	tables["extra"] = tables["demo.sales.orders"] // shared as share.default.extra
	env := sharingtest.Start(t, sharingtest.Options{Tables: tables})
	c := env.Client(t)
	ctx := context.Background()
	names := func(ts []protocol.TableInfo) []string {
		var out []string
		for _, ti := range ts {
			out = append(out, ti.Table().String())
		}
		return out
	}

	every, err := c.ListTablesIn(ctx, "", "")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"demo.sales.orders", "demo.sales.customers", "share.default.extra"}, names(every))

	share, err := c.ListTablesIn(ctx, "demo", "")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"demo.sales.orders", "demo.sales.customers"}, names(share))

	schema, err := c.ListTablesIn(ctx, "share", "default")
	require.NoError(t, err)
	assert.Equal(t, []string{"share.default.extra"}, names(schema))

	_, err = c.ListTablesIn(ctx, "", "sales")
	assert.Error(t, err, "a schema without its share")
	_, err = c.ListTablesIn(ctx, "nope", "")
	assert.ErrorIs(t, err, protocol.ErrNotFound)
	_, err = c.ListTablesIn(ctx, "demo", "nope")
	assert.ErrorIs(t, err, protocol.ErrNotFound)
}
