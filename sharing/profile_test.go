package sharing

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deltashare/deltashare/sharing/protocol"

	"github.com/deltashare/deltashare/internal/sharedtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseProfile(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		want    *Profile
		wantErr string // substring; "" means success
	}{
		{
			name: "v1 with expiry",
			json: `{"shareCredentialsVersion":1,"endpoint":"https://sharing.delta.io/delta-sharing/","bearerToken":"tok","expirationTime":"2021-11-12T00:12:29.0Z"}`,
			want: &Profile{ShareCredentialsVersion: 1, Type: ProfileTypeBearerToken, Endpoint: "https://sharing.delta.io/delta-sharing",
				BearerToken: "tok", ExpirationTime: time.Date(2021, 11, 12, 0, 12, 29, 0, time.UTC)},
		},
		{
			name: "v1 without expiry, version as string",
			json: `{"shareCredentialsVersion":"1","endpoint":"http://localhost:8080/api","bearerToken":"tok"}`,
			want: &Profile{ShareCredentialsVersion: 1, Type: ProfileTypeBearerToken, Endpoint: "http://localhost:8080/api", BearerToken: "tok"},
		},
		{
			name: "v1 expiry with offset",
			json: `{"shareCredentialsVersion":1,"endpoint":"https://h/x","bearerToken":"tok","expirationTime":"2030-01-01T02:00:00+02:00"}`,
			want: &Profile{ShareCredentialsVersion: 1, Type: ProfileTypeBearerToken, Endpoint: "https://h/x", BearerToken: "tok",
				ExpirationTime: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)},
		},
		{
			name: "v1 expiry without zone",
			json: `{"shareCredentialsVersion":1,"endpoint":"https://h/x","bearerToken":"tok","expirationTime":"2030-01-01T00:00:00.123"}`,
			want: &Profile{ShareCredentialsVersion: 1, Type: ProfileTypeBearerToken, Endpoint: "https://h/x", BearerToken: "tok",
				ExpirationTime: time.Date(2030, 1, 1, 0, 0, 0, 123e6, time.UTC)},
		},
		{
			name: "v2 oauth without scope",
			json: `{"shareCredentialsVersion":2,"type":"oauth_client_credentials","endpoint":"https://h/x/","tokenEndpoint":"https://idp/token","clientId":"c","clientSecret":"s"}`,
			want: &Profile{ShareCredentialsVersion: 2, Type: ProfileTypeOAuthClientCredentials, Endpoint: "https://h/x",
				TokenEndpoint: "https://idp/token", ClientID: "c", ClientSecret: "s"},
		},
		{name: "empty", json: ``, wantErr: "empty"},
		{name: "not json", json: `shareCredentialsVersion=1`, wantErr: "not a JSON object"},
		{name: "array", json: `[1]`, wantErr: "not a JSON object"},
		{name: "no version", json: `{"endpoint":"https://h","bearerToken":"t"}`, wantErr: `"shareCredentialsVersion" is missing`},
		{name: "version not number", json: `{"shareCredentialsVersion":"one","endpoint":"https://h","bearerToken":"t"}`, wantErr: "must be a number"},
		{name: "version 3", json: `{"shareCredentialsVersion":3,"endpoint":"https://h","bearerToken":"t"}`, wantErr: "shareCredentialsVersion 3 is not supported"},
		{name: "v2 without type", json: `{"shareCredentialsVersion":2,"endpoint":"https://h","bearerToken":"t"}`, wantErr: `field "type" is missing`},
		{name: "v2 unknown type", json: `{"shareCredentialsVersion":2,"type":"kerberos","endpoint":"https://h"}`, wantErr: `"kerberos" is not supported`},
		{name: "no endpoint", json: `{"shareCredentialsVersion":1,"bearerToken":"t"}`, wantErr: `field "endpoint" is missing`},
		{name: "endpoint not url", json: `{"shareCredentialsVersion":1,"endpoint":"sharing.example","bearerToken":"t"}`, wantErr: `"endpoint" must be an http or https URL`},
		{name: "endpoint with user", json: `{"shareCredentialsVersion":1,"endpoint":"https://u:p@h","bearerToken":"t"}`, wantErr: "user information"},
		{name: "no token", json: `{"shareCredentialsVersion":1,"endpoint":"https://h"}`, wantErr: `field "bearerToken" is missing`},
		{name: "token wrong type", json: `{"shareCredentialsVersion":1,"endpoint":"https://h","bearerToken":5}`, wantErr: `"bearerToken" has the wrong type`},
		{name: "bad expiry", json: `{"shareCredentialsVersion":1,"endpoint":"https://h","bearerToken":"t","expirationTime":"tomorrow"}`, wantErr: `"expirationTime" is not an ISO 8601 time`},
		{name: "oauth no token endpoint", json: `{"shareCredentialsVersion":2,"type":"oauth_client_credentials","endpoint":"https://h","clientId":"c","clientSecret":"s"}`, wantErr: `"tokenEndpoint" is missing`},
		{name: "oauth no client id", json: `{"shareCredentialsVersion":2,"type":"oauth_client_credentials","endpoint":"https://h","tokenEndpoint":"https://i/t","clientSecret":"s"}`, wantErr: `"clientId" is missing`},
		{name: "oauth no secret", json: `{"shareCredentialsVersion":2,"type":"oauth_client_credentials","endpoint":"https://h","tokenEndpoint":"https://i/t","clientId":"c"}`, wantErr: `"clientSecret" is missing`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParseProfile([]byte(tc.json))
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, protocol.ErrInvalidProfile)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, p)
			// MarshalJSON writes a profile that parses back to the same value.
			b, err := json.Marshal(p)
			require.NoError(t, err)
			again, err := ParseProfile(b)
			require.NoError(t, err)
			assert.Equal(t, p, again)
		})
	}
}

