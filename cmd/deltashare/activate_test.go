package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/protocol"
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

// add records the result of a run function (see call).
func (tr *transcript) add(r result) result {
	tr.runs = append(tr.runs, r)
	tr.cmds = append(tr.cmds, fmt.Sprintf("call %d", len(tr.runs)))
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

// defaultCheck is the access check the check flags' defaults give.
func defaultCheck() accessCheck {
	return accessCheck{WarnExpiry: 7 * 24 * time.Hour, Parallel: tokenmgr.DefaultCheckParallel, Output: "text"}
}

func TestParseActivateOptions(t *testing.T) {
	const link = "https://h.example/delta_sharing/retrieve_config.html?abc"
	testParse(t, parseActivateOptions, []parseCase[activateOptions]{
		{name: "link", args: []string{"activate", link}, want: activateOptions{Link: link, Check: defaultCheck()}},
		{name: "flags after the link", args: []string{"activate", link, "--name", "demo", "--out", "o.share", "-q"},
			want: activateOptions{Link: link, Name: "demo", Out: "o.share", Check: accessCheck{WarnExpiry: 7 * 24 * time.Hour, Parallel: 4, Output: "text", Quiet: true}}},
		{name: "code and host", args: []string{"activate", "-n", "x", "--host", "https://h.example", "abc"}, want: activateOptions{Link: "abc", Host: "https://h.example", Name: "x", Check: defaultCheck()}},
		{name: "from stdin", args: []string{"activate", "--output", "json", "-"}, want: activateOptions{LinkFromStdin: true, Check: accessCheck{WarnExpiry: 7 * 24 * time.Hour, Parallel: 4, Output: "json"}}},
		{name: "resume", args: []string{"activate", "--name", "x", "--warn-expiry", "0", "--parallel", "64"}, want: activateOptions{Name: "x", Check: accessCheck{Parallel: 64, Output: "text"}}},
		{name: "nothing", args: []string{"activate"}, code: exitUsage, msg: "activate needs the activation link"},
		{name: "two links", args: []string{"activate", link, link}, code: exitUsage, msg: "LINK"},
		{name: "bad warn-expiry", args: []string{"activate", "--warn-expiry", "soon", link}, code: exitUsage, msg: `invalid --warn-expiry "soon"`},
		{name: "bad parallel", args: []string{"activate", "--parallel", "65", link}, code: exitUsage, msg: "invalid --parallel 65"},
		{name: "bad output", args: []string{"activate", "-O", "yaml", link}, code: exitUsage, msg: "yaml"},
	})
}

func TestActivateEndToEnd(t *testing.T) {
	store := credEnv(t)
	srv := activationServer(t)
	link := mintLink(t, srv, 30*24*time.Hour)
	d := testDeps(t, store)
	tr := &transcript{t: t}
	activate := func(stdin string, o activateOptions) result { return tr.add(call(t, d, stdin, runActivate, o)) }
	check := func(o checkOptions) result { return tr.add(call(t, d, "", runCheck, o)) }
	checkOf := func(ref string, set func(*checkOptions)) checkOptions {
		o := checkOptions{Profile: ref, accessCheck: defaultCheck()}
		if set != nil {
			set(&o)
		}
		return o
	}
	list := func(output string) result {
		return tr.add(call(t, d, "", runCredsList, credsListOptions{Output: output}))
	}

	// Activate through the app (the store from DELTASHARE_CONFIG_DIR): stored, checked, exit 0.
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
	r = list("text")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Regexp(t, `(?m)^demo\s+active\s+`+srv.Endpoint()+`\s+(29d 23h|30d)\s*$`, r.Out)
	r = list("json")
	require.Equal(t, exitOK, r.Code, r.Err)
	var list0 []map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Out), &list0))
	require.Len(t, list0, 1)
	assert.Equal(t, "demo", list0[0]["name"])
	assert.Equal(t, "active", list0[0]["state"])
	assert.Equal(t, "activation", list0[0]["source"].(map[string]any)["kind"])

	// The stored name works wherever a profile does.
	r = tr.add(call(t, d, "", runTables, tablesOptions{Profile: "demo", Output: "text"}))
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "demo.sales.orders")

	// ... including export: the activated credential reads the data.
	r = tr.run("", "export", "-p", "demo", "demo.sales.orders", "-o", "-", "--format", "ndjson", "-q")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Equal(t, 2900, strings.Count(r.Out, "\n"))

	r = check(checkOf("demo", nil))
	assert.Equal(t, exitOK, r.Code, r.Err)
	r = check(checkOf("demo", func(o *checkOptions) { o.Output = "json" }))
	require.Equal(t, exitOK, r.Code, r.Err)
	var rep map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Out), &rep))
	assert.Equal(t, "ok", rep["status"])
	assert.Equal(t, float64(0), rep["exitCode"])
	assert.Len(t, rep["tables"], 2)

	// The link works once: a second activation is refused with exit 4, and nothing is kept.
	r = activate("", activateOptions{Name: "other", Link: tokenmgr.Sensitive(link), Check: defaultCheck()})
	assert.Equal(t, exitAuth, r.Code, r.Err)
	assert.Contains(t, r.Err, tokenmgr.ErrActivationUsed.Error())
	r = list("text")
	assert.NotContains(t, r.Out, "other")

	// Expiry within the warning window: exit 5 (the token has ~30 days left).
	r = check(checkOf("demo", func(o *checkOptions) { o.WarnExpiry = 60 * 24 * time.Hour }))
	assert.Equal(t, exitExpiring, r.Code, r.Err)
	assert.Contains(t, r.Out, "WARNING")
	assert.Contains(t, r.Err, "within the 60d warning window")
	r = check(checkOf("demo", func(o *checkOptions) { o.WarnExpiry = 0 }))
	assert.Equal(t, exitOK, r.Code, "0 disables the warning: %s", r.Err)

	// A table that does not exist: exit 3, the other table still checked.
	nope := protocol.Table{Share: "demo", Schema: "sales", Name: "nope"}
	r = check(checkOf("demo", func(o *checkOptions) { o.Tables = []protocol.Table{ordersTable, nope} }))
	assert.Equal(t, exitPartial, r.Code, r.Err)
	assert.Contains(t, r.Out, "ok    demo.sales.orders")
	assert.Contains(t, r.Out, "FAIL  demo.sales.nope")
	assert.Contains(t, r.Err, "1 of 2 tables could not be read (demo.sales.nope)")
	r = check(checkOf("demo", func(o *checkOptions) { o.Output, o.Tables = "json", []protocol.Table{nope} }))
	assert.Equal(t, exitPartial, r.Code)
	require.NoError(t, json.Unmarshal([]byte(r.Out), &rep))
	assert.Equal(t, "partial", rep["status"])
	assert.Equal(t, float64(3), rep["exitCode"])

	// An expired token: exit 4 without asking the server; a rejected one: exit 4 too.
	dir := t.TempDir()
	expired := filepath.Join(dir, "expired.share")
	require.NoError(t, os.WriteFile(expired, []byte(`{"shareCredentialsVersion":1,"endpoint":"`+srv.Endpoint()+`","bearerToken":"`+token+`","expirationTime":"2020-01-02T03:04:05Z"}`), 0o600))
	r = check(checkOf(expired, nil))
	assert.Equal(t, exitAuth, r.Code, r.Err)
	assert.Contains(t, r.Out, "EXPIRED on 2020-01-02T03:04:05Z")
	assert.Contains(t, r.Err, "deltashare activate")
	r = tr.add(call(t, d, "", runCredsImport, credsImportOptions{Name: "old", File: expired}))
	require.Equal(t, exitOK, r.Code, r.Err)
	r = list("text")
	assert.Regexp(t, `(?m)^old\s+expired\s+.*expired \d+d( \d+h)? ago\s*$`, r.Out)
	r = check(checkOf("old", func(o *checkOptions) { o.Output = "json" }))
	assert.Equal(t, exitAuth, r.Code)
	require.NoError(t, json.Unmarshal([]byte(r.Out), &rep))
	assert.Equal(t, "expired", rep["status"])
	assert.Contains(t, rep["error"], "run deltashare activate", "advice in the report names the command")
	assert.NotContains(t, rep["error"], "tokenmgr.")
	rejected := filepath.Join(dir, "rejected.share")
	require.NoError(t, os.WriteFile(rejected, []byte(`{"shareCredentialsVersion":1,"endpoint":"`+srv.Endpoint()+`","bearerToken":"not-the-token-0123456789"}`), 0o600))
	r = check(checkOf(rejected, nil))
	assert.Equal(t, exitAuth, r.Code, r.Err)
	assert.Contains(t, r.Out, "REJECTED")
	assert.Contains(t, r.Out, "run deltashare activate", "advice in the report names the command")
	assert.NotContains(t, r.Out, "tokenmgr.")

	// JSON output of activate; a link read from standard input; a bare code with --host.
	link2 := mintLink(t, srv, 30*24*time.Hour)
	jsonCheck := defaultCheck()
	jsonCheck.Output = "json"
	r = activate("", activateOptions{Name: "j", Link: tokenmgr.Sensitive(link2), Check: jsonCheck})
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
	r = activate(link3+"\n", activateOptions{Name: "fromstdin", LinkFromStdin: true, Check: defaultCheck()})
	require.Equal(t, exitOK, r.Code, r.Err)
	r = activate("\n", activateOptions{Name: "nolink", LinkFromStdin: true, Check: defaultCheck()})
	assert.Equal(t, exitUsage, r.Code)
	assert.Contains(t, r.Err, "standard input held no activation link")
	link4 := mintLink(t, srv, 30*24*time.Hour)
	quiet := defaultCheck()
	quiet.Quiet = true
	r = activate("", activateOptions{Name: "coded", Host: srv.BaseURL(), Link: tokenmgr.Sensitive(linkCode(t, link4)), Check: quiet})
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Empty(t, r.Out, "--quiet prints nothing when all is well")

	tr.assertNoSecrets(token, link, linkCode(t, link), link2, linkCode(t, link2), storedToken(t, store, "j"),
		link3, linkCode(t, link3), link4, linkCode(t, link4), storedToken(t, store, "coded"))
}

