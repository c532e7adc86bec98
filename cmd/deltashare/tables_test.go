package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTablesOptions(t *testing.T) {
	testParse(t, parseTablesOptions, []parseCase[tablesOptions]{
		{name: "every share", args: []string{"tables", "-p", "x"}, want: tablesOptions{Profile: "x", Output: "text"}},
		{name: "a share", args: []string{"tables", "-p", "x", "demo"}, want: tablesOptions{Profile: "x", Output: "text", Share: "demo"}},
		{name: "a schema", args: []string{"tables", "DEMO.Sales", "-O", "json", "-p", "x"}, want: tablesOptions{Profile: "x", Output: "json", Share: "DEMO", Schema: "Sales"}},
		{name: "a table", args: []string{"tables", "-p", "x", "a.b.c"}, code: exitUsage, msg: "use SHARE or SHARE.SCHEMA"},
		{name: "no share", args: []string{"tables", "-p", "x", ".b"}, code: exitUsage, msg: `bad scope ".b"`},
		{name: "no schema", args: []string{"tables", "-p", "x", "a."}, code: exitUsage, msg: `bad scope "a."`},
		{name: "two scopes", args: []string{"tables", "-p", "x", "a", "b"}, code: exitUsage, msg: "at most one argument"},
		{name: "no credential: the default one", args: []string{"tables"}, want: tablesOptions{Output: "text"}},
	})
}

func TestRunTables(t *testing.T) {
	profile, d := demoDeps(t)

	r := call(t, d, "", runTables, tablesOptions{Profile: profile, Output: "json"})
	require.Equal(t, 0, r.Code, r.Err)
	var tables []map[string]string
	require.NoError(t, json.Unmarshal([]byte(r.Out), &tables))
	var names []string
	for _, tb := range tables {
		names = append(names, tb["fullName"])
		assert.NotContains(t, tb, "table")
		assert.Equal(t, "demo", tb["share"])
		assert.Equal(t, "sales", tb["schema"])
	}
	assert.ElementsMatch(t, []string{"demo.sales.orders", "demo.sales.customers"}, names)

	// Scoped listings, names case-insensitive.
	r = call(t, d, "", runTables, tablesOptions{Profile: profile, Output: "text", Share: "DEMO", Schema: "Sales"})
	require.Equal(t, 0, r.Code, r.Err)
	assert.Regexp(t, `^TABLE\s+ID\n`, r.Out)
	assert.Contains(t, r.Out, "demo.sales.orders")
	r = call(t, d, "", runTables, tablesOptions{Profile: profile, Output: "text", Share: "demo"})
	require.Equal(t, 0, r.Code, r.Err)
	assert.Contains(t, r.Out, "demo.sales.customers")
}
