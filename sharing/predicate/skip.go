package predicate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Stats are the per-file statistics of a Delta add action (its "stats" JSON string).
// Column statistics mirror the schema: nested struct columns are nested objects.
type Stats struct {
	NumRecords *int64         `json:"numRecords,omitempty"`
	MinValues  map[string]any `json:"minValues,omitempty"`
	MaxValues  map[string]any `json:"maxValues,omitempty"`
	NullCount  map[string]any `json:"nullCount,omitempty"`
	TightBound *bool          `json:"tightBounds,omitempty"`
}

// maxStatsBytes bounds the stats JSON ParseStats reads.
const maxStatsBytes = 16 << 20

// ParseStats parses a Delta stats JSON string. An empty string gives nil stats and no error
// (files without statistics). Numbers are kept exact (json.Number).
func ParseStats(s string) (*Stats, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	if len(s) > maxStatsBytes {
		return nil, fmt.Errorf("predicate: stats JSON is %d bytes, larger than the limit of %d", len(s), maxStatsBytes)
	}
	if err := checkJSONDepth([]byte(s), 200); err != nil {
		return nil, fmt.Errorf("predicate: stats JSON is nested too deeply")
	}
	var raw struct {
		NumRecords json.Number    `json:"numRecords"`
		MinValues  map[string]any `json:"minValues"`
		MaxValues  map[string]any `json:"maxValues"`
		NullCount  map[string]any `json:"nullCount"`
		TightBound *bool          `json:"tightBounds"`
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("predicate: stats are not valid JSON: %w", err)
	}
	st := &Stats{MinValues: raw.MinValues, MaxValues: raw.MaxValues, NullCount: raw.NullCount, TightBound: raw.TightBound}
	if raw.NumRecords != "" {
		n, err := raw.NumRecords.Int64()
		if err != nil || n < 0 {
			return nil, fmt.Errorf("predicate: stats numRecords %q is not a count", raw.NumRecords)
		}
		st.NumRecords = &n
	}
	return st, nil
}

// lookup finds a column's entry in one of the stats maps: by exact key, then
// case-insensitively, then by following a dotted name into nested objects.
func lookup(m map[string]any, name string) (any, bool) {
	if m == nil {
		return nil, false
	}
	if v, ok := m[name]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	if i := strings.IndexByte(name, '.'); i > 0 {
		for k, v := range m {
			if strings.EqualFold(k, name[:i]) {
				if sub, ok := v.(map[string]any); ok {
					return lookup(sub, name[i+1:])
				}
			}
		}
	}
	return nil, false
}

