package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/deltashare/deltashare/tokenmgr/databricks"
	"github.com/deltashare/deltashare/tokenmgr/databricks/fakeworkspace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// workspaceEnv starts a fake Databricks workspace and points the SDK's environment at it
// with a fresh token of its admin user. Nothing of the host's configuration is read.
func workspaceEnv(t *testing.T) (fw *fakeworkspace.Workspace, token string) {
	t.Helper()
	fakeworkspace.IsolateEnv(t)
	t.Setenv("DELTASHARE_CONFIG_DIR", filepath.Join(t.TempDir(), "config"))
	t.Setenv("DELTASHARE_PROFILE", "")
	fw = fakeworkspace.New(t)
	_, token = fw.MintToken("", "admin laptop", 0)
	t.Setenv("DATABRICKS_HOST", fw.URL())
	t.Setenv("DATABRICKS_TOKEN", token)
	return fw, token
}

var tokenValueRe = regexp.MustCompile(`token value: (\S+)`)

func TestPATCreateListRevoke(t *testing.T) {
	fw, admin := workspaceEnv(t)
	tr := &transcript{t: t}

	// --show prints the value; it works.
	r := run(t, "", "pat", "create", "--comment", "ci", "--lifetime", "10d", "--show")
	require.Equal(t, exitOK, r.Code, r.Err)
	m := tokenValueRe.FindStringSubmatch(r.Out)
	require.NotNil(t, m, r.Out)
	shown := m[1]
	assert.True(t, fw.TokenValid(shown))
	assert.Regexp(t, `created token \w+ \("ci"\), expires \S+ \(in (9d 23h|10d)\)`, r.Out)
	r = run(t, "", "pat", "create", "--show", "--quiet")
	require.Equal(t, exitOK, r.Code, r.Err)
	quietValue := strings.TrimSpace(r.Out)
	assert.True(t, fw.TokenValid(quietValue), "--quiet --show prints the value alone")
	r = run(t, "", "pat", "create", "--show", "--output", "json", "--comment", "j")
	require.Equal(t, exitOK, r.Code, r.Err)
	var cj map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Out), &cj))
	assert.True(t, fw.TokenValid(cj["token_value"].(string)))
	assert.Equal(t, "j", cj["comment"])

	// Neither --show nor --out: refused before anything is created.
	before := len(fw.RequestsTo(fakeworkspace.PathTokenCreate))
	r = tr.run("", "pat", "create", "--comment", "lost")
	assert.Equal(t, exitUsage, r.Code)
	assert.Contains(t, r.Err, "--out FILE")
	// --out: a new 0600 file; an existing one is refused before creating.
	out := filepath.Join(t.TempDir(), "token")
	r = tr.run("", "pat", "create", "--comment", "file", "--out", out)
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "token value written to "+out)
	assert.Equal(t, os.FileMode(0o600), fileMode(t, out))
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	fileToken := strings.TrimSpace(string(data))
	assert.True(t, fw.TokenValid(fileToken))
	r = tr.run("", "pat", "create", "--out", out)
	assert.Equal(t, exitUsage, r.Code)
	assert.Contains(t, r.Err, "already exists")
	r = tr.run("", "pat", "create", "--out", filepath.Join(t.TempDir(), "no", "dir"))
	assert.Equal(t, exitUsage, r.Code)
	r = tr.run("", "pat", "create", "--show", "--lifetime", "soon")
	assert.Equal(t, exitUsage, r.Code)
	assert.Equal(t, before+1, len(fw.RequestsTo(fakeworkspace.PathTokenCreate)), "only the --out token was created")

	// A token on behalf of a service principal.
	fw.AddServicePrincipal("app-123", "ci bot")
	r = run(t, "", "pat", "create", "--for-service-principal", "app-123", "--lifetime", "1d", "--output", "json", "--show")
	require.Equal(t, exitOK, r.Code, r.Err)
	require.NoError(t, json.Unmarshal([]byte(r.Out), &cj))
	assert.True(t, fw.TokenValid(cj["token_value"].(string)))
	assert.Len(t, fw.TokenIDs("app-123"), 1)

	// list: the 10-day token expires within the default 30 days; the admin's never.
	shortID, _ := fw.MintToken("", "short", 2*24*time.Hour)
	r = tr.run("", "pat", "list")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Regexp(t, `(?m)^ID\s+COMMENT\s+CREATED\s+EXPIRES\s*$`, r.Out)
	assert.Regexp(t, `(?m)^\w+\s+admin laptop\s+\d{4}-\d\d-\d\d\s+never\s*$`, r.Out)
	assert.Regexp(t, `(?m)^\w+\s+ci\s+\S+\s+\S+ \S+ \((9d 23h|10d)\)\s+EXPIRES SOON$`, r.Out)
	r = tr.run("", "pat", "list", "--output", "json")
	var rows []struct {
		ID          string `json:"token_id"`
		Comment     string
		ExpiresSoon bool   `json:"expires_soon"`
		ExpiresIn   string `json:"expires_in"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Out), &rows))
	soon := map[string]bool{}
	for _, row := range rows {
		soon[row.Comment] = row.ExpiresSoon
	}
	assert.Equal(t, map[string]bool{"admin laptop": false, "ci": true, "": false, "j": false, "file": false, "short": true}, soon, "the default lifetime is 90d")
	// --expiring-within given: only those.
	r = tr.run("", "pat", "list", "--expiring-within", "5d")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, shortID)
	assert.NotContains(t, r.Out, "admin laptop")
	assert.NotContains(t, r.Out, " ci ")
	// --all: every user's tokens, with their owner.
	r = tr.run("", "pat", "list", "--all")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Regexp(t, `(?m)^ID\s+OWNER\s+COMMENT`, r.Out)
	assert.Contains(t, r.Out, fakeworkspace.DefaultUser)

	// revoke.
	r = tr.run("", "pat", "revoke", shortID)
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "revoked token "+shortID)
	assert.False(t, fw.TokenExists(shortID))
	r = tr.run("", "pat", "revoke", shortID)
	assert.Equal(t, exitError, r.Code)
	r = tr.run("", "pat", "revoke")
	assert.Equal(t, exitUsage, r.Code)

	tr.assertNoSecrets(admin, shown, quietValue, fileToken)
}

func TestPATAuthErrors(t *testing.T) {
	fw, _ := workspaceEnv(t)
	const wrong = "dapi-wrong-token-0123456789"
	t.Setenv("DATABRICKS_TOKEN", wrong)
	for _, args := range [][]string{
		{"pat", "list"},
		{"pat", "create", "--show"},
		{"pat", "revoke", "123"},
		{"recipient", "show", "acme"},
		{"recipient", "create", "acme"},
	} {
		r := run(t, "", args...)
		assert.Equal(t, exitAuth, r.Code, "%v: %s", args, r.Err)
		assert.Contains(t, r.Err, "rejected the credentials", "%v", args)
		assert.NotContains(t, r.Out+r.Err, wrong, "%v", args)
	}
	assert.Len(t, fw.TokenIDs(""), 1, "nothing was created")

	// No credentials at all: a usage error naming what to set.
	require.NoError(t, os.Unsetenv("DATABRICKS_TOKEN"))
	require.NoError(t, os.Unsetenv("DATABRICKS_HOST"))
	r := run(t, "", "pat", "list")
	assert.Equal(t, exitUsage, r.Code, r.Err)
	assert.Contains(t, r.Err, "DATABRICKS_HOST")
	// A profile that does not exist.
	r = run(t, "", "pat", "list", "--databricks-profile", "nope")
	assert.Equal(t, exitUsage, r.Code, r.Err)
}

// readCfgToken returns the token of [prod] in a config file written by cfgFile.
func readCfgToken(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^\[prod\]\nhost = \S+\ntoken = (\S+)$`).FindStringSubmatch(string(data))
	require.NotNil(t, m, string(data))
	return m[1]
}

