package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBasicProfile: a shareCredentialsVersion 2 profile of type basic reads the demo tables
// through a gateway that accepts only HTTP basic authentication; the password is never
// printed, stored credentials of this type work with -p, and `creds show` redacts it.
func TestBasicProfile(t *testing.T) {
	credEnv(t)
	env := demoEnv(t)
	target, err := url.Parse(env.URL)
	require.NoError(t, err)
	const password = "basic-pass-0123456789"
	var refused atomic.Int32
	proxy := httputil.NewSingleHostReverseProxy(target)
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != "analyst" || pass != password {
			refused.Add(1)
			http.Error(w, `{"errorCode":"UNAUTHENTICATED","message":"bad credentials"}`, http.StatusUnauthorized)
			return
		}
		r.Header.Set("Authorization", "Bearer "+env.Token)
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(gateway.Close)
	endpoint := gateway.URL + strings.TrimPrefix(env.Endpoint, env.URL)
	profile := filepath.Join(t.TempDir(), "basic.share")
	require.NoError(t, os.WriteFile(profile, []byte(`{"shareCredentialsVersion":2,"type":"basic","endpoint":"`+endpoint+`","username":"analyst","password":"`+password+`"}`), 0o600))

	tr := &transcript{t: t}
	r := tr.run("", "tables", "-p", profile)
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "demo.sales.orders")
	r = tr.run("", "check", "-p", profile, "--warn-expiry", "0")
	require.Equal(t, exitOK, r.Code, r.Out+r.Err)
	r = tr.run("", "export", "-p", profile, "demo.sales.orders", "-o", "-", "--format", "ndjson", "-q")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Equal(t, 2900, strings.Count(r.Out, "\n"))
	assert.Zero(t, refused.Load())

	require.Equal(t, exitOK, tr.run("", "creds", "import", "gw", profile, "-q").Code)
	r = tr.run("", "shares", "-p", "gw")
	require.Equal(t, exitOK, r.Code, r.Err)
	r = tr.run("", "creds", "show", "gw")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, `"password": "[redacted]"`)
	assert.Contains(t, r.Out, "type:      basic")

	wrong := filepath.Join(t.TempDir(), "wrong.share")
	require.NoError(t, os.WriteFile(wrong, []byte(`{"shareCredentialsVersion":2,"type":"basic","endpoint":"`+endpoint+`","username":"analyst","password":"wrong-pass-0123456789"}`), 0o600))
	r = tr.run("", "shares", "-p", wrong)
	assert.Equal(t, exitAuth, r.Code, r.Err)

	// Never over plain http to another host.
	remote := filepath.Join(t.TempDir(), "remote.share")
	require.NoError(t, os.WriteFile(remote, []byte(`{"shareCredentialsVersion":2,"type":"basic","endpoint":"http://sharing.example.com/ds","username":"analyst","password":"`+password+`"}`), 0o600))
	r = tr.run("", "shares", "-p", remote)
	assert.Equal(t, exitUsage, r.Code, r.Err)
	assert.Contains(t, r.Err, "must use https")
	tr.assertNoSecrets(password, "wrong-pass-0123456789", env.Token)
}

// TestJWTBearerProfile: a profile of type oauth_jwt_bearer_private_key_jwt gets its access
// token from a token endpoint that checks the signed assertion, and reads the demo tables;
// neither the key nor the assertion nor the token is printed.
func TestJWTBearerProfile(t *testing.T) {
	credEnv(t)
	env := demoEnv(t)
	var issued atomic.Int32
	var mu sync.Mutex
	var assertions []string
	keyPEM, tokenURL := jwtTokenEndpoint(t, env.Token, func(a string) {
		mu.Lock()
		assertions = append(assertions, a)
		mu.Unlock()
		issued.Add(1)
	})
	keyPath := filepath.Join(t.TempDir(), "key.pem")
	require.NoError(t, os.WriteFile(keyPath, keyPEM, 0o600))
	profile := filepath.Join(t.TempDir(), "jwt.share")
	require.NoError(t, os.WriteFile(profile, []byte(`{"shareCredentialsVersion":2,"type":"oauth_jwt_bearer_private_key_jwt","endpoint":"`+env.Endpoint+`",
		"auth":{"tokenEndpoint":"`+tokenURL+`/token","issuer":"https://issuer.example.com","clientId":"c1","audience":"sharing",
		"privateKey":{"privateKeyFile":"`+keyPath+`","keyId":"k1"}}}`), 0o600))

	tr := &transcript{t: t}
	r := tr.run("", "check", "-p", profile, "--warn-expiry", "0")
	require.Equal(t, exitOK, r.Code, r.Out+r.Err)
	assert.Equal(t, int32(1), issued.Load(), "one token for the whole check")
	r = tr.run("", "creds", "import", "jwt", profile, "-q")
	require.Equal(t, exitOK, r.Code, r.Err)
	r = tr.run("", "tables", "-p", "jwt")
	require.Equal(t, exitOK, r.Code, r.Err)
	r = tr.run("", "creds", "show", "jwt")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, keyPath, "the key's file is named, its content never shown")

	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	oder, err := x509.MarshalPKCS8PrivateKey(other)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: oder}), 0o600))
	r = tr.run("", "tables", "-p", profile)
	assert.Equal(t, exitAuth, r.Code, r.Err)
	assert.Contains(t, r.Err, "invalid_grant")

	body := strings.Split(string(keyPEM), "\n")[2]
	secrets := []string{env.Token, body}
	mu.Lock()
	for _, a := range assertions {
		secrets = append(secrets, a[len(a)-40:])
	}
	mu.Unlock()
	tr.assertNoSecrets(secrets...)
}

