package pqcodec

import (
	"io"
	"sync"

	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/klauspost/compress/zstd"
)

// zstdCodec implements compress.Codec for zstd with encoders kept per level.
type zstdCodec struct {
	encoders sync.Map // int (a Parquet compression level) → *zstd.Encoder
	decOnce  sync.Once
	dec      *zstd.Decoder
	decErr   error
}

// encoderOptions are the settings of an encoder for a Parquet compression level. An explicit
// level maps to zstd's as Arrow's codec does. The default level is the one DuckDB's writer
// uses (zstd's level 3) in ratio for speed, not in name: klauspost/compress's fastest
// encoder, with blocks that found no repeats still entropy-coded. On Parquet pages of
// numbers (PLAIN int64 and double pages: few repeats, but bytes of skewed frequencies, such
// as the zero high bytes of small integers) that makes most of the gain of its default level
// (about 2.5% larger output on the bench table) at about twice the speed; its default level
// costs 40 to 45% of a zstd Parquet export's CPU, its fastest level without the entropy
// coding leaves those pages uncompressed (13% larger output). Lower encoder memory: Parquet
// pages are about 1 MiB, far below the window the encoder would otherwise reserve.
func encoderOptions(l int) []zstd.EOption {
	opts := []zstd.EOption{zstd.WithZeroFrames(true)}
	if l == compress.DefaultCompressionLevel {
		return append(opts, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithAllLitEntropyCompression(true), zstd.WithLowerEncoderMem(true))
	}
	return append(opts, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(l)))
}

// encoder returns the shared encoder of a Parquet compression level; klauspost/compress
// allows EncodeAll to be called from several goroutines at once.
func (z *zstdCodec) encoder(l int) *zstd.Encoder {
	if e, ok := z.encoders.Load(l); ok {
		return e.(*zstd.Encoder)
	}
	e, err := zstd.NewWriter(nil, encoderOptions(l)...)
	if err != nil { // only for invalid options
		panic(err)
	}
	actual, loaded := z.encoders.LoadOrStore(l, e)
	if loaded {
		_ = e.Close()
	}
	return actual.(*zstd.Encoder)
}

func (z *zstdCodec) Encode(dst, src []byte) []byte {
	return z.encoder(compress.DefaultCompressionLevel).EncodeAll(src, dst[:0])
}

func (z *zstdCodec) EncodeLevel(dst, src []byte, l int) []byte {
	return z.encoder(l).EncodeAll(src, dst[:0])
}

// Decode panics on corrupt input, as Arrow's own codecs do.
func (z *zstdCodec) Decode(dst, src []byte) []byte {
	z.decOnce.Do(func() { z.dec, z.decErr = zstd.NewReader(nil) })
	if z.decErr != nil {
		panic(z.decErr)
	}
	out, err := z.dec.DecodeAll(src, dst[:0])
	if err != nil {
		panic(err)
	}
	return out
}

// CompressBound is zstd's ZSTD_COMPRESSBOUND.
func (z *zstdCodec) CompressBound(n int64) int64 {
	extra := ((128 << 10) - n) >> 11
	if n >= 128<<10 {
		extra = 0
	}
	return n + n>>8 + extra
}

func (z *zstdCodec) NewReader(r io.Reader) io.ReadCloser {
	d, err := zstd.NewReader(r)
	if err != nil {
		return io.NopCloser(errReader{err})
	}
	return d.IOReadCloser()
}

func (z *zstdCodec) NewWriter(w io.Writer) io.WriteCloser {
	e, _ := zstd.NewWriter(w, encoderOptions(compress.DefaultCompressionLevel)...)
	return e
}

func (z *zstdCodec) NewWriterLevel(w io.Writer, l int) (io.WriteCloser, error) {
	return zstd.NewWriter(w, encoderOptions(l)...)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
