package databricks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/tokenmgr/databricks/fakeworkspace"
	"github.com/deltashare/deltashare/tokenmgr/secret"
)

// cfgWithProfile is a .databrickscfg with comments, several profiles and odd spacing.
func cfgWithProfile(host, prodToken, otherToken string) string {
	return "; Databricks CLI configuration\n" +
		"[DEFAULT]\n" +
		"host  = https://default.example.invalid\n" +
		"token = " + otherToken + "\n" +
		"\n" +
		"# production workspace, rotated by deltashare\n" +
		"[prod]\n" +
		"host = " + host + "\n" +
		"token=" + prodToken + "   # keep this comment\n" +
		"cluster_id = 0123-456789-abcdef\n" +
		"\n" +
		"[staging]\n" +
		"host = https://staging.example.invalid\n" +
		"token = " + otherToken + "\n"
}

func TestRotatePATProfile(t *testing.T) {
	fw := newFake(t)
	oldID, oldTok := fw.MintToken("", "deltashare", 30*24*time.Hour)
	otherTok := "dapi-other-workspace-token"
	path := filepath.Join(os.Getenv("HOME"), ".databrickscfg")
	orig := cfgWithProfile(fw.URL(), oldTok, otherTok)
	writeFile(t, path, orig, 0o600)

	res, err := RotatePAT(context.Background(), RotateOptions{
		Profile: "prod", ConfigFile: path, Comment: "deltashare", Lifetime: 90 * 24 * time.Hour,
	})
	require.NoError(t, err)
	newTok := res.NewValue.Reveal()
	require.NotEmpty(t, newTok)
	assert.Equal(t, oldID, res.OldTokenID)
	assert.Equal(t, fw.URL(), res.Host)
	assert.Equal(t, "profile prod in "+path, res.Target)

	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, strings.Replace(orig, "token="+oldTok, "token="+newTok, 1), string(got),
		"only the prod token changed: comments, other profiles and ordering are untouched")
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	assert.False(t, fw.TokenValid(oldTok), "old token revoked")
	assert.True(t, fw.TokenValid(newTok), "new token valid")
	assert.Equal(t, []string{res.NewToken.ID}, fw.TokenIDs(""))
	assert.WithinDuration(t, time.Now().Add(90*24*time.Hour), res.NewToken.Expiry, time.Minute)

	// The SDK reads the rotated profile and works with it.
	ws, err := NewWorkspace(context.Background(), WorkspaceOptions{Profile: "prod", ConfigFile: path})
	require.NoError(t, err)
	_, err = ws.Me(context.Background())
	require.NoError(t, err)

	// The result hides the value unless asked.
	assertNoSecret(t, res, newTok, oldTok)
	assertNoSecret(t, *res, newTok, oldTok)
	res.Show = true
	assert.Contains(t, res.String(), newTok)
	b, err := json.Marshal(res)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"new_token_value":"`+newTok+`"`)
	assert.NotContains(t, fmt.Sprintf("%#v", res), newTok)
}

func TestRotatePATTokenFile(t *testing.T) {
	for _, mode := range []os.FileMode{0o600, 0o640} {
		t.Run(mode.String(), func(t *testing.T) {
			fw := newFake(t)
			oldID, oldTok := fw.MintToken("", "", 0)
			path := filepath.Join(t.TempDir(), "token")
			writeFile(t, path, oldTok+"\n", mode)

			res, err := RotatePAT(context.Background(), RotateOptions{TokenFile: path, Host: fw.URL(), Lifetime: time.Hour})
			require.NoError(t, err)
			assert.Equal(t, oldID, res.OldTokenID)
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, res.NewValue.Reveal()+"\n", string(got))
			info, err := os.Stat(path)
			require.NoError(t, err)
			assert.Equal(t, mode, info.Mode().Perm(), "mode preserved")
			assert.False(t, fw.TokenValid(oldTok))
			assert.True(t, fw.TokenValid(res.NewValue.Reveal()))
			entries, err := os.ReadDir(filepath.Dir(path))
			require.NoError(t, err)
			assert.Len(t, entries, 1, "no temporary file left behind")
		})
	}
}

func TestRotatePATFollowsSymlink(t *testing.T) {
	fw := newFake(t)
	_, oldTok := fw.MintToken("", "", 0)
	dir := t.TempDir()
	real := filepath.Join(dir, "real.cfg")
	writeFile(t, real, "[prod]\nhost = "+fw.URL()+"\ntoken = "+oldTok+"\n", 0o600)
	link := filepath.Join(dir, "link.cfg")
	require.NoError(t, os.Symlink(real, link))

	res, err := RotatePAT(context.Background(), RotateOptions{Profile: "prod", ConfigFile: link})
	require.NoError(t, err)
	fi, err := os.Lstat(link)
	require.NoError(t, err)
	assert.NotZero(t, fi.Mode()&os.ModeSymlink, "the symlink is kept")
	got, err := os.ReadFile(real)
	require.NoError(t, err)
	assert.Contains(t, string(got), "token = "+res.NewValue.Reveal()+"\n")
}

// rotationFixture is a profile holding a valid token, ready to rotate.
type rotationFixture struct {
	fw     *fakeworkspace.Workspace
	path   string
	orig   string
	oldID  string
	oldTok string
}

func newRotationFixture(t *testing.T) rotationFixture {
	fw := newFake(t)
	oldID, oldTok := fw.MintToken("", "deltashare", 0)
	path := filepath.Join(t.TempDir(), "databrickscfg")
	orig := cfgWithProfile(fw.URL(), oldTok, "dapi-other-workspace-token")
	writeFile(t, path, orig, 0o600)
	return rotationFixture{fw: fw, path: path, orig: orig, oldID: oldID, oldTok: oldTok}
}

// assertRolledBack checks the file holds the old token, the old token works and no other
// token is left.
func (f rotationFixture) assertRolledBack(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrRotationFailed)
	got, rerr := os.ReadFile(f.path)
	require.NoError(t, rerr)
	assert.Equal(t, f.orig, string(got), "old value restored in place")
	info, serr := os.Stat(f.path)
	require.NoError(t, serr)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	assert.True(t, f.fw.TokenValid(f.oldTok), "old token still valid")
	assert.Equal(t, []string{f.oldID}, f.fw.TokenIDs(""), "the new token was revoked")
	assert.Contains(t, err.Error(), "rolled back")
	assert.Contains(t, err.Error(), "was revoked")
	created := f.fw.RequestsTo(fakeworkspace.PathTokenCreate)
	require.Len(t, created, 1)
	var resp struct {
		TokenValue string `json:"token_value"`
	}
	require.NoError(t, json.Unmarshal(created[0].ResponseBody, &resp))
	assertNoSecret(t, err, f.oldTok, resp.TokenValue)
	entries, derr := os.ReadDir(filepath.Dir(f.path))
	require.NoError(t, derr)
	assert.Len(t, entries, 1, "no temporary file left behind")
}

func TestRotatePATRollback(t *testing.T) {
	tests := []struct {
		name    string
		arrange func(t *testing.T, f rotationFixture, opts *RotateOptions)
		step    string
	}{
		{"verification fails", func(t *testing.T, f rotationFixture, opts *RotateOptions) {
			opts.Verify = func(ctx context.Context, tok secret.Sensitive) error {
				require.True(t, f.fw.TokenValid(tok.Reveal()), "verify gets the new token read back from the file")
				return fmt.Errorf("pretend the new token %s cannot read the share", tok.Reveal())
			}
		}, "verifying the new token"},
		{"default verification fails", func(t *testing.T, f rotationFixture, opts *RotateOptions) {
			// The first Me call identifies the old token's user; the second, by the default
			// verification with the new token, fails.
			f.fw.InjectFault(fakeworkspace.Fault{Method: "GET", Path: fakeworkspace.PathMe, Skip: 1, Status: 403})
		}, "verifying the new token"},
		{"writing fails", func(t *testing.T, f rotationFixture, opts *RotateOptions) {
			beforeRenameHook = func(string) error { return errors.New("disk full") }
			t.Cleanup(func() { beforeRenameHook = nil })
		}, "writing the new token"},
		{"revoking the old token fails", func(t *testing.T, f rotationFixture, opts *RotateOptions) {
			f.fw.FailNext("POST", fakeworkspace.PathTokenDelete, 1, 500)
		}, "revoking the old token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newRotationFixture(t)
			opts := RotateOptions{Profile: "prod", ConfigFile: f.path, Comment: "deltashare"}
			tc.arrange(t, f, &opts)
			_, err := RotatePAT(context.Background(), opts)
			f.assertRolledBack(t, err)
			assert.Contains(t, err.Error(), tc.step)
		})
	}
}

func TestRotatePATReadOnlyDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions; TestRotatePATRollback covers write failures with a hook")
	}
	f := newRotationFixture(t)
	dir := filepath.Dir(f.path)
	require.NoError(t, os.Chmod(dir, 0o500))
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	_, err := RotatePAT(context.Background(), RotateOptions{Profile: "prod", ConfigFile: f.path})
	f.assertRolledBack(t, err)
	assert.Contains(t, err.Error(), "writing the new token")
	assert.Contains(t, err.Error(), "permission denied")
}

func TestRotatePATOldTokenDiscovery(t *testing.T) {
	t.Run("several tokens and no ID: nothing changes", func(t *testing.T) {
		f := newRotationFixture(t)
		otherID, otherTok := f.fw.MintToken("", "laptop", 0)
		_, err := RotatePAT(context.Background(), RotateOptions{Profile: "prod", ConfigFile: f.path})
		require.Error(t, err)
		assert.ErrorIs(t, err, ErrOldTokenUnknown)
		assertAdvice(t, err, "pass {RotateOptions.OldTokenID} with its ID (nothing was changed)")
		assert.Contains(t, err.Error(), "(nothing was changed):\n  ", "candidates follow the advice, one a line")
		assert.Contains(t, err.Error(), otherID, "candidates are listed")
		assert.Contains(t, err.Error(), f.oldID)
		assert.Empty(t, f.fw.RequestsTo(fakeworkspace.PathTokenCreate), "no token created")
		got, _ := os.ReadFile(f.path)
		assert.Equal(t, f.orig, string(got))
		assertNoSecret(t, err, f.oldTok, otherTok)
	})
	t.Run("several tokens with the ID: only that one is revoked", func(t *testing.T) {
		f := newRotationFixture(t)
		_, otherTok := f.fw.MintToken("", "laptop", 0)
		res, err := RotatePAT(context.Background(), RotateOptions{Profile: "prod", ConfigFile: f.path, OldTokenID: f.oldID})
		require.NoError(t, err)
		assert.Equal(t, f.oldID, res.OldTokenID)
		assert.False(t, f.fw.TokenValid(f.oldTok))
		assert.True(t, f.fw.TokenValid(otherTok), "the other machine's token is untouched")
	})
	t.Run("expired tokens do not count", func(t *testing.T) {
		f := newRotationFixture(t)
		f.fw.AddTokenSpec(fakeworkspace.TokenSpec{Comment: "old", Created: time.Now().Add(-48 * time.Hour), Lifetime: time.Hour})
		res, err := RotatePAT(context.Background(), RotateOptions{Profile: "prod", ConfigFile: f.path})
		require.NoError(t, err)
		assert.Equal(t, f.oldID, res.OldTokenID)
	})
	t.Run("wrong ID", func(t *testing.T) {
		f := newRotationFixture(t)
		_, err := RotatePAT(context.Background(), RotateOptions{Profile: "prod", ConfigFile: f.path, OldTokenID: "nope"})
		assert.ErrorIs(t, err, ErrOldTokenUnknown)
		assertAdvice(t, err, "list them with {Workspace.ListPATs} and pass the right {RotateOptions.OldTokenID}")
		assert.Empty(t, f.fw.RequestsTo(fakeworkspace.PathTokenCreate))
	})
}

// TestRotatePATReadsNoEnvironment: the config file comes from RotateOptions.ConfigFile (the
// command passes DATABRICKS_CONFIG_FILE there), never from the environment.
func TestRotatePATReadsNoEnvironment(t *testing.T) {
	f := newRotationFixture(t)
	t.Setenv("DATABRICKS_CONFIG_FILE", f.path)
	_, err := RotatePAT(context.Background(), RotateOptions{Profile: "prod"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join(os.Getenv("HOME"), ".databrickscfg"), "the default file, not the variable's")
	assert.Empty(t, f.fw.RequestsTo(fakeworkspace.PathTokenCreate))
	got, _ := os.ReadFile(f.path)
	assert.Equal(t, f.orig, string(got))
}

func TestRotatePATRefusesChangedFile(t *testing.T) {
	f := newRotationFixture(t)
	opts := RotateOptions{Profile: "prod", ConfigFile: f.path}
	changed := f.orig + "\n[late]\nhost = https://late.example.invalid\n"
	// Someone edits the file between the moment the rotation read it and the write.
	target, err := rotationTargetFor(opts)
	require.NoError(t, err)
	_, _, err = target.load()
	require.NoError(t, err)
	writeFile(t, f.path, changed, 0o600)
	err = target.write("dapi-new")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "changed while the token was being rotated")
	got, _ := os.ReadFile(f.path)
	assert.Equal(t, changed, string(got))
}

func TestRotatePATTargetErrors(t *testing.T) {
	fw := newFake(t)
	_, tok := fw.MintToken("", "", 0)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "cfg")
	writeFile(t, cfg, "[oauth]\nhost = "+fw.URL()+"\nauth_type = databricks-cli\n\n[nohost]\ntoken = "+tok+"\n", 0o600)
	shared := filepath.Join(dir, "shared")
	writeFile(t, shared, "[DEFAULT]\nhost = "+fw.URL()+"\ntoken = "+tok+"\n[p]\nhost = "+fw.URL()+"\ntoken = "+tok+"\n", 0o600)
	revoked := filepath.Join(dir, "revoked")
	writeFile(t, revoked, "dapi-revoked-token\n", 0o600)
	tests := []struct {
		name     string
		opts     RotateOptions
		kind     error
		contains string
		advice   string // what the error advises, options named {LikeThis} ("": none)
	}{
		{"no target", RotateOptions{}, nil, "say where the token lives", "{RotateOptions.Profile} NAME (in ~/.databrickscfg) or {RotateOptions.TokenFile} PATH"},
		{"both targets", RotateOptions{Profile: "p", TokenFile: "f", Host: "h"}, nil, "not both", ""},
		{"token file without host", RotateOptions{TokenFile: revoked}, ErrNoWorkspaceHost, "does not record the workspace", "pass {RotateOptions.Host}"},
		{"profile without a token", RotateOptions{Profile: "oauth", ConfigFile: cfg}, nil, "only personal access tokens", ""},
		{"missing profile", RotateOptions{Profile: "nope", ConfigFile: cfg}, nil, "has no profile nope", "check {RotateOptions.Profile}"},
		{"profile without a host", RotateOptions{Profile: "nohost", ConfigFile: cfg}, ErrNoWorkspaceHost, "host of profile nohost", "pass {RotateOptions.Host}"},
		{"token shared with another profile", RotateOptions{Profile: "p", ConfigFile: shared}, nil, "profile(s) DEFAULT in the same file", ""},
		{"stored token rejected", RotateOptions{TokenFile: revoked, Host: fw.URL()}, ErrWorkspaceAuth, "by hand", ""},
		{"missing file", RotateOptions{TokenFile: filepath.Join(dir, "none"), Host: fw.URL()}, nil, "no such file", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := RotatePAT(context.Background(), tc.opts)
			require.Error(t, err)
			if tc.kind != nil {
				assert.ErrorIs(t, err, tc.kind)
			}
			assert.Contains(t, err.Error(), tc.contains)
			if tc.advice != "" {
				assertAdvice(t, err, tc.advice)
			}
			assertNoSecret(t, err, tok, "dapi-revoked-token")
		})
	}
	assert.Empty(t, fw.RequestsTo(fakeworkspace.PathTokenCreate))
}
