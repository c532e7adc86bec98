package predicate

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/sharing/delta"
)

func TestParseStats(t *testing.T) {
	st, err := ParseStats(`{"numRecords":3,"minValues":{"a":1,"s":{"b":"x"}},"maxValues":{"a":12345678901234567890},"nullCount":{"a":0,"s":{"b":1}},"tightBounds":true}`)
	require.NoError(t, err)
	require.NotNil(t, st.NumRecords)
	assert.Equal(t, int64(3), *st.NumRecords)
	v, ok := lookup(st.MinValues, "S.B")
	require.True(t, ok)
	assert.Equal(t, "x", v)
	v, ok = lookup(st.MaxValues, "a")
	require.True(t, ok)
	assert.Equal(t, json.Number("12345678901234567890"), v, "numbers stay exact")
	require.NotNil(t, st.TightBound)

	st, err = ParseStats("")
	require.NoError(t, err)
	assert.Nil(t, st)
	_, err = ParseStats("{")
	require.ErrorContains(t, err, "not valid JSON")
	_, err = ParseStats(`{"numRecords":-1}`)
	require.ErrorContains(t, err, "not a count")
	_, err = ParseStats(strings.Repeat(`{"a":`, 300) + "1" + strings.Repeat("}", 300))
	require.ErrorContains(t, err, "nested")
}

func TestMightMatch(t *testing.T) {
	st := schema(t)
	stats := func(s string) *Stats {
		x, err := ParseStats(s)
		require.NoError(t, err)
		return x
	}
	ids := stats(`{"numRecords":10,"minValues":{"id":10,"name":"bar","day":"2021-01-10","ts":"2021-01-01T00:00:00.000Z","x":1.5,"amount":1.25,"s":{"Inner":5}},
	  "maxValues":{"id":20,"name":"foo","day":"2021-01-20","ts":"2021-01-01T00:00:01.000Z","x":2.5,"amount":9.99,"s":{"Inner":6}},
	  "nullCount":{"id":0,"name":2,"day":10,"ts":0,"x":0,"amount":0,"s":{"Inner":0}}}`)
	part := map[string]string{"Small": "7", "flag": "", "ntz": "2021-01-01 10:00:00"}
	tests := []struct {
		expr string
		want bool
	}{
		{"id = 15", true},
		{"id = 9", false},
		{"id = 21", false},
		{"id < 10", false},
		{"id <= 10", true},
		{"id > 20", false},
		{"id >= 20", true},
		{"id != 15", true},
		{"NOT id = 15", true},
		{"NOT (id >= 10 AND id <= 20)", false},
		{"NOT id < 5", true},
		{"NOT id > 5", false},
		{"id IS NULL", false},
		{"id IS NOT NULL", true},
		{"name IS NULL", true},
		{"name IS NOT NULL", true},
		{"day IS NULL", true},
		{"day IS NOT NULL", false},
		{"day = '2021-01-15'", false}, // every value is null
		{"NOT day = '2021-01-15'", false},
		{"name = 'baz'", true},
		{"name = 'zzz'", false},
		{"name > 'foo'", true}, // the maximum may be a truncated prefix
		{"name > 'fop'", false},
		{"name >= 'foo1'", true},
		{"name < 'bar'", false},
		{"name < 'bar0'", true},
		{"ts = '2021-01-01 00:00:01.000500'", true}, // stats are truncated to ms
		{"ts > '2021-01-01 00:00:01.002'", false},
		{"x > 3", false},
		{"x < 3", true},
		{"NOT x < 3", true}, // NaN rows
		{"amount = 10", false},
		{"amount < 1.251", true},
		{"amount < 1.25", false},
		{"s.inner = 5", true},
		{"s.inner = 7", false},
		{"small = 7", true},
		{"small = 8", false},
		{"small != 7", false},
		{"NOT small = 7", false},
		{"small > 5 AND id = 100", false},
		{"small > 5 OR id = 100", true},
		{"flag = true", false}, // null partition
		{"NOT flag = true", false},
		{"flag IS NULL", true},
		{"flag IS NOT NULL", false},
		{"flag = true OR flag IS NULL", true},
		{"ntz = '2021-01-01 10:00:00'", true},
		{"ntz < '2021-01-01 10:00:00'", false},
		{"f = 1", true}, // no stats at all for f
		{"NOT f = 1", true},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			e := mustBind(t, st, tc.expr)
			assert.Equal(t, tc.want, MightMatch(e, part, ids))
			if tc.want {
				// Hints never skip more than the full predicate does.
				if h := Hints(e); h != nil {
					assert.True(t, MightMatch(h, part, ids))
				}
			}
		})
	}
	// Unknowns keep files.
	e := mustBind(t, st, "id = 1")
	assert.True(t, MightMatch(e, nil, nil))
	assert.True(t, MightMatch(e, nil, stats(`{"numRecords":5}`)))
	assert.True(t, MightMatch(e, nil, stats(`{"numRecords":5,"minValues":{"id":"x"},"maxValues":{"id":3}}`)))
	assert.True(t, MightMatch(e, map[string]string{"id": "not a number"}, nil))
	assert.True(t, MightMatch(nil, nil, nil))
	assert.False(t, MightMatch(e, nil, stats(`{"numRecords":0}`)), "an empty file has no rows")
	assert.True(t, MightMatch(Compare(OpEqual, Column("id", "weird"), Literal("1", TypeLong)), nil, ids))
	// Two partition columns compared with each other.
	cc := Compare(OpLessThan, Column("a", TypeLong), Column("b", TypeLong))
	assert.True(t, MightMatch(cc, map[string]string{"a": "1", "b": "2"}, nil))
	assert.False(t, MightMatch(cc, map[string]string{"a": "3", "b": "2"}, nil))
	assert.False(t, MightMatch(cc, map[string]string{"a": "", "b": "2"}, nil))
	assert.True(t, MightMatch(cc, map[string]string{"a": "3"}, nil))
}

