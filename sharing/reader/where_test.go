package reader

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/deltashare/deltashare/sharing/protocol"
)

// A bad Where is an invalid read whose advice names the option, not a flag.
func TestBindWhereAdvice(t *testing.T) {
	st := &delta.StructType{Fields: []*delta.StructField{{Name: "id", Type: &delta.PrimitiveType{Name: "long"}, Nullable: true}}}
	_, err := bindWhere("id = 1", st)
	require.NoError(t, err)
	for _, where := range []string{"nope = 1", "id = = 1"} {
		_, err := bindWhere(where, st)
		require.ErrorIs(t, err, protocol.ErrInvalidRead, where)
		var h interface{ Hint() string }
		require.True(t, errors.As(err, &h), where)
		assert.Equal(t, "check {Where}", h.Hint())
		assert.Contains(t, err.Error(), ": check the Where option", where)
		assert.NotContains(t, err.Error(), "--where", where)
	}
}
