package main

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/internal/secrettest"
	"github.com/deltashare/deltashare/tokenmgr/databricks/fakeworkspace"
)

const (
	fivetranApp = "0b6a7e52-1111-4c1e-9d55-5f0e4a3b2c01"
	etlApp1     = "0b6a7e52-2222-4c1e-9d55-5f0e4a3b2c02"
	etlApp2     = "0b6a7e52-3333-4c1e-9d55-5f0e4a3b2c03"
)

// partnerWorkspace is a fake workspace as Partner Connect leaves it: a FIVETRAN_USER principal,
// two principals sharing a display name, a few more (SCIM answers two per page), and token use
// restricted to admins and principals granted CAN_USE.
func partnerWorkspace(t *testing.T) (*fakeworkspace.Workspace, string) {
	t.Helper()
	fw, admin := workspaceEnv(t)
	fw.SetSCIMPageSize(2)
	fw.AddServicePrincipal(fivetranApp, "FIVETRAN_USER")
	fw.AddServicePrincipal(etlApp1, "ETL bot")
	fw.AddServicePrincipal(etlApp2, "etl BOT")
	fw.AddServicePrincipal("0b6a7e52-4444-4c1e-9d55-5f0e4a3b2c04", "reporting")
	fw.AddServicePrincipal("0b6a7e52-5555-4c1e-9d55-5f0e4a3b2c05", "dbt_USER")
	fw.AddUser("analyst@example.com", false)
	fw.RestrictTokenUse()
	fw.GrantTokenUse("analyst@example.com")
	return fw, admin
}

// lastBody is the body of the last request to path with method.
func lastBody(t *testing.T, fw *fakeworkspace.Workspace, method, path string) string {
	t.Helper()
	var body string
	for _, r := range fw.RequestsTo(path) {
		if r.Method == method && r.Path == path {
			body = string(r.Body)
		}
	}
	require.NotEmpty(t, body, "no %s %s", method, path)
	return body
}

