package formats

import (
	"encoding/json"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refDecimal formats unscaled*10^-scale with math/big, as an independent reference.
func refDecimal(unscaled *big.Int, scale int32) string {
	if scale <= 0 {
		v := new(big.Int).Mul(unscaled, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-scale)), nil))
		return v.String()
	}
	r := new(big.Rat).SetFrac(unscaled, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil))
	return r.FloatString(int(scale))
}

func TestAppendDecimal128(t *testing.T) {
	t.Parallel()
	cases := []struct {
		unscaled string
		scale    int32
		want     string
	}{
		{"0", 0, "0"},
		{"0", 2, "0.00"},
		{"0", -2, "0"},
		{"5", 3, "0.005"},
		{"-5", 3, "-0.005"},
		{"-5", 2, "-0.05"},
		{"150", 2, "1.50"},
		{"12", -2, "1200"},
		{"-12", -2, "-1200"},
		{"1", 38, "0.00000000000000000000000000000000000001"},
		{max38, 38, "0." + max38},
		{"-" + max38, 0, "-" + max38},
		{"9223372036854775807", 0, "9223372036854775807"},
		{"-9223372036854775808", 0, "-9223372036854775808"},
		{"9223372036854775808", 0, "9223372036854775808"},
		{"18446744073709551616", 0, "18446744073709551616"},
		{"10000000000000000000", 19, "1.0000000000000000000"},
		{"170141183460469231731687303715884105727", 0, "170141183460469231731687303715884105727"}, // 2^127-1
	}
	for _, c := range cases {
		got := string(appendDecimal128(nil, dec128(t, c.unscaled), c.scale))
		assert.Equal(t, c.want, got, "%s scale %d", c.unscaled, c.scale)
	}

	assert.Equal(t, "-170141183460469231731687303715884105728", string(appendDecimal128(nil, decimal128.New(math.MinInt64, 0), 0)), "-2^127")

	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		var n decimal128.Num
		switch i % 3 {
		case 0:
			n = decimal128.New(int64(rng.Uint64()), rng.Uint64())
		case 1:
			n = decimal128.FromI64(int64(rng.Uint64()))
		default:
			n = decimal128.New(int64(rng.IntN(5))-2, rng.Uint64())
		}
		scale := int32(rng.IntN(45)) - 5
		want := refDecimal(n.BigInt(), scale)
		require.Equal(t, want, string(appendDecimal128(nil, n, scale)), "%s scale %d", n.BigInt(), scale)
	}
}

func TestAppendDecimal256(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"0", "1", "-1", "123456789012345678901234567890123456789012345678901234567890", "-99"} {
		for _, scale := range []int32{0, 3, 70, -4} {
			b, _ := new(big.Int).SetString(s, 10)
			assert.Equal(t, refDecimal(b, scale), string(appendDecimal256(nil, dec256(t, s), scale)), "%s scale %d", s, scale)
		}
	}
}

func TestAppendFloat(t *testing.T) {
	t.Parallel()
	cases := []struct {
		f    float64
		bits int
		want string
	}{
		{0, 64, "0"}, {math.Copysign(0, -1), 64, "-0"}, {1, 64, "1"}, {-1.5, 64, "-1.5"},
		{0.1, 64, "0.1"}, {1e20, 64, "100000000000000000000"}, {1e21, 64, "1e+21"}, {1e-6, 64, "0.000001"},
		{1e-7, 64, "1e-7"}, {123456789.125, 64, "123456789.125"}, {math.MaxFloat64, 64, "1.7976931348623157e+308"},
		{5e-324, 64, "5e-324"}, {float64(float32(0.1)), 32, "0.1"}, {float64(float32(16777217)), 32, "16777216"},
		{float64(math.MaxFloat32), 32, "3.4028235e+38"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, string(appendFloat(nil, c.f, c.bits)), "%v", c.f)
	}
	// encoding/json uses the same rule (ES6 number formatting); compare on random values, and
	// check that every value reads back exactly.
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 50000; i++ {
		f64 := math.Float64frombits(rng.Uint64())
		if math.IsNaN(f64) || math.IsInf(f64, 0) {
			continue
		}
		want, err := json.Marshal(f64)
		require.NoError(t, err)
		got := appendFloat(nil, f64, 64)
		require.Equal(t, string(want), string(got))
		back, err := strconv.ParseFloat(string(got), 64)
		require.NoError(t, err)
		require.Equal(t, f64, back)

		f32 := math.Float32frombits(rng.Uint32())
		if math.IsNaN(float64(f32)) || math.IsInf(float64(f32), 0) {
			continue
		}
		want, err = json.Marshal(f32)
		require.NoError(t, err)
		got = appendFloat(nil, float64(f32), 32)
		require.Equal(t, string(want), string(got))
	}
}