func TestActivateRefusesBeforeDownload(t *testing.T) {
	store := credEnv(t)
	srv := activationServer(t)
	d := testDeps(t, store)
	tr := &transcript{t: t}
	activate := func(o activateOptions) result {
		o.Check = defaultCheck()
		return tr.add(call(t, d, "", runActivate, o))
	}
	first := mintLink(t, srv, 30*24*time.Hour)
	r := activate(activateOptions{Name: "Acme", Link: tokenmgr.Sensitive(first)})
	require.Equal(t, exitOK, r.Code, r.Err)

	link := tokenmgr.Sensitive(mintLink(t, srv, 30*24*time.Hour))
	// The same name in another letter case: refused, and the link is not used up.
	for _, name := range []string{"acme", "ACME", "aCmE"} {
		r = activate(activateOptions{Name: name, Link: link})
		assert.Equal(t, exitError, r.Code, r.Err)
		assert.Contains(t, r.Err, `a credential named "Acme" already exists`)
	}
	// An existing --out file and an invalid name: refused too.
	existing := filepath.Join(t.TempDir(), "exists.share")
	require.NoError(t, os.WriteFile(existing, nil, 0o600))
	r = activate(activateOptions{Name: "fresh", Out: existing, Link: link})
	assert.Equal(t, exitError, r.Code, r.Err)
	assert.Contains(t, r.Err, "already exists")
	r = activate(activateOptions{Name: "../evil", Link: link})
	assert.Equal(t, exitUsage, r.Code, r.Err)
	r = activate(activateOptions{Name: "x", Link: "https://example.com/not-a-link"})
	assert.Equal(t, exitUsage, r.Code, r.Err)

	// The link still works.
	out := filepath.Join(t.TempDir(), "copy.share")
	r = activate(activateOptions{Name: "acme2", Out: out, Link: link})
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "Also written to "+out)
	assert.Equal(t, os.FileMode(0o600), fileMode(t, out))
	copyData, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Contains(t, string(copyData), storedToken(t, store, "acme2"))

	tr.assertNoSecrets(first, linkCode(t, first), string(link), linkCode(t, string(link)), storedToken(t, store, "acme"), storedToken(t, store, "acme2"))
}

