package predicate

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

// filterRecord has 5 rows; row 4 is null in every column but "n".
func filterRecord(t testing.TB, mem memory.Allocator) arrow.Record {
	t.Helper()
	inner := arrow.StructOf(arrow.Field{Name: "V", Type: arrow.PrimitiveTypes.Int32, Nullable: true})
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "i8", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
		{Name: "i16", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
		{Name: "I32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "i64", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "u8", Type: arrow.PrimitiveTypes.Uint8, Nullable: true},
		{Name: "f32", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "f64", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "ls", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		{Name: "bin", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "d32", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "d64", Type: arrow.FixedWidthTypes.Date64, Nullable: true},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "tsns", Type: &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "tsms", Type: &arrow.TimestampType{Unit: arrow.Millisecond}, Nullable: true},
		{Name: "tss", Type: &arrow.TimestampType{Unit: arrow.Second, TimeZone: "UTC"}, Nullable: true},
		{Name: "dec", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}, Nullable: true},
		{Name: "st", Type: inner, Nullable: true},
		{Name: "n", Type: arrow.Null, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, sc)
	defer b.Release()
	valid := []bool{true, true, true, true, false}
	b.Field(0).(*array.Int8Builder).AppendValues([]int8{-128, 0, 1, 127, 0}, valid)
	b.Field(1).(*array.Int16Builder).AppendValues([]int16{-5, 0, 1, 300, 0}, valid)
	b.Field(2).(*array.Int32Builder).AppendValues([]int32{-5, 0, 1, 70000, 0}, valid)
	b.Field(3).(*array.Int64Builder).AppendValues([]int64{math.MinInt64, 0, 1, math.MaxInt64, 0}, valid)
	b.Field(4).(*array.Uint8Builder).AppendValues([]uint8{0, 1, 2, 255, 0}, valid)
	b.Field(5).(*array.Float32Builder).AppendValues([]float32{0.1, float32(math.NaN()), -1, float32(math.Inf(1)), 0}, valid)
	b.Field(6).(*array.Float64Builder).AppendValues([]float64{0.1, math.NaN(), math.Copysign(0, -1), 2.5, 0}, valid)
	b.Field(7).(*array.StringBuilder).AppendValues([]string{"", "a", "ab", "é", ""}, valid)
	b.Field(8).(*array.LargeStringBuilder).AppendValues([]string{"", "a", "ab", "é", ""}, valid)
	b.Field(9).(*array.BinaryBuilder).AppendValues([][]byte{{}, {0}, {1}, {0xff}, nil}, valid)
	b.Field(10).(*array.BooleanBuilder).AppendValues([]bool{true, false, true, false, false}, valid)
	b.Field(11).(*array.Date32Builder).AppendValues([]arrow.Date32{-1, 0, 18628, 18629, 0}, valid)
	b.Field(12).(*array.Date64Builder).AppendValues([]arrow.Date64{-86_400_000, 0, 18628 * 86_400_000, 18629 * 86_400_000, 0}, valid)
	// 2021-01-01T00:00:00Z = 1609459200 s
	const s0 = int64(1609459200)
	b.Field(13).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{-1, 0, arrow.Timestamp(s0 * 1e6), arrow.Timestamp(s0*1e6 + 1), 0}, valid)
	b.Field(14).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{-1, 0, arrow.Timestamp(s0 * 1e9), arrow.Timestamp(s0*1e9 + 1), 0}, valid)
	b.Field(15).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{-1, 0, arrow.Timestamp(s0 * 1e3), arrow.Timestamp(s0*1e3 + 1), 0}, valid)
	b.Field(16).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{-1, 0, arrow.Timestamp(s0), arrow.Timestamp(s0 + 1), 0}, valid)
	b.Field(17).(*array.Decimal128Builder).AppendValues([]decimal128.Num{
		decimal128.FromI64(-100), decimal128.FromI64(0), decimal128.FromI64(100), decimal128.FromI64(101), {}}, valid)
	b.Field(18).AppendNulls(5) // replaced below
	b.Field(19).(*array.NullBuilder).AppendEmptyValues(5)
	rec := b.NewRecord()
	defer rec.Release()

	// A struct whose child holds a value (1) under the null parent of row 2.
	vb := array.NewInt32Builder(mem)
	defer vb.Release()
	vb.AppendValues([]int32{1, 0, 1, 2, 1}, []bool{true, false, true, true, true})
	child := vb.NewArray()
	defer child.Release()
	parent := memory.NewResizableBuffer(mem)
	defer parent.Release()
	parent.Resize(1)
	parent.Bytes()[0] = 0b11011
	st, err := array.NewStructArrayWithNulls([]arrow.Array{child}, []string{"V"}, parent, 1, 0)
	require.NoError(t, err)
	defer st.Release()
	out, err := rec.SetColumn(18, st)
	require.NoError(t, err)
	return out
}

