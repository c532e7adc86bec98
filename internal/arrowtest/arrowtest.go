// Package arrowtest holds the Arrow and Parquet helpers that tests of several packages share:
// a small real Parquet file to serve or read, the columns of a table read back whole, and the
// canonical text of a value for comparing rows. Only tests import it.
package arrowtest

import (
	"bytes"
	"encoding/hex"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/stretchr/testify/require"
)

// SmallParquet writes a real Parquet file (id int64, name string "row-<id>") of rows rows;
// padding adds schema metadata of that many bytes, which makes the footer larger.
func SmallParquet(t testing.TB, rows, padding int) []byte {
	t.Helper()
	var md *arrow.Metadata
	if padding > 0 {
		m := arrow.NewMetadata([]string{"padding"}, []string{strings.Repeat("p", padding)})
		md = &m
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	}, md)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for i := 0; i < rows; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.StringBuilder).Append("row-" + strconv.Itoa(i))
	}
	rec := b.NewRecord()
	defer rec.Release()
	tbl := array.NewTableFromRecords(schema, []arrow.Record{rec})
	defer tbl.Release()
	var buf bytes.Buffer
	require.NoError(t, pqarrow.WriteTable(tbl, &buf, 1024, nil, pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem))))
	return buf.Bytes()
}

// Columns returns the columns of tbl, each one array (its chunks joined, or an empty array when
// it has none); the caller releases them.
func Columns(t testing.TB, tbl arrow.Table, mem memory.Allocator) []arrow.Array {
	t.Helper()
	cols := make([]arrow.Array, tbl.NumCols())
	for i := range cols {
		chunks := tbl.Column(i).Data().Chunks()
		switch len(chunks) {
		case 0:
			cols[i] = array.MakeArrayOfNull(mem, tbl.Schema().Field(i).Type, 0)
		case 1:
			chunks[0].Retain()
			cols[i] = chunks[0]
		default:
			c, err := array.Concatenate(chunks, mem)
			require.NoError(t, err)
			cols[i] = c
		}
	}
	return cols
}

// Cell renders value i of a for comparisons. leaf has the first word: when it returns ok, its
// text is the value's (tests render timestamps and dates each their own way). Otherwise: NULL;
// decimals exactly at their scale; floats with the shortest text at their precision (NaN as
// NaN); binary in hex; strings quoted; structs as {name=value} with names lower-cased; maps as
// map[key:value] sorted by entry; lists in order; dictionary values as their value; anything
// else as Arrow prints it (integers in decimal). Nested values are rendered with Cell and leaf.
func Cell(a arrow.Array, i int, leaf func(a arrow.Array, i int) (string, bool)) string {
	if a.IsNull(i) {
		return "NULL"
	}
	if leaf != nil {
		if s, ok := leaf(a, i); ok {
			return s
		}
	}
	switch v := a.(type) {
	case *array.Decimal128:
		return v.Value(i).ToString(v.DataType().(*arrow.Decimal128Type).Scale)
	case *array.Float32:
		return floatText(float64(v.Value(i)), 32)
	case *array.Float64:
		return floatText(v.Value(i), 64)
	case *array.Binary:
		return "0x" + hex.EncodeToString(v.Value(i))
	case *array.LargeBinary:
		return "0x" + hex.EncodeToString(v.Value(i))
	case *array.String:
		return strconv.Quote(v.Value(i))
	case *array.LargeString:
		return strconv.Quote(v.Value(i))
	case *array.Struct:
		st := v.DataType().(*arrow.StructType)
		parts := make([]string, st.NumFields())
		for k := range parts {
			parts[k] = strings.ToLower(st.Field(k).Name) + "=" + Cell(v.Field(k), i, leaf)
		}
		return "{" + strings.Join(parts, ",") + "}"
	case *array.Map:
		start, end := v.ValueOffsets(i)
		keys, items := v.Keys(), v.Items()
		var parts []string
		for k := start; k < end; k++ {
			parts = append(parts, Cell(keys, int(k), leaf)+":"+Cell(items, int(k), leaf))
		}
		slices.Sort(parts)
		return "map[" + strings.Join(parts, ",") + "]"
	case array.ListLike:
		start, end := v.ValueOffsets(i)
		var parts []string
		for k := start; k < end; k++ {
			parts = append(parts, Cell(v.ListValues(), int(k), leaf))
		}
		return "[" + strings.Join(parts, ",") + "]"
	case *array.Dictionary:
		return Cell(v.Dictionary(), v.GetValueIndex(i), leaf)
	}
	return a.ValueStr(i)
}

func floatText(f float64, bits int) string {
	if math.IsNaN(f) {
		return "NaN"
	}
	return strconv.FormatFloat(f, 'g', -1, bits)
}
