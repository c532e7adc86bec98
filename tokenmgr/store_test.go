package tokenmgr

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deltashare/deltashare/internal/secrettest"
	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/protocol"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const storeTestToken = "store-test-bearer-token-0123456789"

func testProfileJSON(endpoint, token, expiry string) []byte {
	s := `{"shareCredentialsVersion":1,"endpoint":"` + endpoint + `","bearerToken":"` + token + `"`
	if expiry != "" {
		s += `,"expirationTime":"` + expiry + `"`
	}
	return []byte(s + ",\"futureField\": [1, 2]}\n")
}

func newTestStore(t *testing.T) *Store {
	t.Helper()
	s, err := OpenStore(filepath.Join(t.TempDir(), "cfg"))
	require.NoError(t, err)
	s.Now = func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }
	return s
}

func skipOnWindows(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX file modes")
	}
}

func TestDefaultStoreDir(t *testing.T) {
	// The library reads no variable of its own: DELTASHARE_CONFIG_DIR is the command's.
	t.Setenv("DELTASHARE_CONFIG_DIR", "/some/where")
	t.Setenv("XDG_CONFIG_HOME", "/xdg")
	t.Setenv("HOME", "/home/u")
	d, err := DefaultStoreDir()
	require.NoError(t, err)
	base, _ := os.UserConfigDir()
	assert.Equal(t, filepath.Join(base, "deltashare"), d)

	if runtime.GOOS == "linux" {
		t.Setenv("XDG_CONFIG_HOME", "")
		t.Setenv("HOME", "")
		_, err = DefaultStoreDir()
		var se *StoreError
		require.ErrorAs(t, err, &se)
		assert.Contains(t, err.Error(), "cannot find the user configuration directory")
		secrettest.AssertAdvice(t, err, "set {StoreDir} to a private directory")
	}
}

func TestStoreRoundTripAndModes(t *testing.T) {
	skipOnWindows(t)
	s := newTestStore(t)
	raw := testProfileJSON("https://sharing.example.com/delta-sharing/", storeTestToken, "2030-03-01T00:00:00Z")
	require.NoError(t, s.Put("Acme-Sales", raw, Meta{Source: Source{Kind: SourceActivation, Host: "https://dbc-1.cloud.databricks.com"}}, false))

	c, err := s.Get("acme-sales")
	require.NoError(t, err)
	assert.Equal(t, raw, c.Raw, "kept byte for byte")
	assert.Equal(t, "Acme-Sales", c.Name, "display name as given")
	assert.Equal(t, storeTestToken, c.Profile.BearerToken)
	assert.Equal(t, "https://sharing.example.com/delta-sharing", c.Endpoint)
	assert.Equal(t, StateActive, c.State)
	assert.Equal(t, SourceActivation, c.Source.Kind)
	assert.Equal(t, "https://dbc-1.cloud.databricks.com", c.Source.Host)
	assert.Equal(t, time.Date(2030, 3, 1, 0, 0, 0, 0, time.UTC), c.Expiry)
	assert.Equal(t, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), c.Created)
	assert.Equal(t, filepath.Join(s.Dir(), "credentials", "acme-sales.share"), c.Path)
	secrettest.AssertNoSecret(t, c, storeTestToken)
	secrettest.AssertNoSecret(t, *c, storeTestToken)

	for _, p := range []string{filepath.Join(s.Dir(), "credentials", "acme-sales.share"), filepath.Join(s.Dir(), "credentials", "acme-sales.meta.json")} {
		info, err := os.Stat(p)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), p)
	}
	for _, d := range []string{s.Dir(), filepath.Join(s.Dir(), "credentials")} {
		info, err := os.Stat(d)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), info.Mode().Perm(), d)
	}
	metaBytes, err := os.ReadFile(filepath.Join(s.Dir(), "credentials", "acme-sales.meta.json"))
	require.NoError(t, err)
	assert.NotContains(t, string(metaBytes), storeTestToken)
	var onDisk map[string]any
	require.NoError(t, json.Unmarshal(metaBytes, &onDisk))
	assert.Equal(t, "active", onDisk["state"])
	entries, _ := os.ReadDir(filepath.Join(s.Dir(), "credentials"))
	for _, e := range entries {
		assert.False(t, strings.Contains(e.Name(), ".tmp-"), "no temporary file left: %s", e.Name())
	}

	// Expired is derived when read.
	s.Now = func() time.Time { return time.Date(2030, 4, 1, 0, 0, 0, 0, time.UTC) }
	m, err := s.Stat("ACME-SALES")
	require.NoError(t, err)
	assert.Equal(t, StateExpired, m.State)

	list, err := s.List()
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "Acme-Sales", list[0].Name)
	assert.Equal(t, StateExpired, list[0].State)

	require.NoError(t, s.Remove("aCmE-sAlEs"))
	_, err = s.Get("acme-sales")
	assert.ErrorIs(t, err, ErrCredentialNotFound)
	assert.ErrorIs(t, s.Remove("acme-sales"), ErrCredentialNotFound)
	list, err = s.List()
	require.NoError(t, err)
	assert.Empty(t, list)
}

