package main

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/tokenmgr/databricks/fakeworkspace"
)

func TestParseRecipientOptions(t *testing.T) {
	noDatabricksEnv(t)
	testParse(t, parseRecipientCreateOptions, []parseCase[recipientCreateOptions]{
		{name: "create", args: []string{"recipient", "create", "acme"}, want: recipientCreateOptions{Name: "acme", Output: "text"}},
		{name: "create every flag", args: []string{"recipient", "create", "acme", "--comment", "ACME", "--host", "https://h", "-O", "json"},
			want: recipientCreateOptions{Workspace: ws("https://h", "", ""), Name: "acme", Comment: "ACME", Output: "json"}},
		{name: "create no name", args: []string{"recipient", "create", "--comment", "c"}, code: exitUsage, msg: "[--comment C] [--lifetime D] NAME"},
		{name: "create --lifetime", args: []string{"recipient", "create", "acme", "--lifetime", "30d"}, want: recipientCreateOptions{Name: "acme", Lifetime: 30 * 24 * time.Hour, Output: "text"}},
		{name: "create --lifetime 0", args: []string{"recipient", "create", "acme", "--lifetime", "0"}, code: exitUsage, msg: "--lifetime must be more than 0"},
	})
	testParse(t, parseRecipientListOptions, []parseCase[recipientListOptions]{
		{name: "list", args: []string{"recipient", "list", "-O", "json"}, want: recipientListOptions{Output: "json"}},
		{name: "list argument", args: []string{"recipient", "list", "x"}, code: exitUsage},
	})
	testParse(t, parseRecipientDeleteOptions, []parseCase[recipientDeleteOptions]{
		{name: "delete", args: []string{"recipient", "delete", "acme"}, want: recipientDeleteOptions{Name: "acme", Output: "text"}},
		{name: "delete --yes", args: []string{"recipient", "delete", "acme", "--yes"}, want: recipientDeleteOptions{Name: "acme", Yes: true, Output: "text"}},
		{name: "delete no name", args: []string{"recipient", "delete"}, code: exitUsage, msg: "[--yes] NAME"},
	})
	testParse(t, parseRecipientShowOptions, []parseCase[recipientShowOptions]{
		{name: "show", args: []string{"recipient", "show", "acme"}, want: recipientShowOptions{Name: "acme", Output: "text"}},
		{name: "show every flag", args: []string{"recipient", "show", "--show-link", "acme", "--databricks-profile", "p", "--output", "json"},
			want: recipientShowOptions{Workspace: ws("", "p", ""), Name: "acme", ShowLink: true, Output: "json"}},
		{name: "show two names", args: []string{"recipient", "show", "a", "b"}, code: exitUsage, msg: "[--show-link] NAME"},
	})
	testParse(t, parseRecipientRotateOptions, []parseCase[recipientRotateOptions]{
		{name: "rotate", args: []string{"recipient", "rotate", "--keep-old-for", "1h", "acme"}, want: recipientRotateOptions{Name: "acme", KeepOldFor: time.Hour, Output: "text"}},
		{name: "rotate at once", args: []string{"recipient", "rotate", "acme", "--keep-old-for", "0", "--show-link", "-O", "json"},
			want: recipientRotateOptions{Name: "acme", ShowLink: true, Output: "json"}},
		{name: "rotate days", args: []string{"recipient", "rotate", "acme", "--keep-old-for", "7d"}, want: recipientRotateOptions{Name: "acme", KeepOldFor: 7 * 24 * time.Hour, Output: "text"}},
		{name: "rotate without --keep-old-for", args: []string{"recipient", "rotate", "acme"}, code: exitUsage, msg: "--keep-old-for"},
		{name: "rotate bad --keep-old-for", args: []string{"recipient", "rotate", "--keep-old-for", "soon", "acme"}, code: exitUsage, msg: `invalid --keep-old-for "soon"`},
		{name: "rotate no name", args: []string{"recipient", "rotate", "--keep-old-for", "1h"}, code: exitUsage, msg: "NAME"},
	})
}

