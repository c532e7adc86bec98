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

// ws is the workspace options of the workspace flags given on a command line: host, profile,
// config file.
func ws(host, profile, file string) databricks.WorkspaceOptions {
	return databricks.WorkspaceOptions{Host: host, Profile: profile, ConfigFile: file}
}

func TestParsePATOptions(t *testing.T) {
	noDatabricksEnv(t)
	const day = 24 * time.Hour
	testParse(t, parsePATCreateOptions, []parseCase[patCreateOptions]{
		{name: "create --show", args: []string{"pat", "create", "--show"}, want: patCreateOptions{Lifetime: 90 * day, Show: true, Output: "text"}},
		{name: "create every flag", args: []string{"pat", "create", "--host", "https://h", "--databricks-profile", "p", "--databricks-config-file", "f",
			"--comment", "ci", "--lifetime", "10d", "--for-service-principal", "app", "--out", "tok", "--show", "-O", "json", "-q"},
			want: patCreateOptions{Workspace: ws("https://h", "p", "f"), Comment: "ci", Lifetime: 10 * day, ForServicePrincipal: "app", Show: true, Out: "tok", Output: "json", Quiet: true}},
		{name: "create --databricks-host", args: []string{"pat", "create", "--databricks-host", "https://h", "--out", "t", "--lifetime", "0"},
			want: patCreateOptions{Workspace: ws("https://h", "", ""), Out: "t", Output: "text"}},
		{name: "create neither --show nor --out", args: []string{"pat", "create", "--comment", "lost"}, code: exitUsage, msg: "--out FILE"},
		{name: "create bad lifetime", args: []string{"pat", "create", "--show", "--lifetime", "soon"}, code: exitUsage, msg: `invalid --lifetime "soon"`},
		{name: "create argument", args: []string{"pat", "create", "--show", "x"}, code: exitUsage, msg: "--show|--out FILE"},
	})
	testParse(t, parsePATListOptions, []parseCase[patListOptions]{
		{name: "list", args: []string{"pat", "list"}, want: patListOptions{Window: 30 * day, Output: "text"}},
		{name: "list every flag", args: []string{"pat", "list", "--expiring-within", "5d", "--all", "--host", "https://h", "-O", "json"},
			want: patListOptions{Workspace: ws("https://h", "", ""), All: true, Window: 5 * day, Filter: true, Output: "json"}},
		{name: "list bad window", args: []string{"pat", "list", "--expiring-within", "x"}, code: exitUsage, msg: "--expiring-within"},
		{name: "list bad output", args: []string{"pat", "list", "--output", "xml"}, code: exitUsage, msg: `unknown --output "xml"`},
	})
	testParse(t, parsePATRevokeOptions, []parseCase[patRevokeOptions]{
		{name: "revoke", args: []string{"pat", "revoke", "123"}, want: patRevokeOptions{ID: "123"}},
		{name: "revoke every flag", args: []string{"pat", "revoke", "123", "--admin", "-q", "--databricks-profile", "p"}, want: patRevokeOptions{Workspace: ws("", "p", ""), ID: "123", Admin: true, Quiet: true}},
		{name: "revoke no ID", args: []string{"pat", "revoke"}, code: exitUsage, msg: "ID"},
	})
	rotate := func(r databricks.RotateOptions) patRotateOptions {
		if r.Comment == "" {
			r.Comment = "deltashare"
		}
		if r.Lifetime == 0 {
			r.Lifetime = 90 * day
		}
		return patRotateOptions{Rotate: r, Output: "text"}
	}
	testParse(t, parsePATRotateOptions, []parseCase[patRotateOptions]{
		{name: "rotate a profile", args: []string{"pat", "rotate", "--databricks-profile", "prod"}, want: rotate(databricks.RotateOptions{Profile: "prod"})},
		{name: "rotate every flag", args: []string{"pat", "rotate", "--databricks-profile", "prod", "--databricks-config-file", "f", "--old-id", "7", "--comment", "c", "--lifetime", "1d", "--show", "-q", "-O", "json"},
			want: patRotateOptions{Rotate: databricks.RotateOptions{Profile: "prod", ConfigFile: "f", OldTokenID: "7", Comment: "c", Lifetime: day, Show: true}, Output: "json", Quiet: true}},
		{name: "rotate a token file", args: []string{"pat", "rotate", "--token-file", "t", "--host", "https://h"}, want: rotate(databricks.RotateOptions{TokenFile: "t", Host: "https://h"})},
		{name: "rotate a token file, host from DATABRICKS_HOST", args: []string{"pat", "rotate", "--token-file", "t"}, env: map[string]string{"DATABRICKS_HOST": "https://env"},
			want: rotate(databricks.RotateOptions{TokenFile: "t", Host: "https://env"})},
		{name: "rotate, the config file from DATABRICKS_CONFIG_FILE", args: []string{"pat", "rotate", "--databricks-profile", "prod"}, env: map[string]string{"DATABRICKS_CONFIG_FILE": "/env/cfg"},
			want: rotate(databricks.RotateOptions{Profile: "prod", ConfigFile: "/env/cfg"})},
		{name: "rotate, --databricks-config-file over DATABRICKS_CONFIG_FILE", args: []string{"pat", "rotate", "--databricks-profile", "prod", "--databricks-config-file", "/flag/cfg"}, env: map[string]string{"DATABRICKS_CONFIG_FILE": "/env/cfg"},
			want: rotate(databricks.RotateOptions{Profile: "prod", ConfigFile: "/flag/cfg"})},
		{name: "rotate the profile of DATABRICKS_CONFIG_PROFILE", args: []string{"pat", "rotate"}, env: map[string]string{"DATABRICKS_CONFIG_PROFILE": "envp", "DATABRICKS_HOST": ""},
			want: rotate(databricks.RotateOptions{Profile: "envp"})},
		{name: "rotate nothing", args: []string{"pat", "rotate"}, env: map[string]string{"DATABRICKS_CONFIG_PROFILE": ""}, code: exitUsage, msg: "say where the token lives"},
		{name: "rotate bad lifetime", args: []string{"pat", "rotate", "--databricks-profile", "p", "--lifetime", "-1h"}, code: exitUsage, msg: "--lifetime"},
	})
}

