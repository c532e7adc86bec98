package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/sharing/protocol"
)

func TestParseVersionOptions(t *testing.T) {
	testParse(t, parseVersionOptions, []parseCase[versionOptions]{
		{name: "table", args: []string{"version", "-p", "me.share", "demo.sales.orders"},
			want: versionOptions{tableTarget: tableTarget{Profile: "me.share", Table: ordersTable}, Output: "text"}},
		// The Python-compatible PROFILE#table form: the embedded profile wins over --profile.
		{name: "profile in the table", args: []string{"version", "--output", "json", "-p", "other", "/p/me.share#DEMO.sales.ORDERS"},
			want: versionOptions{tableTarget: tableTarget{Profile: "/p/me.share", Table: protocol.Table{Share: "DEMO", Schema: "sales", Name: "ORDERS"}}, Output: "json"}},
		{name: "starting timestamp", args: []string{"version", "demo.sales.orders", "-p", "x", "--starting-timestamp", "2024-01-31T00:00:00Z"},
			want: versionOptions{tableTarget: tableTarget{Profile: "x", Table: ordersTable}, Output: "text", StartingTimestamp: "2024-01-31T00:00:00Z"}},
		{name: "two parts", args: []string{"version", "-p", "x", "only.two"}, code: exitUsage, msg: "share.schema.table"},
		{name: "four parts", args: []string{"version", "-p", "x", "a.b.c.d"}, code: exitUsage, msg: "share.schema.table"},
		// No TABLE: deltashare's own version, like every CLI's `version`.
		{name: "no table", args: []string{"version"}, want: versionOptions{Tool: true, Output: "text"}},
		{name: "no table, json", args: []string{"version", "-p", "x", "--output", "json"}, want: versionOptions{Tool: true, Output: "json"}},
		{name: "timestamp without table", args: []string{"version", "-p", "x", "--starting-timestamp", "2024-01-31T00:00:00Z"}, code: exitUsage, msg: "version needs one argument: TABLE"},
		{name: "two tables", args: []string{"version", "-p", "x", "a.b.c", "d.e.f"}, code: exitUsage, msg: "version needs one argument: TABLE"},
		{name: "no credential: the default one", args: []string{"version", "demo.sales.orders"}, want: versionOptions{tableTarget: tableTarget{Table: ordersTable}, Output: "text"}},
	})
}

// TestVersionCommand: `deltashare version` with no argument prints the tool's version (what
// --version prints), exit 0; with a TABLE it still prints the table's version.
func TestVersionCommand(t *testing.T) {
	credEnv(t)
	r := run(t, "", "version")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Equal(t, "deltashare version "+version+"\n", r.Out)
	assert.Equal(t, run(t, "", "--version").Out, r.Out)

	r = run(t, "", "version", "--output", "json")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.JSONEq(t, `{"version": "`+version+`"}`, r.Out)

	profile := demoEnv(t).ProfileFile(t)
	r = run(t, "", "version", "-p", profile, "demo.sales.orders")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Equal(t, "2\n", r.Out)
}

func TestRunVersion(t *testing.T) {
	profile, d := demoDeps(t)

	r := call(t, d, "", runVersion, versionOptions{tableTarget: tableTarget{Profile: profile, Table: ordersTable}, Output: "text"})
	require.Equal(t, 0, r.Code, r.Err)
	assert.Equal(t, "2\n", r.Out)

	// Names in any case.
	upper := protocol.Table{Share: "DEMO", Schema: "sales", Name: "ORDERS"}
	r = call(t, d, "", runVersion, versionOptions{tableTarget: tableTarget{Profile: profile, Table: upper}, Output: "json"})
	require.Equal(t, 0, r.Code, r.Err)
	var v struct {
		Table   tableRef
		Version int64
	}
	require.NoError(t, json.Unmarshal([]byte(r.Out), &v))
	assert.Equal(t, int64(2), v.Version)
	assert.Equal(t, tableRef{Share: "DEMO", Schema: "sales", Name: "ORDERS", FullName: "DEMO.sales.ORDERS"}, v.Table)

	r = call(t, d, "", runVersion, versionOptions{tableTarget: tableTarget{Profile: profile, Table: ordersTable}, Output: "text", StartingTimestamp: "2000-01-01T00:00:00Z"})
	require.Equal(t, 0, r.Code, r.Err)
	assert.Equal(t, "0\n", r.Out)
}
