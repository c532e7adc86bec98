package databricks

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/tokenmgr"
	"github.com/deltashare/deltashare/tokenmgr/databricks/fakeworkspace"
)

func TestRecipientLifecycle(t *testing.T) {
	fw, ws := newConnected(t, "")
	ctx := context.Background()

	r, err := ws.CreateRecipient(ctx, "acme", "Acme Corp analytics")
	require.NoError(t, err)
	assert.Equal(t, "acme", r.Name)
	assert.Equal(t, "Acme Corp analytics", r.Comment)
	assert.Equal(t, "TOKEN", r.AuthenticationType)
	assert.False(t, r.Activated)
	require.True(t, r.PendingActivation())
	require.Len(t, r.Tokens, 1)
	assert.WithinDuration(t, time.Now().Add(90*24*time.Hour), r.Tokens[0].Expiry, time.Minute)
	link := r.ActivationLink.Reveal()
	assert.Equal(t, fw.ActivationLink("acme"), link)
	host, code, err := tokenmgr.ParseActivationLink(link)
	require.NoError(t, err)
	assert.Equal(t, fw.URL(), host)
	assertNoSecret(t, r, link, code)
	assertNoSecret(t, *r, link, code)
	assertNoSecret(t, r.Tokens[0], link, code)

	var sent struct {
		Name               string `json:"name"`
		AuthenticationType string `json:"authentication_type"`
	}
	var posts []fakeworkspace.Request
	for _, req := range fw.RequestsTo(fakeworkspace.PathRecipients) {
		if req.Method == "POST" {
			posts = append(posts, req)
		}
	}
	require.NotEmpty(t, posts)
	require.NoError(t, json.Unmarshal(posts[0].Body, &sent))
	assert.Equal(t, "TOKEN", sent.AuthenticationType)

	_, err = ws.CreateRecipient(ctx, "acme", "again")
	assert.ErrorIs(t, err, ErrWorkspaceConflict)

	shown, err := ws.ShowRecipient(ctx, "acme")
	require.NoError(t, err)
	assert.Equal(t, link, shown.ActivationLink.Reveal())

	// The recipient downloads the credential: the link is gone, the recipient is activated.
	_, err = tokenmgr.FetchActivation(ctx, host, code, nil)
	require.NoError(t, err)
	shown, err = ws.ShowRecipient(ctx, "acme")
	require.NoError(t, err)
	assert.True(t, shown.Activated)
	assert.False(t, shown.PendingActivation())
	assert.Contains(t, shown.String(), "activated")

	// Rotate keeping the old token for an hour: two tokens, a new link.
	rotated, err := ws.RotateRecipientToken(ctx, "acme", time.Hour)
	require.NoError(t, err)
	require.Len(t, rotated.Tokens, 2)
	assert.WithinDuration(t, time.Now().Add(time.Hour), rotated.Tokens[0].Expiry, time.Minute)
	assert.True(t, rotated.PendingActivation())
	assert.NotEqual(t, link, rotated.ActivationLink.Reveal())
	assert.False(t, rotated.Activated)
	var rotateBody map[string]any
	rreqs := fw.RequestsTo(fakeworkspace.PathRecipients + "/acme/rotate-token")
	require.Len(t, rreqs, 1)
	require.NoError(t, json.Unmarshal(rreqs[0].Body, &rotateBody))
	assert.Equal(t, map[string]any{"existing_token_expire_in_seconds": float64(3600)}, rotateBody)

	// Rotate again revoking the others at once: only the newest token is left.
	again, err := ws.RotateRecipientToken(ctx, "acme", 0)
	require.NoError(t, err)
	require.Len(t, again.Tokens, 1)
	rreqs = fw.RequestsTo(fakeworkspace.PathRecipients + "/acme/rotate-token")
	require.NoError(t, json.Unmarshal(rreqs[1].Body, &rotateBody))
	assert.Equal(t, map[string]any{"existing_token_expire_in_seconds": float64(0)}, rotateBody, "0 is sent, not omitted")

	list, err := ws.ListRecipients(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "acme", list[0].Name)
	assertNoSecret(t, list, again.ActivationLink.Reveal())

	require.NoError(t, ws.DeleteRecipient(ctx, "acme"))
	_, err = ws.ShowRecipient(ctx, "acme")
	assert.ErrorIs(t, err, ErrWorkspaceNotFound)
	assert.Contains(t, err.Error(), "acme")
}

func TestRecipientJSONRedactsLinks(t *testing.T) {
	_, ws := newConnected(t, "")
	r, err := ws.CreateRecipient(context.Background(), "acme", "")
	require.NoError(t, err)
	b, err := json.Marshal(r)
	require.NoError(t, err)
	var back map[string]any
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, "[redacted]", back["activation_link"])
	u, err := url.Parse(r.ActivationLink.Reveal())
	require.NoError(t, err)
	assert.NotContains(t, string(b), u.RawQuery)
}

func TestRecipientArgumentErrors(t *testing.T) {
	fw, ws := newConnected(t, "")
	ctx := context.Background()
	_, err := ws.CreateRecipient(ctx, "", "x")
	assert.ErrorContains(t, err, "recipient name is required")
	_, err = ws.RotateRecipientToken(ctx, "acme", -time.Second)
	assert.ErrorContains(t, err, "must not be negative")
	_, err = ws.RotateRecipientToken(ctx, "ghost", time.Hour)
	assert.ErrorIs(t, err, ErrWorkspaceNotFound)
	assert.Empty(t, fw.RequestsTo(fakeworkspace.PathRecipients+"/acme"))
}
