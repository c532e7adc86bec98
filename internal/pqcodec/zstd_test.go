package pqcodec

import (
	"bytes"
	"sync"
	"testing"

	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestZstd checks the registered zstd codec: blocks any zstd decoder reads, at the default and
// other levels, from several goroutines at once (one encoder per level is shared), and that it
// decodes other encoders' blocks.
func TestZstd(t *testing.T) {
	c, err := compress.GetCodec(compress.Codecs.Zstd)
	require.NoError(t, err)
	require.IsType(t, &zstdCodec{}, c)
	dec, err := zstd.NewReader(nil)
	require.NoError(t, err)
	defer dec.Close()

	src := bytes.Repeat([]byte("2020-01-21,Snohomish,Washington,53061,1,0\n"), 20_000)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, l := range []int{compress.DefaultCompressionLevel, 1, 3, 9} {
				enc := c.EncodeLevel(make([]byte, c.CompressBound(int64(len(src)))), src[g:], l)
				assert.Less(t, len(enc), len(src)/10, "level %d compresses", l)
				got, err := dec.DecodeAll(enc, nil)
				assert.NoError(t, err)
				assert.True(t, bytes.Equal(src[g:], got), "level %d round trip", l)
				assert.True(t, bytes.Equal(src[g:], c.Decode(make([]byte, len(src)), enc)), "level %d own decoder", l)
			}
		}()
	}
	wg.Wait()

	theirs, err := zstd.NewWriter(nil)
	require.NoError(t, err)
	other := theirs.EncodeAll(src, nil)
	require.NoError(t, theirs.Close())
	assert.True(t, bytes.Equal(src, c.Decode(nil, other)), "decodes another encoder's block")
	assert.Panics(t, func() { c.Decode(nil, []byte("not zstd")) }, "corrupt input")
}
