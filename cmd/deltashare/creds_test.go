package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const demoToken = "test-token-0123456789abcdef" // demoServer's static token

func TestParseCredsOptions(t *testing.T) {
	testParse(t, parseCredsListOptions, []parseCase[credsListOptions]{
		{name: "list", args: []string{"creds", "list"}, want: credsListOptions{Output: "text"}},
		{name: "list json", args: []string{"creds", "list", "-O", "json", "--config-dir", "/x"}, want: credsListOptions{Output: "json"}},
		{name: "list argument", args: []string{"creds", "list", "x"}, code: exitUsage, msg: "list [--output json]"},
		{name: "list bad output", args: []string{"creds", "list", "--output", "xml"}, code: exitUsage, msg: "xml"},
	})
	testParse(t, parseCredsShowOptions, []parseCase[credsShowOptions]{
		{name: "show", args: []string{"creds", "show", "acme"}, want: credsShowOptions{Output: "text", Name: "acme"}},
		{name: "show json", args: []string{"creds", "show", "acme", "--output", "json"}, want: credsShowOptions{Output: "json", Name: "acme"}},
		{name: "show no name", args: []string{"creds", "show"}, code: exitUsage, msg: "show NAME"},
		{name: "show two names", args: []string{"creds", "show", "a", "b"}, code: exitUsage, msg: "NAME"},
	})
	testParse(t, parseCredsImportOptions, []parseCase[credsImportOptions]{
		{name: "import", args: []string{"creds", "import", "acme", "me.share"}, want: credsImportOptions{Name: "acme", File: "me.share"}},
		{name: "import every flag", args: []string{"creds", "import", "acme", "-", "--overwrite", "-q"}, want: credsImportOptions{Name: "acme", File: "-", Overwrite: true, Quiet: true}},
		{name: "import --force", args: []string{"creds", "import", "--force", "--quiet", "acme", "f"}, want: credsImportOptions{Name: "acme", File: "f", Overwrite: true, Quiet: true}},
		{name: "import only a name", args: []string{"creds", "import", "onlyname"}, code: exitUsage, msg: "import NAME FILE"},
	})
	testParse(t, parseCredsExportOptions, []parseCase[credsExportOptions]{
		{name: "export", args: []string{"creds", "export", "acme"}, want: credsExportOptions{Name: "acme", Out: "acme.share"}},
		{name: "export every flag", args: []string{"creds", "export", "acme", "-o", "x.share", "--overwrite", "-q"}, want: credsExportOptions{Name: "acme", Out: "x.share", Overwrite: true, Quiet: true}},
		{name: "export to stdout", args: []string{"creds", "export", "--out", "-", "acme"}, want: credsExportOptions{Name: "acme", Out: "-"}},
		{name: "export no name", args: []string{"creds", "export", "--out", "x"}, code: exitUsage, msg: "[--out FILE] NAME"},
	})
	testParse(t, parseCredsRemoveOptions, []parseCase[credsRemoveOptions]{
		{name: "remove", args: []string{"creds", "remove", "acme"}, want: credsRemoveOptions{Name: "acme"}},
		{name: "rm quiet", args: []string{"creds", "rm", "-q", "acme"}, want: credsRemoveOptions{Name: "acme", Quiet: true}},
		{name: "remove no name", args: []string{"creds", "rm"}, code: exitUsage, msg: "remove NAME"},
	})
}

