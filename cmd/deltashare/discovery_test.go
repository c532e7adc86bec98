package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDiscoveryCommands(t *testing.T) {
	t.Setenv("DELTASHARE_CONFIG_DIR", t.TempDir())
	profile, _ := demoServer(t)

	r := run(t, "", "shares", "-p", profile)
	require.Equal(t, 0, r.Code, r.Err)
	assert.Contains(t, r.Out, "demo")

	r = run(t, "", "schemas", "-p", profile, "demo")
	require.Equal(t, 0, r.Code, r.Err)
	assert.Contains(t, r.Out, "sales")

	r = run(t, "", "tables", "-p", profile, "--output", "json")
	require.Equal(t, 0, r.Code, r.Err)
	var tables []map[string]string
	require.NoError(t, json.Unmarshal([]byte(r.Out), &tables))
	var names []string
	for _, tb := range tables {
		names = append(names, tb["table"])
	}
	assert.ElementsMatch(t, []string{"demo.sales.orders", "demo.sales.customers"}, names)

	// Scoped listing, names case-insensitive.
	r = run(t, "", "tables", "-p", profile, "DEMO.Sales")
	require.Equal(t, 0, r.Code, r.Err)
	assert.Contains(t, r.Out, "demo.sales.orders")

	// The profile from the environment and from stdin.
	t.Setenv("DELTASHARE_PROFILE", profile)
	r = run(t, "", "shares")
	require.Equal(t, 0, r.Code, r.Err)
	data, err := os.ReadFile(profile)
	require.NoError(t, err)
	r = run(t, string(data), "shares", "-p", "-")
	require.Equal(t, 0, r.Code, r.Err)
	assert.Contains(t, r.Out, "demo")
}

func TestDiscoveryErrors(t *testing.T) {
	t.Setenv("DELTASHARE_CONFIG_DIR", t.TempDir())
	t.Setenv("DELTASHARE_PROFILE", "")
	profile, _ := demoServer(t)

	// No credential at all: usage error that says what to do.
	r := run(t, "", "shares")
	assert.Equal(t, exitUsage, r.Code)
	assert.Contains(t, r.Err, "deltashare activate")

	// Missing profile file.
	r = run(t, "", "shares", "-p", filepath.Join(t.TempDir(), "missing.share"))
	assert.Equal(t, exitUsage, r.Code)
	assert.Contains(t, r.Err, "does not exist")

	// Wrong token: exit 4, the token never printed.
	bad := filepath.Join(t.TempDir(), "bad.share")
	data, err := os.ReadFile(profile)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bad, []byte(strings.Replace(string(data), "test-token-0123456789abcdef", "wrong-token-secret-value", 1)), 0o600))
	r = run(t, "", "shares", "-p", bad)
	assert.Equal(t, exitAuth, r.Code)
	assert.Contains(t, r.Err, "new credential")
	assert.NotContains(t, r.Err+r.Out, "wrong-token-secret-value")

	// Expired v1 token: exit 4 before any request, naming the expiry.
	expired := filepath.Join(t.TempDir(), "expired.share")
	require.NoError(t, os.WriteFile(expired, []byte(`{"shareCredentialsVersion":1,"endpoint":"http://127.0.0.1:1/x","bearerToken":"tok-expired-secret","expirationTime":"2020-01-02T03:04:05Z"}`), 0o600))
	r = run(t, "", "shares", "-p", expired)
	assert.Equal(t, exitAuth, r.Code)
	assert.Contains(t, r.Err, "2020-01-02")
	assert.NotContains(t, r.Err, "tok-expired-secret")

	// Bad table references and arguments.
	for _, args := range [][]string{
		{"version", "-p", profile, "only.two"},
		{"version", "-p", profile, "a.b.c.d"},
		{"metadata", "-p", profile},
		{"schemas", "-p", profile},
		{"tables", "-p", profile, "a.b.c"},
		{"shares", "-p", profile, "--output", "xml"},
	} {
		r = run(t, "", args...)
		assert.Equal(t, exitUsage, r.Code, "%v: %s", args, r.Err)
	}

	// Unknown share: exit 1 with a hint.
	r = run(t, "", "schemas", "-p", profile, "nope")
	assert.Equal(t, exitError, r.Code)
	assert.Contains(t, r.Err, "404")
}