func TestStoreNames(t *testing.T) {
	s := newTestStore(t)
	raw := testProfileJSON("https://x.example.com/ds", storeTestToken, "")
	for _, bad := range []string{"", ".hidden", "-flag", "a/b", `a\b`, "a b", "ä", strings.Repeat("a", 65), "..", "a:b"} {
		err := s.Put(bad, raw, Meta{}, false)
		assert.ErrorIs(t, err, ErrInvalidCredentialName, "%q", bad)
		_, err = s.Get(bad)
		assert.ErrorIs(t, err, ErrInvalidCredentialName, "%q", bad)
	}
	for _, good := range []string{"a", "A.b_c-9", strings.Repeat("z", 64)} {
		assert.NoError(t, s.Put(good, raw, Meta{}, false), good)
	}
}

func TestStorePutNeverOverwrites(t *testing.T) {
	s := newTestStore(t)
	first := testProfileJSON("https://one.example.com/ds", "token-one-abcdef", "")
	second := testProfileJSON("https://two.example.com/ds", "token-two-abcdef", "")
	require.NoError(t, s.Put("prod", first, Meta{}, false))
	for _, name := range []string{"prod", "PROD", "Prod"} {
		err := s.Put(name, second, Meta{}, false)
		require.ErrorIs(t, err, ErrCredentialExists, name)
		secrettest.AssertAdvice(t, err, "choose another name, pass {Overwrite} to replace it, or remove it first ({tokenmgr.Store.Remove} ")
		secrettest.AssertNoSecret(t, err, "token-one-abcdef", "token-two-abcdef")
	}
	c, err := s.Get("prod")
	require.NoError(t, err)
	assert.Equal(t, first, c.Raw, "untouched")

	// Explicit overwrite (rotation) replaces it.
	require.NoError(t, s.Put("PROD", second, Meta{Source: Source{Kind: SourceRotation}}, true))
	c, err = s.Get("prod")
	require.NoError(t, err)
	assert.Equal(t, second, c.Raw)
	assert.Equal(t, SourceRotation, c.Source.Kind)
	assert.Equal(t, "PROD", c.Name)

	// Invalid profiles are refused.
	err = s.Put("bad", []byte(`{"shareCredentialsVersion":1}`), Meta{}, false)
	assert.ErrorIs(t, err, protocol.ErrInvalidProfile)
}

func TestStoreRefusesInsecureModes(t *testing.T) {
	skipOnWindows(t)
	if os.Geteuid() == 0 {
		t.Log("running as root: modes are still checked")
	}
	tests := []struct {
		name    string
		target  func(s *Store) string
		mode    os.FileMode
		wantFix string
	}{
		{"world-readable profile", func(s *Store) string { return s.profilePath("prod") }, 0o644, "chmod 600 "},
		{"group-readable profile", func(s *Store) string { return s.profilePath("prod") }, 0o640, "chmod 600 "},
		{"group-writable metadata", func(s *Store) string { return s.metaPath("prod") }, 0o620, "chmod 600 "},
		{"world-readable directory", func(s *Store) string { return s.credDir() }, 0o755, "chmod 700 "},
		{"world-writable store directory", func(s *Store) string { return s.Dir() }, 0o777, "chmod 700 "},
		{"group-writable store directory", func(s *Store) string { return s.Dir() }, 0o770, "chmod 700 "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestStore(t)
			require.NoError(t, s.Put("prod", testProfileJSON("https://x.example.com/ds", storeTestToken, ""), Meta{}, false))
			target := tc.target(s)
			require.NoError(t, os.Chmod(target, tc.mode))

			_, err := s.Get("prod")
			require.ErrorIs(t, err, ErrInsecurePermissions)
			assert.Contains(t, err.Error(), tc.wantFix+target)
			secrettest.AssertNoSecret(t, err, storeTestToken)
			_, err = s.ResolveProfile("prod", sharing.LoadProfileOptions{})
			assert.ErrorIs(t, err, ErrInsecurePermissions)
			if tc.target(s) == s.credDir() || tc.target(s) == s.Dir() {
				_, err = s.List()
				assert.ErrorIs(t, err, ErrInsecurePermissions)
				_, err = OpenStore(s.Dir())
				assert.ErrorIs(t, err, ErrInsecurePermissions)
			}

			require.NoError(t, os.Chmod(target, tc.mode&0o700))
			_, err = s.Get("prod")
			assert.NoError(t, err, "fixed with the suggested chmod")
		})
	}
}

