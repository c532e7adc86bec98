package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/server"
	"github.com/deltashare/deltashare/tokenmgr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// credEnv isolates a test from the host: its own credential store, HOME and no profile from
// the environment. It returns the store directory.
func credEnv(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "config")
	t.Setenv("DELTASHARE_CONFIG_DIR", dir)
	t.Setenv("DELTASHARE_PROFILE", "")
	t.Setenv("HOME", t.TempDir())
	return dir
}

// activationServer serves the demo tables with activation links and no static token.
func activationServer(t *testing.T) *server.Server {
	t.Helper()
	_, srv := demoServer(t, func(c *server.Config) {
		c.Activation = true
		c.Tokens = nil
	})
	// Runs before the server stops: idle connections of the activation requests (made with
	// http.DefaultTransport) would make its graceful shutdown wait.
	t.Cleanup(func() { http.DefaultTransport.(*http.Transport).CloseIdleConnections() })
	return srv
}

func mintLink(t *testing.T, srv *server.Server, ttl time.Duration) string {
	t.Helper()
	link, err := srv.NewActivation(context.Background(), ttl)
	require.NoError(t, err)
	return link
}

// linkCode is the activation code of a link (the secret part).
func linkCode(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	require.NoError(t, err)
	require.NotEmpty(t, u.RawQuery)
	return u.RawQuery
}

// storedToken reads the bearer token of a stored credential from its file.
func storedToken(t *testing.T, storeDir, name string) string {
	t.Helper()
	p, err := sharing.LoadProfile(filepath.Join(storeDir, "credentials", strings.ToLower(name)+".share"), nil)
	require.NoError(t, err)
	require.NotEmpty(t, p.BearerToken)
	return p.BearerToken
}

// transcript collects the output of every command run in a test, to check secrets never
// appear in any of it.
type transcript struct {
	t    *testing.T
	runs []result
	cmds []string
}

func (tr *transcript) run(stdin string, args ...string) result {
	tr.t.Helper()
	r := run(tr.t, stdin, args...)
	tr.runs = append(tr.runs, r)
	tr.cmds = append(tr.cmds, strings.Join(args[:min(2, len(args))], " "))
	return r
}

// assertNoSecrets checks that no stdout or stderr holds any of the secrets.
func (tr *transcript) assertNoSecrets(secrets ...string) {
	tr.t.Helper()
	require.NotEmpty(tr.t, tr.runs)
	for _, s := range secrets {
		require.NotEmpty(tr.t, s)
		for i, r := range tr.runs {
			if strings.Contains(r.Out, s) || strings.Contains(r.Err, s) {
				tr.t.Errorf("a secret appears in the output of command %d (%s ...)", i, tr.cmds[i])
			}
		}
	}
}

func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	info, err := os.Stat(path)
	require.NoError(t, err)
	return info.Mode().Perm()
}

