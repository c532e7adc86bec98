package sharing

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/sharing/protocol"
)

const (
	testBasicPassword = "basic-password-must-not-leak"
	jwtProfileJSON    = `{
  "shareCredentialsVersion": 2,
  "type": "oauth_jwt_bearer_private_key_jwt",
  "endpoint": "ENDPOINT/",
  "auth": {
    "tokenEndpoint": "TOKEN/",
    "clientId": "client-1",
    "issuer": "https://issuer.example.com",
    "audience": "https://sharing.example.com",
    "scope": "sharing.read",
    "privateKey": {"privateKeyFile": "KEYFILE", "keyId": "key-7", "algorithm": "ALG"}
  }
}`
)

func basicProfileJSON(endpoint string) string {
	return `{"shareCredentialsVersion": 2, "type": "basic", "endpoint": "` + endpoint + `/", "username": "reader", "password": "` + testBasicPassword + `"}`
}

func TestParseProfileBasic(t *testing.T) {
	p, err := ParseProfile([]byte(basicProfileJSON("https://sharing.example.com/delta-sharing")))
	require.NoError(t, err)
	assert.Equal(t, ProfileTypeBasic, p.Type)
	assert.Equal(t, "https://sharing.example.com/delta-sharing", p.Endpoint)
	assert.Equal(t, "reader", p.Username)
	assert.Equal(t, testBasicPassword, p.Password)
	for _, s := range []string{p.String(), fmt.Sprintf("%v %+v %#v %s %q", p, p, p, p, p)} {
		assert.NotContains(t, s, testBasicPassword)
	}
	back, err := json.Marshal(p)
	require.NoError(t, err)
	q, err := ParseProfile(back)
	require.NoError(t, err)
	assert.Equal(t, p, q, "MarshalJSON writes the profile file format")

	_, err = ParseProfile([]byte(basicProfileJSON("http://127.0.0.1:8080/ds")))
	assert.NoError(t, err, "plain http to loopback is allowed")
	_, err = ParseProfile([]byte(basicProfileJSON("http://localhost:8080/ds")))
	assert.NoError(t, err)
	_, err = ParseProfile([]byte(basicProfileJSON("http://sharing.example.com/ds")))
	require.ErrorIs(t, err, protocol.ErrInvalidProfile)
	assert.Contains(t, err.Error(), "must use https")
	assert.NotContains(t, err.Error(), testBasicPassword)
	_, err = ParseProfile([]byte(`{"shareCredentialsVersion": 2, "type": "basic", "endpoint": "https://x", "username": "u"}`))
	assert.ErrorContains(t, err, `field "password" is missing`)
	_, err = ParseProfile([]byte(`{"shareCredentialsVersion": 2, "type": "basic", "endpoint": "https://x", "password": "` + testBasicPassword + `"}`))
	assert.ErrorContains(t, err, `field "username" is missing`)
	assert.NotContains(t, err.Error(), testBasicPassword)
}

func jwtProfile(endpoint, tokenEndpoint, keyFile, alg string) string {
	return strings.NewReplacer("ENDPOINT", endpoint, "TOKEN", tokenEndpoint, "KEYFILE", keyFile, "ALG", alg).Replace(jwtProfileJSON)
}

func TestParseProfileJWTBearer(t *testing.T) {
	p, err := ParseProfile([]byte(jwtProfile("https://sharing.example.com/ds", "https://login.example.com/token", "/keys/k.pem", "RS256")))
	require.NoError(t, err)
	assert.Equal(t, &Profile{ShareCredentialsVersion: 2, Type: ProfileTypeOAuthJWTBearer, Endpoint: "https://sharing.example.com/ds",
		TokenEndpoint: "https://login.example.com/token", ClientID: "client-1", Issuer: "https://issuer.example.com",
		Audience: "https://sharing.example.com", Scope: "sharing.read", PrivateKeyFile: "/keys/k.pem", KeyID: "key-7", Algorithm: "RS256"}, p)
	back, err := json.Marshal(p)
	require.NoError(t, err)
	q, err := ParseProfile(back)
	require.NoError(t, err)
	assert.Equal(t, p, q, "MarshalJSON writes the nested auth object")

	// The algorithm defaults to RS256; unknown algorithms and missing fields are named.
	noAlg := strings.Replace(jwtProfile("https://s.example.com", "https://t.example.com", "/k.pem", ""), `, "algorithm": ""`, "", 1)
	p, err = ParseProfile([]byte(noAlg))
	require.NoError(t, err)
	assert.Equal(t, "RS256", p.Algorithm)
	for _, tc := range []struct{ edit, want string }{
		{`"algorithm": "HS256"`, `algorithm "HS256" is not supported`},
		{`"issuer": "https://issuer.example.com",`, `field "auth.issuer" is missing`},
		{`"audience": "https://sharing.example.com",`, `field "auth.audience" is missing`},
		{`"clientId": "client-1",`, `field "auth.clientId" is missing`},
		{`"privateKeyFile": "/k.pem", `, `field "auth.privateKey.privateKeyFile" is missing`},
	} {
		in := jwtProfile("https://s.example.com", "https://t.example.com", "/k.pem", "RS256")
		if strings.HasPrefix(tc.edit, `"algorithm"`) {
			in = strings.Replace(in, `"algorithm": "RS256"`, tc.edit, 1)
		} else {
			in = strings.Replace(in, tc.edit, "", 1)
		}
		_, err := ParseProfile([]byte(in))
		require.ErrorIs(t, err, protocol.ErrInvalidProfile, tc.edit)
		assert.Contains(t, err.Error(), tc.want)
	}
	_, err = ParseProfile([]byte(`{"shareCredentialsVersion": 2, "type": "oauth_jwt_bearer_private_key_jwt", "endpoint": "https://x"}`))
	assert.ErrorContains(t, err, `field "auth" is missing`)
}

