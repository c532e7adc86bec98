package formats

import (
	"github.com/apache/arrow/go/v17/arrow"
)

// Cells renders the values of records one at a time with the value rules of the text formats
// (see the package documentation): a value reads as the CSV encoder writes it, unquoted. It is
// for displays that lay the values out themselves, such as a table in a terminal.
//
// Bind a record, then ask for its cells. A Cells is used from one goroutine.
type Cells struct {
	schema *arrow.Schema
	cols   []valueEncoder
	buf    []byte
	bound  bool
}

// NewCells returns the renderer of records of schema (opts.NaN applies to the JSON text of
// nested values, as in CSV). A column type the text formats cannot write is an error.
func NewCells(schema *arrow.Schema, opts Options) (*Cells, error) {
	opts.Format = CSV
	cols, err := newColumns(schema, opts)
	if err != nil {
		return nil, err
	}
	return &Cells{schema: schema, cols: cols}, nil
}

// Bind makes rec the record whose cells Cell returns. rec must have the schema of NewCells
// and stay alive until the next Bind.
func (c *Cells) Bind(rec arrow.Record) error {
	if err := checkRecord(c.schema, rec); err != nil {
		return err
	}
	for i, col := range c.cols {
		col.reset(rec.Column(i))
	}
	c.bound = true
	return nil
}

// Cell returns the text of the value of column col in row row of the bound record, and
// whether it is null (the text is then empty).
func (c *Cells) Cell(col, row int) (text string, null bool) {
	if !c.bound {
		panic("formats: Cells.Cell before Bind")
	}
	e := c.cols[col]
	if e.isNull(row) {
		return "", true
	}
	c.buf = e.appendText(c.buf[:0], row)
	return string(c.buf), false
}
