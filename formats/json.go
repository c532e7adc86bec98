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
	par    *textWorkers
}

var _ Encoder = (*jsonEncoder)(nil)

func newJSONEncoder(s *sink, schema *arrow.Schema, cols []valueEncoder, array bool, par *textWorkers) *jsonEncoder {
	e := &jsonEncoder{sink: s, schema: schema, cols: cols, array: array, par: par}
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
	first := e.rows // the index in the output of the record's first row
	err := writeText(&e.closer, e.sink, e.par, e.schema, e.cols, nil, rec,
		func(b []byte, cols []valueEncoder, _ *[]byte, row int) []byte {
			return e.appendRow(b, cols, row, first+int64(row) == 0)
		})
	if err == nil {
		e.rows += rec.NumRows()
	}
	return err
}

// appendRow appends the object of row, formatted with cols, with its separator: first says it
// is the output's first row. It only reads e, so goroutines with their own cols can format rows
// concurrently.
func (e *jsonEncoder) appendRow(b []byte, cols []valueEncoder, row int, first bool) []byte {
	if e.array {
		if first {
			b = append(b, '[', '\n')
		} else {
			b = append(b, ',', '\n')
		}
	}
	if len(cols) == 0 {
		b = append(b, '{')
	}
	for i, c := range cols {
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
	return b
}

func (e *jsonEncoder) Close() error {
	return e.closeOnce(func() error {
		e.par.release()
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