func TestBasicAuthProfile(t *testing.T) {
	var unauthorized atomic.Int32
	api := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != "reader" || pass != testBasicPassword {
			unauthorized.Add(1)
			writeJSON(w, 401, protocol.ErrorBody{ErrorCode: "UNAUTHENTICATED", Message: "bad username or password"})
			return
		}
		writeRaw(w, 200, []byte(`{"items":[{"name":"s1"}]}`))
	})
	p, err := ParseProfile([]byte(basicProfileJSON(api.URL + "/api")))
	require.NoError(t, err)
	c, err := NewClient(p)
	require.NoError(t, err)
	shares, err := c.ListShares(context.Background())
	require.NoError(t, err)
	require.Len(t, shares, 1)
	reqs := api.requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte("reader:"+testBasicPassword)), reqs[0].Header.Get("Authorization"))

	wrong := *p
	wrong.Password = "wrong-password-must-not-leak"
	c, err = NewClient(&wrong, WithRetryPolicy(RetryPolicy{MaxTries: 1}))
	require.NoError(t, err)
	_, err = c.ListShares(context.Background())
	require.ErrorIs(t, err, protocol.ErrUnauthorized)
	assert.NotContains(t, err.Error(), "wrong-password-must-not-leak")
	assert.Equal(t, int32(1), unauthorized.Load())

	// A profile built in code gets the same rule as a parsed one: no password over plain http.
	remote := *p
	remote.Endpoint = "http://sharing.example.com/api"
	_, err = NewClient(&remote)
	require.ErrorIs(t, err, protocol.ErrInvalidProfile)
	assert.Contains(t, err.Error(), "must use https")
}

// keyFile writes a private key as PEM (mode 0600) and returns its path.
func keyFile(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "key.pem")
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	return path
}

// jwtTokenServer is a token endpoint of the jwt-bearer grant: it verifies the assertion's
// signature with the public key and its claims, and counts the tokens it issues.
type jwtTokenServer struct {
	*testServer
	issued atomic.Int32
	claims atomic.Value // the last assertion's claims
	header atomic.Value
}

func newJWTTokenServer(t *testing.T, pub crypto.PublicKey, alg string) *jwtTokenServer {
	ts := &jwtTokenServer{}
	ts.testServer = newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || r.Header.Get("Authorization") != "" {
			writeJSON(w, 400, map[string]string{"error": "unsupported_grant_type"})
			return
		}
		parts := strings.Split(r.PostForm.Get("assertion"), ".")
		if len(parts) != 3 || !verifyJWS(pub, alg, parts) {
			writeJSON(w, 400, map[string]string{"error": "invalid_grant", "error_description": "assertion signature is invalid"})
			return
		}
		var header, claims map[string]any
		hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
		cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
		if json.Unmarshal(hb, &header) != nil || json.Unmarshal(cb, &claims) != nil {
			writeJSON(w, 400, map[string]string{"error": "invalid_grant"})
			return
		}
		ts.header.Store(header)
		ts.claims.Store(claims)
		n := ts.issued.Add(1)
		writeJSON(w, 200, map[string]any{"access_token": fmt.Sprintf("jwt-access-%d", n), "token_type": "Bearer", "expires_in": 3600})
	})
	return ts
}