func TestStoreAllowsReadableStoreDirectory(t *testing.T) {
	skipOnWindows(t)
	s := newTestStore(t)
	require.NoError(t, s.Put("prod", testProfileJSON("https://x.example.com/ds", storeTestToken, ""), Meta{}, false))
	require.NoError(t, os.Chmod(s.Dir(), 0o755))
	_, err := OpenStore(s.Dir())
	require.NoError(t, err, "others may read the top directory: the credentials directory below is private")
	_, err = s.Get("prod")
	require.NoError(t, err)
}

func TestStoreImportExport(t *testing.T) {
	skipOnWindows(t)
	s := newTestStore(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "config.share")
	raw := testProfileJSON("https://x.example.com/ds", storeTestToken, "2031-01-01T00:00:00Z")
	require.NoError(t, os.WriteFile(src, raw, 0o644))

	require.NoError(t, s.Import("Imported", src))
	c, err := s.Get("imported")
	require.NoError(t, err)
	assert.Equal(t, raw, c.Raw)
	assert.Equal(t, SourceImport, c.Source.Kind)
	assert.Equal(t, src, c.Source.File)
	info, err := os.Stat(c.Path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the store's copy is private whatever the source mode")

	assert.ErrorIs(t, s.Import("IMPORTED", src), ErrCredentialExists)
	bad := filepath.Join(dir, "bad.share")
	require.NoError(t, os.WriteFile(bad, []byte("not json"), 0o600))
	assert.ErrorIs(t, s.Import("bad", bad), protocol.ErrInvalidProfile)
	err = s.Import("missing", filepath.Join(dir, "nope.share"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nope.share")

	out := filepath.Join(dir, "out", "exported.share")
	require.NoError(t, os.MkdirAll(filepath.Dir(out), 0o755))
	require.NoError(t, s.Export("imported", out, false))
	got, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, raw, got)
	info, err = os.Stat(out)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	require.NoError(t, os.WriteFile(out, []byte("keep me"), 0o600))
	err = s.Export("imported", out, false)
	require.ErrorIs(t, err, ErrCredentialExists)
	secrettest.AssertAdvice(t, err, "choose another file, or pass {Overwrite} to replace it")
	got, _ = os.ReadFile(out)
	assert.Equal(t, "keep me", string(got))
	require.NoError(t, s.Export("imported", out, true))
	got, _ = os.ReadFile(out)
	assert.Equal(t, raw, got)

	assert.ErrorIs(t, s.Export("nothere", filepath.Join(dir, "x.share"), false), ErrCredentialNotFound)
}

func TestStoreProfileWithoutMetadata(t *testing.T) {
	s := newTestStore(t)
	raw := testProfileJSON("https://x.example.com/ds", storeTestToken, "")
	require.NoError(t, os.WriteFile(filepath.Join(s.credDir(), "manual.share"), raw, 0o600))
	list, err := s.List()
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "manual", list[0].Name)
	assert.Equal(t, SourceUnknown, list[0].Source.Kind)
	assert.Equal(t, "https://x.example.com/ds", list[0].Endpoint)
	c, err := s.Get("Manual")
	require.NoError(t, err)
	assert.Equal(t, raw, c.Raw)
}

func TestResolveProfile(t *testing.T) {
	s := newTestStore(t)
	stored := testProfileJSON("https://stored.example.com/ds", "stored-token-abcdef", "")
	require.NoError(t, s.Put("prod", stored, Meta{}, false))

	dir := t.TempDir()
	filePath := filepath.Join(dir, "file.share")
	require.NoError(t, os.WriteFile(filePath, testProfileJSON("https://file.example.com/ds", "file-token-abcdef", ""), 0o600))
	env := map[string]string{"DS_TEST_PROFILE": string(testProfileJSON("https://env.example.com/ds", "env-token-abcdef", ""))}
	lookup := func(name string) (string, bool) { v, ok := env[name]; return v, ok }

	// A file named like a stored credential, in the working directory, wins over the store.
	t.Chdir(dir)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "shadow"), testProfileJSON("https://shadow.example.com/ds", "shadow-token-abc", ""), 0o600))
	require.NoError(t, s.Put("shadow", stored, Meta{}, false))

	tests := []struct {
		ref      string
		stdin    string
		endpoint string
	}{
		{"prod", "", "https://stored.example.com/ds"},
		{"PROD", "", "https://stored.example.com/ds"},
		{filePath, "", "https://file.example.com/ds"},
		{"shadow", "", "https://shadow.example.com/ds"},
		{"env:DS_TEST_PROFILE", "", "https://env.example.com/ds"},
		{"-", string(testProfileJSON("https://stdin.example.com/ds", "stdin-token-abcdef", "")), "https://stdin.example.com/ds"},
		{string(testProfileJSON("https://inline.example.com/ds", "inline-token-abcd", "")), "", "https://inline.example.com/ds"},
	}
	for _, tc := range tests {
		p, err := s.ResolveProfile(tc.ref, sharing.LoadProfileOptions{Stdin: strings.NewReader(tc.stdin), LookupEnv: lookup})
		require.NoError(t, err, tc.ref)
		assert.Equal(t, tc.endpoint, p.Endpoint, tc.ref)
	}

	_, err := s.ResolveProfile("nosuch", sharing.LoadProfileOptions{})
	require.ErrorIs(t, err, ErrCredentialNotFound)
	assert.ErrorIs(t, err, protocol.ErrInvalidProfile)
	secrettest.AssertAdvice(t, err, "give a profile file path, or a name from {tokenmgr.Store.List}")
	_, err = s.ResolveProfile(filepath.Join(dir, "missing.share"), sharing.LoadProfileOptions{})
	assert.ErrorIs(t, err, protocol.ErrInvalidProfile)

	// The environment comes in through LookupEnv only.
	t.Setenv("DS_TEST_PROFILE", env["DS_TEST_PROFILE"])
	_, err = s.ResolveProfile("env:DS_TEST_PROFILE", sharing.LoadProfileOptions{})
	assert.ErrorIs(t, err, protocol.ErrInvalidProfile, "no LookupEnv: the process environment is not read")

	var nilStore *Store
	p, err := nilStore.ResolveProfile(filePath, sharing.LoadProfileOptions{})
	require.NoError(t, err)
	assert.Equal(t, "https://file.example.com/ds", p.Endpoint)
}