func TestAppendDateAndTimestamp(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	minDay := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix() / 86400
	maxDay := time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC).Unix() / 86400
	for _, d := range []int64{minDay, maxDay, 0, -1, 59, 60, 11016, 10957} {
		want := time.Unix(d*86400, 0).UTC().Format(time.DateOnly)
		assert.Equal(t, want, string(appendDate(nil, d)), "day %d", d)
	}
	for i := 0; i < 20000; i++ {
		d := minDay + rng.Int64N(maxDay-minDay+1)
		require.Equal(t, time.Unix(d*86400, 0).UTC().Format(time.DateOnly), string(appendDate(nil, d)), "day %d", d)
	}
	assert.Equal(t, "-0001-12-31", string(appendDate(nil, minDay-367)))
	assert.Equal(t, "10000-01-01", string(appendDate(nil, maxDay+1)))

	ref := func(tm time.Time, utc bool) string {
		s := tm.UTC().Format("2006-01-02T15:04:05")
		switch ns := tm.Nanosecond(); {
		case ns == 0:
		case ns%1000 == 0:
			s += "." + strings.TrimPrefix(strconv.Itoa(1_000_000+ns/1000), "1")
		default:
			s += "." + strings.TrimPrefix(strconv.Itoa(1_000_000_000+ns), "1")
		}
		if utc {
			s += "Z"
		}
		return s
	}
	minSec := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	maxSec := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
	for i := 0; i < 20000; i++ {
		sec := minSec + rng.Int64N(maxSec-minSec)
		us := sec*1e6 + rng.Int64N(1e6)
		if i%4 == 0 {
			us = sec * 1e6
		}
		utc := i%2 == 0
		require.Equal(t, ref(time.UnixMicro(us), utc), string(appendTimestamp(nil, us, arrow.Microsecond, utc)), "us %d", us)
		ms := us / 1000
		require.Equal(t, ref(time.UnixMilli(ms), utc), string(appendTimestamp(nil, ms, arrow.Millisecond, utc)), "ms %d", ms)
		require.Equal(t, ref(time.Unix(sec, 0), utc), string(appendTimestamp(nil, sec, arrow.Second, utc)), "s %d", sec)
		ns := rng.Int64()
		if i%2 == 0 {
			ns = -ns
		}
		require.Equal(t, ref(time.Unix(0, ns), utc), string(appendTimestamp(nil, ns, arrow.Nanosecond, utc)), "ns %d", ns)
	}
}

func TestDayCache(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 10))
	var cache dayCache
	v := int64(1_600_000_000_000_000)
	for i := 0; i < 20000; i++ {
		v += rng.Int64N(4 * 3600 * 1e6) // often the same day, sometimes the next
		if i%1000 == 0 {
			v = -v // and jumps
		}
		require.Equal(t, string(appendTimestamp(nil, v, arrow.Microsecond, true)),
			string(appendTimestampCached(nil, v, arrow.Microsecond, true, &cache)), "%d", v)
		d := v / 86_400_000_000
		require.Equal(t, string(appendDate(nil, d)), string(cache.appendDate(nil, d)))
	}
}

func TestAppendTimeOfDay(t *testing.T) {
	assert.Equal(t, "00:00:00", string(appendTimeOfDay(nil, 0, arrow.Second)))
	assert.Equal(t, "23:59:59.999000", string(appendTimeOfDay(nil, 86399999, arrow.Millisecond)))
	assert.Equal(t, "12:00:00.000000001", string(appendTimeOfDay(nil, 12*3600*1e9+1, arrow.Nanosecond)))
	assert.Equal(t, "86400", string(appendTimeOfDay(nil, 86400, arrow.Second)), "out of range stays a number")
}

func TestAppendJSONString(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"":             `""`,
		"plain":        `"plain"`,
		`a"b\c`:        `"a\"b\\c"`,
		"\n\r\t\b\f":   `"\n\r\t\b\f"`,
		"\x00\x1f\x7f": `"\u0000\u001f` + "\x7f" + `"`,
		"<&> ü 😀":      `"<&> ü 😀"`,
		"\u2028\u2029": "\"\u2028\u2029\"",
	}
	for in, want := range cases {
		assert.Equal(t, want, string(appendJSONString(nil, []byte(in))), "%q", in)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < 20000; i++ {
		b := make([]byte, rng.IntN(12))
		for j := range b {
			b[j] = byte(rng.IntN(256))
			if i%2 == 0 {
				b[j] &= 0x7f
			}
		}
		out := appendJSONString(nil, b)
		require.True(t, utf8.Valid(out))
		var s string
		require.NoError(t, json.Unmarshal(out, &s), "%q", out)
		if utf8.Valid(b) {
			require.Equal(t, string(b), s)
		} else {
			// one U+FFFD per invalid byte, like encoding/json
			wj, _ := json.Marshal(string(b))
			var ws string
			require.NoError(t, json.Unmarshal(wj, &ws))
			require.Equal(t, ws, s)
		}
	}
}
