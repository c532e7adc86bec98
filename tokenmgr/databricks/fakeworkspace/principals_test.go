package fakeworkspace

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSCIMServicePrincipals(t *testing.T) {
	w := New(t)
	_, tok := w.MintToken("", "", 0)
	for i, name := range []string{"FIVETRAN_USER", "dbt_user", "reporting"} {
		w.AddServicePrincipal("app-"+string(rune('a'+i)), name)
	}
	w.SetSCIMPageSize(2)
	var page struct {
		TotalResults int `json:"totalResults"`
		StartIndex   int `json:"startIndex"`
		ItemsPerPage int `json:"itemsPerPage"`
		Resources    []struct {
			ID            string `json:"id"`
			ApplicationID string `json:"applicationId"`
			DisplayName   string `json:"displayName"`
		} `json:"Resources"`
	}
	status, body := call(t, w, "GET", PathServicePrincipals+"?startIndex=1&count=100", tok, "")
	require.Equal(t, 200, status, string(body))
	require.NoError(t, json.Unmarshal(body, &page))
	assert.Equal(t, 3, page.TotalResults)
	assert.Len(t, page.Resources, 2, "capped at the page size")
	status, body = call(t, w, "GET", PathServicePrincipals+"?startIndex=3", tok, "")
	require.Equal(t, 200, status)
	require.NoError(t, json.Unmarshal(body, &page))
	assert.Equal(t, 3, page.StartIndex)
	require.Len(t, page.Resources, 1)
	assert.Equal(t, "reporting", page.Resources[0].DisplayName)

	// Filters: eq and co, case-insensitive.
	status, body = call(t, w, "GET", PathServicePrincipals+"?filter="+url.QueryEscape(`displayName co "_USER"`), tok, "")
	require.Equal(t, 200, status)
	require.NoError(t, json.Unmarshal(body, &page))
	assert.Equal(t, 2, page.TotalResults)
	status, body = call(t, w, "GET", PathServicePrincipals+"?filter="+url.QueryEscape(`applicationId eq "APP-B"`), tok, "")
	require.Equal(t, 200, status)
	require.NoError(t, json.Unmarshal(body, &page))
	require.Len(t, page.Resources, 1)
	assert.Equal(t, "dbt_user", page.Resources[0].DisplayName)
	status, _ = call(t, w, "GET", PathServicePrincipals+"?filter="+url.QueryEscape(`displayName gt "a"`), tok, "")
	assert.Equal(t, 400, status, "unsupported filter")

	// Delete: its tokens die with it.
	_, spTok := w.MintToken("app-b", "x", 0)
	require.True(t, w.TokenValid(spTok))
	status, _ = call(t, w, "DELETE", PathServicePrincipals+"/"+page.Resources[0].ID, tok, "")
	assert.Equal(t, 204, status)
	assert.False(t, w.TokenValid(spTok))
	assert.False(t, w.ServicePrincipalExists("app-b"))
}

func TestTokenPermissions(t *testing.T) {
	w := New(t)
	_, tok := w.MintToken("", "", 0)
	w.AddServicePrincipal("app-a", "a")
	w.AddUser("bob@example.com", false)
	assert.True(t, w.CanUseTokens("app-a"), "the users group may use tokens by default")
	w.RestrictTokenUse()
	assert.False(t, w.CanUseTokens("app-a"))
	w.GrantTokenUse("bob@example.com")

	status, body := call(t, w, "PATCH", PathTokenPermissions, tok, `{"access_control_list":[{"service_principal_name":"app-a","permission_level":"CAN_USE"}]}`)
	require.Equal(t, 200, status, string(body))
	assert.True(t, w.CanUseTokens("app-a"))
	assert.True(t, w.CanUseTokens("bob@example.com"), "PATCH keeps the other entries")
	assert.Contains(t, string(body), `"group_name":"admins"`)
	status, _ = call(t, w, "PUT", PathTokenPermissions, tok, `{"access_control_list":[{"user_name":"bob@example.com","permission_level":"CAN_USE"}]}`)
	require.Equal(t, 200, status)
	assert.False(t, w.CanUseTokens("app-a"), "PUT replaces")
	status, _ = call(t, w, "PATCH", PathTokenPermissions, tok, `{"access_control_list":[{"service_principal_name":"nope","permission_level":"CAN_USE"}]}`)
	assert.Equal(t, 400, status)

	// Creating a token on behalf of a principal without CAN_USE, or with tokens off: 403.
	status, body = call(t, w, "POST", PathOnBehalfOf, tok, `{"application_id":"app-a","comment":"c"}`)
	assert.Equal(t, 403, status)
	assert.Contains(t, string(body), "not enabled")
	w.GrantTokenUse("app-a")
	w.SetTokensEnabled(false)
	status, body = call(t, w, "POST", PathOnBehalfOf, tok, `{"application_id":"app-a","comment":"c"}`)
	assert.Equal(t, 403, status)
	assert.Contains(t, string(body), "disabled")
	w.SetTokensEnabled(true)
	status, _ = call(t, w, "POST", PathOnBehalfOf, tok, `{"application_id":"app-a","comment":"c"}`)
	assert.Equal(t, 200, status)
}

func TestOAuthEndpoints(t *testing.T) {
	w := New(t)
	w.AddServicePrincipalSpec(ServicePrincipalSpec{ApplicationID: "app-m2m", DisplayName: "m2m", Secret: "s3cret"})
	post := func(path, form string, basic ...string) (int, map[string]any) {
		req, err := http.NewRequest("POST", w.URL()+path, strings.NewReader(form))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if len(basic) == 2 {
			req.SetBasicAuth(basic[0], basic[1])
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		return resp.StatusCode, out
	}
	status, out := post(PathOIDCToken, "grant_type=client_credentials&scope=all-apis", "app-m2m", "s3cret")
	require.Equal(t, 200, status, out)
	access := out["access_token"].(string)
	status, _ = call(t, w, "GET", PathMe, access, "")
	assert.Equal(t, 200, status, "the OAuth token authenticates")
	status, out = post(PathOIDCToken, "grant_type=client_credentials", "app-m2m", "wrong")
	assert.Equal(t, 401, status)
	assert.Equal(t, "invalid_client", out["error"])

	azure := AzureLoginPath + AzureTenant + "/oauth2/token"
	status, out = post(azure, "grant_type=client_credentials&client_id=app-m2m&client_secret=s3cret&resource="+url.QueryEscape(AzureManagementResource))
	require.Equal(t, 200, status, out)
	mgmt := out["access_token"].(string)
	assert.True(t, w.AzureManagementTokenValid(mgmt))
	status, _ = call(t, w, "GET", PathMe, mgmt, "")
	assert.Equal(t, 401, status, "a management token does not authenticate to the workspace")
	status, out = post(azure, "grant_type=client_credentials&client_id=app-m2m&client_secret=s3cret&resource="+AzureDatabricksResource)
	require.Equal(t, 200, status, out)
	status, _ = call(t, w, "GET", PathMe, out["access_token"].(string), "")
	assert.Equal(t, 200, status)
	status, _ = post(AzureLoginPath+"other-tenant/oauth2/token", "grant_type=client_credentials&client_id=app-m2m&client_secret=s3cret")
	assert.Equal(t, 400, status)
}
