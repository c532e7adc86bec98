package formats

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCellsAreCSVFields: every cell of every type reads as the field the CSV encoder writes
// (read back with encoding/csv), nulls as the Null text; sliced records too.
func TestCellsAreCSVFields(t *testing.T) {
	t.Parallel()
	mem := checkedMem(t)
	rec := allTypesRecord(t, mem)
	defer rec.Release()
	opts := Options{Format: CSV, Null: `\N`, NoHeader: true}
	lines, err := csv.NewReader(strings.NewReader(string(encodeAll(t, rec.Schema(), opts, rec)))).ReadAll()
	require.NoError(t, err)
	require.Len(t, lines, int(rec.NumRows()))

	cells, err := NewCells(rec.Schema(), Options{})
	require.NoError(t, err)
	check := func(r arrow.Record, from int) {
		require.NoError(t, cells.Bind(r))
		for row := range int(r.NumRows()) {
			for col := range int(r.NumCols()) {
				text, null := cells.Cell(col, row)
				want := lines[from+row][col]
				if null {
					assert.Equal(t, `\N`, want, "row %d column %s", from+row, r.ColumnName(col))
					assert.Empty(t, text)
					continue
				}
				// encoding/csv reads CR LF inside a quoted field as LF.
				assert.Equal(t, want, strings.ReplaceAll(text, "\r\n", "\n"), "row %d column %s", from+row, r.ColumnName(col))
			}
		}
	}
	check(rec, 0)
	tail := rec.NewSlice(1, rec.NumRows())
	defer tail.Release()
	check(tail, 1)
}

func TestCellsErrors(t *testing.T) {
	t.Parallel()
	_, err := NewCells(arrow.NewSchema([]arrow.Field{{Name: "d", Type: arrow.FixedWidthTypes.Duration_s}}, nil), Options{})
	assert.Error(t, err)

	s := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64}}, nil)
	cells, err := NewCells(s, Options{})
	require.NoError(t, err)
	b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.BinaryTypes.String}}, nil))
	defer b.Release()
	b.Field(0).(*array.StringBuilder).Append("x")
	other := b.NewRecord()
	defer other.Release()
	assert.Error(t, cells.Bind(other))
	assert.Panics(t, func() { cells.Cell(0, 0) })
}
