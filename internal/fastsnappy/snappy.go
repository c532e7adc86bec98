// Package fastsnappy replaces the snappy codec of Arrow's Parquet reader and writer
// (github.com/golang/snappy) by klauspost/compress's S2 in its snappy-compatible mode: the same
// format, encoded and decoded faster. Importing the package registers it.
package fastsnappy

import (
	"io"

	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/klauspost/compress/s2"
)

func init() {
	compress.RegisterCodec(compress.Codecs.Snappy, codec{})
}

// codec implements compress.Codec with snappy-format blocks and streams.
type codec struct{}

func (codec) Encode(dst, src []byte) []byte { return s2.EncodeSnappy(dst, src) }

func (codec) EncodeLevel(dst, src []byte, _ int) []byte { return s2.EncodeSnappy(dst, src) }

// Decode panics on corrupt input, as Arrow's own codecs do: Arrow's page reader recovers it
// into an error.
func (codec) Decode(dst, src []byte) []byte {
	out, err := s2.Decode(dst, src)
	if err != nil {
		panic(err)
	}
	return out
}

func (codec) CompressBound(n int64) int64 { return int64(s2.MaxEncodedLen(int(n))) }

func (codec) NewReader(r io.Reader) io.ReadCloser { return io.NopCloser(s2.NewReader(r)) }

func (codec) NewWriter(w io.Writer) io.WriteCloser {
	return s2.NewWriter(w, s2.WriterSnappyCompat())
}

func (c codec) NewWriterLevel(w io.Writer, _ int) (io.WriteCloser, error) { return c.NewWriter(w), nil }