func TestRecipientCommands(t *testing.T) {
	fw, admin := workspaceEnv(t)
	d := testDeps(t, storeDir(t))
	tr := &transcript{t: t}
	create := func(o recipientCreateOptions) result {
		if o.Output == "" {
			o.Output = "text"
		}
		return call(t, d, "", runRecipientCreate, o)
	}
	show := func(o recipientShowOptions) result {
		if o.Output == "" {
			o.Output = "text"
		}
		return call(t, d, "", runRecipientShow, o)
	}
	rotate := func(o recipientRotateOptions) result {
		if o.Output == "" {
			o.Output = "text"
		}
		return call(t, d, "", runRecipientRotate, o)
	}

	// create prints the activation link: that is what it is for.
	r := create(recipientCreateOptions{Comment: "ACME analytics", Name: "acme"})
	require.Equal(t, exitOK, r.Code, r.Err)
	link := fw.ActivationLink("acme")
	require.NotEmpty(t, link)
	assert.Contains(t, r.Out, "created recipient acme (TOKEN)")
	assert.Contains(t, r.Out, "\n"+link+"\n")
	r = create(recipientCreateOptions{Output: "json", Name: "globex"})
	require.Equal(t, exitOK, r.Code, r.Err)
	var created struct {
		Name           string `json:"name"`
		ActivationLink string `json:"activationLink"`
		Tokens         []any  `json:"tokens"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Out), &created))
	assert.Equal(t, fw.ActivationLink("globex"), created.ActivationLink)
	assert.Len(t, created.Tokens, 1)
	r = tr.add(create(recipientCreateOptions{Name: "acme"}))
	assert.Equal(t, exitError, r.Code, "a second recipient of the same name: %s", r.Err)
	assert.Contains(t, r.Err, "already exists")

	// show: state and tokens; the link only with --show-link.
	r = tr.add(show(recipientShowOptions{Name: "acme"}))
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "comment:         ACME analytics")
	assert.Contains(t, r.Out, "state:           activation link not used yet")
	assert.Regexp(t, `(?m)^TOKEN\s+CREATED\s+EXPIRES\s+EXPIRES IN\s+LINK USED$`, r.Out)
	assert.Regexp(t, `(?m)\s(89d 23h|90d)\s+no$`, r.Out)
	assert.Contains(t, r.Out, "pass --show-link")
	r = tr.add(show(recipientShowOptions{Output: "json", Name: "acme"}))
	require.Equal(t, exitOK, r.Code, r.Err)
	var shown map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Out), &shown))
	assert.Equal(t, true, shown["activationPending"])
	assert.NotContains(t, shown, "activationLink")
	r = show(recipientShowOptions{ShowLink: true, Name: "acme"})
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "\n"+link+"\n")
	r = tr.add(show(recipientShowOptions{Name: "nope"}))
	assert.Equal(t, exitError, r.Code)
	assert.Contains(t, r.Err, "not found")

	// rotate: --keep-old-for is required; the new link only with --show-link.
	r = tr.run("", "recipient", "rotate", "acme") // through the app: usage, exit 2
	assert.Equal(t, exitUsage, r.Code)
	assert.Contains(t, r.Err, "--keep-old-for")
	r = tr.run("", "recipient", "rotate", "--keep-old-for", "soon", "acme")
	assert.Equal(t, exitUsage, r.Code)
	r = tr.add(rotate(recipientRotateOptions{KeepOldFor: time.Hour, Name: "acme"}))
	require.Equal(t, exitOK, r.Code, r.Err)
	newLink := fw.ActivationLink("acme")
	require.NotEqual(t, link, newLink)
	assert.Contains(t, r.Out, "the old tokens keep working until")
	rows := regexp.MustCompile(`(?m)^[0-9a-f]{8}-[0-9a-f-]{27}\s.*$`).FindAllString(r.Out, -1)
	require.Len(t, rows, 2, r.Out)
	assert.Regexp(t, `\s(59m|1h)\s+no$`, rows[0], "the old token works for one more hour")
	assert.Regexp(t, `\s(89d 23h|90d)\s+no$`, rows[1])
	r = rotate(recipientRotateOptions{ShowLink: true, Output: "json", Name: "acme"})
	require.Equal(t, exitOK, r.Code, r.Err)
	var rotated struct {
		ActivationLink string `json:"activationLink"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Out), &rotated))
	assert.Equal(t, fw.ActivationLink("acme"), rotated.ActivationLink)

	sweepSecrets(t, tr, admin, link, newLink, fw.ActivationLink("globex"), fw.RecipientBearerToken("acme"))
}