func TestServicePrincipalCommands(t *testing.T) {
	fw, admin := partnerWorkspace(t)
	d := testDeps(t, storeDir(t))
	tr := &transcript{t: t}
	var secrets []string

	// sp list: every principal (SCIM pages of two), with the tokens each owns.
	fw.AddTokenSpec(fakeworkspace.TokenSpec{Owner: "0b6a7e52-4444-4c1e-9d55-5f0e4a3b2c04", Comment: "reports", CreatedBy: fakeworkspace.DefaultUser})
	r := tr.add(call(t, d, "", runSPList, spListOptions{Output: "text"}))
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Regexp(t, `(?m)^DISPLAY NAME\s+APPLICATION ID\s+ACTIVE\s+TOKENS$`, r.Out)
	assert.Regexp(t, `(?m)^FIVETRAN_USER\s+`+fivetranApp+`\s+yes\s+0$`, r.Out)
	assert.Regexp(t, `(?m)^reporting\s+\S+\s+yes\s+1$`, r.Out)
	assert.Contains(t, r.Out, "5 service principal(s)")
	pages := 0
	for _, req := range fw.RequestsTo(fakeworkspace.PathServicePrincipals) {
		if req.Method == "GET" {
			pages++
		}
	}
	assert.GreaterOrEqual(t, pages, 3, "five principals at two a page")

	// --name-contains: a SCIM filter, case-insensitive; JSON with a total.
	fw.ResetRequests()
	r = tr.add(call(t, d, "", runSPList, spListOptions{NameContains: "_user", Output: "json"}))
	require.Equal(t, exitOK, r.Code, r.Err)
	var listed struct {
		ServicePrincipals []struct {
			DisplayName   string `json:"displayName"`
			ApplicationID string `json:"applicationId"`
			Active        bool   `json:"active"`
			TokensOwned   *int   `json:"tokensOwned"`
		} `json:"servicePrincipals"`
		Total int `json:"total"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Out), &listed))
	require.Equal(t, 2, listed.Total)
	assert.Equal(t, "dbt_USER", listed.ServicePrincipals[0].DisplayName)
	assert.Equal(t, fivetranApp, listed.ServicePrincipals[1].ApplicationID)
	require.NotNil(t, listed.ServicePrincipals[1].TokensOwned)
	q, err := url.ParseQuery(fw.RequestsTo(fakeworkspace.PathServicePrincipals)[0].RawQuery)
	require.NoError(t, err)
	assert.Equal(t, `displayName co "_user"`, q.Get("filter"))

	// sp show by display name, any case: no CAN_USE on tokens yet.
	r = tr.add(call(t, d, "", runSPShow, spShowOptions{Name: "fivetran_user", Output: "text"}))
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "application ID:    "+fivetranApp)
	assert.Contains(t, r.Out, "may use tokens:    no: grant it with deltashare sp grant-tokens "+fivetranApp)

	// A token on its behalf is refused (403): the error says why and what fixes it.
	r = tr.add(call(t, d, "", runPATCreate, patCreateOptions{ForServicePrincipal: "FIVETRAN_USER", Show: true, Output: "text", Lifetime: time.Hour}))
	assert.Equal(t, exitAuth, r.Code, r.Err)
	assert.Contains(t, r.Err, "the service principal has no CAN_USE permission on tokens")
	assert.Contains(t, r.Err, "grant it with deltashare sp grant-tokens "+fivetranApp)
	assert.Empty(t, fw.TokenIDs(fivetranApp))

	// grant-tokens: one PATCH with this principal only; the other entries stay.
	r = tr.add(call(t, d, "", runSPGrantTokens, spGrantTokensOptions{Name: fivetranApp, Output: "text"}))
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "granted CAN_USE on tokens to service principal FIVETRAN_USER (application ID "+fivetranApp+")")
	assert.JSONEq(t, `{"access_control_list":[{"service_principal_name":"`+fivetranApp+`","permission_level":"CAN_USE"}]}`,
		lastBody(t, fw, "PATCH", fakeworkspace.PathTokenPermissions))
	assert.True(t, fw.CanUseTokens(fivetranApp))
	assert.True(t, fw.CanUseTokens("analyst@example.com"), "the other entries are kept")
	r = tr.add(call(t, d, "", runSPGrantTokens, spGrantTokensOptions{Name: "FIVETRAN_USER", Output: "json"}))
	require.Equal(t, exitOK, r.Code, r.Err)
	var granted map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Out), &granted))
	assert.Equal(t, false, granted["granted"])
	assert.Equal(t, "direct", granted["alreadyVia"])

	// Now the token can be created, by display name.
	r = call(t, d, "", runPATCreate, patCreateOptions{ForServicePrincipal: "Fivetran_User", Comment: "fivetran", Show: true, Output: "json", Lifetime: 90 * 24 * time.Hour})
	require.Equal(t, exitOK, r.Code, r.Err)
	var created map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Out), &created))
	value := created["tokenValue"].(string)
	secrets = append(secrets, value)
	assert.True(t, fw.TokenValid(value))
	assert.JSONEq(t, `{"application_id":"`+fivetranApp+`","comment":"fivetran","lifetime_seconds":7776000}`,
		lastBody(t, fw, "POST", fakeworkspace.PathOnBehalfOf))
	r = tr.add(call(t, d, "", runSPShow, spShowOptions{Name: "FIVETRAN_USER", Output: "json"}))
	require.Equal(t, exitOK, r.Code, r.Err)
	var shown struct {
		ApplicationID string `json:"applicationId"`
		CanUseTokens  bool   `json:"canUseTokens"`
		TokenUseVia   string `json:"tokenUseVia"`
		Tokens        []struct {
			TokenID   string `json:"tokenId"`
			Comment   string `json:"comment"`
			Owner     string `json:"owner"`
			CreatedBy string `json:"createdBy"`
		} `json:"tokens"`
		TotalTokens int `json:"totalTokens"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Out), &shown))
	assert.True(t, shown.CanUseTokens)
	assert.Equal(t, "direct", shown.TokenUseVia)
	require.Equal(t, 1, shown.TotalTokens)
	assert.Equal(t, "fivetran", shown.Tokens[0].Comment)
	assert.Equal(t, "FIVETRAN_USER", shown.Tokens[0].Owner)
	assert.Equal(t, fakeworkspace.DefaultUser, shown.Tokens[0].CreatedBy)

	// A display name two principals share: exit 2 listing both; nothing is created.
	before := len(fw.RequestsTo(fakeworkspace.PathOnBehalfOf))
	r = tr.add(call(t, d, "", runPATCreate, patCreateOptions{ForServicePrincipal: "etl bot", Show: true, Output: "text"}))
	assert.Equal(t, exitUsage, r.Code, r.Err)
	assert.Contains(t, r.Err, "2 service principals have this display name")
	assert.Contains(t, r.Err, etlApp1)
	assert.Contains(t, r.Err, etlApp2)
	assert.Equal(t, before, len(fw.RequestsTo(fakeworkspace.PathOnBehalfOf)))
	r = tr.add(call(t, d, "", runSPShow, spShowOptions{Name: "nobody", Output: "text"}))
	assert.Equal(t, exitError, r.Code, r.Err)
	assert.Contains(t, r.Err, "no service principal has this display name or application ID")
	assert.Contains(t, r.Err, "`deltashare sp list`")

	// Tokens turned off for the workspace: the principal may use tokens, so that is the cause.
	fw.SetTokensEnabled(false)
	r = tr.add(call(t, d, "", runPATCreate, patCreateOptions{ForServicePrincipal: fivetranApp, Show: true, Output: "text"}))
	assert.Equal(t, exitAuth, r.Code, r.Err)
	assert.Contains(t, r.Err, "tokens are most likely disabled for the workspace")
	fw.SetTokensEnabled(true)

	// sp delete without --yes: says what would go, deletes nothing.
	r = tr.add(call(t, d, "", runSPDelete, spDeleteOptions{Name: "FIVETRAN_USER", Output: "text"}))
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "would delete service principal FIVETRAN_USER")
	assert.Contains(t, r.Out, "1 token(s) it owns would stop working")
	assert.Contains(t, r.Out, shown.Tokens[0].TokenID)
	assert.Contains(t, r.Out, "nothing was deleted")
	assert.True(t, fw.ServicePrincipalExists(fivetranApp))
	assert.True(t, fw.TokenValid(value))
	// With --yes (through the app): gone, and its token with it.
	r = tr.run("", "sp", "delete", "--yes", "FIVETRAN_USER", "-O", "json")
	require.Equal(t, exitOK, r.Code, r.Err)
	var deleted struct {
		Deleted     bool `json:"deleted"`
		TotalTokens int  `json:"totalTokens"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Out), &deleted))
	assert.True(t, deleted.Deleted)
	assert.Equal(t, 1, deleted.TotalTokens)
	assert.False(t, fw.ServicePrincipalExists(fivetranApp))
	assert.False(t, fw.TokenValid(value))

	// Usage errors through the app.
	r = tr.run("", "sp", "show")
	assert.Equal(t, exitUsage, r.Code)
	r = tr.run("", "sp", "frobnicate")
	assert.Equal(t, exitUsage, r.Code)
	assert.Contains(t, r.Err, `unknown command "frobnicate"`)

	sweepSecrets(t, tr, append(secrets, admin)...)
}

// sweepSecrets checks every output of the transcript for the secrets, in clear and
// hex-encoded.
func sweepSecrets(t *testing.T, tr *transcript, secrets ...string) {
	t.Helper()
	tr.assertNoSecrets(secrets...)
	for _, run := range tr.runs {
		secrettest.AssertNoSecret(t, run.Out+run.Err, secrets...)
	}
}

// TestPATListOwners: --all shows the principal that owns each token (not the admin who created
// it on its behalf), resolved once per owner; --owner filters; last use and the 600-token cap.
func TestPATListOwners(t *testing.T) {
	fw, admin := partnerWorkspace(t)
	d := testDeps(t, storeDir(t))
	tr := &transcript{t: t}
	now := time.Now()
	fw.AddTokenSpec(fakeworkspace.TokenSpec{Owner: fivetranApp, CreatedBy: fakeworkspace.DefaultUser, Comment: "fivetran-old",
		Created: now.Add(-100 * 24 * time.Hour), LastUsed: now.Add(-85 * 24 * time.Hour)})
	fw.AddTokenSpec(fakeworkspace.TokenSpec{Owner: fivetranApp, CreatedBy: fakeworkspace.DefaultUser, Comment: "fivetran-new",
		Created: now.Add(-10 * 24 * time.Hour), LastUsed: now.Add(-24 * time.Hour)})
	for range 3 {
		fw.AddTokenSpec(fakeworkspace.TokenSpec{Owner: "analyst@example.com", Comment: "notebook"})
	}
	fw.ResetRequests()

	r := tr.add(call(t, d, "", runPATList, patListOptions{All: true, Window: 30 * 24 * time.Hour, Output: "text"}))
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Regexp(t, `(?m)^ID\s+OWNER\s+COMMENT\s+CREATED\s+EXPIRES\s+LAST USED\s*$`, r.Out)
	assert.Regexp(t, `(?m)^\w+\s+FIVETRAN_USER\s+fivetran-old\s+\S+\s+never\s+\S+\s+UNUSED 8[45]d: REVOKED AT 90d$`, r.Out)
	assert.Regexp(t, `(?m)^\w+\s+FIVETRAN_USER\s+fivetran-new\s+\S+\s+never\s+\d{4}-\d\d-\d\d\s*$`, r.Out)
	assert.NotRegexp(t, `(?m)^\w+\s+`+regexpQuote(fakeworkspace.DefaultUser)+`\s+fivetran`, r.Out, "not the creator")
	// Each owner looked up once: FIVETRAN_USER, the admin and the analyst.
	lookups := len(fw.RequestsTo(fakeworkspace.PathServicePrincipals+"/")) + len(fw.RequestsTo(fakeworkspace.PathUsers+"/"))
	assert.LessOrEqual(t, lookups, 5, "one service principal lookup per owner, plus a user lookup for users")

	r = tr.add(call(t, d, "", runPATList, patListOptions{All: true, Owner: "fivetran_user", Window: 30 * 24 * time.Hour, Output: "json"}))
	require.Equal(t, exitOK, r.Code, r.Err)
	var listed struct {
		Tokens []struct {
			Comment              string `json:"comment"`
			Owner                string `json:"owner"`
			LastUsed             string `json:"lastUsedTime"`
			UnusedSeconds        int64  `json:"unusedSeconds"`
			RevokedSoonForNonUse bool   `json:"revokedSoonForNonUse"`
		} `json:"tokens"`
		Total    int `json:"total"`
		TokenCap int `json:"tokenCap"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Out), &listed))
	require.Equal(t, 2, listed.Total)
	assert.Equal(t, 600, listed.TokenCap)
	assert.Equal(t, "fivetran-old", listed.Tokens[0].Comment)
	assert.True(t, listed.Tokens[0].RevokedSoonForNonUse)
	assert.False(t, listed.Tokens[1].RevokedSoonForNonUse)
	_, err := time.Parse(time.RFC3339, listed.Tokens[1].LastUsed)
	assert.NoError(t, err, "RFC 3339")
	assert.Equal(t, "FIVETRAN_USER", listed.Tokens[1].Owner)

	// An owner at 90% of the cap is named.
	for range 537 {
		fw.AddTokenSpec(fakeworkspace.TokenSpec{Owner: "analyst@example.com", Comment: "loop"})
	}
	r = tr.add(call(t, d, "", runPATList, patListOptions{All: true, Owner: "analyst@example.com", Window: 30 * 24 * time.Hour, Output: "text"}))
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "analyst@example.com owns 540 of at most 600 tokens")
	sweepSecrets(t, tr, admin)
}