func verifyJWS(pub crypto.PublicKey, alg string, parts []string) bool {
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return false
	}
	h := map[string]crypto.Hash{"256": crypto.SHA256, "384": crypto.SHA384, "512": crypto.SHA512}[alg[2:]]
	d := h.New()
	d.Write([]byte(parts[0] + "." + parts[1]))
	digest := d.Sum(nil)
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if alg[0] == 'P' {
			return rsa.VerifyPSS(k, h, digest, sig, nil) == nil
		}
		return rsa.VerifyPKCS1v15(k, h, digest, sig) == nil
	case *ecdsa.PublicKey:
		size := (k.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return false
		}
		return ecdsa.Verify(k, digest, new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:]))
	}
	return false
}

func TestJWTBearerProfile(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tests := []struct {
		alg string
		key crypto.Signer
	}{{"RS256", rsaKey}, {"PS384", rsaKey}, {"ES256", ecKey}}
	for _, tc := range tests {
		t.Run(tc.alg, func(t *testing.T) {
			tok := newJWTTokenServer(t, tc.key.Public(), tc.alg)
			api := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				writeRaw(w, 200, []byte(`{"items":[]}`))
			})
			path := keyFile(t, tc.key)
			p, err := ParseProfile([]byte(jwtProfile(api.URL+"/api", tok.URL+"/oauth/token", path, tc.alg)))
			require.NoError(t, err)
			now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
			c, err := NewClient(p, WithClock(func() time.Time { return now }))
			require.NoError(t, err)
			for range 3 {
				_, err := c.ListShares(context.Background())
				require.NoError(t, err)
			}
			assert.Equal(t, int32(1), tok.issued.Load(), "the token is cached while valid")
			for _, r := range api.requests() {
				assert.Equal(t, "Bearer jwt-access-1", r.Header.Get("Authorization"))
			}
			header := tok.header.Load().(map[string]any)
			assert.Equal(t, tc.alg, header["alg"])
			assert.Equal(t, "key-7", header["kid"])
			claims := tok.claims.Load().(map[string]any)
			assert.Equal(t, "https://issuer.example.com", claims["aud"])
			assert.Equal(t, "client-1", claims["iss"])
			assert.Equal(t, "sharing.read", claims["scope"])
			assert.Equal(t, "https://sharing.example.com", claims["resource"])
			assert.Equal(t, float64(now.Unix()), claims["iat"])
			assert.Equal(t, float64(now.Unix()+120), claims["exp"])
			assert.NotEmpty(t, claims["jti"])
		})
	}
}

func TestJWTBearerFailures(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	api := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { writeRaw(w, 200, []byte(`{"items":[]}`)) })
	tok := newJWTTokenServer(t, rsaKey.Public(), "RS256")
	pemBytes, err := os.ReadFile(keyFile(t, other))
	require.NoError(t, err)

	// A key the server does not know: the assertion is rejected (401, not retried); neither the
	// key nor the assertion appears in the error.
	p, err := ParseProfile([]byte(jwtProfile(api.URL+"/api", tok.URL+"/oauth/token", keyFile(t, other), "RS256")))
	require.NoError(t, err)
	c, err := NewClient(p, WithRetryPolicy(RetryPolicy{Sleep: (&sleepRecorder{}).sleep}))
	require.NoError(t, err)
	_, err = c.ListShares(context.Background())
	require.ErrorIs(t, err, protocol.ErrUnauthorized)
	assert.Contains(t, err.Error(), "invalid_grant")
	assert.Equal(t, 1, tok.count())
	assert.Zero(t, api.count())
	body := string(tok.requests()[0].Body)
	assertion := strings.TrimPrefix(body[strings.Index(body, "assertion="):], "assertion=")
	if i := strings.IndexByte(assertion, '&'); i >= 0 {
		assertion = assertion[:i]
	}
	assert.NotContains(t, err.Error(), assertion[:40])
	assert.NotContains(t, err.Error(), string(pemBytes[30:60]))

	// Key files: missing, not PEM, wrong key type for the algorithm.
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "key.txt")
	require.NoError(t, os.WriteFile(notPEM, []byte("hello"), 0o600))
	for _, tc := range []struct{ file, alg, want string }{
		{filepath.Join(dir, "missing.pem"), "RS256", "no such file"},
		{notPEM, "RS256", "not a PEM file"},
		{keyFile(t, rsaKey), "ES256", "an RSA key cannot sign ES256"},
	} {
		p, err := ParseProfile([]byte(jwtProfile(api.URL+"/api", tok.URL+"/oauth/token", tc.file, tc.alg)))
		require.NoError(t, err)
		_, err = NewClient(p)
		require.ErrorIs(t, err, protocol.ErrInvalidProfile, tc.want)
		assert.Contains(t, err.Error(), tc.want)
		assert.Contains(t, err.Error(), tc.file)
	}
}
