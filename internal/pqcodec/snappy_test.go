package pqcodec

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/golang/snappy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCompatible checks that the registered codec is this one and that its blocks and
// golang/snappy's decode into each other, for empty, small, repetitive and random data.
func TestCompatible(t *testing.T) {
	c, err := compress.GetCodec(compress.Codecs.Snappy)
	require.NoError(t, err)
	assert.IsType(t, codec{}, c)

	rnd := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 1<<20)
	for i := range random {
		random[i] = byte(rnd.Uint32())
	}
	for name, src := range map[string][]byte{
		"empty":      {},
		"small":      []byte("Snohomish,Washington,53061"),
		"repetitive": bytes.Repeat([]byte("2020-01-21,Snohomish,Washington,53061,1,0\n"), 50_000),
		"random":     random,
	} {
		enc := c.Encode(make([]byte, c.CompressBound(int64(len(src)))), src)
		got, err := snappy.Decode(nil, enc)
		require.NoError(t, err, name)
		assert.True(t, bytes.Equal(src, got), "%s: golang/snappy decodes ours", name)

		theirs := snappy.Encode(nil, src)
		assert.True(t, bytes.Equal(src, c.Decode(make([]byte, len(src)), theirs)), "%s: ours decodes golang/snappy's", name)
	}
	assert.Panics(t, func() { c.Decode(nil, []byte{0xff, 0xff, 0xff}) }, "corrupt input")
}
