package predicate

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJSONProtocolExamples(t *testing.T) {
	// The three examples of the protocol's "JSON predicates for Filtering" section (the third
	// has a trailing comma there, which is not JSON; it is written without it here).
	tests := []struct {
		in   string
		want *Expr
	}{
		{`{"op": "equal","children": [
		    {"op": "column", "name":"hireDate", "valueType":"date"},
		    {"op":"literal","value":"2021-04-29","valueType":"date"}]}`,
			Compare(OpEqual, Column("hireDate", TypeDate), Literal("2021-04-29", TypeDate))},
		{`{"op":"and","children":[
		    {"op":"equal","children":[
		      {"op":"column","name":"hireDate","valueType":"date"},
		      {"op":"literal","value":"2021-04-29","valueType":"date"}]},
		    {"op":"lessThan","children":[
		      {"op":"column","name":"id","valueType":"int"},
		      {"op":"literal","value":"25","valueType":"int"}]}]}`,
			And(Compare(OpEqual, Column("hireDate", TypeDate), Literal("2021-04-29", TypeDate)),
				Compare(OpLessThan, Column("id", TypeInt), Literal("25", TypeInt)))},
		{`{"op": "not","children": [{"op": "isNull","children":[{"op":"column","name":"id","valueType":"int"}]}]}`,
			Not(IsNull(Column("id", TypeInt)))},
		{`{"op":"equal","children":[{"op":"literal","value":25,"valueType":"int"},{"op":"column","name":"id","valueType":"int"}],"extra":1}`,
			Compare(OpEqual, Literal("25", TypeInt), Column("id", TypeInt))},
		{`{"op":"equal","children":[{"op":"column","name":"b","valueType":"bool"},{"op":"literal","value":true,"valueType":"bool"}]}`,
			Compare(OpEqual, Column("b", TypeBool), Literal("true", TypeBool))},
	}
	for _, tc := range tests {
		got, err := ParseJSON([]byte(tc.in))
		require.NoError(t, err)
		assert.Equal(t, tc.want, got)
		// Round trip.
		b, back := viaJSON(t, got)
		assert.Equal(t, got, back)
		var viaUnmarshal Expr
		require.NoError(t, json.Unmarshal(b, &viaUnmarshal))
		assert.Equal(t, got, &viaUnmarshal)
	}
}

func TestMarshalJSONShape(t *testing.T) {
	e := mustParse(t, "a != '' AND b IS NOT NULL")
	e.Children[0].Children[0].Children[0].ValueType = TypeString
	e.Children[1].Children[0].Children[0].ValueType = TypeLong
	b, err := json.Marshal(e)
	require.NoError(t, err)
	assert.JSONEq(t, `{"op":"and","children":[
	  {"op":"not","children":[{"op":"equal","children":[
	    {"op":"column","name":"a","valueType":"string"},
	    {"op":"literal","value":"","valueType":"string"}]}]},
	  {"op":"not","children":[{"op":"isNull","children":[{"op":"column","name":"b","valueType":"long"}]}]}]}`, string(b))
}