func TestActivateEndToEnd(t *testing.T) {
	store := credEnv(t)
	srv := activationServer(t)
	link := mintLink(t, srv, 30*24*time.Hour)
	tr := &transcript{t: t}

	// Activate: stored, checked, exit 0.
	r := tr.run("", "activate", link, "--name", "demo") // flags may follow the link
	require.Equal(t, exitOK, r.Code, r.Out+r.Err)
	stored := filepath.Join(store, "credentials", "demo.share")
	assert.Contains(t, r.Out, "Activated credential demo: stored in "+stored)
	assert.Contains(t, r.Out, "Token:    accepted")
	assert.Contains(t, r.Out, "ok    demo.sales.orders")
	assert.Contains(t, r.Out, "ok    demo.sales.customers")
	assert.Contains(t, r.Out, "Status:   ok (exit 0)")
	assert.Equal(t, os.FileMode(0o600), fileMode(t, stored))
	assert.Equal(t, os.FileMode(0o600), fileMode(t, filepath.Join(store, "credentials", "demo.meta.json")))
	assert.Equal(t, os.FileMode(0o700), fileMode(t, filepath.Join(store, "credentials")))
	token := storedToken(t, store, "demo")

	// creds list shows it active.
	r = tr.run("", "creds", "list")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Regexp(t, `(?m)^demo\s+active\s+`+srv.Endpoint()+`\s+(29d 23h|30d)\s*$`, r.Out)
	r = tr.run("", "creds", "list", "--output", "json")
	require.Equal(t, exitOK, r.Code, r.Err)
	var list []map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Out), &list))
	require.Len(t, list, 1)
	assert.Equal(t, "demo", list[0]["name"])
	assert.Equal(t, "active", list[0]["state"])
	assert.Equal(t, "activation", list[0]["source"].(map[string]any)["kind"])

	// The stored name works wherever a profile does.
	r = tr.run("", "tables", "-p", "demo")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "demo.sales.orders")

	// ... including export: the activated credential reads the data.
	r = tr.run("", "export", "-p", "demo", "demo.sales.orders", "-o", "-", "--format", "ndjson", "-q")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Equal(t, 2900, strings.Count(r.Out, "\n"))

	r = tr.run("", "check", "-p", "demo")
	assert.Equal(t, exitOK, r.Code, r.Err)
	r = tr.run("", "check", "-p", "demo", "--output", "json")
	require.Equal(t, exitOK, r.Code, r.Err)
	var rep map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Out), &rep))
	assert.Equal(t, "ok", rep["status"])
	assert.Equal(t, float64(0), rep["exitCode"])
	assert.Len(t, rep["tables"], 2)

	// The link works once: a second activation is refused with exit 4, and nothing is kept.
	r = tr.run("", "activate", "--name", "other", link)
	assert.Equal(t, exitAuth, r.Code, r.Err)
	assert.Contains(t, r.Err, tokenmgr.ErrActivationUsed.Error())
	r = tr.run("", "creds", "list")
	assert.NotContains(t, r.Out, "other")

	// Expiry within the warning window: exit 5 (the token has ~30 days left).
	r = tr.run("", "check", "-p", "demo", "--warn-expiry", "60d")
	assert.Equal(t, exitExpiring, r.Code, r.Err)
	assert.Contains(t, r.Out, "WARNING")
	assert.Contains(t, r.Err, "within the 60d warning window")
	r = tr.run("", "check", "-p", "demo", "--warn-expiry", "0")
	assert.Equal(t, exitOK, r.Code, "0 disables the warning: %s", r.Err)

	// A table that does not exist: exit 3, the other table still checked.
	r = tr.run("", "check", "-p", "demo", "demo.sales.orders", "demo.sales.nope")
	assert.Equal(t, exitPartial, r.Code, r.Err)
	assert.Contains(t, r.Out, "ok    demo.sales.orders")
	assert.Contains(t, r.Out, "FAIL  demo.sales.nope")
	assert.Contains(t, r.Err, "1 of 2 tables could not be read (demo.sales.nope)")
	r = tr.run("", "check", "-p", "demo", "--output", "json", "demo.sales.nope")
	assert.Equal(t, exitPartial, r.Code)
	require.NoError(t, json.Unmarshal([]byte(r.Out), &rep))
	assert.Equal(t, "partial", rep["status"])
	assert.Equal(t, float64(3), rep["exitCode"])

	// An expired token: exit 4 without asking the server; a rejected one: exit 4 too.
	dir := t.TempDir()
	expired := filepath.Join(dir, "expired.share")
	require.NoError(t, os.WriteFile(expired, []byte(`{"shareCredentialsVersion":1,"endpoint":"`+srv.Endpoint()+`","bearerToken":"`+token+`","expirationTime":"2020-01-02T03:04:05Z"}`), 0o600))
	r = tr.run("", "check", "-p", expired)
	assert.Equal(t, exitAuth, r.Code, r.Err)
	assert.Contains(t, r.Out, "EXPIRED on 2020-01-02T03:04:05Z")
	assert.Contains(t, r.Err, "deltashare activate")
	r = tr.run("", "creds", "import", "old", expired)
	require.Equal(t, exitOK, r.Code, r.Err)
	r = tr.run("", "creds", "list")
	assert.Regexp(t, `(?m)^old\s+expired\s+.*expired \d+d( \d+h)? ago\s*$`, r.Out)
	r = tr.run("", "check", "-p", "old", "--output", "json")
	assert.Equal(t, exitAuth, r.Code)
	require.NoError(t, json.Unmarshal([]byte(r.Out), &rep))
	assert.Equal(t, "expired", rep["status"])
	rejected := filepath.Join(dir, "rejected.share")
	require.NoError(t, os.WriteFile(rejected, []byte(`{"shareCredentialsVersion":1,"endpoint":"`+srv.Endpoint()+`","bearerToken":"not-the-token-0123456789"}`), 0o600))
	r = tr.run("", "check", "-p", rejected)
	assert.Equal(t, exitAuth, r.Code, r.Err)
	assert.Contains(t, r.Out, "REJECTED")

	// JSON output of activate; a link read from standard input; a bare code with --host.
	link2 := mintLink(t, srv, 30*24*time.Hour)
	r = tr.run("", "activate", "--output", "json", "--name", "j", link2)
	require.Equal(t, exitOK, r.Code, r.Err)
	var aj struct {
		Credential struct{ Name, Path, Endpoint string }
		Check      struct {
			Status string
			Tables []any
		}
	}
	require.NoError(t, json.Unmarshal([]byte(r.Out), &aj), r.Out)
	assert.Equal(t, "j", aj.Credential.Name)
	assert.Equal(t, filepath.Join(store, "credentials", "j.share"), aj.Credential.Path)
	assert.Equal(t, "ok", aj.Check.Status)
	assert.Len(t, aj.Check.Tables, 2)

	link3 := mintLink(t, srv, 30*24*time.Hour)
	r = tr.run(link3+"\n", "activate", "--name", "fromstdin", "-")
	require.Equal(t, exitOK, r.Code, r.Err)
	link4 := mintLink(t, srv, 30*24*time.Hour)
	r = tr.run("", "activate", "--quiet", "--name", "coded", "--host", srv.BaseURL(), linkCode(t, link4))
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Empty(t, r.Out, "--quiet prints nothing when all is well")

	tr.assertNoSecrets(token, link, linkCode(t, link), link2, linkCode(t, link2), storedToken(t, store, "j"),
		link3, linkCode(t, link3), link4, linkCode(t, link4), storedToken(t, store, "coded"))
}

