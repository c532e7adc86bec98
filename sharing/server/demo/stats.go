package demo

import (
	"bytes"
	"cmp"
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/deltashare/deltashare/sharing/delta"
)

// leafStats accumulates the statistics of one leaf column.
type leafStats struct {
	nulls      int64
	has        bool
	bad        bool // NaN or infinity seen: no bounds
	minI, maxI int64
	minF, maxF float64
	minB, maxB []byte
}

// fileStats accumulates a data file's Delta statistics from the shredded rows written to it.
type fileStats struct {
	fs         *fileSchema
	numRecords int64
	leaves     []leafStats
	listNulls  map[*colNode]int64
}

func newFileStats(fs *fileSchema) *fileStats {
	return &fileStats{fs: fs, leaves: make([]leafStats, len(fs.leaves)), listNulls: map[*colNode]int64{}}
}

// hasBounds reports whether Delta records min/max for the column (not for booleans, binary or
// anything inside an array).
func hasBounds(n *colNode) bool {
	if !n.statsLeaf {
		return false
	}
	if p, ok := n.dt.(*delta.PrimitiveType); ok {
		return p.Name != delta.TypeBoolean && p.Name != delta.TypeBinary
	}
	return true
}

func (s *fileStats) add(row parquet.Row) {
	s.numRecords++
	for _, v := range row {
		c := v.Column()
		n := s.fs.leaves[c]
		if l := n.underList; l != nil {
			if c == l.firstLeaf && v.RepetitionLevel() == 0 && v.DefinitionLevel() < l.def {
				s.listNulls[l]++
			}
			continue
		}
		if !n.statsLeaf {
			continue
		}
		st := &s.leaves[c]
		if v.IsNull() {
			st.nulls++
			continue
		}
		if !hasBounds(n) {
			continue
		}
		switch n.physical {
		case parquet.Int32:
			widen(st.has, int64(v.Int32()), &st.minI, &st.maxI)
		case parquet.Int64:
			widen(st.has, v.Int64(), &st.minI, &st.maxI)
		case parquet.Float:
			st.addFloat(float64(v.Float()))
		case parquet.Double:
			st.addFloat(v.Double())
		case parquet.ByteArray:
			widenBytes(st.has, v.ByteArray(), &st.minB, &st.maxB, bytes.Compare)
		case parquet.FixedLenByteArray:
			widenBytes(st.has, v.ByteArray(), &st.minB, &st.maxB, func(a, b []byte) int {
				return fromTwosComplement(a).Cmp(fromTwosComplement(b))
			})
		}
		st.has = true
	}
}

// addFloat widens the float bounds to take in x; NaN and infinities leave the column without
// bounds.
func (st *leafStats) addFloat(x float64) {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		st.bad = true
	}
	widen(st.has, x, &st.minF, &st.maxF)
}

// widen widens the bounds lo..hi to take in x; has says whether they hold a value yet.
func widen[T cmp.Ordered](has bool, x T, lo, hi *T) {
	if !has || x < *lo {
		*lo = x
	}
	if !has || x > *hi {
		*hi = x
	}
}

// widenBytes is widen for byte strings in the order of compare, keeping copies of x.
func widenBytes(has bool, x []byte, lo, hi *[]byte, compare func(a, b []byte) int) {
	if !has || compare(x, *lo) < 0 {
		*lo = append((*lo)[:0], x...)
	}
	if !has || compare(x, *hi) > 0 {
		*hi = append((*hi)[:0], x...)
	}
}

// JSON renders the statistics as Delta's stats string: numRecords, minValues, maxValues and
// nullCount, nested like the schema, keys in schema order.
func (s *fileStats) JSON() string {
	var mins, maxs, nulls jsonObj
	for i, n := range s.fs.top {
		if s.fs.fields[i] < 0 {
			continue
		}
		if v, ok := s.bound(n, false); ok {
			mins.add(n.name, v)
		}
		if v, ok := s.bound(n, true); ok {
			maxs.add(n.name, v)
		}
		if v, ok := s.nullCount(n); ok {
			nulls.add(n.name, v)
		}
	}
	var o jsonObj
	o.add("numRecords", json.Number(strconv.FormatInt(s.numRecords, 10)))
	o.add("minValues", &mins)
	o.add("maxValues", &maxs)
	o.add("nullCount", &nulls)
	var b bytes.Buffer
	o.write(&b)
	return b.String()
}

func (s *fileStats) bound(n *colNode, max bool) (any, bool) {
	switch n.kind {
	case kindStruct:
		var o jsonObj
		for _, c := range n.children {
			if v, ok := s.bound(c, max); ok {
				o.add(c.name, v)
			}
		}
		return &o, len(o.keys) > 0
	case kindList:
		return nil, false
	}
	st := &s.leaves[n.firstLeaf]
	if !hasBounds(n) || !st.has || st.bad {
		return nil, false
	}
	i, f, b := st.minI, st.minF, st.minB
	if max {
		i, f, b = st.maxI, st.maxF, st.maxB
	}
	switch t := n.dt.(type) {
	case *delta.DecimalType:
		u := big.NewInt(i)
		if n.physical == parquet.FixedLenByteArray {
			u = fromTwosComplement(b)
		}
		return json.Number(formatDecimal(u, t.Scale)), true
	case *delta.PrimitiveType:
		switch t.Name {
		case delta.TypeLong, delta.TypeInteger, delta.TypeShort, delta.TypeByte:
			return json.Number(strconv.FormatInt(i, 10)), true
		case delta.TypeFloat:
			return json.Number(strconv.FormatFloat(f, 'g', -1, 32)), true
		case delta.TypeDouble:
			return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), true
		case delta.TypeString:
			return string(b), true
		case delta.TypeDate:
			return time.Unix(i*86400, 0).UTC().Format(time.DateOnly), true
		case delta.TypeTimestamp:
			// Delta truncates timestamp statistics down to milliseconds.
			return time.UnixMicro(i).UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z"), true
		case delta.TypeTimestampNTZ:
			return time.UnixMicro(i).UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000"), true
		}
	}
	return nil, false
}

func (s *fileStats) nullCount(n *colNode) (any, bool) {
	switch n.kind {
	case kindStruct:
		if n.underList != nil {
			return nil, false
		}
		var o jsonObj
		for _, c := range n.children {
			if v, ok := s.nullCount(c); ok {
				o.add(c.name, v)
			}
		}
		return &o, len(o.keys) > 0
	case kindList:
		if n.underList != n {
			return nil, false
		}
		return json.Number(strconv.FormatInt(s.listNulls[n], 10)), true
	}
	if !n.statsLeaf {
		return nil, false
	}
	return json.Number(strconv.FormatInt(s.leaves[n.firstLeaf].nulls, 10)), true
}

// jsonObj is a JSON object that keeps its keys in insertion order.
type jsonObj struct {
	keys []string
	vals []any
}

func (o *jsonObj) add(k string, v any) { o.keys = append(o.keys, k); o.vals = append(o.vals, v) }

func (o *jsonObj) write(b *bytes.Buffer) {
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(b, k)
		b.WriteByte(':')
		switch v := o.vals[i].(type) {
		case *jsonObj:
			v.write(b)
		case json.Number:
			b.WriteString(string(v))
		case string:
			writeJSONString(b, v)
		}
	}
	b.WriteByte('}')
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	b.Truncate(b.Len() - 1) // Encode's newline
}