// verifyRS256 checks a compact JWS signed with RS256.
func verifyRS256(pub *rsa.PublicKey, jws string) bool {
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return false
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) == nil
}

// TestJWTBearerProfileRelativeKey: a relative privateKeyFile is the key beside the profile file,
// whatever the working directory (profiles move with their keys); a stored credential imported
// from such a profile keeps the key's absolute path, since the stored copy lives elsewhere.
func TestJWTBearerProfileRelativeKey(t *testing.T) {
	credEnv(t)
	env := demoEnv(t)
	keyPEM, tokenURL := jwtTokenEndpoint(t, env.Token, nil)

	dir := filepath.Join(t.TempDir(), "moved")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "keys"), 0o700))
	keyPath := filepath.Join(dir, "keys", "key.pem")
	require.NoError(t, os.WriteFile(keyPath, keyPEM, 0o600))
	content := `{"shareCredentialsVersion":2,"type":"oauth_jwt_bearer_private_key_jwt","endpoint":"` + env.Endpoint + `",
		"auth":{"tokenEndpoint":"` + tokenURL + `/token","issuer":"https://issuer.example.com","clientId":"c1","audience":"sharing",
		"privateKey":{"privateKeyFile":"keys/key.pem"}}}`
	profile := filepath.Join(dir, "jwt.share")
	require.NoError(t, os.WriteFile(profile, []byte(content), 0o600))
	wd, err := os.Getwd()
	require.NoError(t, err)
	require.NotEqual(t, dir, wd, "the working directory is not the profile's")

	r := run(t, "", "tables", "-p", profile)
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "orders")

	r = run(t, "", "creds", "import", "jwt", profile, "-q")
	require.Equal(t, exitOK, r.Code, r.Err)
	r = run(t, "", "creds", "import", "--overwrite", "jwt2", profile, "-q")
	require.Equal(t, exitOK, r.Code, r.Err)
	for _, name := range []string{"jwt", "jwt2"} {
		r = run(t, "", "tables", "-p", name)
		require.Equal(t, exitOK, r.Code, "%s: %s", name, r.Err)
		r = run(t, "", "creds", "show", name)
		require.Equal(t, exitOK, r.Code, r.Err)
		assert.Contains(t, r.Out, keyPath, "stored with the key's absolute path")
	}

	// From standard input there is no profile file: the path is the working directory's.
	r = run(t, content, "creds", "import", "jwt3", "-", "-q")
	require.Equal(t, exitOK, r.Code, r.Err)
	r = run(t, "", "creds", "show", "jwt3")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, filepath.Join(wd, "keys", "key.pem"))
	r = run(t, "", "tables", "-p", "jwt3")
	assert.Equal(t, exitUsage, r.Code, r.Err)
	assert.Contains(t, r.Err, filepath.Join(wd, "keys", "key.pem")+": no such file", "names the key file it looked for")
	assert.Contains(t, r.Err, "check privateKeyFile in the profile", "says what to check")
}

// jwtTokenEndpoint generates an RSA key and starts a token endpoint that answers a jwt-bearer
// grant whose assertion the key signed with token, calling issued (if not nil) with each
// assertion it accepts, and anything else with invalid_grant. It returns the key (PKCS #8 PEM)
// and the endpoint's URL.
func jwtTokenEndpoint(t *testing.T, token string, issued func(assertion string)) ([]byte, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		a := r.PostForm.Get("assertion")
		w.Header().Set("Content-Type", "application/json")
		if r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || !verifyRS256(&key.PublicKey, a) {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		if issued != nil {
			issued(a)
		}
		_, _ = w.Write([]byte(`{"access_token":"` + token + `","token_type":"Bearer","expires_in":3600}`))
	}))
	t.Cleanup(srv.Close)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), srv.URL
}
