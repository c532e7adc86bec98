package formats

import (
	"math"
	"math/big"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/apache/arrow/go/v17/arrow/decimal256"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"
)

// Tests that set package variables (the parallel thresholds, maxFormatWorkers, the parquet*
// knobs) or count allocations run on their own; the others call t.Parallel and run together
// after them, when those variables hold their defaults again.

// checkedMem returns an allocator whose leaks fail the test.
func checkedMem(t testing.TB) *memory.CheckedAllocator {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

func dec128(t testing.TB, s string) decimal128.Num {
	b, ok := new(big.Int).SetString(s, 10)
	require.True(t, ok, s)
	return decimal128.FromBigInt(b)
}

func dec256(t testing.TB, s string) decimal256.Num {
	b, ok := new(big.Int).SetString(s, 10)
	require.True(t, ok, s)
	return decimal256.FromBigInt(b)
}

var (
	tsUTC = func(u arrow.TimeUnit) arrow.DataType { return &arrow.TimestampType{Unit: u, TimeZone: "UTC"} }
	max38 = "99999999999999999999999999999999999999"
)

// allTypesSchema covers every type the text encoders write.
func allTypesSchema() *arrow.Schema {
	pointType := arrow.StructOf(
		arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		arrow.Field{Name: "label", Type: arrow.BinaryTypes.String, Nullable: true},
	)
	return arrow.NewSchema([]arrow.Field{
		{Name: "i8", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
		{Name: "i16", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
		{Name: "i32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "i64", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "u8", Type: arrow.PrimitiveTypes.Uint8, Nullable: true},
		{Name: "u16", Type: arrow.PrimitiveTypes.Uint16, Nullable: true},
		{Name: "u32", Type: arrow.PrimitiveTypes.Uint32, Nullable: true},
		{Name: "u64", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
		{Name: "f32", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "f64", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "f64b", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "flag", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "text", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "text, \"2\"", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "bin", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "d32", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "d64", Type: arrow.FixedWidthTypes.Date64, Nullable: true},
		{Name: "ts_s", Type: tsUTC(arrow.Second), Nullable: true},
		{Name: "ts_ms", Type: tsUTC(arrow.Millisecond), Nullable: true},
		{Name: "ts_us", Type: tsUTC(arrow.Microsecond), Nullable: true},
		{Name: "ts_ns", Type: tsUTC(arrow.Nanosecond), Nullable: true},
		{Name: "ts_ny", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "America/New_York"}, Nullable: true},
		{Name: "ts_ntz", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
		{Name: "t64", Type: arrow.FixedWidthTypes.Time64us, Nullable: true},
		{Name: "dec_10_2", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}, Nullable: true},
		{Name: "dec_38_0", Type: &arrow.Decimal128Type{Precision: 38, Scale: 0}, Nullable: true},
		{Name: "dec_38_38", Type: &arrow.Decimal128Type{Precision: 38, Scale: 38}, Nullable: true},
		{Name: "dec_5_m2", Type: &arrow.Decimal128Type{Precision: 5, Scale: -2}, Nullable: true},
		{Name: "dec256", Type: &arrow.Decimal256Type{Precision: 60, Scale: 5}, Nullable: true},
		{Name: "st", Type: arrow.StructOf(
			arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
			arrow.Field{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true},
			arrow.Field{Name: "when", Type: tsUTC(arrow.Microsecond), Nullable: true},
		), Nullable: true},
		{Name: "lst", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64), Nullable: true},
		{Name: "points", Type: arrow.ListOf(pointType), Nullable: true},
		{Name: "tags", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int32), Nullable: true},
		{Name: "codes", Type: arrow.MapOf(arrow.PrimitiveTypes.Int32, arrow.BinaryTypes.String), Nullable: true},
		{Name: "dict", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}, Nullable: true},
		{Name: "nothing", Type: arrow.Null, Nullable: true},
	}, nil)
}

// allTypesRecord returns a 5-row record: typical values, minimums, maximums, tricky values and a
// row of nulls.
func allTypesRecord(t testing.TB, mem memory.Allocator) arrow.Record {
	schema := allTypesSchema()
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	v5 := []bool{true, true, true, true, false}
	col := func(name string) array.Builder {
		idx := schema.FieldIndices(name)
		require.Len(t, idx, 1, name)
		return b.Field(idx[0])
	}
	col("i8").(*array.Int8Builder).AppendValues([]int8{1, math.MinInt8, math.MaxInt8, 0, 0}, v5)
	col("i16").(*array.Int16Builder).AppendValues([]int16{2, math.MinInt16, math.MaxInt16, 0, 0}, v5)
	col("i32").(*array.Int32Builder).AppendValues([]int32{3, math.MinInt32, math.MaxInt32, 0, 0}, v5)
	col("i64").(*array.Int64Builder).AppendValues([]int64{4, math.MinInt64, math.MaxInt64, 1<<53 + 1, 0}, v5)
	col("u8").(*array.Uint8Builder).AppendValues([]uint8{5, 0, math.MaxUint8, 1, 0}, v5)
	col("u16").(*array.Uint16Builder).AppendValues([]uint16{6, 0, math.MaxUint16, 1, 0}, v5)
	col("u32").(*array.Uint32Builder).AppendValues([]uint32{7, 0, math.MaxUint32, 1, 0}, v5)
	col("u64").(*array.Uint64Builder).AppendValues([]uint64{8, 0, math.MaxUint64, 1, 0}, v5)
	col("f32").(*array.Float32Builder).AppendValues([]float32{0.1, float32(math.Copysign(0, -1)), math.MaxFloat32, float32(math.NaN()), 0}, v5)
	col("f64").(*array.Float64Builder).AppendValues([]float64{0.1, math.Copysign(0, -1), 1e21, math.NaN(), 0}, v5)
	col("f64b").(*array.Float64Builder).AppendValues([]float64{123456789.125, 1e-7, math.Inf(1), math.Inf(-1), 0}, v5)
	col("flag").(*array.BooleanBuilder).AppendValues([]bool{true, false, true, false, false}, v5)
	col("text").(*array.StringBuilder).AppendValues([]string{
		"plain", "comma, here", `quote " inside`, "line\nbreak\r\nand tab\t ünïcödé 日本 😀", ""}, v5)
	col("text, \"2\"").(*array.StringBuilder).AppendValues([]string{
		"", " lead", "trail ", "ctl\x01\x1f\\back\u2028", ""}, v5)
	col("bin").(*array.BinaryBuilder).AppendValues([][]byte{{0, 1, 2, 0xff}, {}, []byte("hello"), {0xfb, 0xff, 0xbf}, nil}, v5)
	col("d32").(*array.Date32Builder).AppendValues([]arrow.Date32{18628, -719162, 2932896, 0, 0}, v5)
	col("d64").(*array.Date64Builder).AppendValues([]arrow.Date64{1609459200000, -62135596800000, 253402214400000, -86400000, 0}, v5)
	col("ts_s").(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{1609459200, -62135596800, 253402300799, -1, 0}, v5)
	col("ts_ms").(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{1609459200123, -62135596800000, 253402300799999, -1, 0}, v5)
	col("ts_us").(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{1609459200123456, -62135596800000000, 253402300799999999, -1, 0}, v5)
	col("ts_ns").(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{1609459200123456789, 1609459200123456000, math.MaxInt64, -1, 0}, v5)
	col("ts_ny").(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{1609459200000000, 1609477200000001, 0, -1, 0}, v5)
	col("ts_ntz").(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{1609459200123456, 1609459200000000, 0, -1, 0}, v5)
	col("t64").(*array.Time64Builder).AppendValues([]arrow.Time64{45296789012, 0, 86399999999, 1, 0}, v5)
	col("dec_10_2").(*array.Decimal128Builder).AppendValues([]decimal128.Num{
		decimal128.FromI64(12345), decimal128.FromI64(-5), decimal128.FromI64(9999999999), decimal128.FromI64(0), {}}, v5)
	col("dec_38_0").(*array.Decimal128Builder).AppendValues([]decimal128.Num{
		decimal128.FromI64(1), dec128(t, "-"+max38), dec128(t, max38), dec128(t, "-18446744073709551616"), {}}, v5)
	col("dec_38_38").(*array.Decimal128Builder).AppendValues([]decimal128.Num{
		decimal128.FromI64(1), dec128(t, "-"+max38), dec128(t, max38), decimal128.FromI64(0), {}}, v5)
	col("dec_5_m2").(*array.Decimal128Builder).AppendValues([]decimal128.Num{
		decimal128.FromI64(12), decimal128.FromI64(-99999), decimal128.FromI64(99999), decimal128.FromI64(0), {}}, v5)
	col("dec256").(*array.Decimal256Builder).AppendValues([]decimal256.Num{
		decimal256.FromI64(123), dec256(t, "-123456789012345678901234567890123456789012345678901234567890"),
		dec256(t, "999999999999999999999999999999999999999999999999999999999999"), decimal256.FromI64(0), {}}, v5)

	st := col("st").(*array.StructBuilder)
	sa := st.FieldBuilder(0).(*array.Int32Builder)
	sb := st.FieldBuilder(1).(*array.StringBuilder)
	sw := st.FieldBuilder(2).(*array.TimestampBuilder)
	st.Append(true)
	sa.Append(1)
	sb.Append("x")
	sw.Append(1609459200000000)
	st.Append(true)
	sa.AppendNull()
	sb.AppendNull()
	sw.AppendNull()
	st.Append(true)
	sa.Append(-3)
	sb.Append("q\"uote\n")
	sw.Append(1)
	st.Append(true)
	sa.Append(0)
	sb.Append("")
	sw.Append(0)
	st.AppendNull()

	lst := col("lst").(*array.ListBuilder)
	lv := lst.ValueBuilder().(*array.Int64Builder)
	lst.Append(true)
	lv.AppendValues([]int64{1, 2, 3}, nil)
	lst.Append(true) // empty
	lst.Append(true)
	lv.AppendNull()
	lv.Append(math.MaxInt64)
	lst.Append(true)
	lv.Append(0)
	lst.AppendNull()

	pts := col("points").(*array.ListBuilder)
	pv := pts.ValueBuilder().(*array.StructBuilder)
	px := pv.FieldBuilder(0).(*array.Float64Builder)
	pl := pv.FieldBuilder(1).(*array.StringBuilder)
	pts.Append(true)
	pv.Append(true)
	px.Append(1.5)
	pl.Append("a")
	pv.Append(true)
	px.Append(math.NaN())
	pl.AppendNull()
	pts.Append(true)
	pv.AppendNull()
	pts.Append(true)
	pts.Append(true)
	pv.Append(true)
	px.Append(math.Inf(-1))
	pl.Append("日本, \"x\"")
	pts.AppendNull()

	tags := col("tags").(*array.MapBuilder)
	tk := tags.KeyBuilder().(*array.StringBuilder)
	tv := tags.ItemBuilder().(*array.Int32Builder)
	tags.Append(true)
	tk.Append("a")
	tv.Append(1)
	tk.Append("b")
	tv.AppendNull()
	tags.Append(true) // empty
	tags.Append(true)
	tk.Append("quote\"key")
	tv.Append(-1)
	tags.AppendNull()
	tags.AppendNull()

	codes := col("codes").(*array.MapBuilder)
	ck := codes.KeyBuilder().(*array.Int32Builder)
	cv := codes.ItemBuilder().(*array.StringBuilder)
	codes.Append(true)
	ck.Append(1)
	cv.Append("one")
	ck.Append(2)
	cv.AppendNull()
	codes.Append(true)
	codes.AppendNull()
	codes.Append(true)
	ck.Append(-7)
	cv.Append("")
	codes.AppendNull()

	dict := col("dict").(*array.BinaryDictionaryBuilder)
	for _, s := range []string{"x", "y", "x", "z"} {
		require.NoError(t, dict.AppendString(s))
	}
	dict.AppendNull()

	col("nothing").(*array.NullBuilder).AppendNulls(5)
	return b.NewRecord()
}
