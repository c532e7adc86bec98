package formats

import (
	"math"
	"math/big"
	"math/bits"
	"strconv"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/apache/arrow/go/v17/arrow/decimal256"
)

// appendFloat appends the shortest text that reads back as f (at bitSize precision), in fixed
// notation for 1e-6 <= |f| < 1e21 and exponent notation otherwise. f must be finite.
func appendFloat(dst []byte, f float64, bitSize int) []byte {
	abs := math.Abs(f)
	if abs == 0 || (abs >= 1e-6 && abs < 1e21) {
		return strconv.AppendFloat(dst, f, 'f', -1, bitSize)
	}
	if bitSize == 32 {
		// Compare in float32 so that values rounding to the limits stay consistent.
		a32 := float32(abs)
		if a32 >= 1e-6 && a32 < 1e21 {
			return strconv.AppendFloat(dst, f, 'f', -1, bitSize)
		}
	}
	n := len(dst)
	dst = strconv.AppendFloat(dst, f, 'e', -1, bitSize)
	// Turn e-07 into e-7 and e+07 into e+7, as JavaScript does.
	if m := len(dst); m-n >= 4 && dst[m-4] == 'e' && dst[m-2] == '0' {
		dst[m-2] = dst[m-1]
		dst = dst[:m-1]
	}
	return dst
}

// appendSpecialFloat appends NaN, Infinity or -Infinity.
func appendSpecialFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case f > 0:
		return append(dst, "Infinity"...)
	default:
		return append(dst, "-Infinity"...)
	}
}

const pow10_19 = 10_000_000_000_000_000_000

// appendDecimal128 appends n with the given scale in exact fixed notation.
func appendDecimal128(dst []byte, n decimal128.Num, scale int32) []byte {
	hi, lo := uint64(n.HighBits()), n.LowBits()
	neg := n.HighBits() < 0
	if neg { // two's complement negation of the 128-bit value
		lo = ^lo + 1
		hi = ^hi
		if lo == 0 {
			hi++
		}
	}
	var buf [48]byte
	var digits []byte
	if hi == 0 {
		digits = strconv.AppendUint(buf[:0], lo, 10)
	} else {
		// Split into base-1e19 chunks: at most three for 128 bits.
		var chunks [3]uint64
		k := 0
		for hi != 0 {
			qhi := hi / pow10_19
			var r uint64
			lo, r = bits.Div64(hi%pow10_19, lo, pow10_19)
			hi = qhi
			chunks[k] = r
			k++
		}
		digits = strconv.AppendUint(buf[:0], lo, 10)
		for k--; k >= 0; k-- {
			var c [19]byte
			v := chunks[k]
			for j := 18; j >= 0; j-- {
				c[j] = byte('0' + v%10)
				v /= 10
			}
			digits = append(digits, c[:]...)
		}
	}
	return appendScaled(dst, neg, digits, scale)
}

// appendDecimal256 appends n with the given scale in exact fixed notation. It is not on a hot
// path (Delta decimals fit in 128 bits) and uses math/big.
func appendDecimal256(dst []byte, n decimal256.Num, scale int32) []byte {
	b := n.BigInt()
	neg := b.Sign() < 0
	var abs big.Int
	abs.Abs(b)
	return appendScaled(dst, neg, abs.Append(nil, 10), scale)
}

// appendScaled appends the unsigned decimal digits (no leading zeros, or "0") as a number with
// scale digits after the point, with a minus sign when neg and the value is not zero.
func appendScaled(dst []byte, neg bool, digits []byte, scale int32) []byte {
	if neg && !(len(digits) == 1 && digits[0] == '0') {
		dst = append(dst, '-')
	}
	if scale <= 0 {
		dst = append(dst, digits...)
		if !(len(digits) == 1 && digits[0] == '0') {
			for s := scale; s < 0; s++ {
				dst = append(dst, '0')
			}
		}
		return dst
	}
	sc := int(scale)
	if len(digits) > sc {
		dst = append(dst, digits[:len(digits)-sc]...)
		dst = append(dst, '.')
		return append(dst, digits[len(digits)-sc:]...)
	}
	dst = append(dst, '0', '.')
	for j := len(digits); j < sc; j++ {
		dst = append(dst, '0')
	}
	return append(dst, digits...)
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
func civil(days int64) (year int64, month, day int) {
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	year = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100) // [0, 365]
	mp := (5*doy + 2) / 153                  // [0, 11]
	day = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		month = int(mp + 3)
	} else {
		month = int(mp - 9)
	}
	if month <= 2 {
		year++
	}
	return year, month, day
}

