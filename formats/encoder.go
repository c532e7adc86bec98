package formats

import (
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Encoder writes Arrow records to one output file.
//
// Write encodes one record; records must have the schema given to [New] (same field count and
// types; names and metadata come from that schema). Close writes what is buffered, finishes the
// file (JSON closing bracket, Parquet footer, compressed stream end) and releases resources. Close
// is idempotent: later calls return the first call's result. It never closes the io.Writer given
// to New. Write after Close returns [ErrClosed]. A record whose schema does not match is refused
// and the encoder stays usable; after any other Write error (the output failed, Parquet could
// not encode a value) the encoder is broken: later Writes and Close return that error and the
// output is incomplete. An Encoder is not safe for concurrent use.
type Encoder interface {
	Write(rec arrow.Record) error
	Close() error
}

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("formats: encoder is closed")

// New returns an encoder that writes records of the given schema to w in the format opts
// describes. It checks opts (see Options.Validate) and that every column type can be written.
// Output is buffered (256 KiB for text, 1 MiB for Parquet): nothing may reach w before Close.
func New(w io.Writer, schema *arrow.Schema, opts Options) (Encoder, error) {
	if w == nil {
		return nil, errors.New("formats: nil writer")
	}
	if schema == nil {
		return nil, errors.New("formats: nil schema")
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	f, _ := ParseFormat(string(opts.Format))
	codec, _ := opts.compression(f)
	opts.Format, opts.Compression = f, codec
	if f == Parquet {
		return newParquetEncoder(w, schema, opts)
	}
	cols, err := newColumns(schema, opts)
	if err != nil {
		return nil, err
	}
	s, err := newSink(w, codec)
	if err != nil {
		return nil, err
	}
	if f == CSV {
		return newCSVEncoder(s, schema, cols, opts), nil
	}
	return newJSONEncoder(s, schema, cols, f == JSON), nil
}

func newColumns(schema *arrow.Schema, opts Options) ([]valueEncoder, error) {
	to := textOptions{nanString: opts.NaN == NaNString}
	cols := make([]valueEncoder, schema.NumFields())
	for i, fd := range schema.Fields() {
		e, err := newValueEncoder(fd.Type, to)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w: %s cannot write it; use parquet or cast the column", fd.Name, err, opts.Format)
		}
		cols[i] = e
	}
	return cols, nil
}

// checkRecord reports whether rec can be written with schema.
func checkRecord(schema *arrow.Schema, rec arrow.Record) error {
	if rec == nil {
		return errors.New("formats: nil record")
	}
	rs := rec.Schema()
	if rs == schema {
		return nil
	}
	if rs.NumFields() != schema.NumFields() {
		return fmt.Errorf("formats: record has %d columns, the encoder's schema %d: start a new file for a new schema",
			rs.NumFields(), schema.NumFields())
	}
	for i := range rs.NumFields() {
		if !arrow.TypeEqual(rs.Field(i).Type, schema.Field(i).Type) {
			return fmt.Errorf("formats: column %d (%q) is %s in the record but %s in the encoder's schema: start a new file for a new schema",
				i, schema.Field(i).Name, rs.Field(i).Type, schema.Field(i).Type)
		}
	}
	return nil
}

// flushSize is the amount of buffered text that triggers a write to the output.
const flushSize = 256 << 10

// sink buffers text output and optionally compresses it.
type sink struct {
	w    io.Writer      // the compressor, or the caller's writer
	comp io.WriteCloser // the compressor, nil when not compressing
	buf  []byte
	err  error // first write error; sticky
}

func newSink(w io.Writer, c Compression) (*sink, error) {
	s := &sink{w: w, buf: make([]byte, 0, flushSize+flushSize/4)}
	switch c {
	case Gzip:
		s.comp = gzip.NewWriter(w)
	case Zstd:
		zw, err := zstd.NewWriter(w)
		if err != nil {
			return nil, fmt.Errorf("formats: start zstd: %w", err)
		}
		s.comp = zw
	}
	if s.comp != nil {
		s.w = s.comp
	}
	return s, nil
}

func (s *sink) flush() error {
	if s.err != nil {
		return s.err
	}
	if len(s.buf) > 0 {
		_, err := s.w.Write(s.buf)
		s.buf = s.buf[:0]
		if err != nil {
			s.err = fmt.Errorf("formats: write output: %w", err)
		}
	}
	return s.err
}

// close flushes and finishes the compressed stream.
func (s *sink) close() error {
	err := s.flush()
	if s.comp != nil {
		if cerr := s.comp.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("formats: finish compressed output: %w", cerr)
		}
	}
	s.buf = nil
	return err
}

// closer implements the idempotent Close and ErrClosed for the encoders.
type closer struct {
	closed bool
	err    error
}

func (c *closer) closeOnce(fn func() error) error {
	if !c.closed {
		c.closed = true
		c.err = fn()
	}
	return c.err
}
