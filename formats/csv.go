package formats

import (
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow"
)

type csvEncoder struct {
	closer
	sink   *sink
	schema *arrow.Schema
	cols   []valueEncoder
	check  []bool // per column: the text may need quoting
	// nullPlain: the null text could be produced by a plain column, so plain values are
	// compared with it.
	nullPlain bool
	delim     []byte
	delim1    byte // the delimiter when it is one byte, else 0
	eol       []byte
	null      []byte
	tmp       []byte
	par       *textWorkers
}

var _ Encoder = (*csvEncoder)(nil)

// plainBytes are the bytes that plain value text can contain besides digits and letters.
const plainBytes = "+-./:="

func newCSVEncoder(s *sink, schema *arrow.Schema, cols []valueEncoder, o Options, par *textWorkers) *csvEncoder {
	d := o.delimiter()
	e := &csvEncoder{sink: s, schema: schema, cols: cols, null: []byte(o.Null), eol: []byte("\n"), par: par}
	e.delim = utf8.AppendRune(nil, d)
	if len(e.delim) == 1 {
		e.delim1 = e.delim[0]
	}
	if o.CRLF {
		e.eol = []byte("\r\n")
	}
	delimPlain := d < utf8.RuneSelf && (d >= '0' && d <= '9' || d >= 'a' && d <= 'z' || d >= 'A' && d <= 'Z' ||
		containsByte(plainBytes, byte(d)))
	e.check = make([]bool, len(cols))
	for i, c := range cols {
		e.check[i] = !c.plain() || delimPlain
	}
	e.nullPlain = len(e.null) > 0
	for _, c := range []byte(o.Null) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || containsByte(plainBytes, c)) {
			e.nullPlain = false
		}
	}
	if !o.NoHeader {
		b := s.buf
		for i, f := range schema.Fields() {
			if i > 0 {
				b = append(b, e.delim...)
			}
			start := len(b)
			b = append(b, f.Name...)
			b = e.quoteIfNeeded(b, start, false, &e.tmp)
		}
		s.buf = append(b, e.eol...)
	}
	return e
}

func containsByte(s string, b byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return true
		}
	}
	return false
}

// needsQuotes reports whether field must be quoted.
func (e *csvEncoder) needsQuotes(field []byte) bool {
	if len(field) == 0 {
		return false
	}
	if c := field[0]; c == ' ' || c == '\t' {
		return true
	}
	if c := field[len(field)-1]; c == ' ' || c == '\t' {
		return true
	}
	if e.delim1 != 0 {
		for _, c := range field {
			if c == '"' || c == '\n' || c == '\r' || c == e.delim1 {
				return true
			}
		}
		return false
	}
	for _, c := range field {
		if c == '"' || c == '\n' || c == '\r' {
			return true
		}
	}
	return containsBytes(field, e.delim)
}

func containsBytes(s, sub []byte) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if string(s[i:i+len(sub)]) == string(sub) {
			return true
		}
	}
	return false
}

// quoteIfNeeded quotes b[start:] in place when it needs quotes or, for values, when it equals
// the null text. tmp is scratch space.
func (e *csvEncoder) quoteIfNeeded(b []byte, start int, value bool, tmp *[]byte) []byte {
	field := b[start:]
	if !e.needsQuotes(field) && !(value && string(field) == string(e.null)) {
		return b
	}
	*tmp = append((*tmp)[:0], field...)
	b = append(b[:start], '"')
	for _, c := range *tmp {
		if c == '"' {
			b = append(b, '"')
		}
		b = append(b, c)
	}
	return append(b, '"')
}

func (e *csvEncoder) Write(rec arrow.Record) error {
	return writeText(&e.closer, e.sink, e.par, e.schema, e.cols, &e.tmp, rec, e.appendRow)
}

// appendRow appends the line of row, formatted with cols; tmp is scratch space. It only reads
// e, so goroutines with their own cols and tmp can format rows concurrently.
func (e *csvEncoder) appendRow(b []byte, cols []valueEncoder, tmp *[]byte, row int) []byte {
	for i, c := range cols {
		if i > 0 {
			if e.delim1 != 0 {
				b = append(b, e.delim1)
			} else {
				b = append(b, e.delim...)
			}
		}
		if c.isNull(row) {
			b = append(b, e.null...)
			continue
		}
		start := len(b)
		b = c.appendText(b, row)
		if e.check[i] || e.nullPlain && string(b[start:]) == string(e.null) {
			b = e.quoteIfNeeded(b, start, true, tmp)
		}
	}
	return append(b, e.eol...)
}

func (e *csvEncoder) Close() error {
	return e.closeOnce(func() error {
		e.par.release()
		return e.sink.close()
	})
}