func TestStoreWriteFaultsLeaveNothingBehind(t *testing.T) {
	for _, step := range []string{"create", "write", "fsync", "rename"} {
		t.Run(step, func(t *testing.T) {
			s := newTestStore(t)
			s.fault = func(st, path string) error {
				if st == step {
					return os.ErrPermission
				}
				return nil
			}
			err := s.Put("prod", testProfileJSON("https://x.example.com/ds", storeTestToken, ""), Meta{}, false)
			require.Error(t, err)
			secrettest.AssertNoSecret(t, err, storeTestToken)
			entries, _ := os.ReadDir(s.credDir())
			assert.Empty(t, entries, "no temporary or partial file left")
		})
	}
}

// TestStoreReplaceDiskFullKeepsOldCredential: replacing a credential when the disk fills up at
// any step of either file leaves the old credential whole (profile and metadata).
func TestStoreReplaceDiskFullKeepsOldCredential(t *testing.T) {
	for _, file := range []string{".share", ".meta.json"} {
		for _, step := range []string{"create", "write", "fsync", "rename"} {
			t.Run(file+"/"+step, func(t *testing.T) {
				s := newTestStore(t)
				require.NoError(t, s.Put("prod", testProfileJSON("https://old.example.com/ds", storeTestToken, ""), Meta{}, false))
				s.fault = func(st, path string) error {
					if st == step && strings.Contains(filepath.Base(path), "prod"+file) {
						return syscall.ENOSPC
					}
					return nil
				}
				err := s.Put("prod", testProfileJSON("https://new.example.com/ds", "new-token-0123456789", ""), Meta{}, true)
				require.Error(t, err)
				s.fault = nil
				c, err := s.Get("prod")
				require.NoError(t, err)
				assert.Equal(t, "https://old.example.com/ds", c.Endpoint, "old metadata")
				assert.Equal(t, "https://old.example.com/ds", c.Profile.Endpoint, "old profile")
				assert.Equal(t, storeTestToken, c.Profile.BearerToken)
				entries, _ := os.ReadDir(s.credDir())
				assert.Len(t, entries, 2, "profile and metadata only")
			})
		}
	}
}

