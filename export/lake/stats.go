package lake

import (
	"cmp"
	"encoding/json"
	"math"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
)

// maxStatString is the longest string value kept as a minimum or maximum, in characters (a
// longer minimum is cut to this prefix, which stays a lower bound; a longer maximum is left
// out, as a cut one would not be an upper bound).
const maxStatString = 32

// Stats gathers the statistics of one data file from the records written to it: numRecords
// and, per top-level column of a primitive type, nullCount, minValues and maxValues. Columns
// whose values have no safe JSON bound (binary, booleans, nested types, NaN, dictionaries)
// get only a null count; readers then just do not skip on them.
type Stats struct {
	rows  int64
	cols  []*colStats
	names []string
}

type colStats struct {
	nulls    int64
	nested   bool
	kind     string // "int", "float", "string", "date", "timestamp", "decimal", "" (no bounds)
	noBounds bool   // a value without a bound was seen (NaN, a string too long for a maximum)
	seen     bool
	minI     int64
	maxI     int64
	minF     float64
	maxF     float64
	minS     string
	maxS     string
	scale    int32
	minD     decimal128.Num
	maxD     decimal128.Num
	unit     arrow.TimeUnit
}

// NewStats returns the statistics of a file of schema.
func NewStats(schema *arrow.Schema) *Stats {
	s := &Stats{}
	for _, f := range schema.Fields() {
		c := &colStats{}
		switch t := f.Type.(type) {
		case *arrow.Int8Type, *arrow.Int16Type, *arrow.Int32Type, *arrow.Int64Type:
			c.kind = "int"
		case *arrow.Float32Type, *arrow.Float64Type:
			c.kind = "float"
		case *arrow.StringType, *arrow.LargeStringType:
			c.kind = "string"
		case *arrow.Date32Type:
			c.kind = "date"
		case *arrow.TimestampType:
			if t.TimeZone != "" { // timestamp_ntz gets no bounds
				c.kind, c.unit = "timestamp", t.Unit
			}
		case *arrow.Decimal128Type:
			c.kind, c.scale = "decimal", t.Scale
		case *arrow.StructType, *arrow.ListType, *arrow.LargeListType, *arrow.MapType, *arrow.FixedSizeListType:
			c.nested = true
		}
		s.cols = append(s.cols, c)
		s.names = append(s.names, f.Name)
	}
	return s
}

// Add takes the values of rec into the statistics.
func (s *Stats) Add(rec arrow.Record) {
	s.rows += rec.NumRows()
	for i, c := range s.cols {
		col := rec.Column(i)
		c.nulls += int64(col.NullN())
		if c.kind == "" || c.noBounds {
			continue
		}
		for r := 0; r < col.Len(); r++ {
			if col.IsNull(r) {
				continue
			}
			c.take(col, r)
		}
	}
}

func (c *colStats) take(col arrow.Array, r int) {
	switch c.kind {
	case "int", "date", "timestamp":
		var v int64
		switch a := col.(type) {
		case *array.Int8:
			v = int64(a.Value(r))
		case *array.Int16:
			v = int64(a.Value(r))
		case *array.Int32:
			v = int64(a.Value(r))
		case *array.Int64:
			v = a.Value(r)
		case *array.Date32:
			v = int64(a.Value(r))
		case *array.Timestamp:
			v = int64(a.Value(r))
		default:
			c.noBounds = true
			return
		}
		widen(c.seen, &c.minI, &c.maxI, v)
	case "float":
		var v float64
		switch a := col.(type) {
		case *array.Float32:
			v = float64(a.Value(r))
		case *array.Float64:
			v = a.Value(r)
		}
		if math.IsNaN(v) {
			c.noBounds = true
			return
		}
		widen(c.seen, &c.minF, &c.maxF, v)
	case "string":
		var v string
		switch a := col.(type) {
		case *array.String:
			v = a.Value(r)
		case *array.LargeString:
			v = a.Value(r)
		default:
			c.noBounds = true
			return
		}
		widen(c.seen, &c.minS, &c.maxS, v)
	case "decimal":
		a, ok := col.(*array.Decimal128)
		if !ok {
			c.noBounds = true
			return
		}
		v := a.Value(r)
		if !c.seen || v.Less(c.minD) {
			c.minD = v
		}
		if !c.seen || c.maxD.Less(v) {
			c.maxD = v
		}
	}
	c.seen = true
}

// widen moves the bounds lo and hi out to take in v; the first value (seen false) sets both.
func widen[T cmp.Ordered](seen bool, lo, hi *T, v T) {
	if !seen || v < *lo {
		*lo = v
	}
	if !seen || v > *hi {
		*hi = v
	}
}

// Rows is the number of records added.
func (s *Stats) Rows() int64 { return s.rows }

// JSON returns the stats string of the add action.
func (s *Stats) JSON() string {
	type statsJSON struct {
		NumRecords int64          `json:"numRecords"`
		MinValues  map[string]any `json:"minValues,omitempty"`
		MaxValues  map[string]any `json:"maxValues,omitempty"`
		NullCount  map[string]any `json:"nullCount,omitempty"`
	}
	out := statsJSON{NumRecords: s.rows, MinValues: map[string]any{}, MaxValues: map[string]any{}, NullCount: map[string]any{}}
	for i, c := range s.cols {
		name := s.names[i]
		if !c.nested {
			out.NullCount[name] = c.nulls
		}
		if !c.seen || c.noBounds {
			continue
		}
		switch c.kind {
		case "int":
			out.MinValues[name], out.MaxValues[name] = c.minI, c.maxI
		case "float":
			if !math.IsInf(c.minF, 0) && !math.IsInf(c.maxF, 0) {
				out.MinValues[name], out.MaxValues[name] = c.minF, c.maxF
			}
		case "date":
			out.MinValues[name] = time.Unix(c.minI*86400, 0).UTC().Format(time.DateOnly)
			out.MaxValues[name] = time.Unix(c.maxI*86400, 0).UTC().Format(time.DateOnly)
		case "timestamp":
			// Bounds in milliseconds: the minimum rounded down, the maximum up.
			loMs, hiMs := floorMs(c.minI, c.unit), -floorMs(-c.maxI, c.unit)
			out.MinValues[name] = time.UnixMilli(loMs).UTC().Format("2006-01-02T15:04:05.000Z07:00")
			out.MaxValues[name] = time.UnixMilli(hiMs).UTC().Format("2006-01-02T15:04:05.000Z07:00")
		case "string":
			out.MinValues[name] = prefix(c.minS, maxStatString)
			if utf8.RuneCountInString(c.maxS) <= maxStatString {
				out.MaxValues[name] = c.maxS
			}
		case "decimal":
			out.MinValues[name] = json.Number(c.minD.ToString(c.scale))
			out.MaxValues[name] = json.Number(c.maxD.ToString(c.scale))
		}
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// floorMs converts v in unit u to milliseconds, rounding down.
func floorMs(v int64, u arrow.TimeUnit) int64 {
	switch u {
	case arrow.Second:
		return v * 1000
	case arrow.Millisecond:
		return v
	case arrow.Microsecond:
		return floorDiv(v, 1000)
	}
	return floorDiv(v, 1_000_000)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func prefix(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}
