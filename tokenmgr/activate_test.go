package tokenmgr

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/internal/secrettest"
	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/tokenmgr/databricks/fakeworkspace"
)

// activationFixture is a fake workspace with one recipient and an empty store.
type activationFixture struct {
	fw    *fakeworkspace.Workspace
	store *Store
	link  string
	code  string
	host  string
}

func newActivationFixture(t *testing.T) activationFixture {
	t.Helper()
	fw := fakeworkspace.NewIsolated(t)
	link := fw.AddRecipient("acme")
	host, code, err := ParseActivationLink(link)
	require.NoError(t, err)
	s, err := OpenStore(filepath.Join(t.TempDir(), "cfg"))
	require.NoError(t, err)
	fw.ResetRequests()
	return activationFixture{fw: fw, store: s, link: link, code: code, host: host}
}

func (f activationFixture) downloads() int {
	return len(f.fw.RequestsTo(fakeworkspace.PathActivationRetrieve))
}

// assertRecoverable checks that a credential is kept in a private recovery file that the
// error names, with the import command.
func assertRecoverable(t *testing.T, f activationFixture, res *ActivateResult, err error, name, wantDir string) {
	t.Helper()
	token := f.fw.RecipientBearerToken("acme")
	require.ErrorIs(t, err, ErrCredentialNotSaved)
	require.NotNil(t, res)
	require.NotEmpty(t, res.RecoveryPath)
	assert.Equal(t, wantDir, filepath.Dir(res.RecoveryPath))
	assert.Contains(t, err.Error(), res.RecoveryPath)
	secrettest.AssertAdvice(t, err, "fix the problem, then run: {tokenmgr.Store.Import} "+name+" "+res.RecoveryPath)
	secrettest.AssertNoSecret(t, err, token, f.code, f.link)
	secrettest.AssertNoSecret(t, res, token, f.code)

	info, serr := os.Stat(res.RecoveryPath)
	require.NoError(t, serr)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	p, lerr := sharing.LoadProfile(res.RecoveryPath, nil)
	require.NoError(t, lerr)
	assert.Equal(t, token, p.BearerToken)

	// The name is free again and the import command works.
	require.NoError(t, f.store.Import(name, res.RecoveryPath))
	c, gerr := f.store.Get(name)
	require.NoError(t, gerr)
	assert.Equal(t, token, c.Profile.BearerToken)
}

func TestActivateStoresCredential(t *testing.T) {
	f := newActivationFixture(t)
	res, err := Activate(context.Background(), ActivateOptions{Link: Sensitive(f.link), Name: "Acme", Store: f.store})
	require.NoError(t, err)
	token := f.fw.RecipientBearerToken("acme")
	assert.Equal(t, "Acme", res.Name)
	assert.Equal(t, StateActive, res.Meta.State)
	assert.Equal(t, SourceActivation, res.Meta.Source.Kind)
	assert.Equal(t, f.host, res.Meta.Source.Host)
	assert.Equal(t, f.fw.SharingEndpoint(), res.Meta.Endpoint)
	assert.False(t, res.Meta.Expiry.IsZero())
	assert.Equal(t, filepath.Join(f.store.Dir(), "credentials", "acme.share"), res.StoredPath)
	secrettest.AssertNoSecret(t, res, token, f.code)
	secrettest.AssertNoSecret(t, *res, token, f.code)

	c, err := f.store.Get("ACME")
	require.NoError(t, err)
	assert.Equal(t, token, c.Profile.BearerToken)
	assert.Equal(t, res.Credential.Profile(), c.Raw, "stored exactly as received")
	_, err = os.Stat(f.store.linkPath("acme"))
	assert.ErrorIs(t, err, os.ErrNotExist, "the pending link is removed once stored")
	entries, _ := os.ReadDir(f.store.credDir())
	for _, e := range entries {
		assert.NotContains(t, e.Name(), ".tmp-")
	}
	assert.Equal(t, 1, f.downloads())

	// The same link again: used up.
	_, err = Activate(context.Background(), ActivateOptions{Link: Sensitive(f.link), Name: "acme2", Store: f.store})
	require.ErrorIs(t, err, ErrActivationUsed)
	assert.Contains(t, err.Error(), "ask the data provider to issue a new link")
	secrettest.AssertNoSecret(t, err, f.code, f.link, token)
	ex, err := f.store.Exists("acme2")
	require.NoError(t, err)
	assert.False(t, ex, "no pending entry is left for a used link")
}

