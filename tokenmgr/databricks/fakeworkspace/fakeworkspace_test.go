package fakeworkspace

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/databricks/databricks-sdk-go/service/settings"
	"github.com/databricks/databricks-sdk-go/service/sharing"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// call sends a request to the fake and returns the status and body.
func call(t *testing.T, w *Workspace, method, path, token, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, w.URL()+path, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

func TestAuthentication(t *testing.T) {
	w := New(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w.SetClock(func() time.Time { return now })
	id, tok := w.MintToken("", "", time.Hour)
	tests := []struct {
		name   string
		token  string
		status int
	}{
		{"valid", tok, 200},
		{"missing", "", 401},
		{"unknown", "dapi-unknown", 401},
	}
	for _, tc := range tests {
		status, _ := call(t, w, "GET", PathMe, tc.token, "")
		assert.Equal(t, tc.status, status, tc.name)
	}
	now = now.Add(2 * time.Hour)
	status, body := call(t, w, "GET", PathMe, tok, "")
	assert.Equal(t, 401, status, "expired")
	assert.Contains(t, string(body), "Invalid access token")
	now = now.Add(-2 * time.Hour)
	assert.True(t, w.TokenExists(id))
	status, _ = call(t, w, "POST", PathTokenDelete, tok, `{"token_id":"`+id+`"}`)
	assert.Equal(t, 200, status)
	status, _ = call(t, w, "GET", PathMe, tok, "")
	assert.Equal(t, 401, status, "revoked")
	assert.False(t, w.TokenExists(id))

	// Public endpoints need no token.
	code := strings.SplitN(w.AddRecipient("r"), "?", 2)[1]
	status, _ = call(t, w, "GET", PathActivationInfo+code, "", "")
	assert.Equal(t, 200, status)
}

func TestTokenShapesDecodeIntoSDKModels(t *testing.T) {
	w := New(t)
	_, tok := w.MintToken("", "", 0)
	status, body := call(t, w, "POST", PathTokenCreate, tok, `{"comment":"c","lifetime_seconds":60}`)
	require.Equal(t, 200, status)
	var created settings.CreateTokenResponse
	require.NoError(t, json.Unmarshal(body, &created))
	assert.NotEmpty(t, created.TokenValue)
	assert.Equal(t, "c", created.TokenInfo.Comment)
	assert.Equal(t, int64(60000), created.TokenInfo.ExpiryTime-created.TokenInfo.CreationTime)

	_, body = call(t, w, "GET", PathTokenList, tok, "")
	var list settings.ListPublicTokensResponse
	require.NoError(t, json.Unmarshal(body, &list))
	require.Len(t, list.TokenInfos, 2)
	for _, ti := range list.TokenInfos {
		if ti.TokenId != created.TokenInfo.TokenId {
			assert.Equal(t, int64(-1), ti.ExpiryTime, "non-expiring tokens list -1")
		}
	}

	_, body = call(t, w, "GET", PathTokenManagement, tok, "")
	var all settings.ListTokensResponse
	require.NoError(t, json.Unmarshal(body, &all))
	assert.Len(t, all.TokenInfos, 2)
	assert.Equal(t, DefaultUser, all.TokenInfos[0].CreatedByUsername)

	_, body = call(t, w, "GET", PathTokenManagement+"/"+created.TokenInfo.TokenId, tok, "")
	var got settings.GetTokenResponse
	require.NoError(t, json.Unmarshal(body, &got))
	assert.Equal(t, created.TokenInfo.TokenId, got.TokenInfo.TokenId)

	status, _ = call(t, w, "DELETE", PathTokenManagement+"/"+created.TokenInfo.TokenId, tok, "")
	assert.Equal(t, 200, status)
	assert.False(t, w.TokenValid(created.TokenValue))
}

func TestRecipientShapesAndOneTimeActivation(t *testing.T) {
	w := New(t)
	_, tok := w.MintToken("", "", 0)
	status, body := call(t, w, "POST", PathRecipients, tok, `{"name":"acme","authentication_type":"TOKEN"}`)
	require.Equal(t, 200, status)
	var info sharing.RecipientInfo
	require.NoError(t, json.Unmarshal(body, &info))
	assert.Equal(t, sharing.AuthenticationTypeToken, info.AuthenticationType)
	require.Len(t, info.Tokens, 1)
	assert.Equal(t, w.ActivationLink("acme"), info.Tokens[0].ActivationUrl)
	code := strings.SplitN(info.ActivationUrl, "?", 2)[1]

	status, body = call(t, w, "GET", PathActivationRetrieve+code, "", "")
	require.Equal(t, 200, status)
	var cred sharing.RetrieveTokenResponse
	require.NoError(t, json.Unmarshal(body, &cred))
	assert.Equal(t, w.RecipientBearerToken("acme"), cred.BearerToken)
	assert.Equal(t, 1, cred.ShareCredentialsVersion)

	status, body = call(t, w, "GET", PathActivationRetrieve+code, "", "")
	assert.Equal(t, 404, status, "one-time download")
	assert.Contains(t, string(body), "RESOURCE_DOES_NOT_EXIST")
	assert.Empty(t, w.ActivationLink("acme"))

	status, _ = call(t, w, "POST", PathRecipients, tok, `{"name":"acme","authentication_type":"TOKEN"}`)
	assert.Equal(t, 409, status)
	status, _ = call(t, w, "POST", PathRecipients+"/acme/rotate-token", tok, `{}`)
	assert.Equal(t, 400, status, "existing_token_expire_in_seconds is required")
}

func TestFaultsAndRecording(t *testing.T) {
	w := New(t)
	_, tok := w.MintToken("", "", 0)
	w.InjectFault(Fault{Method: "GET", Path: PathMe, Skip: 1, Times: 2, Status: 503})
	var got []int
	for range 4 {
		status, _ := call(t, w, "GET", PathMe, tok, "")
		got = append(got, status)
	}
	assert.Equal(t, []int{200, 503, 503, 200}, got)

	w.FailNext("", "/api/2.0/token/*", 1, 500)
	status, body := call(t, w, "GET", PathTokenList, tok, "")
	assert.Equal(t, 500, status)
	assert.JSONEq(t, `{"error_code":"INTERNAL_ERROR","message":"injected fault"}`, string(body))

	reqs := w.RequestsTo(PathMe)
	require.Len(t, reqs, 4)
	assert.Equal(t, "Bearer "+tok, reqs[0].Header.Get("Authorization"))
	assert.Equal(t, 503, reqs[1].Status)
	w.ResetRequests()
	assert.Empty(t, w.Requests())

	status, body = call(t, w, "GET", "/api/2.0/unknown", tok, "")
	assert.Equal(t, 404, status)
	assert.Contains(t, string(body), "ENDPOINT_NOT_FOUND")
}

func TestIsolateEnv(t *testing.T) {
	t.Setenv("DATABRICKS_TOKEN", "leak")
	t.Setenv("ARM_CLIENT_SECRET", "leak")
	home := IsolateEnv(t)
	_, ok := lookupEnv("DATABRICKS_TOKEN")
	assert.False(t, ok)
	_, ok = lookupEnv("ARM_CLIENT_SECRET")
	assert.False(t, ok)
	v, _ := lookupEnv("HOME")
	assert.Equal(t, home, v)
	cfg, _ := lookupEnv("DATABRICKS_CONFIG_FILE")
	assert.True(t, strings.HasPrefix(cfg, home))
}

func lookupEnv(k string) (string, bool) { return os.LookupEnv(k) }
