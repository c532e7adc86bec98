package main

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/tokenmgr/databricks/fakeworkspace"
)

const m2mApp = "6c1f2a3b-7777-4d5e-8f90-0a1b2c3d4e5f"

// TestServicePrincipalAuthentication: the commands authenticate as a service principal with
// Databricks OAuth (machine-to-machine) and with Entra ID (Azure), against the fake's token
// endpoints; a wrong secret says it was rejected (exit 4), never "no credentials".
func TestServicePrincipalAuthentication(t *testing.T) {
	const goodSecret, wrongSecret = "dose-m2m-secret-0123456789", "dose-wrong-secret-9876543210"
	for _, tc := range []struct {
		name string
		env  func(t *testing.T, fw *fakeworkspace.Workspace, secret string)
	}{
		{"oauth-m2m", func(t *testing.T, _ *fakeworkspace.Workspace, secret string) {
			t.Setenv("DATABRICKS_CLIENT_ID", m2mApp)
			t.Setenv("DATABRICKS_CLIENT_SECRET", secret)
		}},
		{"azure-client-secret", func(t *testing.T, fw *fakeworkspace.Workspace, secret string) {
			t.Setenv("ARM_CLIENT_ID", m2mApp)
			t.Setenv("ARM_CLIENT_SECRET", secret)
			t.Setenv("ARM_TENANT_ID", fakeworkspace.AzureTenant)
			t.Setenv("AZURE_AUTHORITY_HOST", fw.URL()+fakeworkspace.AzureLoginPath)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fw, admin := workspaceEnv(t)
			t.Setenv("DATABRICKS_TOKEN", "")
			fw.AddServicePrincipalSpec(fakeworkspace.ServicePrincipalSpec{ApplicationID: m2mApp, DisplayName: "automation", Secret: goodSecret})
			tr := &transcript{t: t}

			tc.env(t, fw, goodSecret)
			r := tr.run("", "sp", "list", "-O", "json")
			require.Equal(t, exitOK, r.Code, r.Err)
			assert.Contains(t, r.Out, `"displayName": "automation"`)
			assert.Contains(t, r.Err, "tokens owned are not shown", "a service principal is no admin")
			r = tr.run("", "sp", "show", "automation")
			require.Equal(t, exitOK, r.Code, r.Err)
			assert.Contains(t, r.Out, "may use tokens:    unknown (needs a workspace admin)")
			assert.Contains(t, r.Err, "needs a workspace admin")
			// The API calls carried the OAuth token; the token requests were client credentials.
			var tokenReqs []fakeworkspace.Request
			for _, req := range fw.Requests() {
				if req.Method == "POST" && (req.Path == fakeworkspace.PathOIDCToken || req.Path == fakeworkspace.AzureLoginPath+fakeworkspace.AzureTenant+"/oauth2/token") {
					tokenReqs = append(tokenReqs, req)
				}
			}
			require.NotEmpty(t, tokenReqs)
			resources := map[string]bool{}
			for _, req := range tokenReqs {
				form, err := url.ParseQuery(string(req.Body))
				require.NoError(t, err)
				assert.Equal(t, "client_credentials", form.Get("grant_type"))
				if tc.name == "oauth-m2m" {
					assert.Equal(t, "all-apis", form.Get("scope"))
					id, secret, ok := basicAuth(req.Header.Get("Authorization"))
					require.True(t, ok, "client secret in the Basic header")
					assert.Equal(t, m2mApp, id)
					assert.Equal(t, goodSecret, secret)
				} else {
					id, _, ok := basicAuth(req.Header.Get("Authorization"))
					if !ok {
						id = form.Get("client_id")
					}
					assert.Equal(t, m2mApp, id)
					resources[form.Get("resource")] = true
				}
			}
			api := fw.RequestsTo(fakeworkspace.PathServicePrincipals)
			require.NotEmpty(t, api)
			if tc.name == "azure-client-secret" {
				assert.Equal(t, map[string]bool{fakeworkspace.AzureDatabricksResource: true, fakeworkspace.AzureManagementResource: true}, resources,
					"a token for Azure Databricks plus the management token")
				assert.True(t, fw.AzureManagementTokenValid(api[0].Header.Get("X-Databricks-Azure-SP-Management-Token")))
			}

			// A wrong secret: rejected, exit 4, the secret never shown.
			tc.env(t, fw, wrongSecret)
			r = tr.run("", "pat", "list")
			assert.Equal(t, exitAuth, r.Code, r.Err)
			assert.Contains(t, r.Err, "rejected the service principal's client secret")
			assert.NotContains(t, r.Err, "no Databricks credentials found")
			sweepSecrets(t, tr, goodSecret, wrongSecret, admin)
		})
	}
}

// basicAuth decodes a Basic Authorization header.
func basicAuth(header string) (user, pass string, ok bool) {
	r := &http.Request{Header: http.Header{"Authorization": []string{header}}}
	return r.BasicAuth()
}