func TestActivateExitCodeFollowsCheck(t *testing.T) {
	store := credEnv(t)
	srv := activationServer(t)
	d := testDeps(t, store)
	// A token that lasts 2 days, checked with the default 7-day window: stored, exit 5.
	r := call(t, d, "", runActivate, activateOptions{Name: "short", Link: tokenmgr.Sensitive(mintLink(t, srv, 48*time.Hour)), Check: defaultCheck()})
	assert.Equal(t, exitExpiring, r.Code, r.Err)
	assert.Contains(t, r.Out, "Activated credential short")
	assert.Contains(t, r.Out, "Status:   expiring (exit 5)")
	r = call(t, d, "", runCredsList, credsListOptions{Output: "text"})
	assert.Regexp(t, `(?m)^short\s+active\s+.*\s(1d 23h|2d)\s*$`, r.Out)
	// Through the app: --warn-expiry 1d, exit 0.
	r = run(t, "", "activate", "--name", "short2", "--warn-expiry", "1d", mintLink(t, srv, 48*time.Hour))
	assert.Equal(t, exitOK, r.Code, r.Err)
}

func TestActivationOnlyCopyIsPrinted(t *testing.T) {
	storeDir := credEnv(t)
	srv := activationServer(t)
	link := mintLink(t, srv, time.Hour)
	host, code, err := tokenmgr.ParseActivationLink(link)
	require.NoError(t, err)
	cred, err := tokenmgr.FetchActivation(context.Background(), host, code, nil)
	require.NoError(t, err)
	notSaved := fmt.Errorf("could not be written anywhere: %w", tokenmgr.ErrCredentialNotSaved)

	// Nothing written anywhere: the profile goes to stdout, a note to stderr, exit 1.
	var out, errb bytes.Buffer
	err = activationFailed(&tokenmgr.ActivateResult{Name: "x", Credential: cred}, notSaved, &streams{Out: &out, Err: &errb}, storeDir)
	assert.Equal(t, exitError, exitCode(context.Background(), err))
	p, perr := sharing.ParseProfile(out.Bytes())
	require.NoError(t, perr, "stdout is the profile JSON")
	assert.Equal(t, cred.BearerToken.Reveal(), p.BearerToken)
	assert.Contains(t, errb.String(), "ONLY copy")
	assert.Contains(t, errb.String(), "deltashare creds import")

	// Kept in a recovery file: not printed (the error names the file).
	out.Reset()
	errb.Reset()
	err = activationFailed(&tokenmgr.ActivateResult{Name: "x", Credential: cred, RecoveryPath: "/r/x.share"}, notSaved, &streams{Out: &out, Err: &errb}, storeDir)
	assert.Equal(t, exitError, exitCode(context.Background(), err))
	assert.Empty(t, out.String())
	assert.Empty(t, errb.String())
	assert.NotContains(t, err.Error(), "--config-dir", "the import finds the same store by itself")

	// Another store (--config-dir): the advised import needs it too.
	other := filepath.Join(t.TempDir(), "other store")
	err = activationFailed(&tokenmgr.ActivateResult{Name: "x", Credential: cred, RecoveryPath: "/r/x.share"}, notSaved, &streams{Out: &out, Err: &errb}, other)
	assert.Contains(t, err.Error(), "add --config-dir '"+other+"' to that creds import command")
	assert.ErrorIs(t, err, tokenmgr.ErrCredentialNotSaved)
}

