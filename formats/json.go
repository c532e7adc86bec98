package formats

import (
	"github.com/apache/arrow/go/v17/arrow"
)

// jsonEncoder writes NDJSON (one object per line) or a JSON array of objects.
type jsonEncoder struct {
	closer
	sink   *sink
	schema *arrow.Schema
	cols   []valueEncoder
	keys   [][]byte // per column: `{"name":` for the first, `,"name":` for the others
	array  bool     // JSON array rather than NDJSON
	rows   int64
}

var _ Encoder = (*jsonEncoder)(nil)

func newJSONEncoder(s *sink, schema *arrow.Schema, cols []valueEncoder, array bool) *jsonEncoder {
	e := &jsonEncoder{sink: s, schema: schema, cols: cols, array: array}
	for i, f := range schema.Fields() {
		k := []byte{','}
		if i == 0 {
			k[0] = '{'
		}
		k = appendJSONString(k, []byte(f.Name))
		e.keys = append(e.keys, append(k, ':'))
	}
	return e
}

func (e *jsonEncoder) Write(rec arrow.Record) error {
	if e.closed {
		return ErrClosed
	}
	if e.sink.err != nil {
		return e.sink.err
	}
	if err := checkRecord(e.schema, rec); err != nil {
		return err
	}
	for i, c := range e.cols {
		c.reset(rec.Column(i))
	}
	n := int(rec.NumRows())
	s := e.sink
	b := s.buf
	for row := 0; row < n; row++ {
		if e.array {
			if e.rows == 0 {
				b = append(b, '[', '\n')
			} else {
				b = append(b, ',', '\n')
			}
		}
		e.rows++
		if len(e.cols) == 0 {
			b = append(b, '{')
		}
		for i, c := range e.cols {
			b = append(b, e.keys[i]...)
			if c.isNull(row) {
				b = append(b, "null"...)
			} else {
				b = c.appendJSON(b, row)
			}
		}
		b = append(b, '}')
		if !e.array {
			b = append(b, '\n')
		}
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

func (e *jsonEncoder) Close() error {
	return e.closeOnce(func() error {
		if e.array && e.sink.err == nil {
			if e.rows == 0 {
				e.sink.buf = append(e.sink.buf, '[', ']', '\n')
			} else {
				e.sink.buf = append(e.sink.buf, '\n', ']', '\n')
			}
		}
		return e.sink.close()
	})
}
