package predicate

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want *Expr
	}{
		{"id = 5", Compare(OpEqual, Column("id", ""), Literal("5", TypeLong))},
		{"id == -5", Compare(OpEqual, Column("id", ""), Literal("-5", TypeLong))},
		{"x < 1.5", Compare(OpLessThan, Column("x", ""), Literal("1.5", TypeDouble))},
		{"x <= 1e3", Compare(OpLessThanOrEqual, Column("x", ""), Literal("1e3", TypeDouble))},
		{"x > .5", Compare(OpGreaterThan, Column("x", ""), Literal(".5", TypeDouble))},
		{"x >= 0", Compare(OpGreaterThanOrEqual, Column("x", ""), Literal("0", TypeLong))},
		{"5 < x", Compare(OpGreaterThan, Column("x", ""), Literal("5", TypeLong))},
		{"'a' >= name", Compare(OpLessThanOrEqual, Column("name", ""), Literal("a", TypeString))},
		{"x != 1", Not(Compare(OpEqual, Column("x", ""), Literal("1", TypeLong)))},
		{"x <> 'it''s'", Not(Compare(OpEqual, Column("x", ""), Literal("it's", TypeString)))},
		{"flag = TRUE", Compare(OpEqual, Column("flag", ""), Literal("true", TypeBool))},
		{"flag = false", Compare(OpEqual, Column("flag", ""), Literal("false", TypeBool))},
		{"d = DATE '2021-1-5'", Compare(OpEqual, Column("d", ""), Literal("2021-01-05", TypeDate))},
		{"ts > timestamp '2021-01-05 10:00:00'", Compare(OpGreaterThan, Column("ts", ""), Literal("2021-01-05 10:00:00", TypeTimestamp))},
		{"date = '2021-01-01'", Compare(OpEqual, Column("date", ""), Literal("2021-01-01", TypeString))},
		{"x IS NULL", IsNull(Column("x", ""))},
		{"x is not null", Not(IsNull(Column("x", "")))},
		{"`odd name` = 1", Compare(OpEqual, Column("odd name", ""), Literal("1", TypeLong))},
		{"`a``b` = 1", Compare(OpEqual, Column("a`b", ""), Literal("1", TypeLong))},
		{"s.inner = 1", Compare(OpEqual, Column("s.inner", ""), Literal("1", TypeLong))},
		{"`s`.`in ner` = 1", Compare(OpEqual, Column("s.in ner", ""), Literal("1", TypeLong))},
		{"`select` = 1", Compare(OpEqual, Column("select", ""), Literal("1", TypeLong))},
		{"`and` = 1", Compare(OpEqual, Column("and", ""), Literal("1", TypeLong))},
		{"größe > 3", Compare(OpGreaterThan, Column("größe", ""), Literal("3", TypeLong))},
		{"c IN ('a', 'b')", Or(
			Compare(OpEqual, Column("c", ""), Literal("a", TypeString)),
			Compare(OpEqual, Column("c", ""), Literal("b", TypeString)))},
		{"c in (1)", Compare(OpEqual, Column("c", ""), Literal("1", TypeLong))},
		{"c NOT IN (1, 2)", Not(Or(
			Compare(OpEqual, Column("c", ""), Literal("1", TypeLong)),
			Compare(OpEqual, Column("c", ""), Literal("2", TypeLong))))},
		{"a = 1 AND b = 2 OR c = 3", Or(
			And(Compare(OpEqual, Column("a", ""), Literal("1", TypeLong)), Compare(OpEqual, Column("b", ""), Literal("2", TypeLong))),
			Compare(OpEqual, Column("c", ""), Literal("3", TypeLong)))},
		{"a = 1 and (b = 2 or c = 3)", And(
			Compare(OpEqual, Column("a", ""), Literal("1", TypeLong)),
			Or(Compare(OpEqual, Column("b", ""), Literal("2", TypeLong)), Compare(OpEqual, Column("c", ""), Literal("3", TypeLong))))},
		{"a = 1 AND b = 2 AND c = 3", And(
			Compare(OpEqual, Column("a", ""), Literal("1", TypeLong)),
			Compare(OpEqual, Column("b", ""), Literal("2", TypeLong)),
			Compare(OpEqual, Column("c", ""), Literal("3", TypeLong)))},
		{"NOT a = 1 OR b IS NULL", Or(
			Not(Compare(OpEqual, Column("a", ""), Literal("1", TypeLong))),
			IsNull(Column("b", "")))},
		{"not not (a = 1)", Not(Not(Compare(OpEqual, Column("a", ""), Literal("1", TypeLong))))},
		{"  ((a = 1))  ", Compare(OpEqual, Column("a", ""), Literal("1", TypeLong))},
		{"x BETWEEN 1 AND 5", And(
			Compare(OpGreaterThanOrEqual, Column("x", ""), Literal("1", TypeLong)),
			Compare(OpLessThanOrEqual, Column("x", ""), Literal("5", TypeLong)))},
		{"d between date '2021-01-01' and '2021-12-31' and y = 1", And(
			Compare(OpGreaterThanOrEqual, Column("d", ""), Literal("2021-01-01", TypeDate)),
			Compare(OpLessThanOrEqual, Column("d", ""), Literal("2021-12-31", TypeString)),
			Compare(OpEqual, Column("y", ""), Literal("1", TypeLong)))},
		{"x NOT BETWEEN -1 AND 1 OR y = 2", Or(
			Not(And(
				Compare(OpGreaterThanOrEqual, Column("x", ""), Literal("-1", TypeLong)),
				Compare(OpLessThanOrEqual, Column("x", ""), Literal("1", TypeLong)))),
			Compare(OpEqual, Column("y", ""), Literal("2", TypeLong)))},
		{"active", Compare(OpEqual, Column("active", ""), Literal("true", TypeBool))},
		{"NOT active AND x = 1", And(
			Not(Compare(OpEqual, Column("active", ""), Literal("true", TypeBool))),
			Compare(OpEqual, Column("x", ""), Literal("1", TypeLong)))},
		{"(active) OR `is member`", Or(
			Compare(OpEqual, Column("active", ""), Literal("true", TypeBool)),
			Compare(OpEqual, Column("is member", ""), Literal("true", TypeBool)))},
		{"name LIKE 'Oh%'", Like(Column("name", ""), "Oh%")},
		{"name not like 'a\\_%'", Not(Like(Column("name", ""), "a\\_%"))},
		{"`like` = 1", Compare(OpEqual, Column("like", ""), Literal("1", TypeLong))},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			// String renders something Parse reads back to the same tree.
			again, err := Parse(got.String())
			require.NoError(t, err, "re-parsing %q", got.String())
			assert.Equal(t, got, again, "round trip through %q", got.String())
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in  string
		pos int
		msg string
	}{
		{"", 1, "found nothing"},
		{"id 5", 4, "expected a comparison"},
		{"a BETWEEN 1", 12, "expected AND in BETWEEN"},
		{"a BETWEEN b AND 1", 11, "BETWEEN takes values"},
		{"a BETWEEN 1 AND b", 17, "BETWEEN takes values"},
		{"5 BETWEEN 1 AND 2", 1, "applies to a column"},
		{"a LIKE 5", 8, "quoted pattern after LIKE"},
		{"a LIKE 'x\\'", 8, "lone"},
		{"a NOT LIKE", 11, "quoted pattern"},
		{"id =", 5, "expected a column name or a value, found the end"},
		{"id = 'abc", 6, "not closed"},
		{"id = 5 AND", 11, "expected a column name"},
		{"id = 5 name = 3", 8, "expected AND, OR"},
		{"(id = 5", 8, "expected )"},
		{"id = 5)", 7, "expected AND, OR"},
		{"id ! 5", 4, "lone !"},
		{"id = NULL", 6, "IS NULL"},
		{"1 = 2", 1, "column on one side"},
		{"a = b", 5, "two columns"},
		{"a IS 5", 6, "expected NULL after IS"},
		{"a IS NOT 5", 10, "expected NULL after IS NOT"},
		{"5 IS NULL", 1, "applies to a column"},
		{"a IN 1", 6, "expected ( after IN"},
		{"a IN (1 2)", 9, "expected , or )"},
		{"a IN (b)", 7, "values only"},
		{"a NOT 5", 7, "expected IN, BETWEEN or LIKE after NOT"},
		{"a = DATE '2021-02-30'", 10, "no such day"},
		{"a = DATE 5", 10, "quoted value after DATE"},
		{"a = TIMESTAMP 'x'", 15, "timestamp"},
		{"a = 12abc", 5, "malformed number"},
		{"a = 1.2.3", 5, "malformed number"},
		{"a = #", 5, "unexpected character"},
		{"`a = 1", 1, "not closed"},
		{"`` = 1", 1, "empty quoted name"},
		{"a = - x", 7, "expected a number after -"},
		{"é = 'x' AND", 12, "expected a column name"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			_, err := Parse(tc.in)
			require.Error(t, err)
			var se *SyntaxError
			require.True(t, errors.As(err, &se), "error %v is a SyntaxError", err)
			assert.Equal(t, tc.pos, se.Pos, "position in %q: %v", tc.in, err)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestParseLimits(t *testing.T) {
	deep := strings.Repeat("(", MaxDepth+5) + "a = 1" + strings.Repeat(")", MaxDepth+5)
	_, err := Parse(deep)
	require.ErrorContains(t, err, "nested deeper")
	nots := strings.Repeat("NOT ", MaxDepth+5) + "a = 1"
	_, err = Parse(nots)
	require.ErrorContains(t, err, "nested deeper")
	_, err = Parse(strings.Repeat(" ", MaxExprBytes+1))
	require.ErrorContains(t, err, "longer than the limit")
	_, err = Parse("a = '\xff'")
	require.ErrorContains(t, err, "UTF-8")
	wide := "a IN (" + strings.Repeat("1,", MaxNodes) + "1)"
	_, err = Parse(wide)
	require.ErrorContains(t, err, "more than")
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"id = 5", "a = 1 AND (b < 'x' OR c IS NOT NULL)", "c NOT IN (1, 2.5, -3)", "`a`.`b` >= DATE '2021-01-01'",
		"ts < TIMESTAMP '2021-01-01T00:00:00Z'", "NOT NOT x != 'it''s'", "date = '2021-01-01'", "((((a=1))))",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			return
		}
		// Whatever parses renders, re-parses to the same tree and survives JSON.
		again, err := Parse(e.String())
		if err != nil {
			t.Fatalf("%q parsed but its rendering %q does not: %v", s, e.String(), err)
		}
		if again.String() != e.String() {
			t.Fatalf("%q: rendering changed: %q vs %q", s, e.String(), again.String())
		}
		if _, err := json.Marshal(e); err != nil {
			t.Fatalf("%q: marshal: %v", s, err)
		}
	})
}