func TestParseProfileTooLarge(t *testing.T) {
	_, err := ParseProfile(make([]byte, MaxProfileSize+1))
	require.ErrorIs(t, err, protocol.ErrInvalidProfile)
	assert.Contains(t, err.Error(), "larger than")
}

func TestProfileFixtures(t *testing.T) {
	dir := sharedtest.Path(t, "protocol", "profiles")
	tests := []struct {
		file    string
		check   func(t *testing.T, p *Profile)
		wantErr []string
	}{
		{file: "bearer-v1.json", check: func(t *testing.T, p *Profile) {
			assert.Equal(t, 1, p.ShareCredentialsVersion)
			assert.Equal(t, ProfileTypeBearerToken, p.Type)
			assert.Equal(t, "https://sharing.example.test/api", p.Endpoint)
			assert.Equal(t, "fixture-token-not-a-secret", p.BearerToken)
			assert.Equal(t, time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), p.ExpirationTime)
			assert.NoError(t, p.CheckExpiry(time.Now()))
		}},
		{file: "bearer-v2.json", check: func(t *testing.T, p *Profile) {
			assert.Equal(t, 2, p.ShareCredentialsVersion)
			assert.Equal(t, ProfileTypeBearerToken, p.Type)
			assert.Equal(t, "https://sharing.example.test/api", p.Endpoint, "trailing slash removed")
			assert.Equal(t, "fixture-v2-bearer-token", p.BearerToken)
			assert.False(t, p.HasExpiry())
		}},
		{file: "oauth-client-v2.json", check: func(t *testing.T, p *Profile) {
			assert.Equal(t, ProfileTypeOAuthClientCredentials, p.Type)
			assert.Equal(t, "https://identity.example.test/oauth/token", p.TokenEndpoint)
			assert.Equal(t, "fixture-client", p.ClientID)
			assert.Equal(t, "fixture-client-secret", p.ClientSecret)
			assert.Equal(t, "delta-sharing.read", p.Scope)
		}},
		{file: "basic-v2.json", check: func(t *testing.T, p *Profile) {
			assert.Equal(t, ProfileTypeBasic, p.Type)
			assert.Equal(t, "https://sharing.example.test/api", p.Endpoint, "trailing slash removed")
			assert.Equal(t, "fixture-user", p.Username)
			assert.Equal(t, "fixture-password", p.Password)
		}},
		{file: "private-key-v2.json", check: func(t *testing.T, p *Profile) {
			assert.Equal(t, ProfileTypeOAuthJWTBearer, p.Type)
			assert.Equal(t, "https://identity.example.test/oauth/token", p.TokenEndpoint)
			assert.Equal(t, "fixture-client", p.ClientID)
			assert.Equal(t, "https://identity.example.test/", p.Issuer)
			assert.Equal(t, "delta-sharing", p.Audience)
			assert.Equal(t, "delta-sharing.read", p.Scope)
			assert.Equal(t, "/test-only/private-key.pem", p.PrivateKeyFile)
			assert.Equal(t, "fixture-key", p.KeyID)
			assert.Equal(t, "RS256", p.Algorithm)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(dir, tc.file)
			p, err := LoadProfile(path, nil)
			if tc.wantErr != nil {
				require.Error(t, err)
				assert.ErrorIs(t, err, protocol.ErrInvalidProfile)
				for _, s := range tc.wantErr {
					assert.Contains(t, err.Error(), s)
				}
				assert.Contains(t, err.Error(), tc.file, "the error names the file")
				assert.NotContains(t, err.Error(), "fixture-password")
				return
			}
			require.NoError(t, err)
			tc.check(t, p)
			assertNoSecrets(t, p)
		})
	}
}

