package predicate

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/sharing/delta"
)

// mustParse parses the filter s.
func mustParse(t testing.TB, s string) *Expr {
	t.Helper()
	e, err := Parse(s)
	require.NoError(t, err, s)
	return e
}

// mustBind parses the filter s and binds it to st.
func mustBind(t testing.TB, st *delta.StructType, s string) *Expr {
	t.Helper()
	b, err := Bind(mustParse(t, s), st)
	require.NoError(t, err, s)
	return b
}

// viaJSON marshals e and parses the JSON back, returning the JSON and what it parsed to.
func viaJSON(t testing.TB, e *Expr) ([]byte, *Expr) {
	t.Helper()
	b, err := json.Marshal(e)
	require.NoError(t, err)
	back, err := ParseJSON(b)
	require.NoError(t, err, string(b))
	return b, back
}
