package export

import (
	"context"
	"errors"
	"io"
	"sync"
)

// StreamSink writes one object straight to a stream, such as standard output for "-o -".
//
// A stream cannot be taken back: Create hands out a writer to the stream itself, Commit only
// flushes it (when W has a Flush() error method), and Abort cannot undo what was written. A run
// that fails part way leaves partial output on the stream and returns an error, so the caller
// must exit non-zero. Parquet is allowed: pqarrow writes the file front to back and never seeks.
// Exists is always false and List always empty, so --overwrite has no meaning here.
type StreamSink struct {
	W     io.Writer
	Label string // shown in messages and the summary; "-" when empty

	mu   sync.Mutex
	used bool
}

var (
	_ Sink    = (*StreamSink)(nil)
	_ Locator = (*StreamSink)(nil)
)

// NewStreamSink returns a sink that writes its single object to w.
func NewStreamSink(w io.Writer) *StreamSink { return &StreamSink{W: w} }

// Create returns the stream as an object. A StreamSink takes one object only.
func (s *StreamSink) Create(ctx context.Context, name string) (Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used {
		return nil, errors.New("standard output takes a single file: write partitioned or split output to a directory")
	}
	s.used = true
	return &streamObject{w: s.W}, nil
}

// Exists is always false: a stream holds no objects.
func (s *StreamSink) Exists(context.Context, string) (bool, error) { return false, nil }

// List is always empty.
func (s *StreamSink) List(context.Context, string) ([]string, error) { return nil, nil }

// Remove fails: nothing written to a stream can be removed.
func (s *StreamSink) Remove(_ context.Context, name string) error {
	return errors.New("cannot remove " + name + " from standard output")
}

// Location returns the label ("-").
func (s *StreamSink) Location(string) string {
	if s.Label == "" {
		return "-"
	}
	return s.Label
}

type streamObject struct {
	w    io.Writer
	done bool
}

func (o *streamObject) Write(p []byte) (int, error) {
	if o.done {
		return 0, errObjectDone
	}
	return o.w.Write(p)
}

func (o *streamObject) Commit() error {
	if o.done {
		return errObjectDone
	}
	o.done = true
	if f, ok := o.w.(interface{ Flush() error }); ok {
		return f.Flush()
	}
	return nil
}

func (o *streamObject) Abort() error {
	o.done = true
	return nil
}