// assertNoSecrets checks that no formatting of p shows its secrets.
func assertNoSecrets(t *testing.T, p *Profile) {
	t.Helper()
	secrets := []string{}
	if p.BearerToken != "" {
		secrets = append(secrets, p.BearerToken)
	}
	if p.ClientSecret != "" {
		secrets = append(secrets, p.ClientSecret)
	}
	if p.Password != "" {
		secrets = append(secrets, p.Password)
	}
	var logBuf strings.Builder
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("profile", "p", p, "v", *p)
	outputs := []string{
		p.String(), fmt.Sprint(p), fmt.Sprintf("%v %+v %#v %s %q", p, p, p, p, p),
		fmt.Sprintf("%v %+v %#v", *p, *p, *p), fmt.Sprintf("%v", []any{p, *p}), logBuf.String(),
	}
	for _, out := range outputs {
		for _, s := range secrets {
			assert.NotContains(t, out, s)
		}
	}
	if p.Type != ProfileTypeOAuthJWTBearer { // no secret in the profile: the key stays in its file
		assert.Contains(t, p.String(), "<redacted>")
	}
}

func TestLoadProfileSources(t *testing.T) {
	const js = `{"shareCredentialsVersion":1,"endpoint":"https://h/api/","bearerToken":"secret-token"}`
	dir := t.TempDir()
	file := filepath.Join(dir, "p.share")
	require.NoError(t, os.WriteFile(file, []byte(js), 0o600))
	// The environment comes in as an option: the package reads none of its own.
	env := map[string]string{"DS_PROFILE_TEST": js, "DS_PROFILE_EMPTY": ""}
	lookupEnv := func(name string) (string, bool) { v, ok := env[name]; return v, ok }

	tests := []struct {
		name, ref, stdin, wantErr string
	}{
		{name: "file", ref: file},
		{name: "stdin", ref: "-", stdin: js},
		{name: "env", ref: "env:DS_PROFILE_TEST"},
		{name: "literal", ref: "  " + js},
		{name: "missing file", ref: filepath.Join(dir, "nope.json"), wantErr: "does not exist"},
		{name: "unset env", ref: "env:DS_PROFILE_UNSET_X", wantErr: "DS_PROFILE_UNSET_X is not set"},
		{name: "empty env", ref: "env:DS_PROFILE_EMPTY", wantErr: "is not set or empty"},
		{name: "env without name", ref: "env:", wantErr: "needs a variable name"},
		{name: "empty ref", ref: "", wantErr: "no profile given"},
		{name: "broken literal", ref: `{"shareCredentialsVersion":1,"bearerToken":"secret-token"`, wantErr: "not a JSON object"},
		{name: "stdin too large", ref: "-", stdin: strings.Repeat(" ", MaxProfileSize+10), wantErr: "larger than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := LoadProfileWith(tc.ref, LoadProfileOptions{Stdin: strings.NewReader(tc.stdin), LookupEnv: lookupEnv})
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.NotContains(t, err.Error(), "secret-token")
				assert.ErrorIs(t, err, protocol.ErrInvalidProfile)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "https://h/api", p.Endpoint)
			assert.Equal(t, "secret-token", p.BearerToken)
		})
	}

	// Without LookupEnv (LoadProfile has none), an env: reference is an error, even for a
	// variable the process has.
	t.Setenv("DS_PROFILE_TEST", js)
	for _, load := range []func() (*Profile, error){
		func() (*Profile, error) { return LoadProfile("env:DS_PROFILE_TEST", nil) },
		func() (*Profile, error) { return LoadProfileWith("env:DS_PROFILE_TEST", LoadProfileOptions{}) },
	} {
		_, err := load()
		require.ErrorIs(t, err, protocol.ErrInvalidProfile)
		assert.Contains(t, err.Error(), "env:DS_PROFILE_TEST: no environment to read it from (LoadProfileOptions.LookupEnv is not set)")
	}
	p, err := LoadProfile(file, nil)
	require.NoError(t, err)
	assert.Equal(t, "secret-token", p.BearerToken)

	// A missing file: what to do next names the stored-credential listing by its Go name.
	_, err = LoadProfile(filepath.Join(dir, "nope.json"), nil)
	require.ErrorIs(t, err, protocol.ErrInvalidProfile)
	var h interface{ Hint() string }
	require.ErrorAs(t, err, &h)
	assert.Equal(t, "check the path, or give the name of a stored credential ({tokenmgr.Store.List})", h.Hint())
	assert.Contains(t, err.Error(), "does not exist: check the path, or give the name of a stored credential (tokenmgr.Store.List)")
}