func TestActivateRefusesBeforeDownload(t *testing.T) {
	store := credEnv(t)
	srv := activationServer(t)
	tr := &transcript{t: t}
	first := mintLink(t, srv, 30*24*time.Hour)
	r := tr.run("", "activate", "--name", "Acme", first)
	require.Equal(t, exitOK, r.Code, r.Err)

	link := mintLink(t, srv, 30*24*time.Hour)
	// The same name in another letter case: refused, and the link is not used up.
	for _, name := range []string{"acme", "ACME", "aCmE"} {
		r = tr.run("", "activate", "--name", name, link)
		assert.Equal(t, exitError, r.Code, r.Err)
		assert.Contains(t, r.Err, `a credential named "Acme" already exists`)
	}
	// An existing --out file and an invalid name: refused too.
	existing := filepath.Join(t.TempDir(), "exists.share")
	require.NoError(t, os.WriteFile(existing, nil, 0o600))
	r = tr.run("", "activate", "--name", "fresh", "--out", existing, link)
	assert.Equal(t, exitError, r.Code, r.Err)
	assert.Contains(t, r.Err, "already exists")
	r = tr.run("", "activate", "--name", "../evil", link)
	assert.Equal(t, exitUsage, r.Code, r.Err)
	r = tr.run("", "activate")
	assert.Equal(t, exitUsage, r.Code)
	r = tr.run("", "activate", "--name", "x", "https://example.com/not-a-link")
	assert.Equal(t, exitUsage, r.Code, r.Err)

	// The link still works.
	out := filepath.Join(t.TempDir(), "copy.share")
	r = tr.run("", "activate", "--name", "acme2", "--out", out, link)
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "Also written to "+out)
	assert.Equal(t, os.FileMode(0o600), fileMode(t, out))
	copyData, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Contains(t, string(copyData), storedToken(t, store, "acme2"))

	tr.assertNoSecrets(first, linkCode(t, first), link, linkCode(t, link), storedToken(t, store, "acme"), storedToken(t, store, "acme2"))
}