func TestParseCheckOptions(t *testing.T) {
	customers := protocol.Table{Share: "demo", Schema: "sales", Name: "customers"}
	testParse(t, parseCheckOptions, []parseCase[checkOptions]{
		{name: "defaults", args: []string{"check", "-p", "me.share"}, want: checkOptions{Profile: "me.share", accessCheck: defaultCheck()}},
		{name: "every flag", args: []string{"check", "demo.sales.orders", "-p", "x", "--warn-expiry", "36h", "--parallel", "2", "-O", "json", "-q", "demo.sales.customers"},
			want: checkOptions{Profile: "x", accessCheck: accessCheck{Tables: []protocol.Table{ordersTable, customers}, WarnExpiry: 36 * time.Hour, Parallel: 2, Output: "json", Quiet: true}}},
		// A table argument may carry the profile, as the Python connector writes it.
		{name: "profile in the tables", args: []string{"check", "/p/a.share#demo.sales.orders", "/p/a.share#demo.sales.customers"},
			want: checkOptions{Profile: "/p/a.share", accessCheck: accessCheck{Tables: []protocol.Table{ordersTable, customers}, WarnExpiry: 7 * 24 * time.Hour, Parallel: 4, Output: "text"}}},
		{name: "profile from the environment", args: []string{"check"}, env: map[string]string{"DELTASHARE_PROFILE": "env.share"}, want: checkOptions{Profile: "env.share", accessCheck: defaultCheck()}},
		{name: "no credential: the default one", args: []string{"check"}, want: checkOptions{accessCheck: defaultCheck()}},
		{name: "warn-expiry not a duration", args: []string{"check", "-p", "x", "--warn-expiry", "soon"}, code: exitUsage, msg: "--warn-expiry"},
		{name: "warn-expiry negative", args: []string{"check", "-p", "x", "--warn-expiry", "-1d"}, code: exitUsage, msg: "--warn-expiry"},
		{name: "warn-expiry forever", args: []string{"check", "-p", "x", "--warn-expiry", "forever"}, code: exitUsage, msg: "forever"},
		{name: "parallel 0", args: []string{"check", "-p", "x", "--parallel", "0"}, code: exitUsage, msg: "use 1 to 64"},
		{name: "parallel not a number", args: []string{"check", "-p", "x", "--parallel", "many"}, code: exitUsage, msg: "parallel"},
		{name: "bad table", args: []string{"check", "-p", "x", "only.two"}, code: exitUsage, msg: "share.schema.table"},
		{name: "bad output", args: []string{"check", "-p", "x", "--output", "yaml"}, code: exitUsage, msg: "yaml"},
		{name: "two profiles", args: []string{"check", "-p", "x", "a#x.y.z", "b#x.y.z"}, code: exitUsage, msg: "different profiles"},
	})
}