func TestPATCreateListRevoke(t *testing.T) {
	fw, admin := workspaceEnv(t)
	d := testDeps(t, storeDir(t))
	tr := &transcript{t: t}
	create := func(o patCreateOptions) result {
		if o.Output == "" {
			o.Output = "text"
		}
		if o.Lifetime == 0 {
			o.Lifetime = 90 * 24 * time.Hour
		}
		return call(t, d, "", runPATCreate, o) // shows token values: not in the transcript
	}
	list := func(o patListOptions) result {
		if o.Output == "" {
			o.Output = "text"
		}
		if o.Window == 0 {
			o.Window = 30 * 24 * time.Hour
		}
		return tr.add(call(t, d, "", runPATList, o))
	}

	// --show prints the value; it works.
	r := create(patCreateOptions{Comment: "ci", Lifetime: 10 * 24 * time.Hour, Show: true})
	require.Equal(t, exitOK, r.Code, r.Err)
	m := tokenValueRe.FindStringSubmatch(r.Out)
	require.NotNil(t, m, r.Out)
	shown := m[1]
	assert.True(t, fw.TokenValid(shown))
	assert.Regexp(t, `created token \w+ \("ci"\), expires \S+ \(in (9d 23h|10d)\)`, r.Out)
	r = create(patCreateOptions{Show: true, Quiet: true})
	require.Equal(t, exitOK, r.Code, r.Err)
	quietValue := strings.TrimSpace(r.Out)
	assert.True(t, fw.TokenValid(quietValue), "--quiet --show prints the value alone")
	r = create(patCreateOptions{Show: true, Output: "json", Comment: "j"})
	require.Equal(t, exitOK, r.Code, r.Err)
	var cj map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Out), &cj))
	assert.True(t, fw.TokenValid(cj["tokenValue"].(string)))
	assert.Equal(t, "j", cj["comment"])

	// --out: a new 0600 file; an existing one, or a missing directory, is refused before
	// creating.
	before := len(fw.RequestsTo(fakeworkspace.PathTokenCreate))
	out := filepath.Join(t.TempDir(), "token")
	r = tr.add(create(patCreateOptions{Comment: "file", Out: out}))
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "token value written to "+out)
	assert.Equal(t, os.FileMode(0o600), fileMode(t, out))
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	fileToken := strings.TrimSpace(string(data))
	assert.True(t, fw.TokenValid(fileToken))
	r = tr.add(create(patCreateOptions{Out: out}))
	assert.Equal(t, exitUsage, r.Code)
	assert.Contains(t, r.Err, "already exists")
	r = tr.add(create(patCreateOptions{Out: filepath.Join(t.TempDir(), "no", "dir")}))
	assert.Equal(t, exitUsage, r.Code)
	assert.Contains(t, r.Err, "does not exist")
	assert.Equal(t, before+1, len(fw.RequestsTo(fakeworkspace.PathTokenCreate)), "only the --out token was created")

	// A token on behalf of a service principal.
	fw.AddServicePrincipal("app-123", "ci bot")
	r = create(patCreateOptions{ForServicePrincipal: "CI Bot", Lifetime: 24 * time.Hour, Output: "json", Show: true})
	require.Equal(t, exitOK, r.Code, r.Err)
	require.NoError(t, json.Unmarshal([]byte(r.Out), &cj))
	assert.True(t, fw.TokenValid(cj["tokenValue"].(string)))
	assert.Len(t, fw.TokenIDs("app-123"), 1)

	// list: the 10-day token expires within the default 30 days; the admin's never.
	shortID, _ := fw.MintToken("", "short", 2*24*time.Hour)
	r = list(patListOptions{})
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Regexp(t, `(?m)^ID\s+COMMENT\s+CREATED\s+EXPIRES\s*$`, r.Out)
	assert.Regexp(t, `(?m)^\w+\s+admin laptop\s+\d{4}-\d\d-\d\d\s+never\s*$`, r.Out)
	assert.Regexp(t, `(?m)^\w+\s+ci\s+\S+\s+\S+ \S+ \((9d 23h|10d)\)\s+EXPIRES SOON$`, r.Out)
	r = list(patListOptions{Output: "json"})
	var listed struct {
		Tokens []struct {
			ID          string `json:"tokenId"`
			Comment     string `json:"comment"`
			ExpiresSoon bool   `json:"expiresSoon"`
		} `json:"tokens"`
		Total int `json:"total"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Out), &listed))
	assert.Equal(t, len(listed.Tokens), listed.Total)
	soon := map[string]bool{}
	for _, row := range listed.Tokens {
		soon[row.Comment] = row.ExpiresSoon
	}
	assert.Equal(t, map[string]bool{"admin laptop": false, "ci": true, "": false, "j": false, "file": false, "short": true}, soon, "the default lifetime is 90d")
	// --expiring-within given: only those.
	r = list(patListOptions{Window: 5 * 24 * time.Hour, Filter: true})
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, shortID)
	assert.NotContains(t, r.Out, "admin laptop")
	assert.NotContains(t, r.Out, " ci ")
	// --all: every user's tokens, with their owner.
	r = list(patListOptions{All: true})
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Regexp(t, `(?m)^ID\s+OWNER\s+COMMENT`, r.Out)
	assert.Contains(t, r.Out, fakeworkspace.DefaultUser)

	// revoke.
	r = tr.add(call(t, d, "", runPATRevoke, patRevokeOptions{ID: shortID}))
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "revoked token "+shortID)
	assert.False(t, fw.TokenExists(shortID))
	r = tr.add(call(t, d, "", runPATRevoke, patRevokeOptions{ID: shortID}))
	assert.Equal(t, exitError, r.Code)

	sweepSecrets(t, tr, admin, shown, quietValue, fileToken)
}

// TestPATEndToEnd: pat through the app, the workspace from DATABRICKS_HOST and
// DATABRICKS_TOKEN; usage errors exit 2 before anything is created.
func TestPATEndToEnd(t *testing.T) {
	fw, _ := workspaceEnv(t)
	r := run(t, "", "pat", "create", "--comment", "e2e", "--show", "--quiet")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.True(t, fw.TokenValid(strings.TrimSpace(r.Out)))
	before := len(fw.RequestsTo(fakeworkspace.PathTokenCreate))
	r = run(t, "", "pat", "create", "--comment", "lost")
	assert.Equal(t, exitUsage, r.Code)
	assert.Contains(t, r.Err, "--out FILE")
	r = run(t, "", "pat", "create", "--show", "--lifetime", "soon")
	assert.Equal(t, exitUsage, r.Code)
	assert.Equal(t, before, len(fw.RequestsTo(fakeworkspace.PathTokenCreate)), "nothing created")
	r = run(t, "", "pat", "list", "--output", "json")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, `"comment": "e2e"`)
	r = run(t, "", "pat", "revoke")
	assert.Equal(t, exitUsage, r.Code)
}

func TestPATAuthErrors(t *testing.T) {
	fw, _ := workspaceEnv(t)
	d := testDeps(t, storeDir(t))
	const wrong = "dapi-wrong-token-0123456789"
	t.Setenv("DATABRICKS_TOKEN", wrong)
	for name, use := range map[string]func() result{
		"pat list":   func() result { return call(t, d, "", runPATList, patListOptions{Output: "text"}) },
		"pat create": func() result { return call(t, d, "", runPATCreate, patCreateOptions{Show: true, Output: "text"}) },
		"pat revoke": func() result { return call(t, d, "", runPATRevoke, patRevokeOptions{ID: "123"}) },
		"recipient show": func() result {
			return call(t, d, "", runRecipientShow, recipientShowOptions{Name: "acme", Output: "text"})
		},
		"recipient create": func() result {
			return call(t, d, "", runRecipientCreate, recipientCreateOptions{Name: "acme", Output: "text"})
		},
	} {
		r := use()
		assert.Equal(t, exitAuth, r.Code, "%s: %s", name, r.Err)
		assert.Contains(t, r.Err, "rejected the credentials", name)
		assert.NotContains(t, r.Out+r.Err, wrong, name)
	}
	assert.Len(t, fw.TokenIDs(""), 1, "nothing was created")

	// No credentials at all: a usage error naming what to set.
	require.NoError(t, os.Unsetenv("DATABRICKS_TOKEN"))
	require.NoError(t, os.Unsetenv("DATABRICKS_HOST"))
	r := call(t, d, "", runPATList, patListOptions{Output: "text"})
	assert.Equal(t, exitUsage, r.Code, r.Err)
	assert.Contains(t, r.Err, "DATABRICKS_HOST")
	// A profile that does not exist.
	r = call(t, d, "", runPATList, patListOptions{Workspace: ws("", "nope", ""), Output: "text"})
	assert.Equal(t, exitUsage, r.Code, r.Err)
	// Through the app too.
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
	d := testDeps(t, storeDir(t))
	rotate := func(o patRotateOptions) result {
		if o.Output == "" {
			o.Output = "text"
		}
		o.Rotate.Comment, o.Rotate.Lifetime = "deltashare", 90*24*time.Hour
		if o.Rotate.Profile != "" {
			o.Rotate.ConfigFile = path // as parsePATRotateOptions takes it from DATABRICKS_CONFIG_FILE
		}
		return tr.add(call(t, d, "", runPATRotate, o))
	}

	// Through the app first: the flags as a user gives them.
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
	r = call(t, d, "", runPATRotate, patRotateOptions{Rotate: databricks.RotateOptions{Profile: "prod", ConfigFile: path, Show: true, Comment: "deltashare", Lifetime: 90 * 24 * time.Hour}, Output: "json"})
	require.Equal(t, exitOK, r.Code, r.Err)
	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Out), &res))
	shownTok := readCfgToken(t, path)
	assert.Equal(t, shownTok, res["newTokenValue"])
	assert.True(t, fw.TokenValid(shownTok))

	// Verification fails after the new token was created (the second Me call, made with the
	// new token, is refused): rolled back, the old token stays in place and valid, exit 1.
	before, err := os.ReadFile(path)
	require.NoError(t, err)
	ids := fw.TokenIDs("alice")
	fw.InjectFault(fakeworkspace.Fault{Method: "GET", Path: fakeworkspace.PathMe, Skip: 1, Status: 403})
	r = rotate(patRotateOptions{Rotate: databricks.RotateOptions{Profile: "prod"}})
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
	r = rotate(patRotateOptions{Rotate: databricks.RotateOptions{Profile: "prod"}})
	assert.Equal(t, exitUsage, r.Code, r.Err)
	assert.Contains(t, r.Err, "--old-id")
	assert.Contains(t, r.Err, otherID)
	r = rotate(patRotateOptions{Rotate: databricks.RotateOptions{Profile: "prod", OldTokenID: ids[0]}, Quiet: true})
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Empty(t, r.Out)
	assert.True(t, fw.TokenValid(otherTok), "the other token is untouched")
	finalTok := readCfgToken(t, path)

	// A token file, with the host from --host or from DATABRICKS_HOST.
	_, fileTok := fw.MintToken("bob", "", 0)
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(fileTok+"\n"), 0o600))
	r = rotate(patRotateOptions{Rotate: databricks.RotateOptions{TokenFile: tokenFile, Host: fw.URL()}})
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

	// Errors: no target (usage, through the app), a stored token Databricks rejects (auth).
	t.Setenv("DATABRICKS_CONFIG_PROFILE", "")
	r = tr.run("", "pat", "rotate")
	assert.Equal(t, exitUsage, r.Code, r.Err)
	require.NoError(t, os.WriteFile(tokenFile, []byte("dapi-revoked-0123456789\n"), 0o600))
	r = rotate(patRotateOptions{Rotate: databricks.RotateOptions{TokenFile: tokenFile, Host: fw.URL()}})
	assert.Equal(t, exitAuth, r.Code, r.Err)

	sweepSecrets(t, tr, oldTok, newTok, shownTok, last.TokenValue, otherTok, finalTok, fileTok, rotatedFileTok, lastFileTok, "dapi-revoked-0123456789")
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
