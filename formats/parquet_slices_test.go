package formats

import (
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Records that are slices of larger arrays (a reader cutting a decoded row group into records)
// count their own rows for the dictionary sample, not the buffers they share: records of 1,000
// rows cut from 20 MB of distinct longs are sampled up to parquetSampleRows, and the column is
// written plain. Counted by their buffers, the first record alone filled the sample, too small
// to judge, and the column kept a dictionary.
func TestParquetSampleOfSlices(t *testing.T) {
	mem := checkedMem(t)
	const rows, part = 2_500_000, 1000
	sch := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	b := array.NewInt64Builder(mem)
	b.Reserve(rows)
	for i := range rows {
		b.UnsafeAppend(int64(i) * 7919)
	}
	whole := b.NewArray()
	b.Release()
	var recs []arrow.Record
	for lo := int64(0); lo < 20*part; lo += part {
		col := array.NewSlice(whole, lo, lo+part)
		recs = append(recs, array.NewRecord(sch, []arrow.Array{col}, part))
		col.Release()
	}
	whole.Release()
	assert.Equal(t, int64(part*8+part/8), recordBytes(recs[0]), "a slice counts its own rows")
	data := encodeAll(t, sch, Options{Format: Parquet, Allocator: mem}, recs...)
	for _, r := range recs {
		r.Release()
	}
	rdr, got := readParquet(t, mem, data)
	defer got.Release()
	assert.Equal(t, int64(20*part), got.NumRows())
	cc, err := rdr.MetaData().RowGroup(0).ColumnChunk(0)
	require.NoError(t, err)
	assert.False(t, cc.HasDictionaryPage(), "distinct longs are written plain")
}