func TestActivateChecksNameBeforeDownload(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(t *testing.T, f activationFixture) ActivateOptions
		target error
	}{
		{"same name", func(t *testing.T, f activationFixture) ActivateOptions {
			require.NoError(t, f.store.Put("acme", testProfileJSON("https://x.example.com/ds", storeTestToken, ""), Meta{}, false))
			return ActivateOptions{Link: Sensitive(f.link), Name: "acme", Store: f.store}
		}, ErrCredentialExists},
		{"other letter case", func(t *testing.T, f activationFixture) ActivateOptions {
			require.NoError(t, f.store.Put("acme", testProfileJSON("https://x.example.com/ds", storeTestToken, ""), Meta{}, false))
			return ActivateOptions{Link: Sensitive(f.link), Name: "ACME", Store: f.store}
		}, ErrCredentialExists},
		{"default name taken", func(t *testing.T, f activationFixture) ActivateOptions {
			require.NoError(t, f.store.Put(DefaultCredentialName(f.host), testProfileJSON("https://x.example.com/ds", storeTestToken, ""), Meta{}, false))
			return ActivateOptions{Link: Sensitive(f.link), Store: f.store}
		}, ErrCredentialExists},
		{"output file exists", func(t *testing.T, f activationFixture) ActivateOptions {
			out := filepath.Join(t.TempDir(), "config.share")
			require.NoError(t, os.WriteFile(out, []byte("mine"), 0o600))
			return ActivateOptions{Link: Sensitive(f.link), Out: out}
		}, ErrCredentialExists},
		{"invalid name", func(t *testing.T, f activationFixture) ActivateOptions {
			return ActivateOptions{Link: Sensitive(f.link), Name: "../evil", Store: f.store}
		}, ErrInvalidCredentialName},
		{"pending activation of another link", func(t *testing.T, f activationFixture) ActivateOptions {
			require.NoError(t, f.store.putPending("acme", Sensitive(f.host+"/delta_sharing/retrieve_config.html?other0123"), Meta{}))
			return ActivateOptions{Link: Sensitive(f.link), Name: "acme", Store: f.store}
		}, ErrCredentialExists},
		{"nowhere to save", func(t *testing.T, f activationFixture) ActivateOptions {
			return ActivateOptions{Link: Sensitive(f.link)}
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newActivationFixture(t)
			opts := tc.setup(t, f)
			_, err := Activate(context.Background(), opts)
			require.Error(t, err)
			if tc.target != nil {
				assert.ErrorIs(t, err, tc.target)
			}
			if errors.Is(err, ErrCredentialExists) {
				if !strings.Contains(err.Error(), "another output file") {
					secrettest.AssertAdvice(t, err, "choose another name with {Name}")
				}
			}
			assert.Empty(t, f.fw.Requests(), "nothing was downloaded: the link is still good")
			secrettest.AssertNoSecret(t, err, f.code, f.link)
			// The link still works afterwards.
			res, err := Activate(context.Background(), ActivateOptions{Link: Sensitive(f.link), Name: "fresh", Store: f.store})
			require.NoError(t, err)
			assert.Equal(t, "fresh", res.Name)
		})
	}
}

func TestActivateDefaultName(t *testing.T) {
	f := newActivationFixture(t)
	res, err := Activate(context.Background(), ActivateOptions{Code: Sensitive(f.code), Host: f.host, Store: f.store})
	require.NoError(t, err)
	assert.Equal(t, "127-0-0-1", res.Name)
	_, err = f.store.Get("127-0-0-1")
	require.NoError(t, err)

	tests := map[string]string{
		"https://dbc-1234abcd-5678.cloud.databricks.com":  "dbc-1234abcd-5678",
		"https://ADB-123.7.azuredatabricks.net:443":       "adb-123",
		"http://[::1]:8080":                               "1",
		"https://localhost":                               "localhost",
		"https://" + strings.Repeat("x", 80) + ".example": strings.Repeat("x", 64),
		"https://--.example.com":                          "deltashare",
	}
	for host, want := range tests {
		assert.Equal(t, want, DefaultCredentialName(host), host)
		assert.NoError(t, ValidateCredentialName(DefaultCredentialName(host)), host)
	}
}

