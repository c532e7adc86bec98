package formats

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

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
// output is incomplete. Text output is written by a goroutine of the encoder while it formats
// the next rows, so a failure of the output can surface at a later Write or only at Close;
// Close ends that goroutine and must be called. An Encoder is not safe for concurrent use.
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
	par := &textWorkers{schema: schema, opts: opts}
	if f == CSV {
		return newCSVEncoder(s, schema, cols, opts, par), nil
	}
	return newJSONEncoder(s, schema, cols, f == JSON, par), nil
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

// sink buffers text output and optionally compresses it. Full buffers are written (and
// compressed) by a goroutine of their own while the encoder fills the next one: two buffers take
// turns. The writer goroutine starts with the first full buffer (small outputs are written by
// close alone) and ends in close.
type sink struct {
	w    io.Writer      // the compressor, or the caller's writer
	comp io.WriteCloser // the compressor, nil when not compressing
	buf  []byte
	err  error // first write error; sticky

	full chan []byte  // buffers for the writer goroutine; nil until it starts
	free chan []byte  // buffers the writer goroutine is done with
	done chan error   // the writer goroutine's first error, sent when it ends
	werr atomic.Value // the writer goroutine's first error, as soon as it happens
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

// writeLoop writes the buffers it is given until full is closed.
func (s *sink) writeLoop() {
	var err error
	for b := range s.full {
		if err == nil && len(b) > 0 {
			if _, werr := s.w.Write(b); werr != nil {
				err = fmt.Errorf("formats: write output: %w", werr)
				s.werr.Store(err)
			}
		}
		s.free <- b[:0]
	}
	s.done <- err
}

// flush hands the buffered text to the writer goroutine and takes the other buffer.
func (s *sink) flush() error {
	if err := s.check(); err != nil {
		return err
	}
	if len(s.buf) == 0 {
		return nil
	}
	s.start()
	s.full <- s.buf
	s.buf = <-s.free
	return nil
}

// sinkBuffers bounds the buffers in circulation between an encoder and its writer goroutine:
// the sink's two and one per formatting worker.
const sinkBuffers = 64

// start starts the writer goroutine, once.
func (s *sink) start() {
	if s.full == nil {
		s.full, s.free, s.done = make(chan []byte, 1), make(chan []byte, sinkBuffers), make(chan error, 1)
		s.free <- make([]byte, 0, cap(s.buf))
		go s.writeLoop()
	}
}

// close writes what is left, waits for the writer goroutine and finishes the compressed
// stream.
func (s *sink) close() error {
	err := s.err
	if s.full != nil {
		if err == nil && len(s.buf) > 0 {
			s.full <- s.buf
		}
		close(s.full)
		if werr := <-s.done; err == nil {
			err = werr
		}
	} else if err == nil && len(s.buf) > 0 {
		if _, werr := s.w.Write(s.buf); werr != nil {
			err = fmt.Errorf("formats: write output: %w", werr)
		}
	}
	if err != nil {
		s.err = err
	}
	if s.comp != nil {
		if cerr := s.comp.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("formats: finish compressed output: %w", cerr)
		}
	}
	s.buf = nil
	return err
}

// check returns the first write error, the writer goroutine's included.
func (s *sink) check() error {
	if s.err == nil {
		if err, ok := s.werr.Load().(error); ok {
			s.err = err
		}
	}
	return s.err
}

// handoff queues p, formatted text, after what is buffered, and returns an empty buffer for
// the caller to go on with (p itself when it was copied).
func (s *sink) handoff(p []byte) []byte {
	if s.err != nil || len(p) == 0 {
		return p[:0]
	}
	if len(s.buf)+len(p) < flushSize {
		s.buf = append(s.buf, p...)
		return p[:0]
	}
	if s.flush() != nil {
		return p[:0]
	}
	s.start()
	s.full <- p
	return <-s.free
}

// rowFormatter appends the text of row, formatted with cols; tmp is scratch space. It may only
// read state shared between goroutines: the workers call it with their own cols and tmp.
type rowFormatter func(b []byte, cols []valueEncoder, tmp *[]byte, row int) []byte