func TestCredsImportShowExportRemove(t *testing.T) {
	store := credEnv(t)
	profile, _ := demoServer(t)
	raw, err := os.ReadFile(profile)
	require.NoError(t, err)
	d := testDeps(t, store)
	tr := &transcript{t: t}
	list := func(output string) result {
		return tr.add(call(t, d, "", runCredsList, credsListOptions{Output: output}))
	}
	imp := func(stdin string, o credsImportOptions) result { return tr.add(call(t, d, stdin, runCredsImport, o)) }
	show := func(name, output string) result {
		return tr.add(call(t, d, "", runCredsShow, credsShowOptions{Name: name, Output: output}))
	}
	exp := func(o credsExportOptions) result { return tr.add(call(t, d, "", runCredsExport, o)) }
	rm := func(name string) result {
		return tr.add(call(t, d, "", runCredsRemove, credsRemoveOptions{Name: name}))
	}
	shares := func(ref string) result {
		return tr.add(call(t, d, "", runShares, sharesOptions{Profile: ref, Output: "text"}))
	}

	r := list("text")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "no stored credentials")
	r = list("json")
	assert.Equal(t, "[]\n", r.Out)

	// Import, then refuse the same name in another case unless --overwrite.
	r = imp("", credsImportOptions{Name: "Acme", File: profile})
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "stored credential Acme")
	assert.Contains(t, r.Out, "never")
	r = imp("", credsImportOptions{Name: "ACME", File: profile})
	assert.Equal(t, exitError, r.Code)
	assert.Contains(t, r.Err, "already exists")
	r = imp("", credsImportOptions{Name: "acme", File: profile, Overwrite: true})
	require.Equal(t, exitOK, r.Code, r.Err)
	r = imp(string(raw), credsImportOptions{Name: "piped", File: "-"})
	require.Equal(t, exitOK, r.Code, r.Err)
	r = imp("{not json", credsImportOptions{Name: "bad", File: "-"})
	assert.Equal(t, exitUsage, r.Code, r.Err)
	r = imp("", credsImportOptions{Name: "missing", File: filepath.Join(t.TempDir(), "none.share")})
	assert.Equal(t, exitError, r.Code)
	assert.Contains(t, r.Err, "no such file")
	r = imp("", credsImportOptions{Name: "../up", File: profile})
	assert.Equal(t, exitUsage, r.Code, r.Err)
	r = imp("", credsImportOptions{Name: "quiet", File: profile, Quiet: true})
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Empty(t, r.Out)
	require.Equal(t, exitOK, rm("quiet").Code)

	r = list("text")
	assert.Regexp(t, `(?m)^acme\s+active\s+http://127\.0\.0\.1:\d+/delta-sharing\s+never\s*$`, r.Out)
	assert.Regexp(t, `(?m)^piped\s+active\s`, r.Out)

	// show: metadata and the profile with the token redacted.
	r = show("ACME", "text")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "name:      acme")
	assert.Contains(t, r.Out, "source:    import of "+profile)
	assert.Contains(t, r.Out, `"bearerToken": "[redacted]"`)
	assert.Contains(t, r.Out, "expires:   never")
	r = show("acme", "json")
	require.Equal(t, exitOK, r.Code, r.Err)
	var shown struct {
		Name    string
		State   string
		Path    string
		Profile map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(r.Out), &shown))
	assert.Equal(t, "active", shown.State)
	assert.Equal(t, filepath.Join(store, "credentials", "acme.share"), shown.Path)
	assert.Equal(t, "[redacted]", shown.Profile["bearerToken"])
	assert.Contains(t, shown.Profile["endpoint"], "/delta-sharing")
	r = show("nope", "text")
	assert.Equal(t, exitError, r.Code)
	assert.Contains(t, r.Err, "deltashare creds list")

	// export: byte for byte, 0600, not over an existing file without --overwrite.
	t.Chdir(t.TempDir())
	r = exp(credsExportOptions{Name: "acme", Out: "acme.share"})
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "wrote acme.share (mode 0600)")
	got, err := os.ReadFile("acme.share")
	require.NoError(t, err)
	assert.Equal(t, raw, got)
	assert.Equal(t, os.FileMode(0o600), fileMode(t, "acme.share"))
	r = exp(credsExportOptions{Name: "acme", Out: "acme.share"})
	assert.Equal(t, exitError, r.Code)
	assert.Contains(t, r.Err, "already exists")
	r = exp(credsExportOptions{Name: "acme", Out: "acme.share", Overwrite: true})
	require.Equal(t, exitOK, r.Code, r.Err)
	out := filepath.Join(t.TempDir(), "elsewhere.share")
	r = exp(credsExportOptions{Name: "acme", Out: out, Quiet: true})
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Empty(t, r.Out)
	assert.Equal(t, os.FileMode(0o600), fileMode(t, out))

	// The exported file works as a profile, and so does the stored name.
	r = shares(out)
	assert.Equal(t, exitOK, r.Code, r.Err)
	r = shares("Acme")
	assert.Equal(t, exitOK, r.Code, r.Err)

	// remove.
	r = rm("ACME")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "removed credential acme")
	r = rm("acme")
	assert.Equal(t, exitError, r.Code)
	_, err = os.Stat(filepath.Join(store, "credentials", "acme.share"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	r = shares("acme")
	assert.NotEqual(t, exitOK, r.Code)

	tr.assertNoSecrets(demoToken)

	// Only an explicit --out - prints the secret, with a warning on stderr.
	r = call(t, d, "", runCredsExport, credsExportOptions{Name: "piped", Out: "-"})
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Equal(t, string(raw), r.Out)
	assert.Contains(t, r.Err, "warning")
	assert.NotContains(t, r.Err, demoToken)
}

// TestCredsEndToEnd: the credential commands through the app, the store from
// DELTASHARE_CONFIG_DIR, a stored name used as -p.
func TestCredsEndToEnd(t *testing.T) {
	store := credEnv(t)
	profile, _ := demoServer(t)
	r := run(t, "", "creds", "import", "acme", profile, "-q")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Empty(t, r.Out)
	r = run(t, "", "creds", "list", "--output", "json")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, `"name": "acme"`)
	r = run(t, "", "shares", "-p", "ACME")
	require.Equal(t, exitOK, r.Code, r.Err)
	r = run(t, "", "creds", "rm", "acme")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.NoFileExists(t, filepath.Join(store, "credentials", "acme.share"))
}