func append2(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/10), byte('0'+v%10))
}

// appendDate appends days since the epoch as YYYY-MM-DD.
func appendDate(dst []byte, days int64) []byte {
	y, m, d := civil(days)
	switch {
	case y >= 0 && y <= 9999:
		v := int(y)
		dst = append(dst, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
	case y < 0:
		var tmp [24]byte
		t := strconv.AppendInt(tmp[:0], -y, 10)
		dst = append(dst, '-')
		for j := len(t); j < 4; j++ {
			dst = append(dst, '0')
		}
		dst = append(dst, t...)
	default:
		dst = strconv.AppendInt(dst, y, 10)
	}
	dst = append(dst, '-')
	dst = append2(dst, m)
	dst = append(dst, '-')
	return append2(dst, d)
}

// appendClock appends HH:MM:SS for secs seconds into a day and the fraction for nanos: none
// when zero, 6 digits when a whole number of microseconds, 9 digits otherwise.
func appendClock(dst []byte, secs int64, nanos int64) []byte {
	dst = append2(dst, int(secs/3600))
	dst = append(dst, ':')
	dst = append2(dst, int(secs/60%60))
	dst = append(dst, ':')
	dst = append2(dst, int(secs%60))
	if nanos == 0 {
		return dst
	}
	width := 9
	if nanos%1000 == 0 {
		nanos /= 1000
		width = 6
	}
	dst = append(dst, '.')
	n := len(dst)
	for j := 0; j < width; j++ {
		dst = append(dst, '0')
	}
	for j := n + width - 1; nanos > 0; j-- {
		dst[j] = byte('0' + nanos%10)
		nanos /= 10
	}
	return dst
}

// splitUnit splits v in unit u into whole seconds (floored) and nanoseconds [0, 1e9).
func splitUnit(v int64, u arrow.TimeUnit) (secs, nanos int64) {
	var per int64
	switch u {
	case arrow.Second:
		return v, 0
	case arrow.Millisecond:
		per = 1e3
	case arrow.Microsecond:
		per = 1e6
	default:
		per = 1e9
	}
	secs, rem := v/per, v%per
	if rem < 0 {
		secs--
		rem += per
	}
	return secs, rem * (1e9 / per)
}

// dayCache remembers the text of the last day formatted: values of a column are often close
// together, and the calendar computation is the costly part of a date.
type dayCache struct {
	ok   bool
	day  int64
	n    int
	text [24]byte
}

func (c *dayCache) appendDate(dst []byte, days int64) []byte {
	if c == nil {
		return appendDate(dst, days)
	}
	if !c.ok || c.day != days {
		c.n = len(appendDate(c.text[:0], days))
		c.day, c.ok = days, true
	}
	return append(dst, c.text[:c.n]...)
}

// appendTimestamp appends v (in unit u since the epoch) as an RFC 3339 date-time, with a "Z"
// when utc is set and no zone otherwise.
func appendTimestamp(dst []byte, v int64, u arrow.TimeUnit, utc bool) []byte {
	return appendTimestampCached(dst, v, u, utc, nil)
}

func appendTimestampCached(dst []byte, v int64, u arrow.TimeUnit, utc bool, cache *dayCache) []byte {
	secs, nanos := splitUnit(v, u)
	days, rem := secs/86400, secs%86400
	if rem < 0 {
		days--
		rem += 86400
	}
	dst = cache.appendDate(dst, days)
	dst = append(dst, 'T')
	dst = appendClock(dst, rem, nanos)
	if utc {
		dst = append(dst, 'Z')
	}
	return dst
}

// appendTimeOfDay appends a time of day (v in unit u since midnight) as HH:MM:SS[.fraction].
func appendTimeOfDay(dst []byte, v int64, u arrow.TimeUnit) []byte {
	secs, nanos := splitUnit(v, u)
	if secs < 0 || secs >= 86400 { // out of range: write the raw number rather than lie
		return strconv.AppendInt(dst, v, 10)
	}
	return appendClock(dst, secs, nanos)
}

func appendInt(dst []byte, v int64) []byte {
	if v >= 0 && v < 10 {
		return append(dst, byte('0'+v))
	}
	return strconv.AppendInt(dst, v, 10)
}

func appendUint(dst []byte, v uint64) []byte {
	if v < 10 {
		return append(dst, byte('0'+v))
	}
	return strconv.AppendUint(dst, v, 10)
}
