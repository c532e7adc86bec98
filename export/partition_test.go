package export

import (
	"math"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPartitionValues(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	build := func(dt arrow.DataType, fill func(b array.Builder)) arrow.Array {
		b := array.NewBuilder(mem, dt)
		defer b.Release()
		fill(b)
		b.AppendNull()
		return b.NewArray()
	}
	dec := &arrow.Decimal128Type{Precision: 10, Scale: 3}
	tests := []struct {
		name string
		arr  arrow.Array
		want []string
	}{
		{"int", build(arrow.PrimitiveTypes.Int32, func(b array.Builder) { b.(*array.Int32Builder).AppendValues([]int32{-5, 0, 42}, nil) }), []string{"-5", "0", "42"}},
		{"uint64", build(arrow.PrimitiveTypes.Uint64, func(b array.Builder) { b.(*array.Uint64Builder).Append(math.MaxUint64) }), []string{"18446744073709551615"}},
		{"bool", build(arrow.FixedWidthTypes.Boolean, func(b array.Builder) { b.(*array.BooleanBuilder).AppendValues([]bool{true, false}, nil) }), []string{"true", "false"}},
		{"float64", build(arrow.PrimitiveTypes.Float64, func(b array.Builder) {
			b.(*array.Float64Builder).AppendValues([]float64{1.5, 1, 0.1, 1e21, 1e-7, math.NaN(), math.Inf(1), math.Inf(-1)}, nil)
		}), []string{"1.5", "1", "0.1", "1e+21", "1e-07", "NaN", "Infinity", "-Infinity"}},
		{"float32", build(arrow.PrimitiveTypes.Float32, func(b array.Builder) { b.(*array.Float32Builder).Append(0.1) }), []string{"0.1"}},
		{"decimal", build(dec, func(b array.Builder) {
			b.(*array.Decimal128Builder).AppendValues([]decimal128.Num{decimal128.FromI64(1500), decimal128.FromI64(-5), decimal128.FromI64(0)}, nil)
		}), []string{"1.500", "-0.005", "0.000"}},
		{"string", build(arrow.BinaryTypes.String, func(b array.Builder) { b.(*array.StringBuilder).AppendValues([]string{"a/b", ""}, nil) }), []string{"a/b", ""}},
		{"date32", build(arrow.FixedWidthTypes.Date32, func(b array.Builder) { b.(*array.Date32Builder).Append(19753) }), []string{"2024-01-31"}},
		{"date64", build(arrow.FixedWidthTypes.Date64, func(b array.Builder) { b.(*array.Date64Builder).Append(1706659200000) }), []string{"2024-01-31"}},
		{"timestamp tz", build(&arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "America/New_York"}, func(b array.Builder) {
			b.(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{1706702400000000, 1706702400123456}, nil)
		}), []string{"2024-01-31T12:00:00.000000Z", "2024-01-31T12:00:00.123456Z"}},
		{"timestamp ntz nanos", build(&arrow.TimestampType{Unit: arrow.Nanosecond}, func(b array.Builder) {
			b.(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{1706702400000000001, 1706702400000000000}, nil)
		}), []string{"2024-01-31 12:00:00.000000001", "2024-01-31 12:00:00.000000"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer tc.arr.Release()
			require.NoError(t, checkPartitionType(tc.arr.DataType()))
			app := newValueAppender(tc.arr)
			for i, want := range tc.want {
				got, ok := app(nil, i)
				assert.True(t, ok)
				assert.Equal(t, want, string(got))
			}
			_, ok := app(nil, len(tc.want))
			assert.False(t, ok, "the last value is null")
		})
	}
	t.Run("dictionary", func(t *testing.T) {
		dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}
		b := array.NewDictionaryBuilder(mem, dt).(*array.BinaryDictionaryBuilder)
		defer b.Release()
		require.NoError(t, b.AppendString("x"))
		require.NoError(t, b.AppendString("y"))
		require.NoError(t, b.AppendString("x"))
		b.AppendNull()
		arr := b.NewArray()
		defer arr.Release()
		require.NoError(t, checkPartitionType(dt))
		app := newValueAppender(arr)
		for i, want := range []string{"x", "y", "x"} {
			got, ok := app(nil, i)
			assert.True(t, ok)
			assert.Equal(t, want, string(got))
		}
		_, ok := app(nil, 3)
		assert.False(t, ok)
	})
	for _, dt := range []arrow.DataType{arrow.BinaryTypes.Binary, arrow.ListOf(arrow.PrimitiveTypes.Int32), arrow.StructOf(), arrow.FixedWidthTypes.Time64us} {
		assert.Error(t, checkPartitionType(dt), dt.String())
	}
}

func TestIsPart(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"part-00000.csv", true},
		{"part-123456.csv.gz", true},
		{"part-00000", true},
		{"region=EMEA/part-00001.parquet", true},
		{"a=1/b=__HIVE_DEFAULT_PARTITION__/part-00001.ndjson.zst", true},
		{"part-0000.csv", false},
		{"part-00000-uuid.csv", false},
		{"notes/part-00000.csv", false},
		{"other-00000.csv", false},
		{".part-00000.csv" + TempMarker + "abcd", false},
		{"_SUCCESS", false},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, isPart(tc.name, "part"), tc.name)
	}
}