func TestActivateExitCodeFollowsCheck(t *testing.T) {
	credEnv(t)
	srv := activationServer(t)
	// A token that lasts 2 days, checked with the default 7-day window: stored, exit 5.
	r := run(t, "", "activate", "--name", "short", mintLink(t, srv, 48*time.Hour))
	assert.Equal(t, exitExpiring, r.Code, r.Err)
	assert.Contains(t, r.Out, "Activated credential short")
	assert.Contains(t, r.Out, "Status:   expiring (exit 5)")
	r = run(t, "", "creds", "list")
	assert.Regexp(t, `(?m)^short\s+active\s+.*\s(1d 23h|2d)\s*$`, r.Out)
	r = run(t, "", "activate", "--name", "short2", "--warn-expiry", "1d", mintLink(t, srv, 48*time.Hour))
	assert.Equal(t, exitOK, r.Code, r.Err)
}

func TestActivationOnlyCopyIsPrinted(t *testing.T) {
	credEnv(t)
	srv := activationServer(t)
	link := mintLink(t, srv, time.Hour)
	host, code, err := tokenmgr.ParseActivationLink(link)
	require.NoError(t, err)
	cred, err := tokenmgr.FetchActivation(context.Background(), host, code, nil)
	require.NoError(t, err)
	notSaved := fmt.Errorf("could not be written anywhere: %w", tokenmgr.ErrCredentialNotSaved)

	// Nothing written anywhere: the profile goes to stdout, a note to stderr, exit 1.
	var out, errb bytes.Buffer
	err = activationFailed(&tokenmgr.ActivateResult{Name: "x", Credential: cred}, notSaved, &streams{Out: &out, Err: &errb})
	assert.Equal(t, exitError, exitCode(context.Background(), err))
	p, perr := sharing.ParseProfile(out.Bytes())
	require.NoError(t, perr, "stdout is the profile JSON")
	assert.Equal(t, cred.BearerToken.Reveal(), p.BearerToken)
	assert.Contains(t, errb.String(), "ONLY copy")
	assert.Contains(t, errb.String(), "deltashare creds import")

	// Kept in a recovery file: not printed (the error names the file).
	out.Reset()
	errb.Reset()
	err = activationFailed(&tokenmgr.ActivateResult{Name: "x", Credential: cred, RecoveryPath: "/r/x.share"}, notSaved, &streams{Out: &out, Err: &errb})
	assert.Equal(t, exitError, exitCode(context.Background(), err))
	assert.Empty(t, out.String())
	assert.Empty(t, errb.String())
}

func TestCheckArguments(t *testing.T) {
	credEnv(t)
	profile, _ := demoServer(t)
	for _, args := range [][]string{
		{"check"},
		{"check", "-p", profile, "--warn-expiry", "soon"},
		{"check", "-p", profile, "--warn-expiry", "-1d"},
		{"check", "-p", profile, "--parallel", "0"},
		{"check", "-p", profile, "only.two"},
		{"check", "-p", profile, "--output", "yaml"},
		{"check", "-p", profile, "a#x.y.z", "b#x.y.z"},
	} {
		r := run(t, "", args...)
		assert.Equal(t, exitUsage, r.Code, "%v: %s", args, r.Err)
	}
	// A table argument may carry the profile, as the Python connector writes it.
	r := run(t, "", "check", profile+"#demo.sales.orders")
	assert.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "Tables:   1")
}