func TestCredsRefuseInsecureFiles(t *testing.T) {
	store := credEnv(t)
	profile, _ := demoServer(t)
	d := testDeps(t, store)
	r := call(t, d, "", runCredsImport, credsImportOptions{Name: "acme", File: profile})
	require.Equal(t, exitOK, r.Code, r.Err)
	creds := filepath.Join(store, "credentials")
	tables := func(ref string) result {
		return call(t, d, "", runTables, tablesOptions{Profile: ref, Output: "text"})
	}
	list := func() result { return call(t, d, "", runCredsList, credsListOptions{Output: "text"}) }

	// A profile file others can read: not used, the message has the fix.
	share := filepath.Join(creds, "acme.share")
	require.NoError(t, os.Chmod(share, 0o644))
	for name, use := range map[string]func() result{
		"tables -p acme":  func() result { return tables("acme") },
		"creds show acme": func() result { return call(t, d, "", runCredsShow, credsShowOptions{Name: "acme", Output: "text"}) },
		"check -p acme": func() result {
			return call(t, d, "", runCheck, checkOptions{Profile: "acme", accessCheck: accessCheck{Output: "text", Parallel: 4}})
		},
		"creds export --out - acme": func() result { return call(t, d, "", runCredsExport, credsExportOptions{Name: "acme", Out: "-"}) },
	} {
		r = use()
		assert.Equal(t, exitError, r.Code, name)
		assert.Contains(t, r.Err, "chmod 600 "+share, name)
		assert.Empty(t, r.Out, name)
		assert.NotContains(t, r.Err, demoToken)
	}
	require.NoError(t, os.Chmod(share, 0o600))
	r = tables("acme")
	assert.Equal(t, exitOK, r.Code, r.Err)

	// The metadata file and the directory too.
	meta := filepath.Join(creds, "acme.meta.json")
	require.NoError(t, os.Chmod(meta, 0o640))
	r = list()
	assert.Equal(t, exitError, r.Code)
	assert.Contains(t, r.Err, "chmod 600 "+meta)
	require.NoError(t, os.Chmod(meta, 0o600))
	require.NoError(t, os.Chmod(creds, 0o755))
	r = list()
	assert.Equal(t, exitError, r.Code)
	assert.Contains(t, r.Err, "chmod 700 "+creds)
	r = tables("acme")
	assert.NotEqual(t, exitOK, r.Code)
	assert.Contains(t, r.Err, "chmod 700 "+creds)
	require.NoError(t, os.Chmod(creds, 0o700))
	r = list()
	assert.Equal(t, exitOK, r.Code, r.Err)
}

func TestParseDays(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "0", want: 0},
		{in: "7d", want: 7 * 24 * time.Hour},
		{in: "1.5d", want: 36 * time.Hour},
		{in: "2d12h", want: 60 * time.Hour},
		{in: "36h", want: 36 * time.Hour},
		{in: "90m", want: 90 * time.Minute},
		{in: " 1h30m ", want: 90 * time.Minute},
		{in: "0s", want: 0},
		{in: "", bad: true},
		{in: "d", bad: true},
		{in: "7", bad: true},
		{in: "-1d", bad: true},
		{in: "-5h", bad: true},
		{in: "7days", bad: true},
		{in: "2d-3h", bad: true},
		{in: "1d+3h", bad: true},
		{in: "99999999d", bad: true},
	}
	for _, tc := range tests {
		got, err := parseDays("warn-expiry", tc.in)
		if tc.bad {
			assert.Error(t, err, "%q", tc.in)
			assert.Equal(t, exitUsage, exitCode(t.Context(), err))
			assert.Contains(t, err.Error(), "--warn-expiry")
			continue
		}
		require.NoError(t, err, "%q", tc.in)
		assert.Equal(t, tc.want, got, "%q", tc.in)
	}
}