// TestRecipientListDelete: list and delete in the CLI; create with a lifetime; names unique
// case-insensitively.
func TestRecipientListDelete(t *testing.T) {
	fw, admin := workspaceEnv(t)
	d := testDeps(t, storeDir(t))
	tr := &transcript{t: t}

	// create --lifetime sends the expiry; the name is checked case-insensitively first.
	r := run(t, "", "recipient", "create", "powerbi", "--lifetime", "30d", "--comment", "BI team") // prints the link: not in the transcript
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Regexp(t, `its token expires \S+ \(in (29d 23h|30d)\)`, r.Out)
	var sent struct {
		Name           string `json:"name"`
		ExpirationTime int64  `json:"expiration_time"`
	}
	require.NoError(t, json.Unmarshal([]byte(lastBody(t, fw, "POST", fakeworkspace.PathRecipients)), &sent))
	assert.Equal(t, "powerbi", sent.Name)
	assert.InDelta(t, time.Now().Add(30*24*time.Hour).UnixMilli(), sent.ExpirationTime, float64(time.Hour.Milliseconds()))
	posts := len(fw.RequestsTo(fakeworkspace.PathRecipients))
	r = tr.run("", "recipient", "create", "PowerBI")
	assert.Equal(t, exitError, r.Code, r.Err)
	assert.Contains(t, r.Err, "recipient powerbi already exists (recipient names are case-insensitive)")
	for _, req := range fw.RequestsTo(fakeworkspace.PathRecipients)[posts:] {
		assert.NotEqual(t, "POST", req.Method, "refused before sending")
	}
	link := fw.ActivationLink("powerbi")
	require.NotEmpty(t, link)
	fw.AddRecipient("acme")
	acmeLink := fw.ActivationLink("acme")

	// list: both, never a link.
	r = tr.add(call(t, d, "", runRecipientList, recipientListOptions{Output: "text"}))
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Regexp(t, `(?m)^NAME\s+AUTHENTICATION\s+STATE\s+TOKENS\s+EXPIRES\s+CREATED$`, r.Out)
	assert.Regexp(t, `(?m)^powerbi\s+TOKEN\s+link not used yet\s+1\s+\S+ \S+ \((29d 23h|30d)\)\s+\d{4}-`, r.Out)
	assert.Regexp(t, `(?m)^acme\s+TOKEN\s+link not used yet\s+1\s+`, r.Out)
	assert.Contains(t, r.Out, "2 recipient(s)")
	r = tr.add(call(t, d, "", runRecipientList, recipientListOptions{Output: "json"}))
	require.Equal(t, exitOK, r.Code, r.Err)
	var listed struct {
		Recipients []struct {
			Name              string `json:"name"`
			ActivationPending bool   `json:"activationPending"`
			Expiry            string `json:"expirationTime"`
			ExpiresInSeconds  int64  `json:"expiresInSeconds"`
		} `json:"recipients"`
		Total int `json:"total"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Out), &listed))
	require.Equal(t, 2, listed.Total)
	assert.Equal(t, "acme", listed.Recipients[0].Name)
	assert.True(t, listed.Recipients[1].ActivationPending)
	assert.InDelta(t, 30*24*3600, listed.Recipients[1].ExpiresInSeconds, 3600)

	// delete: without --yes nothing happens; with it (any case) the recipient is gone.
	r = tr.add(call(t, d, "", runRecipientDelete, recipientDeleteOptions{Name: "PowerBI", Output: "text"}))
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "would delete recipient powerbi (not activated): its 1 token(s) would stop working at once")
	assert.Contains(t, r.Out, "nothing was deleted")
	assert.NotEmpty(t, fw.ActivationLink("powerbi"))
	r = tr.add(call(t, d, "", runRecipientDelete, recipientDeleteOptions{Name: "PowerBI", Yes: true, Output: "json"}))
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.JSONEq(t, `{"name":"powerbi","activated":false,"tokens":1,"deleted":true}`, r.Out)
	assert.Empty(t, fw.ActivationLink("powerbi"))
	r = tr.add(call(t, d, "", runRecipientDelete, recipientDeleteOptions{Name: "powerbi", Yes: true, Output: "text"}))
	assert.Equal(t, exitError, r.Code)
	assert.Contains(t, r.Err, "not found")

	// An unknown subcommand is a usage error.
	r = tr.run("", "recipient", "frobnicate")
	assert.Equal(t, exitUsage, r.Code)
	assert.Contains(t, r.Err, `unknown command "frobnicate"`)

	sweepSecrets(t, tr, admin, link, acmeLink)
}