func cfgFile(t *testing.T, host, token string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), ".databrickscfg")
	require.NoError(t, os.WriteFile(path, []byte("[DEFAULT]\nhost = https://other.example.invalid\ntoken = dapi-other\n\n[prod]\nhost = "+host+"\ntoken = "+token+"\n"), 0o600))
	return path
}

func TestPATRotate(t *testing.T) {
	fakeworkspace.IsolateEnv(t)
	fw := fakeworkspace.New(t)
	oldID, oldTok := fw.MintToken("alice", "deltashare", 30*24*time.Hour)
	path := cfgFile(t, fw.URL(), oldTok)
	tr := &transcript{t: t}

	r := tr.run("", "pat", "rotate", "--databricks-profile", "prod", "--databricks-config-file", path, "--lifetime", "90d")
	require.Equal(t, exitOK, r.Code, r.Err)
	newTok := readCfgToken(t, path)
	assert.NotEqual(t, oldTok, newTok)
	assert.True(t, fw.TokenValid(newTok))
	assert.False(t, fw.TokenValid(oldTok), "the old token is revoked")
	assert.Contains(t, r.Out, "rotated the token in profile prod in "+path)
	assert.Contains(t, r.Out, "old token "+oldID+" revoked")
	assert.Equal(t, os.FileMode(0o600), fileMode(t, path))

	// With --show (and the config file from the environment), the new value is printed.
	t.Setenv("DATABRICKS_CONFIG_FILE", path)
	r = run(t, "", "pat", "rotate", "--databricks-profile", "prod", "--show", "--output", "json")
	require.Equal(t, exitOK, r.Code, r.Err)
	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Out), &res))
	shownTok := readCfgToken(t, path)
	assert.Equal(t, shownTok, res["new_token_value"])
	assert.True(t, fw.TokenValid(shownTok))

	// Verification fails after the new token was created (the second Me call, made with the
	// new token, is refused): rolled back, the old token stays in place and valid, exit 1.
	before, err := os.ReadFile(path)
	require.NoError(t, err)
	ids := fw.TokenIDs("alice")
	fw.InjectFault(fakeworkspace.Fault{Method: "GET", Path: fakeworkspace.PathMe, Skip: 1, Status: 403})
	r = tr.run("", "pat", "rotate", "--databricks-profile", "prod")
	assert.Equal(t, exitError, r.Code, r.Err)
	assert.Contains(t, r.Err, "verifying the new token")
	assert.Contains(t, r.Err, "rolled back")
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after))
	assert.True(t, fw.TokenValid(shownTok))
	assert.Equal(t, ids, fw.TokenIDs("alice"), "the new token was revoked")
	created := fw.RequestsTo(fakeworkspace.PathTokenCreate)
	var last struct {
		TokenValue string `json:"token_value"`
	}
	require.NoError(t, json.Unmarshal(created[len(created)-1].ResponseBody, &last))

	// Several tokens and no --old-id: nothing changes, exit 2; with --old-id it works.
	otherID, otherTok := fw.MintToken("alice", "laptop", 0)
	r = tr.run("", "pat", "rotate", "--databricks-profile", "prod")
	assert.Equal(t, exitUsage, r.Code, r.Err)
	assert.Contains(t, r.Err, "--old-id")
	assert.Contains(t, r.Err, otherID)
	r = tr.run("", "pat", "rotate", "--databricks-profile", "prod", "--old-id", ids[0], "--quiet")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Empty(t, r.Out)
	assert.True(t, fw.TokenValid(otherTok), "the other token is untouched")
	finalTok := readCfgToken(t, path)

	// A token file, with the host from --host or from DATABRICKS_HOST.
	_, fileTok := fw.MintToken("bob", "", 0)
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(fileTok+"\n"), 0o600))
	r = tr.run("", "pat", "rotate", "--token-file", tokenFile, "--host", fw.URL())
	require.Equal(t, exitOK, r.Code, r.Err)
	data, err := os.ReadFile(tokenFile)
	require.NoError(t, err)
	rotatedFileTok := strings.TrimSpace(string(data))
	assert.True(t, fw.TokenValid(rotatedFileTok))
	t.Setenv("DATABRICKS_HOST", fw.URL())
	r = tr.run("", "pat", "rotate", "--token-file", tokenFile)
	require.Equal(t, exitOK, r.Code, r.Err)
	data, err = os.ReadFile(tokenFile)
	require.NoError(t, err)
	lastFileTok := strings.TrimSpace(string(data))

	// Errors: no target (usage), a stored token Databricks rejects (auth).
	r = tr.run("", "pat", "rotate")
	assert.Equal(t, exitUsage, r.Code, r.Err)
	require.NoError(t, os.WriteFile(tokenFile, []byte("dapi-revoked-0123456789\n"), 0o600))
	r = tr.run("", "pat", "rotate", "--token-file", tokenFile)
	assert.Equal(t, exitAuth, r.Code, r.Err)

	tr.assertNoSecrets(oldTok, newTok, shownTok, last.TokenValue, otherTok, finalTok, fileTok, rotatedFileTok, lastFileTok, "dapi-revoked-0123456789")
}

func TestPATCreateRevokesWhenTheValueCannotBeSaved(t *testing.T) {
	fw, _ := workspaceEnv(t)
	ws, err := databricks.NewWorkspace(t.Context(), databricks.WorkspaceOptions{})
	require.NoError(t, err)
	before := fw.TokenIDs("")
	// The directory vanished between the check and the write.
	created, err := createToken(t.Context(), ws, patCreateOptions{Comment: "lost", Out: filepath.Join(t.TempDir(), "gone", "token"), Output: "text"})
	require.Error(t, err)
	assert.Nil(t, created, "nothing to print")
	assert.Contains(t, err.Error(), "the token was revoked again")
	assert.Equal(t, before, fw.TokenIDs(""), "no live token nobody has")
}
