package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/sharing/protocol"
)

func TestParseSharesOptions(t *testing.T) {
	testParse(t, parseSharesOptions, []parseCase[sharesOptions]{
		{name: "defaults", args: []string{"shares", "-p", "me.share"}, want: sharesOptions{Profile: "me.share", Output: "text"}},
		{name: "long flags", args: []string{"shares", "--profile", "acme", "--output", "JSON", "--config-dir", "/x"}, want: sharesOptions{Profile: "acme", Output: "json"}},
		{name: "short output", args: []string{"shares", "-p", "-", "-O", "text"}, want: sharesOptions{Profile: "-", Output: "text"}},
		{name: "profile from the environment", args: []string{"shares"}, env: map[string]string{"DELTASHARE_PROFILE": "env.share"}, want: sharesOptions{Profile: "env.share", Output: "text"}},
		{name: "no credential: the default one", args: []string{"shares"}, want: sharesOptions{Output: "text"}},
		{name: "an argument", args: []string{"shares", "-p", "x", "extra"}, code: exitUsage, msg: "no arguments"},
		{name: "bad output", args: []string{"shares", "-p", "x", "--output", "xml"}, code: exitUsage, msg: `unknown --output "xml"`},
		{name: "unknown flag", args: []string{"shares", "--bogus"}, code: exitUsage, msg: "bogus"},
		{name: "missing flag value", args: []string{"shares", "-p"}, code: exitUsage, msg: "-p"},
	})
}

func TestRunShares(t *testing.T) {
	profile, d := demoDeps(t)

	r := call(t, d, "", runShares, sharesOptions{Profile: profile, Output: "text"})
	require.Equal(t, 0, r.Code, r.Err)
	assert.Regexp(t, `^SHARE\s+ID\ndemo\s`, r.Out)

	r = call(t, d, "", runShares, sharesOptions{Profile: profile, Output: "json"})
	require.Equal(t, 0, r.Code, r.Err)
	var shares []protocol.Share
	require.NoError(t, json.Unmarshal([]byte(r.Out), &shares))
	require.Len(t, shares, 1)
	assert.Equal(t, "demo", shares[0].Name)

	// The profile from standard input.
	data, err := os.ReadFile(profile)
	require.NoError(t, err)
	r = call(t, d, string(data), runShares, sharesOptions{Profile: "-", Output: "text"})
	require.Equal(t, 0, r.Code, r.Err)
	assert.Contains(t, r.Out, "demo")
}

func TestRunSharesCredentialErrors(t *testing.T) {
	profile, d := demoDeps(t)

	// Missing profile file.
	r := call(t, d, "", runShares, sharesOptions{Profile: filepath.Join(t.TempDir(), "missing.share"), Output: "text"})
	assert.Equal(t, exitUsage, r.Code)
	assert.Contains(t, r.Err, "does not exist")

	// Wrong token: exit 4, the token never printed.
	bad := filepath.Join(t.TempDir(), "bad.share")
	data, err := os.ReadFile(profile)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bad, []byte(strings.Replace(string(data), demoToken, "wrong-token-secret-value", 1)), 0o600))
	r = call(t, d, "", runShares, sharesOptions{Profile: bad, Output: "text"})
	assert.Equal(t, exitAuth, r.Code)
	assert.Contains(t, r.Err, "new credential")
	assert.NotContains(t, r.Err+r.Out, "wrong-token-secret-value")

	// Expired v1 token: exit 4 before any request, naming the expiry.
	expired := filepath.Join(t.TempDir(), "expired.share")
	require.NoError(t, os.WriteFile(expired, []byte(`{"shareCredentialsVersion":1,"endpoint":"http://127.0.0.1:1/x","bearerToken":"tok-expired-secret","expirationTime":"2020-01-02T03:04:05Z"}`), 0o600))
	r = call(t, d, "", runShares, sharesOptions{Profile: expired, Output: "text"})
	assert.Equal(t, exitAuth, r.Code)
	assert.Contains(t, r.Err, "2020-01-02")
	assert.NotContains(t, r.Err, "tok-expired-secret")
}