// TestStoreListShowsInsecureProfile: a profile file other users can read is listed as
// insecure (with the chmod that fixes it), not active, since reading it is refused.
func TestStoreListShowsInsecureProfile(t *testing.T) {
	skipOnWindows(t)
	s := newTestStore(t)
	require.NoError(t, s.Put("prod", testProfileJSON("https://x.example.com/ds", storeTestToken, ""), Meta{}, false))
	require.NoError(t, os.Chmod(s.profilePath("prod"), 0o644))
	metas, err := s.List()
	require.NoError(t, err)
	require.Len(t, metas, 1)
	assert.Equal(t, StateInsecure, metas[0].State)
	assert.Contains(t, metas[0].Problem, "chmod 600 "+s.profilePath("prod"))
	_, err = s.Get("prod")
	assert.ErrorIs(t, err, ErrInsecurePermissions, "the state matches what reading does")

	require.NoError(t, os.Chmod(s.profilePath("prod"), 0o600))
	m, err := s.Stat("prod")
	require.NoError(t, err)
	assert.Equal(t, StateActive, m.State)
	assert.Empty(t, m.Problem)
	raw, err := os.ReadFile(s.metaPath("prod"))
	require.NoError(t, err)
	assert.NotContains(t, string(raw), "problem", "derived, never stored")
}

func TestStoreDefaultCredential(t *testing.T) {
	s := newTestStore(t)
	_, err := s.ResolveProfile("", sharing.LoadProfileOptions{})
	require.ErrorIs(t, err, ErrNoCredential)
	secrettest.AssertAdvice(t, err, "give one ({Profile}), or set a default ({tokenmgr.Store.SetDefault} NAME)")

	def, err := s.Default()
	require.NoError(t, err)
	assert.Empty(t, def)
	assert.ErrorIs(t, s.SetDefault("nope"), ErrCredentialNotFound)

	require.NoError(t, s.Put("Prod", testProfileJSON("https://x.example.com/ds", storeTestToken, ""), Meta{}, false))
	require.NoError(t, s.SetDefault("PROD"))
	def, err = s.Default()
	require.NoError(t, err)
	assert.Equal(t, "Prod", def, "the name as stored")
	info, err := os.Stat(filepath.Join(s.Dir(), "default"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	p, err := s.ResolveProfile("", sharing.LoadProfileOptions{})
	require.NoError(t, err)
	assert.Equal(t, storeTestToken, p.BearerToken)
	metas, err := s.List()
	require.NoError(t, err)
	assert.Len(t, metas, 1, "the default file is not a credential")

	require.NoError(t, s.Remove("prod"))
	def, err = s.Default()
	require.NoError(t, err)
	assert.Empty(t, def, "removing the default credential unsets it")
	require.NoError(t, s.ClearDefault())
}

// A JWT bearer profile's relative privateKeyFile is made absolute by Import (relative to the
// profile file); Put refuses one, since the stored copy could not resolve it.
func TestStoreRelativeKeyFile(t *testing.T) {
	s := newTestStore(t)
	jwt := func(keyFile string) []byte {
		return []byte(`{"shareCredentialsVersion":2,"type":"oauth_jwt_bearer_private_key_jwt","endpoint":"https://h/ds",
			"auth":{"tokenEndpoint":"https://h/token","issuer":"i","clientId":"c","audience":"a","privateKey":{"privateKeyFile":"` + keyFile + `"}}}`)
	}
	err := s.Put("rel", jwt("key.pem"), Meta{}, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "relative path")
	assert.Contains(t, err.Error(), "absolute path")
	ex, err := s.Exists("rel")
	require.NoError(t, err)
	assert.False(t, ex, "nothing stored")

	dir := t.TempDir()
	path := filepath.Join(dir, "p.share")
	require.NoError(t, os.WriteFile(path, jwt("key.pem"), 0o600))
	require.NoError(t, s.Import("imported", path))
	c, err := s.Get("imported")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "key.pem"), c.Profile.PrivateKeyFile)
}
