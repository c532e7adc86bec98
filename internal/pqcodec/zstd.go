package pqcodec

import (
	"io"
	"sync"

	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/klauspost/compress/zstd"
)

// zstdCodec implements compress.Codec for zstd with encoders kept per level.
type zstdCodec struct {
	encoders sync.Map // zstd.EncoderLevel → *zstd.Encoder
	decOnce  sync.Once
	dec      *zstd.Decoder
	decErr   error
}

// level maps a Parquet compression level to zstd's, as Arrow's codec does.
func level(l int) zstd.EncoderLevel {
	if l == compress.DefaultCompressionLevel {
		return zstd.SpeedDefault
	}
	return zstd.EncoderLevelFromZstd(l)
}

func (z *zstdCodec) encoder(l zstd.EncoderLevel) *zstd.Encoder {
	if e, ok := z.encoders.Load(l); ok {
		return e.(*zstd.Encoder)
	}
	e, err := zstd.NewWriter(nil, zstd.WithZeroFrames(true), zstd.WithEncoderLevel(l))
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
	return z.encoder(zstd.SpeedDefault).EncodeAll(src, dst[:0])
}

func (z *zstdCodec) EncodeLevel(dst, src []byte, l int) []byte {
	return z.encoder(level(l)).EncodeAll(src, dst[:0])
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
	e, _ := zstd.NewWriter(w)
	return e
}

func (z *zstdCodec) NewWriterLevel(w io.Writer, l int) (io.WriteCloser, error) {
	return zstd.NewWriter(w, zstd.WithEncoderLevel(level(l)))
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
