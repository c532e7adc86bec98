package sharing

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deltashare/deltashare/sharing/protocol"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testClientSecret = "client-secret-xyz"

// tokenServer is an OAuth token endpoint counting the tokens it issues.
type tokenServer struct {
	*testServer
	issued    atomic.Int32
	expiresIn int
	status    int // non-zero: fail with this status
}

func newTokenServer(t *testing.T, expiresIn int) *tokenServer {
	ts := &tokenServer{expiresIn: expiresIn}
	ts.testServer = newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if r.Method != http.MethodPost || !ok || user != "client-id" || pass != testClientSecret {
			writeJSON(w, 401, map[string]string{"error": "invalid_client", "error_description": "bad client credentials"})
			return
		}
		if ts.status != 0 {
			writeJSON(w, ts.status, map[string]string{"error": "temporarily_unavailable"})
			return
		}
		_ = r.ParseForm()
		if r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("scope") != "delta-sharing.read other" {
			writeJSON(w, 400, map[string]string{"error": "invalid_request"})
			return
		}
		n := ts.issued.Add(1)
		writeJSON(w, 200, map[string]any{"access_token": fmt.Sprintf("access-%d", n), "token_type": "Bearer", "expires_in": ts.expiresIn})
	})
	return ts
}

func oauthProfile(endpoint, tokenEndpoint, secret string) *Profile {
	return &Profile{ShareCredentialsVersion: 2, Type: ProfileTypeOAuthClientCredentials, Endpoint: endpoint,
		TokenEndpoint: tokenEndpoint, ClientID: "client-id", ClientSecret: secret, Scope: "delta-sharing.read other"}
}

func TestOAuthClientCredentials(t *testing.T) {
	tests := []struct {
		name       string
		expiresIn  int
		margin     time.Duration
		requests   int
		wantTokens int32
	}{
		{name: "cached while valid", expiresIn: 3600, requests: 4, wantTokens: 1},
		{name: "refreshed before expiry", expiresIn: 120, margin: 5 * time.Minute, requests: 3, wantTokens: 3},
		{name: "custom margin keeps a short token", expiresIn: 120, margin: 10 * time.Second, requests: 3, wantTokens: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := newTokenServer(t, tc.expiresIn)
			api := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				writeRaw(w, 200, []byte(`{"items":[]}`))
			})
			opts := []Option{}
			if tc.margin != 0 {
				opts = append(opts, WithTokenRefreshMargin(tc.margin))
			}
			c, err := NewClient(oauthProfile(api.URL+"/api", tok.URL+"/oauth/token", testClientSecret), opts...)
			require.NoError(t, err)
			for range tc.requests {
				_, err := c.ListShares(context.Background())
				require.NoError(t, err)
			}
			assert.Equal(t, tc.wantTokens, tok.issued.Load())
			var seen []string
			for _, r := range api.requests() {
				seen = append(seen, r.Header.Get("Authorization"))
			}
			require.Len(t, seen, tc.requests)
			assert.Equal(t, "Bearer access-1", seen[0])
			assert.Equal(t, fmt.Sprintf("Bearer access-%d", tc.wantTokens), seen[len(seen)-1])
			// The token endpoint never receives the sharing endpoint's header, and vice versa.
			for _, r := range tok.requests() {
				assert.NotContains(t, r.Header.Get("Authorization"), "Bearer")
			}
		})
	}
}

func TestOAuthFailures(t *testing.T) {
	api := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { writeRaw(w, 200, []byte(`{}`)) })

	t.Run("rejected client", func(t *testing.T) {
		tok := newTokenServer(t, 3600)
		c, err := NewClient(oauthProfile(api.URL+"/api", tok.URL+"/oauth/token?tenant=must-not-leak", "wrong-secret-must-not-leak"),
			WithRetryPolicy(RetryPolicy{Sleep: (&sleepRecorder{}).sleep}))
		require.NoError(t, err)
		_, err = c.ListShares(context.Background())
		require.ErrorIs(t, err, protocol.ErrUnauthorized)
		assert.Contains(t, err.Error(), "OAuth access token")
		assert.Contains(t, err.Error(), "invalid_client")
		assertNoLeak(t, err.Error())
		assert.Equal(t, 1, tok.count(), "a rejected client is not retried")
		t.Log(err)
		assert.Equal(t, 0, api.count())
	})
	t.Run("token endpoint unavailable is retried", func(t *testing.T) {
		tok := newTokenServer(t, 3600)
		tok.status = 503
		sr := &sleepRecorder{}
		c, err := NewClient(oauthProfile(api.URL+"/api", tok.URL+"/oauth/token", testClientSecret),
			WithRetryPolicy(RetryPolicy{MaxTries: 3, Sleep: sr.sleep}))
		require.NoError(t, err)
		_, err = c.ListShares(context.Background())
		require.ErrorIs(t, err, protocol.ErrServer)
		assert.Equal(t, 3, tok.count())
		assertNoLeak(t, err.Error())
	})
	t.Run("token endpoint unreachable", func(t *testing.T) {
		c, err := NewClient(oauthProfile(api.URL+"/api", "http://127.0.0.1:1/token?x=must-not-leak", testClientSecret),
			WithRetryPolicy(RetryPolicy{MaxTries: 1}))
		require.NoError(t, err)
		_, err = c.ListShares(context.Background())
		require.Error(t, err)
		assertNoLeak(t, err.Error())
		assert.Contains(t, err.Error(), "http://127.0.0.1:1/token")
		t.Log(err)
	})
}

func TestBearerTokenSource(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := &Profile{ShareCredentialsVersion: 1, Type: ProfileTypeBearerToken, Endpoint: "https://h", BearerToken: "tok", ExpirationTime: now.Add(time.Hour)}
	src, err := newTokenSource(p, nil, 0, func() time.Time { return now })
	require.NoError(t, err)
	tok, err := src.Token()
	require.NoError(t, err)
	assert.Equal(t, "tok", tok.AccessToken)
	assert.Equal(t, p.ExpirationTime, tok.Expiry)
	src, err = newTokenSource(p, nil, 0, func() time.Time { return now.Add(2 * time.Hour) })
	require.NoError(t, err)
	_, err = src.Token()
	require.ErrorIs(t, err, protocol.ErrTokenExpired)

	_, err = NewTokenSource(&Profile{Type: "basic"}, nil, 0)
	require.ErrorIs(t, err, protocol.ErrInvalidProfile)
}

func TestOAuthTokenIsJSONDecodable(t *testing.T) {
	// The token endpoint may answer expires_in as a string (Azure AD does).
	api := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { writeRaw(w, 200, []byte(`{}`)) })
	tok := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "az", "token_type": "Bearer", "expires_in": "3599"})
	})
	c, err := NewClient(oauthProfile(api.URL+"/api", tok.URL+"/t", testClientSecret))
	require.NoError(t, err)
	_, err = c.ListShares(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "Bearer az", api.requests()[0].Header.Get("Authorization"))
}
