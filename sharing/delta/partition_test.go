package delta

import (
	"math"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func prim(t testing.TB, name string) DataType {
	t.Helper()
	dt, err := ParsePrimitive(name)
	require.NoError(t, err)
	return dt
}

func micros(s string) arrow.Timestamp {
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return arrow.Timestamp(tm.UnixMicro())
}

func dec(t testing.TB, unscaled string) decimal128.Num {
	n, err := decimal128.FromString(unscaled, 38, 0)
	require.NoError(t, err)
	return n
}

func TestParsePartitionValue(t *testing.T) {
	tests := []struct {
		typ  string
		in   string
		want any
	}{
		{"string", "a b/c", "a b/c"},
		{"string", "  ", "  "},
		{"binary", "\x01\x02", []byte{1, 2}},
		{"boolean", "true", true},
		{"boolean", "FALSE", false},
		{"byte", "-128", int8(-128)},
		{"byte", "127", int8(127)},
		{"short", "-32768", int16(-32768)},
		{"integer", "2147483647", int32(2147483647)},
		{"long", "-9223372036854775808", int64(math.MinInt64)},
		{"long", "+42", int64(42)},
		{"float", "1.5", float32(1.5)},
		{"float", "-Infinity", float32(math.Inf(-1))},
		{"double", "1.0E10", 1e10},
		{"double", "Infinity", math.Inf(1)},
		{"double", "-0.0", math.Copysign(0, -1)},
		{"date", "2021-01-31", arrow.Date32(18658)},
		{"date", "1970-01-01", arrow.Date32(0)},
		{"date", "1969-12-31", arrow.Date32(-1)},
		{"date", "0001-01-01", arrow.Date32(-719162)},
		{"date", "2020-2-29", arrow.Date32(18321)},
		{"timestamp", "2021-01-01 00:00:00", micros("2021-01-01T00:00:00Z")},
		{"timestamp", "2021-01-01 10:20:30.123456", micros("2021-01-01T10:20:30.123456Z")},
		{"timestamp", "2021-01-01 10:20:30.1", micros("2021-01-01T10:20:30.1Z")},
		{"timestamp", "2021-01-01T00:00:00.000000Z", micros("2021-01-01T00:00:00Z")},
		{"timestamp", "2021-01-01T02:00:00+02:00", micros("2021-01-01T00:00:00Z")},
		{"timestamp", "2020-12-31T19:00:00-0500", micros("2021-01-01T00:00:00Z")},
		{"timestamp", "1969-12-31 23:59:59.999999", arrow.Timestamp(-1)},
		{"timestamp", "2021-01-01 00:00:00.123456789", micros("2021-01-01T00:00:00.123456Z")},
		{"timestamp", "2021-01-01", micros("2021-01-01T00:00:00Z")},
		{"timestamp_ntz", "2021-01-01 12:00:00", micros("2021-01-01T12:00:00Z")},
		{"timestamp_ntz", "2021-01-01T12:00:00.5", micros("2021-01-01T12:00:00.5Z")},
		{"decimal(10,2)", "12.34", dec(t, "1234")},
		{"decimal(10,2)", "-0.5", dec(t, "-50")},
		{"decimal(10,2)", "7", dec(t, "700")},
		{"decimal(10,2)", "1.500", dec(t, "150")},
		{"decimal(38,18)", "12.000000000000000000", dec(t, "12000000000000000000")},
		{"decimal(38,0)", "99999999999999999999999999999999999999", dec(t, "99999999999999999999999999999999999999")},
		{"decimal(5,0)", "1.2E+3", dec(t, "1200")},
	}
	for _, tc := range tests {
		t.Run(tc.typ+"/"+tc.in, func(t *testing.T) {
			got, err := ParsePartitionValue(prim(t, tc.typ), tc.in, true)
			require.NoError(t, err)
			if f, ok := tc.want.(float64); ok && f == 0 {
				assert.Equal(t, math.Signbit(f), math.Signbit(got.(float64)))
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParsePartitionValueNulls(t *testing.T) {
	for _, typ := range []string{"string", "binary", "boolean", "byte", "short", "integer", "long", "float", "double", "date", "timestamp", "timestamp_ntz", "decimal(10,2)", "void"} {
		v, err := ParsePartitionValue(prim(t, typ), "", true)
		require.NoError(t, err, typ)
		assert.Nil(t, v, "empty %s is null", typ)
		v, err = ParsePartitionValue(prim(t, typ), "x", false)
		require.NoError(t, err, typ)
		assert.Nil(t, v, "missing %s is null", typ)
	}
	v, err := ParsePartitionValue(prim(t, "void"), "anything", true)
	require.NoError(t, err)
	assert.Nil(t, v)
}

func TestParsePartitionValueErrors(t *testing.T) {
	tests := []struct{ typ, in, msg string }{
		{"boolean", "yes", "true or false"},
		{"byte", "128", "out of range"},
		{"short", "40000", "out of range"},
		{"integer", "2147483648", "out of range"},
		{"long", "9223372036854775808", "out of range"},
		{"long", "1.0", "whole number"},
		{"integer", " 1", "whole number"},
		{"integer", "0x10", "whole number"},
		{"float", "1e39", "out of range"},
		{"double", "abc", "number"},
		{"double", "0x1p3", "decimal number"},
		{"date", "2021-02-30", "no such day"},
		{"date", "2021-13-01", "no such day"},
		{"date", "20210101", "YYYY-MM-DD"},
		{"date", "2021-01-01 00:00:00", "trailing"},
		{"timestamp", "2021-01-01 25:00:00", "out of range"},
		{"timestamp", "2021-01-01 10", "hh:mm"},
		{"timestamp", "2021-01-01 10:00:00 +25:00", "zone"},
		{"timestamp", "2021-01-01 10:00:00 PST", "zone"},
		{"timestamp_ntz", "2021-01-01 10:00:00+01:00", "time zone"},
		{"decimal(10,2)", "1.234", "more than 2 digits"},
		{"decimal(4,2)", "123.4", "does not fit"},
		{"decimal(10,2)", "1,5", "not a decimal"},
		{"decimal(10,2)", "e5", "no digits"},
	}
	for _, tc := range tests {
		t.Run(tc.typ+"/"+tc.in, func(t *testing.T) {
			_, err := ParsePartitionValue(prim(t, tc.typ), tc.in, true)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
			assert.Contains(t, err.Error(), tc.typ, "the error names the type")
			assert.Contains(t, err.Error(), tc.in, "the error names the value")
		})
	}
	nested := &ArrayType{ElementType: prim(t, "string")}
	_, err := ParsePartitionValue(nested, "x", true)
	require.ErrorContains(t, err, "cannot be a partition column type")
}

func FuzzParsePartitionValue(f *testing.F) {
	for _, s := range []string{"", "1", "-128", "2021-01-01", "2021-01-01 00:00:00.123456", "2021-01-01T00:00:00Z",
		"2021-01-01T00:00:00+05:30", "12.345", "1E+3", "NaN", "-Infinity", "true", "+290000-01-01", "9999999999999999999999999"} {
		f.Add(s)
	}
	types := []string{"string", "binary", "boolean", "byte", "short", "integer", "long", "float", "double", "date",
		"timestamp", "timestamp_ntz", "decimal(10,2)", "decimal(38,18)", "decimal(1,0)", "void"}
	f.Fuzz(func(t *testing.T, s string) {
		for _, typ := range types {
			dt, _ := ParsePrimitive(typ)
			v, err := ParsePartitionValue(dt, s, true)
			if err != nil {
				continue
			}
			if v == nil && s != "" && typ != "void" {
				t.Fatalf("%s %q: nil value without error", typ, s)
			}
		}
	})
}
