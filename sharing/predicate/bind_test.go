package predicate

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/sharing/delta"
)

const testSchema = `{"type":"struct","fields":[
 {"name":"id","type":"long","nullable":true,"metadata":{}},
 {"name":"Small","type":"integer","nullable":true,"metadata":{}},
 {"name":"b","type":"byte","nullable":true,"metadata":{}},
 {"name":"flag","type":"boolean","nullable":true,"metadata":{}},
 {"name":"name","type":"string","nullable":true,"metadata":{}},
 {"name":"day","type":"date","nullable":true,"metadata":{}},
 {"name":"ts","type":"timestamp","nullable":true,"metadata":{}},
 {"name":"ntz","type":"timestamp_ntz","nullable":true,"metadata":{}},
 {"name":"f","type":"float","nullable":true,"metadata":{}},
 {"name":"x","type":"double","nullable":true,"metadata":{}},
 {"name":"amount","type":"decimal(10,2)","nullable":true,"metadata":{}},
 {"name":"raw","type":"binary","nullable":true,"metadata":{}},
 {"name":"s","type":{"type":"struct","fields":[{"name":"Inner","type":"long","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}},
 {"name":"tags","type":{"type":"array","elementType":"string","containsNull":true},"nullable":true,"metadata":{}}
]}`

func schema(t testing.TB) *delta.StructType {
	t.Helper()
	st, err := delta.ParseSchema(testSchema)
	require.NoError(t, err)
	return st
}

func TestBind(t *testing.T) {
	st := schema(t)
	tests := []struct {
		in   string
		want *Expr
	}{
		{"ID = 5", Compare(OpEqual, Column("id", TypeLong), Literal("5", TypeLong))},
		{"id = '5'", Compare(OpEqual, Column("id", TypeLong), Literal("5", TypeLong))},
		{"small < 3", Compare(OpLessThan, Column("Small", TypeInt), Literal("3", TypeInt))},
		{"small < 3000000000", Compare(OpLessThan, Column("Small", TypeLong), Literal("3000000000", TypeLong))},
		{"b >= -1", Compare(OpGreaterThanOrEqual, Column("b", TypeInt), Literal("-1", TypeInt))},
		{"flag = TRUE", Compare(OpEqual, Column("flag", TypeBool), Literal("true", TypeBool))},
		{"flag = 'False'", Compare(OpEqual, Column("flag", TypeBool), Literal("false", TypeBool))},
		{"name = 'x'", Compare(OpEqual, Column("name", TypeString), Literal("x", TypeString))},
		{"day = '2021-1-2'", Compare(OpEqual, Column("day", TypeDate), Literal("2021-01-02", TypeDate))},
		{"day > DATE '2021-01-02'", Compare(OpGreaterThan, Column("day", TypeDate), Literal("2021-01-02", TypeDate))},
		{"ts > '2021-01-02 10:00:00'", Compare(OpGreaterThan, Column("ts", TypeTimestamp), Literal("2021-01-02T10:00:00Z", TypeTimestamp))},
		{"ts > TIMESTAMP '2021-01-02T10:00:00.5+01:00'", Compare(OpGreaterThan, Column("ts", TypeTimestamp), Literal("2021-01-02T09:00:00.5Z", TypeTimestamp))},
		{"ts >= DATE '2021-01-02'", Compare(OpGreaterThanOrEqual, Column("ts", TypeTimestamp), Literal("2021-01-02T00:00:00Z", TypeTimestamp))},
		{"ntz < '2021-01-02T10:00:00'", Compare(OpLessThan, Column("ntz", TypeTimestampNTZ), Literal("2021-01-02 10:00:00", TypeTimestampNTZ))},
		{"f = 0.1", Compare(OpEqual, Column("f", TypeFloat), Literal("0.1", TypeFloat))},
		{"x <= 1", Compare(OpLessThanOrEqual, Column("x", TypeDouble), Literal("1", TypeDouble))},
		{"x = 'NaN'", Compare(OpEqual, Column("x", TypeDouble), Literal("NaN", TypeDouble))},
		{"amount > 10.005", Compare(OpGreaterThan, Column("amount", TypeDecimal), Literal("10.005", TypeDecimal))},
		{"s.inner = 1", Compare(OpEqual, Column("s.Inner", TypeLong), Literal("1", TypeLong))},
		{"5 < id", Compare(OpGreaterThan, Column("id", TypeLong), Literal("5", TypeLong))},
		{"raw IS NULL", IsNull(Column("raw", TypeString))},
		{"name IS NOT NULL AND NOT (id = 1 OR id != 2)", And(
			Not(IsNull(Column("name", TypeString))),
			Not(Or(Compare(OpEqual, Column("id", TypeLong), Literal("1", TypeLong)),
				Not(Compare(OpEqual, Column("id", TypeLong), Literal("2", TypeLong))))))},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got := mustBind(t, st, tc.in)
			assert.Equal(t, tc.want, got)
			// A bound predicate survives JSON and binds again to itself.
			_, back := viaJSON(t, got)
			assert.Equal(t, got, back)
			rebound, err := Bind(back, st)
			require.NoError(t, err)
			assert.Equal(t, got, rebound)
		})
	}
}