func TestCheckArguments(t *testing.T) {
	credEnv(t)
	profile, _ := demoServer(t)
	// A table argument may carry the profile, as the Python connector writes it.
	r := run(t, "", "check", profile+"#demo.sales.orders")
	assert.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "Tables:   1")
	r = run(t, "", "check", "-p", profile, "--parallel", "0")
	assert.Equal(t, exitUsage, r.Code, r.Err)
}

// TestActivateFailuresToldApart: a link cut short, an expired link, a used link and a host that
// is not an activation service each say what happened (and exit 2 or 4), keep the name free,
// and never print the link.
func TestActivateFailuresToldApart(t *testing.T) {
	credEnv(t)
	srv := activationServer(t)
	plain := demoEnv(t) // a sharing server without activation links

	used := mintLink(t, srv, time.Hour)
	r := run(t, "", "activate", used, "--name", "first", "-q", "--warn-expiry", "0")
	require.Equal(t, exitOK, r.Code, r.Err)
	expired := mintLink(t, srv, time.Nanosecond)
	whole := mintLink(t, srv, time.Hour)
	cut := whole[:len(whole)-5]
	elsewhere := plain.URL + "/delta_sharing/retrieve_config.html?" + linkCode(t, whole)

	tr := &transcript{t: t}
	tests := []struct {
		name, link string
		code       int
		says       []string
	}{
		{"used", used, exitAuth, []string{"already used", "can be downloaded only once"}},
		{"expired", expired, exitAuth, []string{"has expired", "activation link expired at"}},
		{"cut short", cut, exitUsage, []string{"does not know this activation link", "incomplete", "check that the whole link was copied"}},
		{"not an activation service", elsewhere, exitUsage, []string{"is not a Delta Sharing activation service", plain.URL}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tr.run("", "activate", tc.link, "--name", "again")
			assert.Equal(t, tc.code, r.Code, r.Err)
			for _, s := range tc.says {
				assert.Contains(t, r.Err, s)
			}
			if tc.name != "used" {
				assert.NotContains(t, r.Err, "already used", "only a used link says so")
			}
			r = tr.run("", "creds", "list")
			assert.NotContains(t, r.Out, "again", "the name stays free")
		})
	}
	tr.assertNoSecrets(linkCode(t, used), linkCode(t, expired), linkCode(t, whole), linkCode(t, cut))
}