func lookupPartition(pv map[string]string, name string) (string, bool) {
	if pv == nil {
		return "", false
	}
	if v, ok := pv[name]; ok {
		return v, true
	}
	for k, v := range pv {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// possible truth values of a predicate over the rows of a file.
type poss uint8

const (
	pTrue poss = 1 << iota
	pFalse
	pNull
	pAll = pTrue | pFalse | pNull
)

// MightMatch reports whether a data file might hold a row for which e is true, judged from
// the file's partition values (as serialised in the add action, "" being null) and its
// statistics (nil when absent). It is for skipping files: it never returns false for a file
// that could hold a matching row. Missing or unparseable statistics, unknown columns, unknown
// value types and NaN make it answer true. Logic is three-valued (a comparison with null is
// null), so NOT is handled exactly: NOT over "might match" still might match.
//
// Column names are looked up as written in e, case-insensitively; under column mapping
// rename them to physical names first (RenameColumns). A file with numRecords 0 never
// matches. String maximums may be truncated prefixes (as Delta writers store them); they are
// treated as such. Timestamp statistics are widened by a millisecond, since writers truncate
// them to milliseconds.
func MightMatch(e *Expr, partitionValues map[string]string, stats *Stats) bool {
	if e == nil {
		return true
	}
	if stats != nil && stats.NumRecords != nil && *stats.NumRecords == 0 {
		return false
	}
	return might(e, partitionValues, stats, 0)&pTrue != 0
}

func might(e *Expr, pv map[string]string, st *Stats, depth int) poss {
	if depth > MaxDepth*4 {
		return pAll
	}
	switch e.Op {
	case OpAnd, OpOr:
		if len(e.Children) == 0 {
			return pAll
		}
		acc := might(e.Children[0], pv, st, depth+1)
		for _, c := range e.Children[1:] {
			acc = combine(acc, might(c, pv, st, depth+1), e.Op == OpAnd)
		}
		return acc
	case OpNot:
		if len(e.Children) != 1 {
			return pAll
		}
		p := might(e.Children[0], pv, st, depth+1)
		out := p & pNull
		if p&pTrue != 0 {
			out |= pFalse
		}
		if p&pFalse != 0 {
			out |= pTrue
		}
		return out
	case OpIsNull:
		if len(e.Children) != 1 || e.Children[0].Op != OpColumn {
			return pAll
		}
		return mightIsNull(e.Children[0].Name, pv, st)
	case OpEqual, OpLessThan, OpLessThanOrEqual, OpGreaterThan, OpGreaterThanOrEqual:
		return mightCompare(e, pv, st)
	}
	return pAll
}

// kleene truth values: 0 false, 1 true, 2 null.
func combine(a, b poss, and bool) poss {
	var out poss
	for _, x := range []poss{pTrue, pFalse, pNull} {
		if a&x == 0 {
			continue
		}
		for _, y := range []poss{pTrue, pFalse, pNull} {
			if b&y == 0 {
				continue
			}
			out |= kleene(x, y, and)
		}
	}
	return out
}

func kleene(x, y poss, and bool) poss {
	if and {
		switch {
		case x == pFalse || y == pFalse:
			return pFalse
		case x == pNull || y == pNull:
			return pNull
		}
		return pTrue
	}
	switch {
	case x == pTrue || y == pTrue:
		return pTrue
	case x == pNull || y == pNull:
		return pNull
	}
	return pFalse
}

func mightIsNull(name string, pv map[string]string, st *Stats) poss {
	if v, ok := lookupPartition(pv, name); ok {
		if v == "" {
			return pTrue
		}
		return pFalse
	}
	if st == nil {
		return pTrue | pFalse
	}
	raw, ok := lookup(st.NullCount, name)
	if !ok {
		return pTrue | pFalse
	}
	n, ok := statCount(raw)
	if !ok {
		return pTrue | pFalse
	}
	if n == 0 {
		return pFalse
	}
	if st.NumRecords != nil && n >= *st.NumRecords {
		return pTrue
	}
	return pTrue | pFalse
}

func statCount(raw any) (int64, bool) {
	switch v := raw.(type) {
	case json.Number:
		n, err := v.Int64()
		return n, err == nil && n >= 0
	case float64:
		return int64(v), v >= 0 && v == float64(int64(v))
	}
	return 0, false
}

func mightCompare(e *Expr, pv map[string]string, st *Stats) poss {
	col, lit, op, ok := splitCompare(e)
	if !ok {
		if len(e.Children) == 2 && e.Children[0].Op == OpColumn && e.Children[1].Op == OpColumn {
			return mightColumns(e, pv)
		}
		return pAll
	}
	if !col.ValueType.known() || !lit.ValueType.known() {
		return pAll
	}
	l, err := parseValue(lit.Value, lit.ValueType)
	if err != nil {
		return pAll
	}
	if s, ok := lookupPartition(pv, col.Name); ok {
		if s == "" {
			return pNull
		}
		v, err := parseValue(s, col.ValueType)
		if err != nil {
			return pAll
		}
		c, ok := compareValues(v, l)
		if !ok {
			return pAll
		}
		if holds(op, c) {
			return pTrue
		}
		return pFalse
	}
	if st == nil {
		return pAll
	}
	nullable := pNull
	var nulls int64 = -1
	if raw, ok := lookup(st.NullCount, col.Name); ok {
		if n, ok := statCount(raw); ok {
			nulls = n
			if n == 0 {
				nullable = 0
			}
		}
	}
	if nulls >= 0 && st.NumRecords != nil && nulls >= *st.NumRecords {
		return pNull // every value is null
	}
	rawMin, okMin := lookup(st.MinValues, col.Name)
	rawMax, okMax := lookup(st.MaxValues, col.Name)
	if !okMin || !okMax {
		return pAll
	}
	lo, err1 := statValue(rawMin, col.ValueType)
	hi, err2 := statValue(rawMax, col.ValueType)
	if err1 != nil || err2 != nil {
		return pAll
	}
	if col.ValueType == TypeTimestamp || col.ValueType == TypeTimestampNTZ {
		lo.i -= 1000 // stats are truncated to milliseconds
		hi.i += 1000
	}
	cLo, ok1 := compareValues(lo, l)
	cHi, ok2 := compareValues(hi, l)
	if !ok1 || !ok2 {
		return pAll
	}
	loLT, loLE := cLo < 0, cLo <= 0
	hiGE, hiGT := cHi >= 0, cHi > 0
	inexact := false
	if col.ValueType == TypeString {
		// The maximum may be a truncated prefix of the real maximum: values up to any string
		// starting with it are possible.
		// Writers that mark truncation append U+FFFF or U+10FFFF, which is not an upper bound
		// in UTF-8 byte order; dropping them leaves the prefix.
		p := strings.TrimRight(hi.s, "\uffff\U0010ffff")
		lp := l.s
		if len(lp) > len(p) {
			lp = lp[:len(p)]
		}
		hiGE = strings.Compare(lp, p) <= 0
		hiGT = hiGE
		inexact = true
	}
	var out poss
	switch op {
	case OpEqual:
		if loLE && hiGE {
			out |= pTrue
		}
		if !(cLo == 0 && cHi == 0) || inexact {
			out |= pFalse
		}
	case OpLessThan:
		out |= when(loLT, pTrue) | when(hiGE, pFalse)
	case OpLessThanOrEqual:
		out |= when(loLE, pTrue) | when(hiGT, pFalse)
	case OpGreaterThan:
		out |= when(hiGT, pTrue) | when(loLE, pFalse)
	case OpGreaterThanOrEqual:
		out |= when(hiGE, pTrue) | when(loLT, pFalse)
	}
	if col.ValueType == TypeFloat || col.ValueType == TypeDouble {
		out |= pFalse // NaN values are outside min/max and compare false
	}
	return out | nullable
}

func when(b bool, p poss) poss {
	if b {
		return p
	}
	return 0
}

func holds(op Op, c int) bool {
	switch op {
	case OpEqual:
		return c == 0
	case OpLessThan:
		return c < 0
	case OpLessThanOrEqual:
		return c <= 0
	case OpGreaterThan:
		return c > 0
	case OpGreaterThanOrEqual:
		return c >= 0
	}
	return false
}

// mightColumns handles a comparison of two partition columns; anything else is unknown.
func mightColumns(e *Expr, pv map[string]string) poss {
	a, b := e.Children[0], e.Children[1]
	sa, okA := lookupPartition(pv, a.Name)
	sb, okB := lookupPartition(pv, b.Name)
	if !okA || !okB {
		return pAll
	}
	if sa == "" || sb == "" {
		return pNull
	}
	va, err1 := parseValue(sa, a.ValueType)
	vb, err2 := parseValue(sb, b.ValueType)
	if err1 != nil || err2 != nil {
		return pAll
	}
	c, ok := compareValues(va, vb)
	if !ok {
		return pAll
	}
	if holds(e.Op, c) {
		return pTrue
	}
	return pFalse
}

// statValue converts a min/max statistic to a value of type t.
func statValue(raw any, t ValueType) (value, error) {
	switch v := raw.(type) {
	case json.Number:
		return parseValue(v.String(), t)
	case float64:
		return parseValue(strconv.FormatFloat(v, 'g', -1, 64), t)
	case string:
		return parseValue(v, t)
	case bool:
		return parseValue(strconv.FormatBool(v), t)
	}
	return value{}, fmt.Errorf("statistic %v is not a scalar", raw)
}