func regexpQuote(s string) string {
	return strings.NewReplacer(".", `\.`, "+", `\+`).Replace(s)
}

// TestPATRotateServicePrincipal: the integration guides' order: new token on the principal's
// behalf, written to a 0600 file, verified as the principal, old token(s) revoked only when
// asked; several candidates are listed, never guessed.
func TestPATRotateServicePrincipal(t *testing.T) {
	fw, admin := partnerWorkspace(t)
	fw.GrantTokenUse(fivetranApp)
	tr := &transcript{t: t}
	oldID, oldValue := fw.AddTokenSpec(fakeworkspace.TokenSpec{Owner: fivetranApp, CreatedBy: fakeworkspace.DefaultUser, Comment: "fivetran"})
	otherID, otherValue := fw.AddTokenSpec(fakeworkspace.TokenSpec{Owner: fivetranApp, CreatedBy: fakeworkspace.DefaultUser, Comment: "something else"})
	dir := t.TempDir()
	readToken := func(path string) string {
		t.Helper()
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fileMode(t, path))
		return strings.TrimSpace(string(data))
	}

	// No --revoke-old-after: the old token is left alone; the command to revoke it is printed.
	out1 := filepath.Join(dir, "fivetran-1.token")
	r := tr.run("", "pat", "rotate", "--for-service-principal", "fivetran_user", "--comment", "fivetran", "--lifetime", "30d", "--out", out1)
	require.Equal(t, exitOK, r.Code, r.Err)
	new1 := readToken(out1)
	assert.True(t, fw.TokenValid(new1))
	assert.True(t, fw.TokenValid(oldValue), "not revoked without --revoke-old-after")
	assert.Contains(t, r.Out, "verified: the new token works as the service principal")
	assert.Contains(t, r.Out, "deltashare pat revoke --admin "+oldID)
	assert.NotContains(t, r.Out, otherID, "only tokens with the same comment are old")
	assert.JSONEq(t, `{"application_id":"`+fivetranApp+`","comment":"fivetran","lifetime_seconds":2592000}`,
		lastBody(t, fw, "POST", fakeworkspace.PathOnBehalfOf))
	me := fw.RequestsTo(fakeworkspace.PathMe)
	require.NotEmpty(t, me)
	assert.Equal(t, "Bearer "+new1, me[len(me)-1].Header.Get("Authorization"), "verified with the new token")

	// Now two tokens have the comment: with --revoke-old-after and no --old-id, exit 2 listing
	// both, nothing created, no file.
	before := len(fw.RequestsTo(fakeworkspace.PathOnBehalfOf))
	out2 := filepath.Join(dir, "fivetran-2.token")
	r = tr.run("", "pat", "rotate", "--for-service-principal", fivetranApp, "--comment", "fivetran", "--out", out2, "--revoke-old-after", "0")
	assert.Equal(t, exitUsage, r.Code, r.Err)
	assert.Contains(t, r.Err, "2 of its tokens have the comment \"fivetran\"")
	assert.Contains(t, r.Err, oldID)
	assert.Contains(t, r.Err, "--old-id ID[,ID]")
	assert.Equal(t, before, len(fw.RequestsTo(fakeworkspace.PathOnBehalfOf)))
	assert.NoFileExists(t, out2)

	// Named with --old-id and revoked at once (JSON).
	r = tr.run("", "pat", "rotate", "--for-service-principal", fivetranApp, "--comment", "fivetran", "--out", out2, "--old-id", oldID, "--revoke-old-after", "0", "-O", "json")
	require.Equal(t, exitOK, r.Code, r.Err)
	new2 := readToken(out2)
	var res struct {
		NewToken struct {
			TokenID string `json:"tokenId"`
		} `json:"newToken"`
		WrittenTo      string   `json:"writtenTo"`
		Verified       bool     `json:"verified"`
		Revoked        []string `json:"revoked"`
		RevokeCommands []string `json:"revokeCommands"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Out), &res))
	assert.Equal(t, []string{oldID}, res.Revoked)
	assert.Empty(t, res.RevokeCommands)
	assert.True(t, res.Verified)
	assert.Equal(t, out2, res.WrittenTo)
	assert.False(t, fw.TokenValid(oldValue))
	assert.True(t, fw.TokenValid(new1))
	assert.True(t, fw.TokenValid(new2))
	assert.True(t, fw.TokenValid(otherValue))

	// A wait before revoking: said on stderr, then done.
	out3 := filepath.Join(dir, "fivetran-3.token")
	r = tr.run("", "pat", "rotate", "--for-service-principal", fivetranApp, "--comment", "fivetran", "--out", out3, "--old-id", res.NewToken.TokenID, "--revoke-old-after", "1ms")
	require.Equal(t, exitOK, r.Code, r.Err)
	new3 := readToken(out3)
	assert.Contains(t, r.Err, "revoking 1 old token(s) at")
	assert.Contains(t, r.Out, "revoked old token "+res.NewToken.TokenID)
	assert.False(t, fw.TokenValid(new2))

	// The new token does not work: rolled back (token revoked, file removed), old one kept.
	fw.InjectFault(fakeworkspace.Fault{Method: "GET", Path: fakeworkspace.PathMe, Status: 401})
	out4 := filepath.Join(dir, "fivetran-4.token")
	ids := fw.TokenIDs(fivetranApp)
	r = tr.run("", "pat", "rotate", "--for-service-principal", fivetranApp, "--comment", "fivetran", "--out", out4)
	assert.Equal(t, exitError, r.Code, r.Err)
	assert.Contains(t, r.Err, "verifying the new token failed")
	assert.Contains(t, r.Err, "rolled back")
	assert.NoFileExists(t, out4)
	assert.Equal(t, ids, fw.TokenIDs(fivetranApp), "the new token was revoked again")
	assert.True(t, fw.TokenValid(new3))

	// Usage: --out is required; profile-rotation flags do not mix.
	r = tr.run("", "pat", "rotate", "--for-service-principal", fivetranApp)
	assert.Equal(t, exitUsage, r.Code)
	assert.Contains(t, r.Err, "--out FILE")
	r = tr.run("", "pat", "rotate", "--for-service-principal", fivetranApp, "--out", out4, "--show")
	assert.Equal(t, exitUsage, r.Code)
	r = tr.run("", "pat", "rotate", "--databricks-profile", "p", "--revoke-old-after", "0")
	assert.Equal(t, exitUsage, r.Code)

	sweepSecrets(t, tr, admin, oldValue, otherValue, new1, new2, new3)
}
