package formats

import (
	"io"
	"strconv"
	"sync"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	benchRows  = 1_000_000
	benchBatch = 64 << 10
)

var benchSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "amount", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "ts", Type: tsUTC(arrow.Microsecond), Nullable: true},
	{Name: "price", Type: &arrow.Decimal128Type{Precision: 18, Scale: 2}, Nullable: true},
	{Name: "flag", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
}, nil)

var benchOnce = sync.OnceValue(func() []arrow.Record {
	var recs []arrow.Record
	words := []string{"alpha", "beta", "gamma delta", "epsilon, zeta", "ünïcödé", "a somewhat longer product name"}
	for start := 0; start < benchRows; start += benchBatch {
		n := min(benchBatch, benchRows-start)
		b := array.NewRecordBuilder(memory.DefaultAllocator, benchSchema)
		b.Reserve(n)
		for i := start; i < start+n; i++ {
			b.Field(0).(*array.Int64Builder).Append(int64(i) * 7919)
			valid := i%10 != 7
			if !valid {
				for f := 1; f < 7; f++ {
					b.Field(f).AppendNull()
				}
				continue
			}
			b.Field(1).(*array.Float64Builder).Append(float64(i)*0.37 + 0.01)
			b.Field(2).(*array.StringBuilder).Append(words[i%len(words)])
			b.Field(3).(*array.Date32Builder).Append(arrow.Date32(18000 + i%5000))
			b.Field(4).(*array.TimestampBuilder).Append(arrow.Timestamp(1_600_000_000_000_000 + int64(i)*1_234_567))
			b.Field(5).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(i)*101 - 50000))
			b.Field(6).(*array.BooleanBuilder).Append(i%3 == 0)
		}
		recs = append(recs, b.NewRecord())
		b.Release()
	}
	return recs
})

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func benchmarkEncode(b *testing.B, opts Options) {
	recs := benchOnce()
	b.ReportAllocs()
	b.ResetTimer()
	var out int64
	for i := 0; i < b.N; i++ {
		cw := &countWriter{}
		enc, err := New(cw, benchSchema, opts)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			if err := enc.Write(r); err != nil {
				b.Fatal(err)
			}
		}
		if err := enc.Close(); err != nil {
			b.Fatal(err)
		}
		out = cw.n
	}
	b.SetBytes(out) // MB/s of output written
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// The benchmarks encode 1M rows of long, double, string, date, timestamp, decimal and bool
// columns with 10% nulls, in 64Ki-row records.

func BenchmarkCSV(b *testing.B) {
	for _, c := range []Compression{None, Gzip, Zstd} {
		b.Run(string(c), func(b *testing.B) { benchmarkEncode(b, Options{Format: CSV, Compression: c}) })
	}
}

func BenchmarkNDJSON(b *testing.B) {
	for _, c := range []Compression{None, Zstd} {
		b.Run(string(c), func(b *testing.B) { benchmarkEncode(b, Options{Format: NDJSON, Compression: c}) })
	}
}

func BenchmarkJSON(b *testing.B) { benchmarkEncode(b, Options{Format: JSON}) }

func BenchmarkParquet(b *testing.B) {
	for _, c := range []Compression{Snappy, Zstd, None} {
		b.Run(string(c), func(b *testing.B) { benchmarkEncode(b, Options{Format: Parquet, Compression: c}) })
	}
}

// TestNoPerValueAllocations checks that the text encoders do not allocate per value: writing a
// record of 2000 rows (nested columns included) costs a handful of allocations at most.
func TestNoPerValueAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation count")
	}
	mem := checkedMem(t)
	rec := deltaRecord(t, mem, 2000)
	defer rec.Release()
	for _, f := range []Format{CSV, NDJSON, JSON} {
		enc, err := New(io.Discard, rec.Schema(), Options{Format: f})
		require.NoError(t, err)
		allocs := testing.AllocsPerRun(3, func() {
			if err := enc.Write(rec); err != nil {
				t.Fatal(err)
			}
		})
		assert.LessOrEqual(t, allocs, 5.0, "%s allocations per 2000-row Write", f)
		require.NoError(t, enc.Close())
	}
}

// BenchmarkStringDictCollect collects 64Ki strings of 1,000 distinct values (10% nulls) into a
// string column's dictionary, a row group at a time, as the Parquet writer does.
func BenchmarkStringDictCollect(b *testing.B) {
	bld := array.NewStringBuilder(memory.DefaultAllocator)
	for r := range benchBatch {
		if r%10 == 7 {
			bld.AppendNull()
			continue
		}
		bld.Append("value-" + strconv.Itoa((r*7919)%1000*7919))
	}
	arr := bld.NewArray()
	defer arr.Release()
	bld.Release()
	d := newStringDict(arrow.BinaryTypes.String)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		d.collect(arr, 0, arr.Len(), false)
		d.idx, d.def, d.nulls = d.idx[:0], d.def[:0], 0
		d.reset()
	}
	b.ReportMetric(float64(b.N)*float64(arr.Len())/b.Elapsed().Seconds(), "values/s")
}