func TestMightMatchStringTieBreaker(t *testing.T) {
	st := schema(t)
	// A writer that marks a truncated maximum with U+FFFF: real values may be above it in byte
	// order (U+1F600 encodes after U+FFFF).
	stats, err := ParseStats(`{"numRecords":2,"minValues":{"name":"abc"},"maxValues":{"name":"abc\uffff"},"nullCount":{"name":0}}`)
	require.NoError(t, err)
	assert.True(t, MightMatch(mustBind(t, st, "name = 'abc😀'"), nil, stats))
	assert.False(t, MightMatch(mustBind(t, st, "name = 'abd'"), nil, stats))
}

// ---- Property test: MightMatch never skips a file holding a row Filter keeps. ----

type genRow struct {
	p    *string
	i    *int64
	s    *string
	d    *float64
	dt   *int32
	ts   *int64
	dec  *int64 // unscaled, scale 2
	flag *bool
}

const tsBase = int64(1_600_000_000_000_000)

var propSchemaJSON = `{"type":"struct","fields":[
 {"name":"p","type":"string","nullable":true,"metadata":{}},
 {"name":"i","type":"long","nullable":true,"metadata":{}},
 {"name":"s","type":"string","nullable":true,"metadata":{}},
 {"name":"d","type":"double","nullable":true,"metadata":{}},
 {"name":"dt","type":"date","nullable":true,"metadata":{}},
 {"name":"ts","type":"timestamp","nullable":true,"metadata":{}},
 {"name":"dec","type":"decimal(10,2)","nullable":true,"metadata":{}},
 {"name":"flag","type":"boolean","nullable":true,"metadata":{}}
]}`

