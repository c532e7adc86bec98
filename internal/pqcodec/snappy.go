// Package pqcodec registers faster codecs for the pages of Arrow's Parquet reader and writer.
// Importing the package registers them, for the whole process:
//
//   - snappy: klauspost/compress's S2 in its snappy-compatible mode instead of
//     github.com/golang/snappy: the same format, encoded and decoded faster;
//   - zstd: Arrow's own codec creates a zstd encoder for every page it compresses at a given
//     level (megabytes of tables allocated per page); this one keeps one encoder per level and
//     one decoder, which klauspost/compress allows to be used concurrently, and its default
//     level is set for DuckDB's ratio for speed (see encoderOptions).
package pqcodec

import (
	"io"

	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/klauspost/compress/s2"
)

func init() {
	compress.RegisterCodec(compress.Codecs.Snappy, codec{})
	compress.RegisterCodec(compress.Codecs.Zstd, &zstdCodec{})
}

// codec implements compress.Codec with snappy-format blocks and streams.
type codec struct{}

func (codec) Encode(dst, src []byte) []byte { return s2.EncodeSnappy(dst, src) }

func (codec) EncodeLevel(dst, src []byte, _ int) []byte { return s2.EncodeSnappy(dst, src) }

// Decode panics on corrupt input, as Arrow's own codecs do (the interface has no error):
// Arrow's page reader does not recover it, its callers must (sharing/reader does).
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