func TestActivateStoreFailuresAreRecoverable(t *testing.T) {
	for _, step := range []string{"create", "write", "fsync", "rename", "syncdir"} {
		t.Run(step, func(t *testing.T) {
			f := newActivationFixture(t)
			fault := func(st, path string) error {
				if st == step && strings.HasSuffix(path, ".share") && filepath.Dir(path) == f.store.credDir() {
					return fmt.Errorf("injected %s failure", st)
				}
				return nil
			}
			res, err := Activate(context.Background(), ActivateOptions{Link: Sensitive(f.link), Name: "acme", Store: f.store, fault: fault})
			assertRecoverable(t, f, res, err, "acme", filepath.Join(f.store.Dir(), "recovery"))
			assert.Contains(t, err.Error(), "injected "+step+" failure")
			info, serr := os.Stat(filepath.Join(f.store.Dir(), "recovery"))
			require.NoError(t, serr)
			assert.Equal(t, os.FileMode(0o700), info.Mode().Perm())
		})
	}
}

func TestActivateRecoveryFallsBackToTempDir(t *testing.T) {
	f := newActivationFixture(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	fault := func(st, path string) error {
		if (st == "rename" && path == f.store.profilePath("acme")) || (st == "recovery" && strings.HasPrefix(path, f.store.Dir())) {
			return errors.New("disk full")
		}
		return nil
	}
	res, err := Activate(context.Background(), ActivateOptions{Link: Sensitive(f.link), Name: "acme", Store: f.store, fault: fault})
	assertRecoverable(t, f, res, err, "acme", tmp)
	assert.True(t, strings.HasPrefix(filepath.Base(res.RecoveryPath), "deltashare-recovery-acme-"), res.RecoveryPath)
}

func TestActivateLastResortReturnsCredential(t *testing.T) {
	f := newActivationFixture(t)
	fault := func(st, path string) error {
		if (st == "write" && strings.HasSuffix(path, ".share")) || st == "recovery" {
			return errors.New("read-only file system")
		}
		return nil
	}
	res, err := Activate(context.Background(), ActivateOptions{Link: Sensitive(f.link), Name: "acme", Store: f.store, fault: fault})
	require.ErrorIs(t, err, ErrCredentialNotSaved)
	require.NotNil(t, res)
	assert.Empty(t, res.RecoveryPath)
	require.NotNil(t, res.Credential)
	p, perr := sharing.ParseProfile(res.Credential.Profile())
	require.NoError(t, perr)
	assert.Equal(t, f.fw.RecipientBearerToken("acme"), p.BearerToken)
	secrettest.AssertAdvice(t, err, "the credential is returned to the caller only ({ActivateResult.Credential}): save it to a file, then run: {tokenmgr.Store.Import} acme FILE")
	secrettest.AssertNoSecret(t, err, f.fw.RecipientBearerToken("acme"), f.code)
}

func TestActivateOutFile(t *testing.T) {
	f := newActivationFixture(t)
	out := filepath.Join(t.TempDir(), "acme.share")
	res, err := Activate(context.Background(), ActivateOptions{Link: Sensitive(f.link), Out: out})
	require.NoError(t, err)
	assert.Equal(t, out, res.OutPath)
	assert.Empty(t, res.StoredPath)
	info, err := os.Stat(out)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	p, err := sharing.LoadProfile(out, nil)
	require.NoError(t, err)
	assert.Equal(t, f.fw.RecipientBearerToken("acme"), p.BearerToken)
}

func TestActivateOutAndStoreOneFails(t *testing.T) {
	f := newActivationFixture(t)
	out := filepath.Join(t.TempDir(), "acme.share")
	fault := func(st, path string) error {
		if st == "fsync" && filepath.Dir(path) == f.store.credDir() && strings.HasSuffix(path, ".share") {
			return errors.New("I/O error")
		}
		return nil
	}
	res, err := Activate(context.Background(), ActivateOptions{Link: Sensitive(f.link), Name: "acme", Out: out, Store: f.store, fault: fault})
	require.ErrorIs(t, err, ErrCredentialNotSaved)
	assert.Equal(t, out, res.OutPath)
	assert.Empty(t, res.RecoveryPath, "the output file already holds the credential")
	secrettest.AssertAdvice(t, err, "to store it, run: {tokenmgr.Store.Import} acme "+out)
	require.NoError(t, f.store.Import("acme", out))
}

func TestActivateTransientFailureKeepsLink(t *testing.T) {
	f := newActivationFixture(t)
	f.fw.InjectFault(fakeworkspace.Fault{Path: fakeworkspace.PathActivationRetrieve + "*", Status: 500})
	_, err := Activate(context.Background(), ActivateOptions{Link: Sensitive(f.link), Name: "acme", Store: f.store})
	require.Error(t, err)
	secrettest.AssertAdvice(t, err, "run {tokenmgr.Activate} {Name} acme to try again (or {tokenmgr.Store.Remove} acme to forget it)")
	secrettest.AssertNoSecret(t, err, f.code, f.link)

	m, err := f.store.Stat("acme")
	require.NoError(t, err)
	assert.Equal(t, StatePending, m.State)
	assert.Equal(t, f.host, m.Source.Host)
	secrettest.AssertNoSecret(t, m, f.code)
	info, err := os.Stat(f.store.linkPath("acme"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	list, err := f.store.List()
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, StatePending, list[0].State)
	_, err = f.store.Get("acme")
	assert.ErrorIs(t, err, ErrCredentialPending)
	_, err = f.store.ResolveProfile("acme", sharing.LoadProfileOptions{})
	assert.ErrorIs(t, err, ErrCredentialPending)
	assert.ErrorIs(t, f.store.Put("acme", testProfileJSON("https://x.example.com/ds", storeTestToken, ""), Meta{}, false), ErrCredentialExists)

	// Resume by name only.
	res, err := Activate(context.Background(), ActivateOptions{Name: "ACME", Store: f.store})
	require.NoError(t, err)
	assert.Equal(t, "acme", res.Name)
	c, err := f.store.Get("acme")
	require.NoError(t, err)
	assert.Equal(t, StateActive, c.State)
	assert.Equal(t, f.fw.RecipientBearerToken("acme"), c.Profile.BearerToken)
	_, err = os.Stat(f.store.linkPath("acme"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// TestActivateDiskFullLeavesStoreAsBefore: whichever store write runs out of space (the
// profile's or the metadata's, at any step), the store is left as before the activation: no
// pending entry, no stray file; the credential is in the recovery file and the printed import
// command works as printed.
func TestActivateDiskFullLeavesStoreAsBefore(t *testing.T) {
	for _, file := range []string{".share", ".meta.json"} {
		for _, step := range []string{"create", "write", "fsync", "rename"} {
			t.Run(file+"/"+step, func(t *testing.T) {
				f := newActivationFixture(t)
				metaWrites := 0
				fault := func(st, path string) error {
					if filepath.Dir(path) != f.store.credDir() || !strings.Contains(filepath.Base(path), "acme"+file) {
						return nil
					}
					if file == ".meta.json" {
						if st == "create" {
							metaWrites++
						}
						if metaWrites < 2 {
							return nil // the pending entry is recorded; the completing write fails
						}
					}
					if st == step {
						return syscall.ENOSPC
					}
					return nil
				}
				res, err := Activate(context.Background(), ActivateOptions{Link: Sensitive(f.link), Name: "acme", Store: f.store, fault: fault})
				require.ErrorIs(t, err, ErrCredentialNotSaved)
				assert.Contains(t, err.Error(), "no space left on device")

				_, serr := f.store.Stat("acme")
				assert.ErrorIs(t, serr, ErrCredentialNotFound, "no pending or half-stored entry is left")
				entries, _ := os.ReadDir(f.store.credDir())
				assert.Empty(t, entries, "no stray file in the store")
				assertRecoverable(t, f, res, err, "acme", filepath.Join(f.store.Dir(), "recovery"))
			})
		}
	}
}
