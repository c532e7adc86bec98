package pqcodec

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
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

// TestZstdDefaultEntropyCodesLiterals checks the default level on a page like a PLAIN int64
// page of timestamps: five random low bytes and three high bytes that are the same in every
// value, so no four bytes repeat for the match finder, but three bytes in eight are one of
// three values. Entropy coding the literals compresses it by about a fifth; an encoder that
// stores blocks without matches as they are (klauspost/compress's fastest level by itself)
// does not compress it at all.
func TestZstdDefaultEntropyCodesLiterals(t *testing.T) {
	c, err := compress.GetCodec(compress.Codecs.Zstd)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([]byte, 1<<20)
	for i := 0; i+8 <= len(src); i += 8 {
		binary.LittleEndian.PutUint64(src[i:], 0x000123<<40|rng.Uint64()>>24)
	}
	enc := c.EncodeLevel(nil, src, compress.DefaultCompressionLevel)
	assert.Less(t, len(enc), len(src)*9/10, "the default level entropy-codes a page without repeats")
	assert.True(t, bytes.Equal(src, c.Decode(nil, enc)), "round trip")
	// A stream at the default level: the same settings.
	var buf bytes.Buffer
	w := c.NewWriter(&buf)
	_, err = w.Write(src)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	assert.Less(t, buf.Len(), len(src)*9/10, "stream at the default level")
}
