package sharingtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/stretchr/testify/require"

	_ "github.com/deltashare/deltashare/internal/pqcodec" // the codecs the client decodes with
)

// Tables with damaged data files, for the tests of what a client does with them.

// CompressedTableFile is the data file of a CompressedTable, relative to its directory.
const CompressedTableFile = "part-00000.parquet"

// CompressedTable writes a Delta table of one Parquet data file compressed with codec, under a
// temporary directory of the test, and returns the table's directory. Its columns are id
// (long) and city (string, few distinct values); both are dictionary-encoded, so each column
// chunk has a dictionary page and data pages.
func CompressedTable(t testing.TB, codec compress.Compression) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "compressed")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "_delta_log"), 0o755))
	sch := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "city", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sch)
	defer b.Release()
	cities := []string{"Lisbon", "Porto", "Braga", "Faro", "Coimbra"}
	const rows = 2000
	for i := range rows {
		b.Field(0).(*array.Int64Builder).Append(int64(i % 300))
		b.Field(1).(*array.StringBuilder).Append(cities[i%len(cities)])
	}
	rec := b.NewRecord()
	defer rec.Release()
	var buf bytes.Buffer
	props := parquet.NewWriterProperties(parquet.WithCompression(codec), parquet.WithDictionaryDefault(true),
		parquet.WithDataPageSize(1024))
	w, err := pqarrow.NewFileWriter(sch, &buf, props, pqarrow.DefaultWriterProps())
	require.NoError(t, err)
	require.NoError(t, w.Write(rec))
	require.NoError(t, w.Close())
	require.NoError(t, os.WriteFile(filepath.Join(dir, CompressedTableFile), buf.Bytes(), 0o644))

	schemaString := `{"type":"struct","fields":[{"name":"id","type":"long","nullable":false,"metadata":{}},` +
		`{"name":"city","type":"string","nullable":true,"metadata":{}}]}`
	actions := []map[string]any{
		{"commitInfo": map[string]any{"timestamp": 1735689600000, "operation": "WRITE"}},
		{"protocol": map[string]any{"minReaderVersion": 1, "minWriterVersion": 2}},
		{"metaData": map[string]any{"id": "5f2a0c1e-0000-4000-8000-000000000001", "format": map[string]any{"provider": "parquet", "options": map[string]any{}},
			"schemaString": schemaString, "partitionColumns": []string{}, "configuration": map[string]string{}, "createdTime": 1735689600000}},
		{"add": map[string]any{"path": CompressedTableFile, "partitionValues": map[string]string{}, "size": buf.Len(),
			"modificationTime": 1735689600000, "dataChange": true, "stats": fmt.Sprintf(`{"numRecords":%d}`, rows)}},
	}
	var log bytes.Buffer
	for _, a := range actions {
		line, err := json.Marshal(a)
		require.NoError(t, err)
		log.Write(append(line, '\n'))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "_delta_log", fmt.Sprintf("%020d.json", 0)), log.Bytes(), 0o644))
	return dir
}

// DamagePage flips one byte inside a compressed page of column col (by name) of the Parquet
// file at path, in place: of its dictionary page when dict is true, else of its first data page.
// The byte chosen is the first one whose flip makes the page's decompression fail; the file
// keeps its size, its footer and its page headers' meaning. It returns the offset flipped.
func DamagePage(t testing.TB, path, col string, dict bool) int64 {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	require.NoError(t, err)
	md := pf.MetaData()
	ci := md.Schema.ColumnIndexByName(col)
	require.GreaterOrEqual(t, ci, 0, "column %s", col)
	cc, err := md.RowGroup(0).ColumnChunk(ci)
	require.NoError(t, err)
	pf.Close()
	lo, hi := cc.DataPageOffset(), cc.DataPageOffset()+cc.TotalCompressedSize()
	if cc.HasDictionaryPage() {
		hi = cc.DictionaryPageOffset() + cc.TotalCompressedSize()
		if dict {
			lo, hi = cc.DictionaryPageOffset(), cc.DataPageOffset()
		}
	} else {
		require.False(t, dict, "column %s has no dictionary page", col)
	}
	for off := lo; off < hi; off++ {
		data[off] ^= 0xff
		if decompressionFails(data, ci) {
			require.NoError(t, os.WriteFile(path, data, 0o644))
			return off
		}
		data[off] ^= 0xff
	}
	t.Fatalf("no byte of column %s's page (bytes %d to %d) makes its decompression fail", col, lo, hi)
	return -1
}

// decompressionFails reports whether reading the pages of column ci of row group 0 of data
// makes a page codec fail (Arrow's codecs panic then, with the codec's error; a runtime error
// is a damaged page header instead).
func decompressionFails(data []byte, ci int) (failed bool) {
	defer func() {
		if v := recover(); v != nil {
			_, header := v.(runtime.Error)
			failed = !header
		}
	}()
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		return false
	}
	defer pf.Close()
	pr, err := pf.RowGroup(0).GetColumnPageReader(ci)
	if err != nil {
		return false
	}
	for pr.Next() {
	}
	return false
}
