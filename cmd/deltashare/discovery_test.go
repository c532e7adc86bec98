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