func TestParseJSONErrors(t *testing.T) {
	col := `{"op":"column","name":"a","valueType":"int"}`
	lit := `{"op":"literal","value":"1","valueType":"int"}`
	tests := []struct{ in, msg string }{
		{``, "malformed"},
		{`[]`, "malformed"},
		{`{"op":"equal","children":[` + col + `,` + lit + `]} {}`, "after the top-level"},
		{`{"children":[]}`, "has no op"},
		{`{"op":"like","children":[]}`, "not a known op"},
		{`{"op":"equal","children":[` + col + `]}`, "exactly two children"},
		{`{"op":"not","children":[]}`, "exactly one child"},
		{`{"op":"and","children":[]}`, "at least one child"},
		{`{"op":"isNull","children":[` + lit + `]}`, "must be a column"},
		{`{"op":"equal","children":[` + col + `,{"op":"and","children":[]}]}`, "at least one child"},
		{`{"op":"equal","children":[` + col + `,{"op":"not","children":[{"op":"isNull","children":[` + col + `]}]}]}`, "must be column or literal"},
		{`{"op":"and","children":[` + col + `]}`, "must be predicates"},
		{`{"op":"column","name":"a","valueType":"int","children":[` + col + `]}`, "must not have children"},
		{`{"op":"equal","children":[{"op":"column","valueType":"int"},` + lit + `]}`, "has no name"},
		{`{"op":"equal","children":[{"op":"column","name":"a","valueType":"varchar"},` + lit + `]}`, `valueType "varchar"`},
		{`{"op":"equal","children":[` + col + `,{"op":"literal","valueType":"int"}]}`, "no value"},
		{`{"op":"equal","children":[` + col + `,{"op":"literal","value":"x","valueType":"int"}]}`, `literal "x" is not a valid int`},
		{`{"op":"equal","children":[` + col + `,{"op":"literal","value":"2021-02-30","valueType":"date"}]}`, "no such day"},
		{`{"op":"equal","children":[` + col + `,{"op":"literal","value":{},"valueType":"int"}]}`, "must be a string"},
		{`{"op":"and","children":[null]}`, "is null"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			_, err := ParseJSON([]byte(tc.in))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
	// Error paths name the offending node.
	_, err := ParseJSON([]byte(`{"op":"and","children":[` + `{"op":"equal","children":[` + col + `,` + lit + `]},{"op":"equal","children":[` + col + `]}]}`))
	require.ErrorContains(t, err, "$.children[1]")
}

func TestParseJSONLimits(t *testing.T) {
	leaf := `{"op":"isNull","children":[{"op":"column","name":"a","valueType":"int"}]}`
	deep := strings.Repeat(`{"op":"not","children":[`, MaxDepth+3) + leaf + strings.Repeat(`]}`, MaxDepth+3)
	_, err := ParseJSON([]byte(deep))
	require.ErrorContains(t, err, "nested deeper")
	// Deep nesting of arbitrary JSON values is refused before decoding.
	_, err = ParseJSON([]byte(strings.Repeat("[", 100000)))
	require.ErrorContains(t, err, "nested deeper")
	_, err = ParseJSON(make([]byte, MaxJSONBytes+1))
	require.ErrorContains(t, err, "larger than the limit")
	// Fine at the limit of depth.
	ok := strings.Repeat(`{"op":"not","children":[`, MaxDepth-1) + leaf + strings.Repeat(`]}`, MaxDepth-1)
	_, err = ParseJSON([]byte(ok))
	require.NoError(t, err)
}

func TestHints(t *testing.T) {
	d := func(s string) *Expr { return Compare(OpEqual, Column("d", TypeDecimal), Literal(s, TypeDecimal)) }
	i := func(s string) *Expr { return Compare(OpLessThan, Column("i", TypeInt), Literal(s, TypeInt)) }
	tests := []struct {
		name string
		in   *Expr
		want *Expr
	}{
		{"protocol only", And(i("1"), i("2")), And(i("1"), i("2"))},
		{"drop from and", And(i("1"), d("2")), i("1")},
		{"drop all", And(d("1"), d("2")), nil},
		{"or with a bad branch", Or(i("1"), d("2")), nil},
		{"and inside or", Or(And(i("1"), d("2")), i("3")), Or(i("1"), i("3"))},
		// NOT (i<1 AND d=2) = NOT i<1 OR NOT d=2: the decimal branch is inexpressible, so nothing.
		{"not over and", Not(And(i("1"), d("2"))), nil},
		// NOT (i<1 OR d=2) = NOT i<1 AND NOT d=2: keep NOT i<1.
		{"not over or", Not(Or(i("1"), d("2"))), Not(i("1"))},
		{"double not", Not(Not(i("1"))), i("1")},
		{"unbound", Compare(OpEqual, Column("x", ""), Literal("1", TypeLong)), nil},
		{"is null", Not(IsNull(Column("i", TypeInt))), Not(IsNull(Column("i", TypeInt)))},
		// LIKE has no protocol op: dropped from ANDs, its OR dropped whole; it stays local.
		{"like in and", And(i("1"), Like(Column("s", TypeString), "a%")), i("1")},
		{"like in or", Or(i("1"), Like(Column("s", TypeString), "a%")), nil},
		{"not like", Not(Like(Column("s", TypeString), "a%")), nil},
		// BETWEEN and NOT IN are protocol ops: sent as and(>=, <=) and not(or(equal...)).
		{"between", And(Compare(OpGreaterThanOrEqual, Column("i", TypeInt), Literal("1", TypeInt)), Compare(OpLessThanOrEqual, Column("i", TypeInt), Literal("5", TypeInt))),
			And(Compare(OpGreaterThanOrEqual, Column("i", TypeInt), Literal("1", TypeInt)), Compare(OpLessThanOrEqual, Column("i", TypeInt), Literal("5", TypeInt)))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Hints(tc.in))
		})
	}
	assert.Nil(t, Hints(nil))
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		`{"op":"equal","children":[{"op":"column","name":"a","valueType":"int"},{"op":"literal","value":"1","valueType":"int"}]}`,
		`{"op":"not","children":[{"op":"isNull","children":[{"op":"column","name":"id","valueType":"int"}]}]}`,
		`{"op":"or","children":[{"op":"lessThan","children":[{"op":"column","name":"t","valueType":"timestamp"},{"op":"literal","value":"2021-01-01T00:00:00Z","valueType":"timestamp"}]},{"op":"greaterThanOrEqual","children":[{"op":"column","name":"s","valueType":"string"},{"op":"literal","value":"x","valueType":"string"}]}]}`,
		`{"op":"and","children":[null]}`, `[[[[`, `{"op":"literal","value":1.5e3,"valueType":"double"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseJSON(data)
		if err != nil {
			return
		}
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("marshal of a parsed predicate failed: %v", err)
		}
		back, err := ParseJSON(b)
		if err != nil {
			t.Fatalf("re-parse of %s failed: %v", b, err)
		}
		b2, _ := json.Marshal(back)
		if string(b) != string(b2) {
			t.Fatalf("round trip changed %s to %s", b, b2)
		}
		_ = MightMatch(e, map[string]string{"a": "1"}, nil)
		_ = e.String()
		_ = Hints(e)
	})
}
