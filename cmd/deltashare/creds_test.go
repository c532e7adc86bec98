package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const demoToken = "test-token-0123456789abcdef" // demoServer's static token

func TestCredsImportShowExportRemove(t *testing.T) {
	store := credEnv(t)
	profile, _ := demoServer(t)
	raw, err := os.ReadFile(profile)
	require.NoError(t, err)
	tr := &transcript{t: t}

	r := tr.run("", "creds", "list")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "no stored credentials")
	r = tr.run("", "creds", "list", "--output", "json")
	assert.Equal(t, "[]\n", r.Out)

	// Import, then refuse the same name in another case unless --overwrite.
	r = tr.run("", "creds", "import", "Acme", profile)
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "stored credential Acme")
	assert.Contains(t, r.Out, "never")
	r = tr.run("", "creds", "import", "ACME", profile)
	assert.Equal(t, exitError, r.Code)
	assert.Contains(t, r.Err, "already exists")
	r = tr.run("", "creds", "import", "--overwrite", "acme", profile)
	require.Equal(t, exitOK, r.Code, r.Err)
	r = tr.run(string(raw), "creds", "import", "piped", "-")
	require.Equal(t, exitOK, r.Code, r.Err)
	r = tr.run("{not json", "creds", "import", "bad", "-")
	assert.Equal(t, exitUsage, r.Code, r.Err)
	r = tr.run("", "creds", "import", "missing", filepath.Join(t.TempDir(), "none.share"))
	assert.Equal(t, exitError, r.Code)
	assert.Contains(t, r.Err, "no such file")
	r = tr.run("", "creds", "import", "../up", profile)
	assert.Equal(t, exitUsage, r.Code, r.Err)
	r = tr.run("", "creds", "import", "onlyname")
	assert.Equal(t, exitUsage, r.Code)

	r = tr.run("", "creds", "list")
	assert.Regexp(t, `(?m)^acme\s+active\s+http://127\.0\.0\.1:\d+/delta-sharing\s+never\s*$`, r.Out)
	assert.Regexp(t, `(?m)^piped\s+active\s`, r.Out)

	// show: metadata and the profile with the token redacted.
	r = tr.run("", "creds", "show", "ACME")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "name:      acme")
	assert.Contains(t, r.Out, "source:    import of "+profile)
	assert.Contains(t, r.Out, `"bearerToken": "[redacted]"`)
	assert.Contains(t, r.Out, "expires:   never")
	r = tr.run("", "creds", "show", "acme", "--output", "json")
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
	r = tr.run("", "creds", "show", "nope")
	assert.Equal(t, exitError, r.Code)
	assert.Contains(t, r.Err, "deltashare creds list")

	// export: byte for byte, 0600, not over an existing file without --overwrite.
	t.Chdir(t.TempDir())
	r = tr.run("", "creds", "export", "acme")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "wrote acme.share (mode 0600)")
	got, err := os.ReadFile("acme.share")
	require.NoError(t, err)
	assert.Equal(t, raw, got)
	assert.Equal(t, os.FileMode(0o600), fileMode(t, "acme.share"))
	r = tr.run("", "creds", "export", "acme")
	assert.Equal(t, exitError, r.Code)
	assert.Contains(t, r.Err, "already exists")
	r = tr.run("", "creds", "export", "--overwrite", "--out", "acme.share", "acme")
	require.Equal(t, exitOK, r.Code, r.Err)
	out := filepath.Join(t.TempDir(), "elsewhere.share")
	r = tr.run("", "creds", "export", "acme", "-o", out, "--quiet")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Empty(t, r.Out)
	assert.Equal(t, os.FileMode(0o600), fileMode(t, out))

	// The exported file works as a profile, and so does the stored name.
	r = tr.run("", "shares", "-p", out)
	assert.Equal(t, exitOK, r.Code, r.Err)
	r = tr.run("", "shares", "-p", "Acme")
	assert.Equal(t, exitOK, r.Code, r.Err)

	// remove.
	r = tr.run("", "creds", "remove", "ACME")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "removed credential acme")
	r = tr.run("", "creds", "remove", "acme")
	assert.Equal(t, exitError, r.Code)
	_, err = os.Stat(filepath.Join(store, "credentials", "acme.share"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	r = tr.run("", "shares", "-p", "acme")
	assert.NotEqual(t, exitOK, r.Code)

	tr.assertNoSecrets(demoToken)

	// Only an explicit --out - prints the secret, with a warning on stderr.
	r = run(t, "", "creds", "export", "--out", "-", "piped")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Equal(t, string(raw), r.Out)
	assert.Contains(t, r.Err, "warning")
	assert.NotContains(t, r.Err, demoToken)
}

func TestCredsRefuseInsecureFiles(t *testing.T) {
	store := credEnv(t)
	profile, _ := demoServer(t)
	r := run(t, "", "creds", "import", "acme", profile)
	require.Equal(t, exitOK, r.Code, r.Err)
	creds := filepath.Join(store, "credentials")

	// A profile file others can read: not used, the message has the fix.
	share := filepath.Join(creds, "acme.share")
	require.NoError(t, os.Chmod(share, 0o644))
	for _, args := range [][]string{{"tables", "-p", "acme"}, {"creds", "show", "acme"}, {"check", "-p", "acme"}, {"creds", "export", "--out", "-", "acme"}} {
		r = run(t, "", args...)
		assert.Equal(t, exitError, r.Code, "%v", args)
		assert.Contains(t, r.Err, "chmod 600 "+share, "%v", args)
		assert.Empty(t, r.Out, "%v", args)
		assert.NotContains(t, r.Err, demoToken)
	}
	require.NoError(t, os.Chmod(share, 0o600))
	r = run(t, "", "tables", "-p", "acme")
	assert.Equal(t, exitOK, r.Code, r.Err)

	// The metadata file and the directory too.
	meta := filepath.Join(creds, "acme.meta.json")
	require.NoError(t, os.Chmod(meta, 0o640))
	r = run(t, "", "creds", "list")
	assert.Equal(t, exitError, r.Code)
	assert.Contains(t, r.Err, "chmod 600 "+meta)
	require.NoError(t, os.Chmod(meta, 0o600))
	require.NoError(t, os.Chmod(creds, 0o755))
	r = run(t, "", "creds", "list")
	assert.Equal(t, exitError, r.Code)
	assert.Contains(t, r.Err, "chmod 700 "+creds)
	r = run(t, "", "tables", "-p", "acme")
	assert.NotEqual(t, exitOK, r.Code)
	assert.Contains(t, r.Err, "chmod 700 "+creds)
	require.NoError(t, os.Chmod(creds, 0o700))
	r = run(t, "", "creds", "list")
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