func TestBindErrors(t *testing.T) {
	st := schema(t)
	tests := []struct{ in, msg string }{
		{"nope = 1", `unknown column "nope"; the table has: id, Small, b, flag, name, day, ts, ntz, f, x, amount, raw, s, tags`},
		{"s.nope = 1", `unknown column "s.nope"`},
		{"id = 'abc'", `column "id" is long: 'abc' is not a whole number`},
		{"id = 1.5", "not a whole number"},
		{"id = 99999999999999999999", "out of the long range"},
		{"id = true", "compare it with a whole number"},
		{"name = 5", "compare it with a quoted string such as '5'"},
		{"flag = 1", "compare it with true or false"},
		{"flag = 'yes'", "is not true or false"},
		{"day = '2021-02-30'", "no such day"},
		{"day = TIMESTAMP '2021-01-01 00:00:00'", "compare it with a date"},
		{"day = 5", "compare it with a date"},
		{"ts = 5", "compare it with a timestamp"},
		{"ntz = '2021-01-01 00:00:00+01:00'", "must not carry a time zone"},
		{"x = 'abc'", "is not a valid double"},
		{"f = 1e40", "is not a valid float"},
		{"amount = 'x'", "is not a valid decimal"},
		{"raw = 'x'", "can only be tested with IS NULL"},
		{"s = 1", "can only be tested with IS NULL"},
		{"tags IS NULL", "nested columns is not supported"},
		{"s.inner.deeper = 1", `unknown column "s.inner.deeper"`},
		{"id", "compare it with a whole number"}, // a bare column must be boolean
		{"id LIKE '1%'", `column "id" is long: LIKE applies to string columns`},
		{"nope LIKE '1%'", `unknown column "nope"`},
		{"id BETWEEN 1 AND 'x'", "not a whole number"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			_, err := Bind(mustParse(t, tc.in), st)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
	_, err := Bind(nil, st)
	require.Error(t, err)
	_, err = Bind(Compare(OpEqual, Column("id", ""), Literal("1", TypeLong)), nil)
	require.Error(t, err)
	_, err = Bind(Column("id", ""), st)
	require.ErrorContains(t, err, "not a condition")
}

func TestBindColumns(t *testing.T) {
	st := schema(t)
	e, err := Bind(Compare(OpLessThan, Column("ID", ""), Column("small", "")), st)
	require.NoError(t, err)
	assert.Equal(t, Compare(OpLessThan, Column("id", TypeLong), Column("Small", TypeInt)), e)
	// A literal written first (as JSON may) stays first.
	e, err = Bind(Compare(OpLessThan, Literal("5", TypeString), Column("ID", "")), st)
	require.NoError(t, err)
	assert.Equal(t, Compare(OpLessThan, Literal("5", TypeLong), Column("id", TypeLong)), e)
	_, err = Bind(Compare(OpLessThan, Column("id", ""), Column("name", "")), st)
	require.ErrorContains(t, err, "cannot compare column")
}

func TestRenameColumnsAndColumns(t *testing.T) {
	e := mustParse(t, "a = 1 AND (b < 2 OR a IS NULL)")
	assert.Equal(t, []string{"a", "b"}, e.Columns())
	r := RenameColumns(e, func(n string) (string, bool) {
		if n == "a" {
			return "col-a", true
		}
		return "", false
	})
	assert.Equal(t, []string{"col-a", "b"}, r.Columns())
	assert.Equal(t, []string{"a", "b"}, e.Columns(), "the original is unchanged")
}

// TestBindNewForms: BETWEEN, bare boolean columns and LIKE bind to typed trees; LIKE resolves
// its column case-insensitively and stays an OpLike that Hints leaves out.
func TestBindNewForms(t *testing.T) {
	st := schema(t)
	bind := func(s string) *Expr { return mustBind(t, st, s) }
	assert.Equal(t, And(
		Compare(OpGreaterThanOrEqual, Column("Small", TypeInt), Literal("1", TypeInt)),
		Compare(OpLessThanOrEqual, Column("Small", TypeInt), Literal("9", TypeInt))), bind("small BETWEEN 1 AND 9"))
	assert.Equal(t, Compare(OpEqual, Column("flag", TypeBool), Literal("true", TypeBool)), bind("FLAG"))
	like := bind("NAME LIKE 'a%' AND id > 1")
	assert.Equal(t, And(Like(Column("name", TypeString), "a%"), Compare(OpGreaterThan, Column("id", TypeLong), Literal("1", TypeLong))), like)
	assert.Equal(t, Compare(OpGreaterThan, Column("id", TypeLong), Literal("1", TypeLong)), Hints(like), "LIKE is local only")
	h, err := json.Marshal(Hints(bind("id NOT IN (1, 2)")))
	require.NoError(t, err)
	assert.JSONEq(t, `{"op":"and","children":[
		{"op":"not","children":[{"op":"equal","children":[{"op":"column","name":"id","valueType":"long"},{"op":"literal","value":"1","valueType":"long"}]}]},
		{"op":"not","children":[{"op":"equal","children":[{"op":"column","name":"id","valueType":"long"},{"op":"literal","value":"2","valueType":"long"}]}]}]}`, string(h))
}
