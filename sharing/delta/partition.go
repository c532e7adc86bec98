package delta

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
)

// ParsePartitionValue parses one serialized partition value (an entry of an add file's
// partitionValues) as the column's Delta type. A missing entry (present false) or an empty
// string is null, for every type including string, and yields nil.
//
// The Go value is: byte int8, short int16, integer int32, long int64, float float32,
// double float64, boolean bool, string string, binary []byte (the string's raw bytes),
// date arrow.Date32 (days since 1970-01-01), timestamp and timestamp_ntz arrow.Timestamp
// (microseconds since the epoch; a timestamp without zone is read as UTC), decimal(p,s)
// decimal128.Num at scale s (exact; extra non-zero digits are an error), void nil.
func ParsePartitionValue(t DataType, s string, present bool) (any, error) {
	if !present || s == "" {
		return nil, nil
	}
	v, err := parsePartition(t, s)
	if err != nil {
		return nil, fmt.Errorf("delta: partition value %q is not a valid %s: %w", s, TypeName(t), err)
	}
	return v, nil
}

func TypeName(t DataType) string {
	if t == nil {
		return "<no type>"
	}
	return t.String()
}

func parsePartition(t DataType, s string) (any, error) {
	switch v := t.(type) {
	case *DecimalType:
		return ParseDecimal(s, int32(v.Precision), int32(v.Scale))
	case *PrimitiveType:
		switch v.Name {
		case TypeString:
			return s, nil
		case TypeBinary:
			return []byte(s), nil
		case TypeBoolean:
			switch {
			case strings.EqualFold(s, "true"):
				return true, nil
			case strings.EqualFold(s, "false"):
				return false, nil
			}
			return nil, fmt.Errorf("want true or false")
		case TypeByte:
			n, err := strconv.ParseInt(s, 10, 8)
			return int8(n), numErr(err, "-128..127")
		case TypeShort:
			n, err := strconv.ParseInt(s, 10, 16)
			return int16(n), numErr(err, "-32768..32767")
		case TypeInteger:
			n, err := strconv.ParseInt(s, 10, 32)
			return int32(n), numErr(err, "-2147483648..2147483647")
		case TypeLong:
			n, err := strconv.ParseInt(s, 10, 64)
			return n, numErr(err, "-9223372036854775808..9223372036854775807")
		case TypeFloat:
			f, err := parseFloat(s, 32)
			return float32(f), err
		case TypeDouble:
			return parseFloat(s, 64)
		case TypeDate:
			d, err := ParseDate(s)
			return arrow.Date32(d), err
		case TypeTimestamp:
			ts, err := ParseTimestamp(s, false)
			return arrow.Timestamp(ts), err
		case TypeTimestampNTZ:
			ts, err := ParseTimestamp(s, true)
			return arrow.Timestamp(ts), err
		case TypeVoid:
			return nil, nil
		}
	}
	return nil, fmt.Errorf("%s cannot be a partition column type", TypeName(t))
}

func numErr(err error, rng string) error {
	if err == nil {
		return nil
	}
	if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		return fmt.Errorf("out of range %s", rng)
	}
	return fmt.Errorf("want a whole number in %s", rng)
}

func parseFloat(s string, bits int) (float64, error) {
	// strconv accepts "NaN", "Inf", "+Infinity" and the rest in any case, as Spark writes
	// them; it also accepts hex floats and underscores, which no Delta writer produces.
	if strings.ContainsAny(s, "_xX") {
		return 0, fmt.Errorf("want a decimal number")
	}
	f, err := strconv.ParseFloat(s, bits)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange && !math.IsInf(f, 0) {
			return f, nil // underflow to zero: keep the nearest value
		}
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, fmt.Errorf("out of range for float%d", bits)
		}
		return 0, fmt.Errorf("want a number, NaN or Infinity")
	}
	return f, nil
}

// HiveDefaultPartition is the directory value of a null (or empty) partition value, as Hive, Spark
// and Delta write it.
const HiveDefaultPartition = "__HIVE_DEFAULT_PARTITION__"

// escapeSet marks the ASCII bytes that EscapePartition writes as %XX: the set Hive, Spark and
// Delta use (control characters 0x01-0x1F and 0x7F, and " # % ' * / : = ? \ { [ ] ^), plus NUL,
// which no file system accepts in a name.
var escapeSet = func() (set [128]bool) {
	for c := 0; c < 0x20; c++ {
		set[c] = true
	}
	for _, c := range "\"#%'*/:=?\\\x7f{[]^" {
		set[c] = true
	}
	return set
}()

// EscapePartition escapes a column name or partition value for a directory name the way Hive,
// Spark and Delta do: each byte in the escaped set becomes %XX (upper-case hex); every other
// byte, including non-ASCII UTF-8, is kept.
func EscapePartition(s string) string {
	return string(AppendEscapedPartition(nil, s))
}

const hexDigits = "0123456789ABCDEF"

// AppendEscapedPartition appends EscapePartition(s) to dst.
func AppendEscapedPartition[S string | []byte](dst []byte, s S) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x80 && escapeSet[c] {
			dst = append(dst, '%', hexDigits[c>>4], hexDigits[c&15])
		} else {
			dst = append(dst, c)
		}
	}
	return dst
}

// PartitionDir returns the directory name of one partition column's value: column=value, both
// escaped, with a null value written as HiveDefaultPartition.
func PartitionDir(column string, value *string) string {
	v := HiveDefaultPartition
	if value != nil && *value != "" {
		v = EscapePartition(*value)
	}
	return EscapePartition(column) + "=" + v
}