var propArrow = arrow.NewSchema([]arrow.Field{
	{Name: "p", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "d", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "dt", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
	{Name: "dec", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}, Nullable: true},
	{Name: "flag", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
}, nil)

var propStrings = []string{"", "a", "ab", "abc", "abcdefgh", "abd", "b", "ba", "é", "z", "zz😀", "\uffff"}

func ptr[T any](v T) *T { return &v }

func genData(r *rand.Rand, n int) []genRow {
	null := func() bool { return r.IntN(7) == 0 }
	rows := make([]genRow, n)
	for k := range rows {
		var g genRow
		if !null() {
			g.p = ptr([]string{"x", "y", "q"}[r.IntN(3)])
		}
		if !null() {
			g.i = ptr(int64(r.IntN(11) - 5))
		}
		if !null() {
			g.s = ptr(propStrings[r.IntN(len(propStrings))])
		}
		if !null() {
			switch r.IntN(12) {
			case 0:
				g.d = ptr(math.NaN())
			case 1:
				g.d = ptr(math.Copysign(0, -1))
			default:
				g.d = ptr(float64(r.IntN(11)-5) / 2)
			}
		}
		if !null() {
			g.dt = ptr(int32(18000 + r.IntN(10)))
		}
		if !null() {
			g.ts = ptr(tsBase + int64(r.IntN(5000)))
		}
		if !null() {
			g.dec = ptr(int64(r.IntN(601) - 300))
		}
		if !null() {
			g.flag = ptr(r.IntN(2) == 0)
		}
		rows[k] = g
	}
	return rows
}

func buildRecord(t testing.TB, rows []genRow) arrow.Record {
	b := array.NewRecordBuilder(memory.DefaultAllocator, propArrow)
	defer b.Release()
	for _, g := range rows {
		app := func(i int, ok bool, f func()) {
			if !ok {
				b.Field(i).AppendNull()
				return
			}
			f()
		}
		app(0, g.p != nil, func() { b.Field(0).(*array.StringBuilder).Append(*g.p) })
		app(1, g.i != nil, func() { b.Field(1).(*array.Int64Builder).Append(*g.i) })
		app(2, g.s != nil, func() { b.Field(2).(*array.StringBuilder).Append(*g.s) })
		app(3, g.d != nil, func() { b.Field(3).(*array.Float64Builder).Append(*g.d) })
		app(4, g.dt != nil, func() { b.Field(4).(*array.Date32Builder).Append(arrow.Date32(*g.dt)) })
		app(5, g.ts != nil, func() { b.Field(5).(*array.TimestampBuilder).Append(arrow.Timestamp(*g.ts)) })
		app(6, g.dec != nil, func() { b.Field(6).(*array.Decimal128Builder).Append(decimal128.FromI64(*g.dec)) })
		app(7, g.flag != nil, func() { b.Field(7).(*array.BooleanBuilder).Append(*g.flag) })
	}
	return b.NewRecord()
}

// statsJSON computes Delta-style stats for the non-partition columns, the way writers do:
// NaN is left out of min/max, timestamps are truncated to milliseconds, and long strings are
// truncated (sometimes marked with U+FFFF).
func statsJSON(r *rand.Rand, rows []genRow) string {
	minV, maxV, nulls := map[string]any{}, map[string]any{}, map[string]any{}
	type agg struct {
		lo, hi any
	}
	track := func(name string, present bool, v any, less func(a, b any) bool, a *agg) {
		if !present {
			nulls[name] = nulls[name].(int) + 1
			return
		}
		if a.lo == nil || less(v, a.lo) {
			a.lo = v
		}
		if a.hi == nil || less(a.hi, v) {
			a.hi = v
		}
	}
	i64less := func(a, b any) bool { return a.(int64) < b.(int64) }
	for _, c := range []string{"i", "s", "d", "dt", "ts", "dec", "flag"} {
		nulls[c] = 0
	}
	var ai, as, ad, adt, ats, adec agg
	for _, g := range rows {
		track("i", g.i != nil, deref(g.i), i64less, &ai)
		track("s", g.s != nil, derefS(g.s), func(a, b any) bool { return a.(string) < b.(string) }, &as)
		if g.d != nil && math.IsNaN(*g.d) {
			// NaN is neither null nor part of min/max.
		} else {
			track("d", g.d != nil, derefF(g.d), func(a, b any) bool { return a.(float64) < b.(float64) }, &ad)
		}
		var dt int64
		if g.dt != nil {
			dt = int64(*g.dt)
		}
		track("dt", g.dt != nil, dt, i64less, &adt)
		track("ts", g.ts != nil, deref(g.ts), i64less, &ats)
		track("dec", g.dec != nil, deref(g.dec), i64less, &adec)
		if g.flag == nil {
			nulls["flag"] = nulls["flag"].(int) + 1
		}
	}
	if ai.lo != nil {
		minV["i"], maxV["i"] = ai.lo, ai.hi
	}
	if as.lo != nil {
		lo, hi := as.lo.(string), as.hi.(string)
		if n := len([]rune(hi)); n > 2 && r.IntN(2) == 0 {
			cut := string([]rune(hi)[:2])
			if r.IntN(2) == 0 {
				cut += "\uffff"
			}
			hi = cut
		}
		if n := len([]rune(lo)); n > 2 && r.IntN(2) == 0 {
			lo = string([]rune(lo)[:2])
		}
		minV["s"], maxV["s"] = lo, hi
	}
	if ad.lo != nil {
		minV["d"], maxV["d"] = ad.lo, ad.hi
	}
	if adt.lo != nil {
		minV["dt"], maxV["dt"] = delta.FormatDate(int32(adt.lo.(int64))), delta.FormatDate(int32(adt.hi.(int64)))
	}
	if ats.lo != nil {
		ms := func(us int64) string {
			return delta.FormatTimestamp(delta.FloorDiv(us, 1000) * 1000)
		}
		minV["ts"], maxV["ts"] = ms(ats.lo.(int64)), ms(ats.hi.(int64))
	}
	if adec.lo != nil {
		f := func(v int64) json.Number {
			return json.Number(decimal128.FromI64(v).ToString(2))
		}
		minV["dec"], maxV["dec"] = f(adec.lo.(int64)), f(adec.hi.(int64))
	}
	b, _ := json.Marshal(map[string]any{"numRecords": len(rows), "minValues": minV, "maxValues": maxV, "nullCount": nulls})
	return string(b)
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
func derefS(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
func derefF(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

func genLeaf(r *rand.Rand) string {
	ops := []string{"=", "!=", "<", "<=", ">", ">="}
	op := ops[r.IntN(len(ops))]
	col := []string{"p", "i", "s", "d", "dt", "ts", "dec", "flag"}[r.IntN(8)]
	if r.IntN(8) == 0 {
		if r.IntN(2) == 0 {
			return col + " IS NULL"
		}
		return col + " IS NOT NULL"
	}
	var lit string
	switch col {
	case "p":
		lit = quoteString([]string{"x", "y", "q", "a", "z"}[r.IntN(5)])
	case "i":
		lit = strconv.Itoa(r.IntN(15) - 7)
	case "s":
		lit = quoteString(append(propStrings, "abcdefgh0", "ab\uffff", "zz", "zz😀😀", "b\x00")[r.IntN(len(propStrings)+5)])
	case "d":
		lit = []string{"'NaN'", "-0.0", "0", "2.5", "-2.5", "1.25", "3", "-3"}[r.IntN(8)]
	case "dt":
		lit = "DATE '" + delta.FormatDate(int32(17998+r.IntN(14))) + "'"
	case "ts":
		lit = "TIMESTAMP '" + delta.FormatTimestamp(tsBase+int64(r.IntN(7000)-1000)) + "'"
	case "dec":
		lit = []string{"0", "-3.5", "3.5", "1.005", "-1.005", "0.01", "2.99", "-3.00"}[r.IntN(8)]
	case "flag":
		lit = []string{"true", "false"}[r.IntN(2)]
	}
	if r.IntN(6) == 0 && col != "flag" {
		return fmt.Sprintf("%s IN (%s, %s)", col, lit, lit)
	}
	return fmt.Sprintf("%s %s %s", col, op, lit)
}

func genExpr(r *rand.Rand, depth int) string {
	if depth == 0 || r.IntN(3) == 0 {
		return genLeaf(r)
	}
	switch r.IntN(3) {
	case 0:
		return "NOT (" + genExpr(r, depth-1) + ")"
	case 1:
		return "(" + genExpr(r, depth-1) + ") AND (" + genExpr(r, depth-1) + ")"
	}
	return "(" + genExpr(r, depth-1) + ") OR (" + genExpr(r, depth-1) + ")"
}

func TestMightMatchNeverSkipsMatchingFiles(t *testing.T) {
	st, err := delta.ParseSchema(propSchemaJSON)
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(1, 2))
	skipped, kept := 0, 0
	for round := 0; round < 20; round++ {
		rows := genData(r, 60)
		// Files: one per partition value, each split in chunks of up to 7 rows.
		byPart := map[string][]genRow{}
		for _, g := range rows {
			k := ""
			if g.p != nil {
				k = *g.p
			}
			byPart[k] = append(byPart[k], g)
		}
		type file struct {
			pv    map[string]string
			stats *Stats
			rec   arrow.Record
			raw   string
		}
		var files []file
		for k, group := range byPart {
			for len(group) > 0 {
				n := min(len(group), 1+r.IntN(7))
				chunk := group[:n]
				group = group[n:]
				raw := statsJSON(r, chunk)
				s, err := ParseStats(raw)
				require.NoError(t, err)
				files = append(files, file{map[string]string{"p": k}, s, buildRecord(t, chunk), raw})
			}
		}
		for q := 0; q < 60; q++ {
			text := genExpr(r, 3)
			e := mustBind(t, st, text)
			hints := Hints(e)
			var hintsJSON *Expr
			if hints != nil {
				_, hintsJSON = viaJSON(t, hints)
			}
			for _, f := range files {
				mask, err := Eval(e, f.rec)
				require.NoError(t, err, text)
				matches := 0
				for _, m := range mask {
					if m {
						matches++
					}
				}
				might := MightMatch(e, f.pv, f.stats)
				if matches > 0 {
					require.True(t, might, "file with %d matching rows skipped\nexpr: %s\npartition: %v\nstats: %s", matches, text, f.pv, f.raw)
					if hintsJSON != nil {
						require.True(t, MightMatch(hintsJSON, f.pv, f.stats), "hints %s skipped a matching file; stats %s", hintsJSON, f.raw)
					}
				}
				if might {
					kept++
				} else {
					skipped++
				}
			}
		}
		for _, f := range files {
			f.rec.Release()
		}
	}
	t.Logf("files skipped %d, kept %d", skipped, kept)
	assert.Greater(t, skipped, kept/10, "skipping should prune a fair share of files")
}
