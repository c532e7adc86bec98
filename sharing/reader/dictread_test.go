package reader

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dictTestFile writes n rows over row groups of 1000 rows: few distinct strings with nulls,
// few distinct binaries, distinct strings (their dictionary overflows, so some of their pages
// are plain), and integers.
func dictTestFile(t *testing.T, n int) (arrow.Record, []byte) {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "few", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "bin", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "distinct", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	words := []string{"Ohio", "", "New York", "Texas", "ünïcödé"}
	for r := 0; r < n; r++ {
		if r%9 == 4 {
			b.Field(0).AppendNull()
		} else {
			b.Field(0).(*array.StringBuilder).Append(words[(r/7)%len(words)])
		}
		b.Field(1).(*array.BinaryBuilder).Append([]byte{byte(r % 4), 0xff})
		b.Field(2).(*array.StringBuilder).Append(fmt.Sprintf("row %d", r))
		b.Field(3).(*array.Int64Builder).Append(int64(r))
	}
	rec := b.NewRecord()
	var buf bytes.Buffer
	props := parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(1000), parquet.WithDictionaryPageSizeLimit(2048),
		parquet.WithDataPageSize(1024))
	w, err := pqarrow.NewFileWriter(schema, &buf, props, pqarrow.DefaultWriterProps())
	require.NoError(t, err)
	require.NoError(t, w.Write(rec))
	require.NoError(t, w.Close())
	return rec, buf.Bytes()
}

// TestReadDictColumns reads a file's dictionary-encoded string columns as dictionaries, row
// group by row group, and checks that densify gives back exactly the values written.
func TestReadDictColumns(t *testing.T) {
	want, data := dictTestFile(t, 3500)
	defer want.Release()
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	require.NoError(t, err)
	defer pf.Close()
	require.Equal(t, 4, pf.NumRowGroups())

	props := pqarrow.ArrowReadProperties{BatchSize: 300}
	require.True(t, readDictColumns(pf, &props))
	// A file of fewer rows than dictMinRows is read the usual way, whatever its encodings.
	swant, small := dictTestFile(t, dictMinRows-1)
	swant.Release()
	spf, err := file.NewParquetReader(bytes.NewReader(small))
	require.NoError(t, err)
	defer spf.Close()
	sprops := pqarrow.ArrowReadProperties{BatchSize: 300}
	assert.False(t, readDictColumns(spf, &sprops), "a small file")
	assert.False(t, sprops.ReadDict(0), "a small file's few distinct strings")
	assert.True(t, props.ReadDict(0), "few distinct strings")
	assert.True(t, props.ReadDict(1), "few distinct binaries")
	assert.False(t, props.ReadDict(2), "strings whose dictionary overflowed")
	assert.False(t, props.ReadDict(3), "not a byte array")
	// The choice only saves time: a column of plain pages read as a dictionary reads right.
	props.SetReadDict(2, true)

	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	fr, err := pqarrow.NewFileReader(pf, props, mem)
	require.NoError(t, err)
	assert.Equal(t, arrow.DICTIONARY, fr.Manifest.Fields[0].Field.Type.ID())

	rg, err := newRowGroupRecords(context.Background(), fr, []int{0, 1, 2, 3})
	require.NoError(t, err)
	defer rg.Release()
	off := int64(0)
	for rg.Next() {
		rec := rg.Record()
		rec.Retain()
		dense, err := densify(mem, rec)
		require.NoError(t, err)
		for i := range dense.NumCols() {
			col := dense.Column(int(i))
			assert.Equal(t, want.Column(int(i)).DataType(), col.DataType(), "column %d", i)
			exp := array.NewSlice(want.Column(int(i)), off, off+dense.NumRows())
			assert.True(t, array.Equal(exp, col), "column %d rows %d+%d", i, off, dense.NumRows())
			exp.Release()
		}
		off += dense.NumRows()
		dense.Release()
	}
	require.NoError(t, rg.Err())
	assert.Equal(t, want.NumRows(), off)
}

// TestDenseOfSliced covers dictionary arrays whose indices are a slice (the records of a
// column-wise read): the validity bits are copied from the slice's offset.
func TestDenseOfSliced(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	db := array.NewDictionaryBuilder(mem, &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}).(*array.BinaryDictionaryBuilder)
	defer db.Release()
	for _, v := range []string{"a", "bb", "a", "", "ccc", "bb"} {
		require.NoError(t, db.AppendString(v))
	}
	db.AppendNull()
	d := db.NewDictionaryArray()
	defer d.Release()
	for _, lo := range []int64{0, 2} {
		part := array.NewSlice(d, lo, 7).(*array.Dictionary)
		got, err := denseOf(mem, part)
		require.NoError(t, err)
		assert.Equal(t, arrow.BinaryTypes.String, got.DataType())
		sb := array.NewStringBuilder(mem)
		for i := lo; i < 7; i++ {
			if part.IsNull(int(i - lo)) {
				sb.AppendNull()
			} else {
				sb.Append(part.Dictionary().(*array.String).Value(part.GetValueIndex(int(i - lo))))
			}
		}
		exp := sb.NewArray()
		assert.True(t, array.Equal(exp, got), "from %d: %v", lo, got)
		exp.Release()
		sb.Release()
		got.Release()
		part.Release()
	}
}