// writeText is the Write of the text encoders: it checks rec, binds the column encoders and
// writes every row as format formats it, a large record on several goroutines.
func writeText(c *closer, s *sink, par *textWorkers, schema *arrow.Schema, cols []valueEncoder,
	tmp *[]byte, rec arrow.Record, format rowFormatter) error {
	if c.closed {
		return ErrClosed
	}
	if s.err != nil {
		return s.err
	}
	if err := checkRecord(schema, rec); err != nil {
		return err
	}
	for i, col := range cols {
		col.reset(rec.Column(i))
	}
	n := int(rec.NumRows())
	if k := par.count(n); k > 1 {
		if err := par.run(rec, cols, k, func(w *textWorker, from, to int) {
			b := w.buf[:0]
			for row := from; row < to; row++ {
				b = format(b, w.cols, &w.tmp, row)
			}
			w.buf = b
		}, s.handoff); err != nil {
			return err
		}
		return s.check()
	}
	b := s.buf
	for row := 0; row < n; row++ {
		b = format(b, cols, tmp, row)
		if len(b) >= flushSize {
			s.buf = b
			if err := s.flush(); err != nil {
				return err
			}
			b = s.buf
		}
	}
	s.buf = b
	return nil
}

// The text encoders format the rows of a large record on several goroutines: the rows are cut
// into contiguous ranges, each range is formatted into its own buffer with its own column
// encoders (they hold per-column state: the bound arrays, day caches), and the buffers are
// written in order, so the output is the same as when one goroutine formats every row.
//
// These are variables only so that tests can lower them: the parallel path then runs on
// records of hundreds of rows instead of tens of thousands, which the race detector formats
// many times faster. Nothing else changes them.
var (
	// parallelMinRows is the smallest record formatted on several goroutines.
	parallelMinRows = 8192
	// rowsPerWorker is the fewest rows worth a goroutine.
	rowsPerWorker = 4096
)

// maxFormatWorkers bounds the goroutines formatting one record; 0 means GOMAXPROCS. Tests set
// it to 1 to force the sequential path.
var maxFormatWorkers = 0

// textWorker is the state of one goroutine formatting a range of rows.
type textWorker struct {
	cols []valueEncoder
	tmp  []byte // CSV quoting scratch
	buf  []byte // the formatted rows
}

// textWorkers holds the workers of an encoder. Worker 0 shares the encoder's own column
// encoders and runs on the calling goroutine; the others are built on first use and kept for
// the encoder's later records.
type textWorkers struct {
	schema *arrow.Schema
	opts   Options
	ws     []*textWorker
}

// count returns how many workers format a record of n rows; 1 means the sequential path.
func (p *textWorkers) count(n int) int {
	if n < parallelMinRows {
		return 1
	}
	k := maxFormatWorkers
	if k <= 0 {
		k = runtime.GOMAXPROCS(0)
	}
	return max(1, min(k, n/rowsPerWorker))
}

// run binds k workers to rec (whose columns the encoder's own encoders, cols, are already
// bound to), has each format its range of rows with format, then passes each buffer in
// order to out, which returns the buffer the worker goes on with. Column encoders are bound on the calling goroutine: binding may fill lazily
// built state of the arrays (null counts, dictionaries), which the workers then only read.
func (p *textWorkers) run(rec arrow.Record, cols []valueEncoder, k int,
	format func(w *textWorker, from, to int), out func([]byte) []byte) error {
	if len(p.ws) == 0 {
		p.ws = append(p.ws, &textWorker{})
	}
	p.ws[0].cols = cols
	for len(p.ws) < k {
		c, err := newColumns(p.schema, p.opts)
		if err != nil { // cannot happen: New built the same columns
			return err
		}
		p.ws = append(p.ws, &textWorker{cols: c})
	}
	for _, w := range p.ws[1:k] {
		for i, c := range w.cols {
			c.reset(rec.Column(i))
		}
	}
	n := int(rec.NumRows())
	bound := func(j int) int { return n * j / k }
	var wg sync.WaitGroup
	for j := 1; j < k; j++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			format(p.ws[j], bound(j), bound(j+1))
		}()
	}
	format(p.ws[0], 0, bound(1))
	ws := p.ws[:k]
	ws[0].buf = out(ws[0].buf)
	wg.Wait()
	for _, w := range ws[1:] {
		w.buf = out(w.buf)
	}
	return nil
}

// release drops the workers' buffers.
func (p *textWorkers) release() { p.ws = nil }

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