func TestExpiryText(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		exp        time.Time
		in, phrase string
	}{
		{time.Time{}, "never", "never"},
		{now.Add(6*24*time.Hour + 3*time.Hour + 20*time.Minute), "6d 3h", "2026-03-07T15:20:00Z (in 6d 3h)"},
		{now.Add(48 * time.Hour), "2d", "2026-03-03T12:00:00Z (in 2d)"},
		{now.Add(5*time.Hour + 20*time.Minute), "5h 20m", "2026-03-01T17:20:00Z (in 5h 20m)"},
		{now.Add(3 * time.Hour), "3h", "2026-03-01T15:00:00Z (in 3h)"},
		{now.Add(12 * time.Minute), "12m", "2026-03-01T12:12:00Z (in 12m)"},
		{now.Add(40 * time.Second), "40s", "2026-03-01T12:00:40Z (in 40s)"},
		{now.Add(-2*24*time.Hour - time.Minute), "expired 2d ago", "2026-02-27T11:59:00Z (expired 2d ago)"},
		{now, "expired 0s ago", "2026-03-01T12:00:00Z (expired 0s ago)"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.in, expiresIn(now, tc.exp))
		assert.Equal(t, tc.phrase, expiryPhrase(now, tc.exp))
	}
	assert.False(t, strings.Contains(expiresIn(now, now.Add(time.Hour)), "-"))
}

// TestCredsImportHintsNameRealFlags: the advice of an import under a taken name names flags
// that `creds import` has (--overwrite), never --name, and the advised command works.
func TestCredsImportHintsNameRealFlags(t *testing.T) {
	credEnv(t)
	profile, _ := demoServer(t)
	r := run(t, "", "creds", "import", "acme", profile, "-q")
	require.Equal(t, exitOK, r.Code, r.Err)
	r = run(t, "", "creds", "import", "ACME", profile)
	assert.Equal(t, exitError, r.Code)
	assert.Contains(t, r.Err, "pass --overwrite to replace it")
	assert.Contains(t, r.Err, "deltashare creds remove ACME")
	assert.NotContains(t, r.Err, "--name")
	r = run(t, "", "creds", "import", "ACME", profile, "--overwrite", "-q")
	assert.Equal(t, exitOK, r.Code, r.Err)
}

// TestCredsListShowsInsecureCredential: a 0644 profile file is not listed as active while -p
// refuses it: the list says insecure, with the chmod that fixes it.
func TestCredsListShowsInsecureCredential(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no file modes")
	}
	store := credEnv(t)
	profile, _ := demoServer(t)
	r := run(t, "", "creds", "import", "acme", profile, "-q")
	require.Equal(t, exitOK, r.Code, r.Err)
	file := filepath.Join(store, "credentials", "acme.share")
	require.NoError(t, os.Chmod(file, 0o644))

	r = run(t, "", "shares", "-p", "acme")
	assert.NotEqual(t, exitOK, r.Code)
	assert.Contains(t, r.Err, "chmod 600 "+file)
	r = run(t, "", "creds", "list")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Regexp(t, `(?m)^acme\s+insecure\s`, r.Out)
	assert.NotContains(t, r.Out, "active")
	assert.Contains(t, r.Out, "chmod 600 "+file)
	r = run(t, "", "creds", "list", "--output", "json")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, `"state": "insecure"`)
	assert.Contains(t, r.Out, `"problem": "refusing to use credential file`)

	require.NoError(t, os.Chmod(file, 0o600))
	r = run(t, "", "creds", "list")
	assert.Regexp(t, `(?m)^acme\s+active\s`, r.Out)
	r = run(t, "", "shares", "-p", "acme")
	assert.Equal(t, exitOK, r.Code, r.Err)
}