func TestEval(t *testing.T) {
	rec := filterRecord(t, memory.DefaultAllocator)
	defer rec.Release()
	tests := []struct {
		expr string
		want []int // matching rows
	}{
		{"i8 = -128", []int{0}},
		{"i8 > 0", []int{2, 3}},
		{"i8 < 1000", []int{0, 1, 2, 3}},
		{"i8 > -1000", []int{0, 1, 2, 3}},
		{"i8 = 1000", nil},
		{"i8 != 0", []int{0, 2, 3}},
		{"i8 <= 0.5", []int{0, 1}},
		{"i8 >= 0.5", []int{2, 3}},
		{"i8 = 0.5", nil},
		{"i8 != 0.5", []int{0, 1, 2, 3}},
		{"i16 >= 300", []int{3}},
		{"i32 >= 70000", []int{3}},
		{"i64 = 9223372036854775807", []int{3}},
		{"i64 < 99999999999999999999", []int{0, 1, 2, 3}},
		{"i64 > -99999999999999999999", []int{0, 1, 2, 3}},
		{"u8 > 254", []int{3}},
		{"f32 = 0.1", []int{0}},
		{"f32 > 0", []int{0, 3}},
		{"f32 = 'Infinity'", []int{3}},
		{"f32 = 'NaN'", nil},
		{"f32 != 'NaN'", []int{0, 1, 2, 3}},
		{"NOT f32 < 0", []int{0, 1, 3}},
		{"f64 = 0", []int{2}},
		{"f64 >= 0.1", []int{0, 3}},
		{"f64 < 1e10", []int{0, 2, 3}},
		{"s = ''", []int{0}},
		{"s < 'b'", []int{0, 1, 2}},
		{"s > 'ab'", []int{3}},
		{"S != 'a'", []int{0, 2, 3}},
		{"ls >= 'a'", []int{1, 2, 3}},
		{"bin > ''", []int{1, 2, 3}},
		{"b = true", []int{0, 2}},
		{"b < true", []int{1, 3}},
		{"b != false", []int{0, 2}},
		{"d32 = '2021-01-01'", []int{2}},
		{"d32 < DATE '1970-01-01'", []int{0}},
		{"d64 >= '2021-01-02'", []int{3}},
		{"d64 = '1969-12-31'", []int{0}},
		{"ts = TIMESTAMP '2021-01-01 00:00:00'", []int{2}},
		{"ts > '2021-01-01T00:00:00Z'", []int{3}},
		{"ts = '2021-01-01 01:00:00+01:00'", []int{2}},
		{"ts < '1970-01-01'", []int{0}},
		{"ts = '1969-12-31 23:59:59.999999'", []int{0}},
		{"tsns = '2021-01-01 00:00:00'", []int{2}},
		{"tsns > '2021-01-01 00:00:00'", []int{3}},
		{"tsns < '1970-01-01'", []int{0}},
		{"tsns < '9999-01-01'", []int{0, 1, 2, 3}},
		{"tsms = '2021-01-01 00:00:00.001'", []int{3}},
		{"tsms > '2021-01-01 00:00:00.0005'", []int{3}},
		{"tsms <= '2021-01-01 00:00:00.0005'", []int{0, 1, 2}},
		{"tsms = '2021-01-01 00:00:00.0005'", nil},
		{"tss >= '2021-01-01 00:00:00.5'", []int{3}},
		{"tss < '1970-01-01 00:00:00.5'", []int{0, 1}},
		{"dec = 1", []int{2}},
		{"dec = 1.00", []int{2}},
		{"dec > 1.005", []int{3}},
		{"dec >= 1.005", []int{3}},
		{"dec < 1.005", []int{0, 1, 2}},
		{"dec = 1.005", nil},
		{"dec < -0.999", []int{0}},
		{"dec > -1e40", []int{0, 1, 2, 3}},
		{"dec < 1e40", []int{0, 1, 2, 3}},
		{"dec = '1.01'", []int{3}},
		{"st.v = 1", []int{0, 4}},
		{"st.v > 1", []int{3}},
		{"st.v IS NULL", []int{1, 2}},
		{"st IS NULL", []int{2}},
		{"n IS NULL", []int{0, 1, 2, 3, 4}},
		{"n = 1", nil},
		{"NOT n = 1", nil},
		// SQL three-valued logic over the null row 4.
		{"i8 IS NULL", []int{4}},
		{"i8 IS NOT NULL", []int{0, 1, 2, 3}},
		{"NOT i8 = 0", []int{0, 2, 3}},
		{"NOT (i8 = 0 OR i8 = 1)", []int{0, 3}},
		{"i8 = 0 OR i8 IS NULL", []int{1, 4}},
		{"NOT (i8 = 0 AND s = 'x')", []int{0, 1, 2, 3}},
		{"NOT (i8 = 0 AND n = 1)", []int{0, 2, 3}}, // null AND false is false
		{"i8 = 1 OR n = 1", []int{2}},
		{"NOT (i8 = 1 OR n = 1)", nil}, // NOT (false OR null) is null
		{"i8 IN (1, 127) AND s != 'é'", []int{2}},
		{"i8 NOT IN (1, 127)", []int{0, 1}},
		// BETWEEN (bounds included), bare boolean columns, LIKE; nulls match none of them.
		{"i8 BETWEEN 0 AND 1", []int{1, 2}},
		{"i8 NOT BETWEEN 0 AND 1", []int{0, 3}},
		{"i8 BETWEEN 1 AND 0", nil},
		{"s BETWEEN 'a' AND 'ab' AND i8 > 0", []int{2}},
		{"d32 BETWEEN DATE '2021-01-01' AND DATE '2021-01-02'", []int{2, 3}},
		{"b", []int{0, 2}},
		{"NOT b", []int{1, 3}},
		{"b AND i8 > 0", []int{2}},
		{"(b) OR i8 = 127", []int{0, 2, 3}},
		{"s LIKE 'a%'", []int{1, 2}},
		{"s LIKE '_'", []int{1, 3}}, // é is one character
		{"s LIKE '%'", []int{0, 1, 2, 3}},
		{"s LIKE ''", []int{0}},
		{"s NOT LIKE 'a%'", []int{0, 3}},
		{"ls LIKE '%b'", []int{2}},
		{"s LIKE 'A%'", nil}, // case-sensitive
		{"n LIKE '%'", nil},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			mask, err := Eval(mustParse(t, tc.expr), rec)
			require.NoError(t, err)
			var got []int
			for i, m := range mask {
				if m {
					got = append(got, i)
				}
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestEvalErrors(t *testing.T) {
	rec := filterRecord(t, memory.DefaultAllocator)
	defer rec.Release()
	tests := []struct{ expr, msg string }{
		{"nope = 1", `no column "nope" in the data; it has: i8, i16`},
		{"st.nope = 1", `no column "st.nope"`},
		{"i8 = 'x'", "not a number"},
		{"f64 = 'x'", "literal"},
		{"b = 'maybe'", "not true or false"},
		{"d32 = 'x'", "date"},
		{"ts = 'x'", "timestamp"},
		{"tsms = '2021-01-01 00:00:00+01:00'", "time zone"},
		{"dec = 'x'", "not a number"},
		{"st = 1", "cannot be compared"},
		{"i8 LIKE '1'", "not a string"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := Eval(mustParse(t, tc.expr), rec)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
	_, err := Eval(Compare(OpEqual, Column("i8", ""), Column("i16", "")), rec)
	require.ErrorContains(t, err, "comparing columns")
	_, err = Eval(nil, rec)
	require.Error(t, err)
}

func TestLikePattern(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		match   []string
		miss    []string
	}{
		{"a%", []string{"a", "abc", "a\nb"}, []string{"ba", ""}},
		{"%o%", []string{"Ohio", "o"}, []string{"OHIO", ""}},
		{"_b_", []string{"abc", "éb€"}, []string{"ab", "abcd"}},
		{`100\%`, []string{"100%"}, []string{"1000", "100"}},
		{`a\_b`, []string{"a_b"}, []string{"axb"}},
		{`\\`, []string{`\`}, []string{""}},
		{"a.b*", []string{"a.b*"}, []string{"axbb"}}, // regexp characters are literal
	} {
		re, err := likePattern(tc.pattern)
		require.NoError(t, err, tc.pattern)
		for _, s := range tc.match {
			assert.True(t, re.MatchString(s), "%q LIKE %q", s, tc.pattern)
		}
		for _, s := range tc.miss {
			assert.False(t, re.MatchString(s), "%q NOT LIKE %q", s, tc.pattern)
		}
	}
	_, err := likePattern(`a\`)
	assert.ErrorContains(t, err, "lone")
}

func TestFilter(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := filterRecord(t, mem)
	defer rec.Release()

	run := func(expr string) arrow.Record {
		t.Helper()
		out, err := FilterWith(mem, mustParse(t, expr), rec)
		require.NoError(t, err)
		return out
	}

	all := run("n IS NULL")
	assert.Equal(t, int64(5), all.NumRows())
	all.Release()

	none := run("i8 = 42")
	assert.Equal(t, int64(0), none.NumRows())
	assert.True(t, none.Schema().Equal(rec.Schema()))
	none.Release()

	one := run("i8 >= 0 AND i8 <= 1")
	assert.Equal(t, int64(2), one.NumRows())
	assert.Equal(t, int8(0), one.Column(0).(*array.Int8).Value(0))
	one.Release()

	// Rows 0, 2 and 4: three runs, concatenated.
	many := run("i8 IN (-128, 1) OR i8 IS NULL")
	require.Equal(t, int64(3), many.NumRows())
	assert.Equal(t, []int8{-128, 1}, many.Column(0).(*array.Int8).Int8Values()[:2])
	assert.True(t, many.Column(0).IsNull(2))
	assert.Equal(t, "ab", many.Column(7).(*array.String).Value(1))
	st := many.Column(18).(*array.Struct)
	assert.True(t, st.IsValid(0))
	assert.True(t, st.IsNull(1))
	assert.Equal(t, 3, many.Column(19).Len())
	many.Release()

	// The default-allocator variant gives the same rows.
	e := mustParse(t, "s > 'a'")
	out, err := Filter(e, rec)
	require.NoError(t, err)
	assert.Equal(t, int64(2), out.NumRows())
	out.Release()
}

func BenchmarkEvalInt64(b *testing.B) {
	const n = 1 << 16
	bld := array.NewInt64Builder(memory.DefaultAllocator)
	for i := 0; i < n; i++ {
		bld.Append(int64(i))
	}
	arr := bld.NewArray()
	rec := array.NewRecord(arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil), []arrow.Array{arr}, n)
	e, _ := Parse("x > 100 AND x < 50000")
	b.SetBytes(n * 8)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Eval(e, rec); err != nil {
			b.Fatal(err)
		}
	}
}