func TestTableCommands(t *testing.T) {
	t.Setenv("DELTASHARE_CONFIG_DIR", t.TempDir())
	profile, _ := demoServer(t)

	r := run(t, "", "version", "-p", profile, "demo.sales.orders")
	require.Equal(t, 0, r.Code, r.Err)
	assert.Equal(t, "2\n", r.Out)

	// The Python-compatible PROFILE#table form, names in any case.
	r = run(t, "", "version", "--output", "json", profile+"#DEMO.sales.ORDERS")
	require.Equal(t, 0, r.Code, r.Err)
	var v struct{ Version int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Out), &v))
	assert.Equal(t, int64(2), v.Version)

	r = run(t, "", "metadata", "-p", profile, "demo.sales.orders", "--output", "json")
	require.Equal(t, 0, r.Code, r.Err)
	var md metadataJSON
	require.NoError(t, json.Unmarshal([]byte(r.Out), &md))
	assert.Equal(t, []string{"region"}, md.PartitionColumns)
	require.NotEmpty(t, md.Columns)
	assert.Equal(t, "order_id", md.Columns[0].Name)
	assert.Equal(t, "long", md.Columns[0].Type)
	var types []string
	for _, c := range md.Columns {
		types = append(types, c.Type)
	}
	assert.Contains(t, types, "decimal(12,2)")
	assert.Contains(t, types, "timestamp_ntz")

	r = run(t, "", "metadata", "-p", profile, "demo.sales.orders", "--version", "0")
	require.Equal(t, 0, r.Code, r.Err)
	assert.Contains(t, r.Out, "version:      0")
	assert.Contains(t, r.Out, "order_id")

	// files: the latest version's files, rows from stats adding up to the table's 2900 rows.
	r = run(t, "", "files", "-p", profile, "demo.sales.orders", "--output", "json")
	require.Equal(t, 0, r.Code, r.Err)
	var files []fileJSON
	require.NoError(t, json.Unmarshal([]byte(r.Out), &files))
	var rows int64
	for _, f := range files {
		require.NotNil(t, f.Rows)
		rows += *f.Rows
		assert.NotNil(t, f.URLExpires)
	}
	assert.Equal(t, int64(2900), rows)
	assert.NotContains(t, r.Out, "sig=", "signed URLs are not printed")

	// --where is sent as a hint: only the Europe files come back.
	r = run(t, "", "files", "-p", profile, "demo.sales.orders", "--where", "region = 'Europe'", "--output", "json")
	require.Equal(t, 0, r.Code, r.Err)
	var europe []fileJSON
	require.NoError(t, json.Unmarshal([]byte(r.Out), &europe))
	require.NotEmpty(t, europe)
	assert.Less(t, len(europe), len(files))
	for _, f := range europe {
		assert.Equal(t, "Europe", f.PartitionValues["region"])
	}

	// A bad --where names the problem; an unknown table is a 404 with a hint.
	r = run(t, "", "files", "-p", profile, "demo.sales.orders", "--where", "nosuch = 1")
	assert.Equal(t, exitUsage, r.Code)
	assert.Contains(t, r.Err, "nosuch")
	r = run(t, "", "version", "-p", profile, "demo.sales.nosuch")
	assert.Equal(t, exitError, r.Code)
	assert.Contains(t, r.Err, "404")
}

func TestInterspersedFlags(t *testing.T) {
	app := newApp()
	for _, tc := range []struct{ in, want []string }{
		{[]string{"ds", "metadata", "a.b.c", "-p", "x", "--output", "json"}, []string{"ds", "metadata", "-p", "x", "--output", "json", "a.b.c"}},
		{[]string{"ds", "files", "a.b.c", "--where=x = 1", "--version", "3"}, []string{"ds", "files", "--where=x = 1", "--version", "3", "a.b.c"}},
		{[]string{"ds", "shares", "--", "-p"}, []string{"ds", "shares", "--", "-p"}},
		{[]string{"ds", "version", "-", "-p", "f"}, []string{"ds", "version", "-p", "f", "-"}},
		{[]string{"ds", "nosuch", "x", "-p", "f"}, []string{"ds", "nosuch", "x", "-p", "f"}},
	} {
		assert.Equal(t, tc.want, interspersed(app, tc.in), "%v", tc.in)
	}
}
