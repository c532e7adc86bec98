package main

import (
	"encoding/json"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRecipientCommands(t *testing.T) {
	fw, admin := workspaceEnv(t)
	tr := &transcript{t: t}

	// create prints the activation link: that is what it is for.
	r := run(t, "", "recipient", "create", "--comment", "ACME analytics", "acme")
	require.Equal(t, exitOK, r.Code, r.Err)
	link := fw.ActivationLink("acme")
	require.NotEmpty(t, link)
	assert.Contains(t, r.Out, "created recipient acme (TOKEN)")
	assert.Contains(t, r.Out, "\n"+link+"\n")
	r = run(t, "", "recipient", "create", "--output", "json", "globex")
	require.Equal(t, exitOK, r.Code, r.Err)
	var created struct {
		Name           string `json:"name"`
		ActivationLink string `json:"activation_link"`
		Tokens         []any  `json:"tokens"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Out), &created))
	assert.Equal(t, fw.ActivationLink("globex"), created.ActivationLink)
	assert.Len(t, created.Tokens, 1)
	r = tr.run("", "recipient", "create", "acme")
	assert.Equal(t, exitError, r.Code, "a second recipient of the same name: %s", r.Err)
	assert.Contains(t, r.Err, "already exists")

	// show: state and tokens; the link only with --show-link.
	r = tr.run("", "recipient", "show", "acme")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "comment:         ACME analytics")
	assert.Contains(t, r.Out, "state:           activation link not used yet")
	assert.Regexp(t, `(?m)^TOKEN\s+CREATED\s+EXPIRES\s+EXPIRES IN\s+LINK USED$`, r.Out)
	assert.Regexp(t, `(?m)\s(89d 23h|90d)\s+no$`, r.Out)
	assert.Contains(t, r.Out, "pass --show-link")
	r = tr.run("", "recipient", "show", "--output", "json", "acme")
	require.Equal(t, exitOK, r.Code, r.Err)
	var shown map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Out), &shown))
	assert.Equal(t, true, shown["activation_pending"])
	assert.NotContains(t, shown, "activation_link")
	r = run(t, "", "recipient", "show", "--show-link", "acme")
	require.Equal(t, exitOK, r.Code, r.Err)
	assert.Contains(t, r.Out, "\n"+link+"\n")
	r = tr.run("", "recipient", "show", "nope")
	assert.Equal(t, exitError, r.Code)
	assert.Contains(t, r.Err, "not found")

	// rotate: --keep-old-for is required; the new link only with --show-link.
	r = tr.run("", "recipient", "rotate", "acme")
	assert.Equal(t, exitUsage, r.Code)
	assert.Contains(t, r.Err, "--keep-old-for")
	r = tr.run("", "recipient", "rotate", "--keep-old-for", "soon", "acme")
	assert.Equal(t, exitUsage, r.Code)
	r = tr.run("", "recipient", "rotate", "--keep-old-for", "1h", "acme")
	require.Equal(t, exitOK, r.Code, r.Err)
	newLink := fw.ActivationLink("acme")
	require.NotEqual(t, link, newLink)
	assert.Contains(t, r.Out, "the old tokens keep working until")
	rows := regexp.MustCompile(`(?m)^[0-9a-f]{8}-[0-9a-f-]{27}\s.*$`).FindAllString(r.Out, -1)
	require.Len(t, rows, 2, r.Out)
	assert.Regexp(t, `\s(59m|1h)\s+no$`, rows[0], "the old token works for one more hour")
	assert.Regexp(t, `\s(89d 23h|90d)\s+no$`, rows[1])
	r = run(t, "", "recipient", "rotate", "--keep-old-for", "0", "--show-link", "--output", "json", "acme")
	require.Equal(t, exitOK, r.Code, r.Err)
	var rotated struct {
		ActivationLink string `json:"activation_link"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Out), &rotated))
	assert.Equal(t, fw.ActivationLink("acme"), rotated.ActivationLink)

	tr.assertNoSecrets(admin, link, newLink, fw.ActivationLink("globex"), fw.RecipientBearerToken("acme"))
}