func TestProfileExpiry(t *testing.T) {
	p := &Profile{ShareCredentialsVersion: 1, Type: ProfileTypeBearerToken, Endpoint: "https://h", BearerToken: "t",
		ExpirationTime: time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)}
	require.NoError(t, p.CheckExpiry(p.ExpirationTime.Add(-time.Second)))
	err := p.CheckExpiry(p.ExpirationTime)
	require.ErrorIs(t, err, protocol.ErrTokenExpired)
	var ee *protocol.ExpiredError
	require.ErrorAs(t, err, &ee)
	assert.Contains(t, err.Error(), "2026-01-31T00:00:00Z")
	assert.Contains(t, err.Error(), "run tokenmgr.Activate with a new activation link")
	var h interface{ Hint() string }
	require.ErrorAs(t, err, &h)
	assert.Contains(t, h.Hint(), "{tokenmgr.Activate}")
	assert.NotContains(t, err.Error(), "Bearer")
}

// A relative privateKeyFile is relative to the profile file's directory; a copy of the profile
// kept elsewhere gets it absolute, other fields unchanged.
func TestProfileRelativeKeyFile(t *testing.T) {
	dir := t.TempDir()
	jwt := func(keyFile string) string {
		return `{"shareCredentialsVersion":2,"type":"oauth_jwt_bearer_private_key_jwt","endpoint":"https://h/ds","extra":1,
			"auth":{"tokenEndpoint":"https://h/token","issuer":"i","clientId":"c","audience":"a","privateKey":{"privateKeyFile":"` + keyFile + `","keyId":"k"}}}`
	}
	path := filepath.Join(dir, "p.share")
	require.NoError(t, os.WriteFile(path, []byte(jwt("keys/key.pem")), 0o600))
	p, err := LoadProfile(path, nil)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "keys", "key.pem"), p.PrivateKeyFile)

	p, err = LoadProfile(jwt("keys/key.pem"), nil)
	require.NoError(t, err)
	assert.Equal(t, "keys/key.pem", p.PrivateKeyFile, "inline JSON: relative to the working directory, as given")

	abs := filepath.Join(dir, "abs.pem")
	require.NoError(t, os.WriteFile(path, []byte(jwt(abs)), 0o600))
	p, err = LoadProfile(path, nil)
	require.NoError(t, err)
	assert.Equal(t, abs, p.PrivateKeyFile)

	raw := []byte(jwt(abs))
	out, err := ResolveProfileFiles(raw, "/elsewhere")
	require.NoError(t, err)
	assert.Equal(t, raw, out, "an absolute path: unchanged")
	out, err = ResolveProfileFiles([]byte(jwt("keys/key.pem")), dir)
	require.NoError(t, err)
	q, err := ParseProfile(out)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "keys", "key.pem"), q.PrivateKeyFile)
	assert.Equal(t, "k", q.KeyID)
	assert.Contains(t, string(out), `"extra": 1`, "other fields kept")
	bearer := []byte(`{"shareCredentialsVersion":1,"endpoint":"https://h/ds","bearerToken":"t"}`)
	out, err = ResolveProfileFiles(bearer, dir)
	require.NoError(t, err)
	assert.Equal(t, bearer, out)
	_, err = ResolveProfileFiles([]byte("nope"), dir)
	assert.ErrorIs(t, err, protocol.ErrInvalidProfile)
}
