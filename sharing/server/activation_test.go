package server

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	infoPath     = "/api/2.1/unity-catalog/public/data_sharing_activation_info/"
	retrievePath = "/api/2.1/unity-catalog/public/data_sharing_activation/"
)

func activationFixture(t *testing.T) *fixture {
	return startFixture(t, func(c *Config) {
		c.Activation = true
		c.Tokens = nil // activation alone is enough to start
	})
}

func mint(t *testing.T, f *fixture, ttl time.Duration, opts ...ActivationOption) (link, code string) {
	link, err := f.srv.NewActivation(context.Background(), ttl, opts...)
	require.NoError(t, err)
	u, err := url.Parse(link)
	require.NoError(t, err)
	require.Equal(t, "/delta_sharing/retrieve_config.html", u.Path)
	require.True(t, strings.HasPrefix(link, f.base))
	return link, u.RawQuery
}

func TestActivationDownloadOnce(t *testing.T) {
	f := activationFixture(t)
	link, code := mint(t, f, 2*time.Hour)
	assert.Regexp(t, `^[A-Za-z0-9_-]{43}$`, code, "256-bit URL-safe code")
	_, code2 := mint(t, f, 0)
	assert.NotEqual(t, code, code2)

	r := do(t, "GET", link, "", nil)
	assert.Equal(t, 200, r.status)
	assert.Contains(t, r.header.Get("Content-Type"), "text/html")
	assert.Contains(t, string(r.body), "deltashare activate")
	assert.NotContains(t, string(r.body), code)

	r = do(t, "GET", f.base+infoPath+code, "", nil)
	require.Equal(t, 200, r.status, "%s", r.body)
	assert.Equal(t, map[string]any{}, r.json(t))

	r = do(t, "GET", f.base+retrievePath+code, "", nil)
	require.Equal(t, 200, r.status, "%s", r.body)
	var cred struct {
		ShareCredentialsVersion int    `json:"shareCredentialsVersion"`
		BearerToken             string `json:"bearerToken"`
		Endpoint                string `json:"endpoint"`
		ExpirationTime          string `json:"expirationTime"`
	}
	require.NoError(t, json.Unmarshal(r.body, &cred))
	assert.Equal(t, 1, cred.ShareCredentialsVersion)
	assert.Equal(t, f.api, cred.Endpoint)
	assert.Equal(t, f.clock.Now().Add(2*time.Hour).UTC().Format(time.RFC3339), cred.ExpirationTime)
	require.NotEmpty(t, cred.BearerToken)

	// Second download: the Databricks error shape; the token stays valid.
	for _, p := range []string{retrievePath, infoPath} {
		r = do(t, "GET", f.base+p+code, "", nil)
		assert.Equal(t, 404, r.status)
		m := r.json(t)
		assert.Equal(t, CodeResourceDoesNotExist, m["error_code"])
		assert.Contains(t, m["message"], "already been used")
		assert.NotContains(t, string(r.body), cred.BearerToken)
	}
	r = do(t, "GET", cred.Endpoint+"/shares", cred.BearerToken, nil)
	require.Equal(t, 200, r.status)
	assert.Equal(t, []string{"s1", "s2", "s3"}, itemNames(t, r.json(t), "name"))

	// The profile written for it carries the expiry.
	require.NoError(t, f.srv.WriteProfile(t.TempDir()+"/p.share", cred.BearerToken))

	// Unknown codes.
	for _, c := range []string{"nope", code + "x", strings.ToUpper(code2)} {
		r = do(t, "GET", f.base+retrievePath+c, "", nil)
		assert.Equal(t, 404, r.status, c)
		assert.Equal(t, CodeResourceDoesNotExist, r.json(t)["error_code"])
	}
	assert.Equal(t, 405, do(t, "POST", f.base+retrievePath+code2, "", nil).status)

	// Neither codes nor tokens reach the log; a short tag of the code does.
	logs := f.logs.String()
	for _, secret := range []string{code, code2, cred.BearerToken} {
		assert.NotContains(t, logs, secret)
	}
	assert.Contains(t, logs, codeTag(code))
	assert.Contains(t, logs, "activation link used")
}

func TestActivationTokenValidOnMintAndExpires(t *testing.T) {
	f := activationFixture(t)
	_, code := mint(t, f, time.Hour, ActivationShares("s2"), ActivationName("recipient-x"))
	// The token exists from mint on: download after a while still returns a working token.
	f.clock.Add(30 * time.Minute)
	r := do(t, "GET", f.base+retrievePath+code, "", nil)
	require.Equal(t, 200, r.status)
	var cred map[string]any
	require.NoError(t, json.Unmarshal(r.body, &cred))
	tok := cred["bearerToken"].(string)
	r = do(t, "GET", f.api+"/shares", tok, nil)
	require.Equal(t, 200, r.status)
	assert.Equal(t, []string{"s2"}, itemNames(t, r.json(t), "name"), "restricted to the share")
	assert.Contains(t, f.logs.String(), "token=recipient-x")

	f.clock.Add(30 * time.Minute)
	r = do(t, "GET", f.api+"/shares", tok, nil)
	assert.Equal(t, 401, r.status)
	assert.Contains(t, r.json(t)["message"], "expired")

	// A link not downloaded before expiry is gone.
	_, code = mint(t, f, time.Minute)
	f.clock.Add(time.Minute)
	r = do(t, "GET", f.base+retrievePath+code, "", nil)
	assert.Equal(t, 404, r.status)
	assert.Contains(t, r.json(t)["message"], "expired")
}

func TestActivationDisabled(t *testing.T) {
	f := startFixture(t, nil)
	_, err := f.srv.NewActivation(context.Background(), time.Hour)
	assert.ErrorIs(t, err, ErrActivationDisabled)
	assert.EqualError(t, err, "activation links are disabled: set activation: true in the server config (or use Config.Activation)")
	var h interface{ Hint() string }
	require.ErrorAs(t, err, &h)
	assert.Equal(t, "set activation: true in the server config (or use {Config.Activation})", h.Hint())
	// The public endpoints do not exist: they fall to the authenticated protocol handler.
	assert.Equal(t, 401, do(t, "GET", f.base+retrievePath+"x", "", nil).status)

	g := activationFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = g.srv.NewActivation(ctx, time.Hour)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = g.srv.NewActivation(context.Background(), -time.Hour)
	assert.Error(t, err)
}

func TestActivationNeedsBaseURL(t *testing.T) {
	cfg, _ := baseConfig(t, t.TempDir())
	cfg.Activation = true
	s, err := New(cfg)
	require.NoError(t, err)
	_, err = s.NewActivation(context.Background(), time.Hour)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "publicURL")

	cfg.PublicURL = "https://share.example.com"
	s, err = New(cfg)
	require.NoError(t, err)
	link, err := s.NewActivation(context.Background(), time.Hour)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(link, "https://share.example.com/delta_sharing/retrieve_config.html?"))
	assert.Equal(t, "https://share.example.com/delta-sharing", s.Endpoint())
}