// TestCheckCountsWhatUsersMean: columns include partition columns (top-level fields, not
// leaves), files are the table's file count, and counts of one are singular.
func TestCheckCountsWhatUsersMean(t *testing.T) {
	credEnv(t)
	env := demoEnv(t)
	profile := env.ProfileFile(t)
	cl := env.Client(t)
	var want = map[string]int64{}
	for _, name := range []string{"orders", "customers"} {
		tb := protocol.Table{Share: "demo", Schema: "sales", Name: name}
		md, err := cl.Metadata(t.Context(), tb, protocol.MetadataOptions{})
		require.NoError(t, err)
		require.NotNil(t, md.NumFiles)
		want[tb.String()] = *md.NumFiles
		schema, err := md.Metadata.Schema()
		require.NoError(t, err)
		want[tb.String()+" columns"] = int64(len(schema.Fields))
	}

	r := run(t, "", "check", "-p", profile, "--output", "json", "--warn-expiry", "0")
	require.Equal(t, exitOK, r.Code, r.Err)
	var rep struct {
		Tables []struct {
			Table    protocol.Table `json:"table"`
			Columns  int64          `json:"columns"`
			NumFiles *int64         `json:"numFiles"`
		} `json:"tables"`
		ReadableTables int `json:"readableTables"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Out), &rep))
	require.Len(t, rep.Tables, 2)
	assert.Equal(t, 2, rep.ReadableTables)
	for _, tb := range rep.Tables {
		require.NotNil(t, tb.NumFiles, tb.Table.String())
		assert.Equal(t, want[tb.Table.String()], *tb.NumFiles, "the table's file count: %s", tb.Table)
		assert.Equal(t, want[tb.Table.String()+" columns"], tb.Columns, tb.Table.String())
	}
	assert.NotContains(t, r.Out, "daysLeft")

	r = run(t, "", "check", "-p", profile, "--warn-expiry", "0")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.NotRegexp(t, `\b1 (files|rows|columns|tables|schemas)\b`, r.Out)
	assert.Contains(t, r.Out, "1 schema, 2 tables")
	for _, tb := range rep.Tables {
		assert.Contains(t, r.Out, fmt.Sprintf("%s: version", tb.Table))
		assert.Contains(t, r.Out, tokenmgr.Plural(*tb.NumFiles, "file"))
	}
}

// TestCheckNoTableReadableYet: a credential whose share holds no tables yet exits 3 and says
// so, in text and JSON.
func TestCheckNoTableReadableYet(t *testing.T) {
	credEnv(t)
	env := demoEnv(t, func(c *server.Config) {
		c.Shares = []server.Share{{Name: "pending", Schemas: []server.Schema{{Name: "default"}}}}
	})
	profile := env.ProfileFile(t)
	r := run(t, "", "check", "-p", profile)
	assert.Equal(t, exitPartial, r.Code, r.Out+r.Err)
	assert.Contains(t, r.Out, "Status:   empty: no table is readable yet")
	assert.NotContains(t, r.Out, "Status:   ok")
	assert.Contains(t, r.Err, "no table is readable yet: the 1 share holds no tables")
	r = run(t, "", "check", "-p", profile, "--output", "json")
	assert.Equal(t, exitPartial, r.Code, r.Err)
	assert.Contains(t, r.Out, `"status": "empty"`)
	assert.Contains(t, r.Out, `"exitCode": 3`)
}