// TestCredsDefault: `creds default NAME` makes NAME the credential of commands given no -p,
// `creds list` marks it, --unset and removing the credential forget it.
func TestCredsDefault(t *testing.T) {
	credEnv(t)
	profile, _ := demoServer(t)
	tr := &transcript{t: t}

	r := tr.run("", "shares")
	assert.Equal(t, exitUsage, r.Code, r.Err)
	assert.Contains(t, r.Err, "no credential given and no default credential set")
	assert.Contains(t, r.Err, "deltashare creds default NAME")
	r = tr.run("", "creds", "default")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "no default credential")
	r = tr.run("", "creds", "default", "nope")
	assert.Equal(t, exitError, r.Code)
	assert.Contains(t, r.Err, `no stored credential named "nope"`)

	require.Equal(t, exitOK, tr.run("", "creds", "import", "Acme", profile, "-q").Code)
	require.Equal(t, exitOK, tr.run("", "creds", "import", "other", profile, "-q").Code)
	r = tr.run("", "creds", "default", "ACME")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Equal(t, "default credential: Acme (used when no -p is given)\n", r.Out)

	// Used when -p is absent; -p still wins.
	r = tr.run("", "shares")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "demo")
	r = tr.run("", "check", "--warn-expiry", "0")
	require.Equal(t, exitOK, r.Code, r.Err)
	r = tr.run("", "shares", "-p", filepath.Join(t.TempDir(), "missing.share"))
	assert.NotEqual(t, exitOK, r.Code)

	r = tr.run("", "creds", "list")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Regexp(t, `(?m)^Acme \*\s+active\s`, r.Out)
	assert.Regexp(t, `(?m)^other\s+active\s`, r.Out)
	assert.Contains(t, r.Out, "* default credential: used when no -p is given")
	r = tr.run("", "creds", "list", "--output", "json")
	var rows []map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Out), &rows))
	require.Len(t, rows, 2)
	assert.Equal(t, true, rows[0]["default"])
	assert.Equal(t, false, rows[1]["default"])
	r = tr.run("", "creds", "default", "-q")
	assert.Equal(t, "Acme\n", r.Out)
	r = tr.run("", "creds", "default", "--output", "json")
	assert.JSONEq(t, `{"default":"Acme"}`, r.Out)
	r = tr.run("", "creds", "show", "acme")
	assert.Contains(t, r.Out, "default:   yes")

	r = tr.run("", "creds", "default", "--unset")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "no default credential")
	assert.Equal(t, exitUsage, tr.run("", "shares").Code)
	require.Equal(t, exitOK, tr.run("", "creds", "default", "other", "-q").Code)
	require.Equal(t, exitOK, tr.run("", "creds", "rm", "other", "-q").Code)
	r = tr.run("", "creds", "default", "--output", "json")
	assert.JSONEq(t, `{"default":null}`, r.Out, "removing the default credential unsets it")
	assert.Equal(t, exitUsage, tr.run("", "creds", "default", "a", "--unset").Code)
	tr.assertNoSecrets(demoToken)
}

// TestCredsJSON: `creds list` and `creds show` JSON use protocol names, RFC 3339 times and
// whole seconds (no human strings).
func TestCredsJSON(t *testing.T) {
	store := credEnv(t)
	d := testDeps(t, store)
	expiry := time.Now().Add(90 * 24 * time.Hour).UTC().Truncate(time.Second)
	prof := filepath.Join(t.TempDir(), "p.share")
	require.NoError(t, os.WriteFile(prof, []byte(`{"shareCredentialsVersion":1,"endpoint":"https://x.example.com/ds","bearerToken":"tok-0123456789abcdef","expirationTime":"`+expiry.Format(time.RFC3339)+`"}`), 0o600))
	r := call(t, d, "", runCredsImport, credsImportOptions{Name: "acme", File: prof, Quiet: true})
	require.Equal(t, exitOK, r.Code, r.Err)
	now := expiry.Add(-89*24*time.Hour - 1500*time.Millisecond)
	d.Now = func() time.Time { return now }
	r = call(t, d, "", runCredsList, credsListOptions{Output: "json"})
	require.Equal(t, exitOK, r.Code, r.Err)
	var rows []map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Out), &rows))
	require.Len(t, rows, 1)
	row := rows[0]
	assert.Equal(t, float64(89*24*3600+1), row["expiresInSeconds"], "whole seconds")
	assert.Equal(t, expiry.Format(time.RFC3339), row["expirationTime"])
	assert.NotEmpty(t, row["createdTime"])
	assert.Equal(t, "bearer_token", row["type"])
	assert.Equal(t, "active", row["state"])
	for _, gone := range []string{"expiresIn", "expiry", "created", "profileType"} {
		assert.NotContains(t, row, gone)
	}
	r = call(t, d, "", runCredsShow, credsShowOptions{Name: "acme", Output: "json"})
	require.Equal(t, exitOK, r.Code, r.Err)
	var shown map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Out), &shown))
	assert.Equal(t, float64(89*24*3600+1), shown["expiresInSeconds"])
	assert.NotContains(t, r.Out, "tok-0123456789abcdef")
}
