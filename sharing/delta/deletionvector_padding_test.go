package delta

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Delta's decoder (kernel Base85Codec.decodeBlocks) keeps the low 32 bits of a block; Delta
// writes inline vectors whose padding block overflows 32 bits, so refusing the overflow made
// such tables unreadable.
func TestInlineDeletionVectorPaddingOverflow(t *testing.T) {
	// From kernel-cdf/cdf-table-with-dv (34 bytes; the last block overflows).
	dv := &DeletionVector{StorageType: "i", PathOrInlineDV: "^Bg9^0rr910000000000iXQKl0rr91000005c8Xg##093", SizeInBytes: 34, Cardinality: 1}
	b, err := InlineDeletionVector(dv)
	require.NoError(t, err)
	assert.Len(t, b, 34)
	// "#####" is 84·(85⁴+85³+85²+85+1) = 4437053124, kept modulo 2^32.
	got, err := Z85Decode("#####")
	require.NoError(t, err)
	v := uint32(4437053124 % (1 << 32))
	assert.Equal(t, []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}, got)
}
