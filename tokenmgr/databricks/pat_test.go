package databricks

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/tokenmgr/databricks/fakeworkspace"
)

func TestCreateListRevokePAT(t *testing.T) {
	fw, ws := newConnected(t, "bootstrap")
	ctx := context.Background()

	before := time.Now().Add(-time.Second)
	created, err := ws.CreatePAT(ctx, "deltashare test", time.Hour)
	require.NoError(t, err)
	assert.NotEmpty(t, created.Info.ID)
	assert.Equal(t, "deltashare test", created.Info.Comment)
	assert.True(t, fw.TokenValid(created.Value.Reveal()), "the fake accepts the new token")
	assert.WithinDuration(t, time.Now(), created.Info.Created, time.Minute)
	assert.WithinDuration(t, created.Info.Created.Add(time.Hour), created.Info.Expiry, time.Second)
	assert.True(t, created.Info.Created.After(before))
	assertNoSecret(t, created, created.Value.Reveal())
	assertNoSecret(t, *created, created.Value.Reveal())

	forever, err := ws.CreatePAT(ctx, "no expiry", 0)
	require.NoError(t, err)
	assert.True(t, forever.Info.NeverExpires())

	list, err := ws.ListPATs(ctx)
	require.NoError(t, err)
	ids := map[string]TokenInfo{}
	for _, ti := range list {
		ids[ti.ID] = ti
	}
	require.Len(t, list, 3, "bootstrap, created and forever")
	assert.Equal(t, created.Info.Expiry, ids[created.Info.ID].Expiry)
	assert.True(t, ids[forever.Info.ID].NeverExpires())

	require.NoError(t, ws.RevokePAT(ctx, created.Info.ID))
	assert.False(t, fw.TokenValid(created.Value.Reveal()))
	list, err = ws.ListPATs(ctx)
	require.NoError(t, err)
	assert.Len(t, list, 2)

	err = ws.RevokePAT(ctx, created.Info.ID)
	assert.ErrorIs(t, err, ErrWorkspaceNotFound)
	assert.Contains(t, err.Error(), created.Info.ID)

	// The revoked token no longer authenticates.
	_, err = connect(t, fw, created.Value.Reveal()).Me(ctx)
	assert.ErrorIs(t, err, ErrWorkspaceAuth)
}

func TestPATArgumentErrors(t *testing.T) {
	fw, ws := newConnected(t, "")
	ctx := context.Background()
	_, err := ws.CreatePAT(ctx, "x", -time.Hour)
	assert.ErrorContains(t, err, "must not be negative")
	_, err = ws.CreatePAT(ctx, "x", time.Millisecond)
	assert.ErrorContains(t, err, "at least 1s")
	assert.ErrorContains(t, ws.RevokePAT(ctx, " "), "token ID is required")
	_, err = ws.CreateOBOToken(ctx, "", "x", 0)
	assert.ErrorContains(t, err, "application ID is required")
	assert.Empty(t, fw.RequestsTo(fakeworkspace.PathTokenCreate), "no request for invalid arguments")
}

func TestExpiringSoon(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		expiry  time.Time
		window  time.Duration
		soon    bool
		expired bool
	}{
		{"never expires", time.Time{}, 365 * 24 * time.Hour, false, false},
		{"inside the window", now.Add(3 * 24 * time.Hour), 7 * 24 * time.Hour, true, false},
		{"at the window's edge", now.Add(7 * 24 * time.Hour), 7 * 24 * time.Hour, true, false},
		{"beyond the window", now.Add(30 * 24 * time.Hour), 7 * 24 * time.Hour, false, false},
		{"already expired", now.Add(-time.Hour), 7 * 24 * time.Hour, true, true},
		{"expires exactly now", now, 0, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ti := TokenInfo{ID: "x", Expiry: tc.expiry}
			assert.Equal(t, tc.soon, ti.ExpiringSoonAt(now, tc.window))
			assert.Equal(t, tc.expired, ti.Expired(now))
		})
	}
}

func TestListPATsExpiringSoonAgainstFake(t *testing.T) {
	fw, ws := newConnected(t, "forever")
	short, _ := fw.MintToken("", "short", 2*24*time.Hour)
	long, _ := fw.MintToken("", "long", 60*24*time.Hour)
	list, err := ws.ListPATs(context.Background())
	require.NoError(t, err)
	soon := map[string]bool{}
	for _, ti := range list {
		soon[ti.Comment] = ti.ExpiringSoon(7 * 24 * time.Hour)
		if ti.ID == short || ti.ID == long {
			assert.False(t, ti.NeverExpires())
		}
	}
	assert.Equal(t, map[string]bool{"forever": false, "short": true, "long": false}, soon)
}

func TestOBOTokenAndTokenManagement(t *testing.T) {
	fw, ws := newConnected(t, "admin")
	spID := fw.AddServicePrincipal("7f1d0c2a-app", "ci robot")
	ctx := context.Background()

	obo, err := ws.CreateOBOToken(ctx, "7f1d0c2a-app", "ci", 24*time.Hour)
	require.NoError(t, err)
	assert.Equal(t, spID, obo.Info.OwnerID)
	assert.Equal(t, fakeworkspace.DefaultUser, obo.Info.CreatedBy)
	assert.WithinDuration(t, obo.Info.Created.Add(24*time.Hour), obo.Info.Expiry, time.Second)
	assertNoSecret(t, obo, obo.Value.Reveal())

	me, err := connect(t, fw, obo.Value.Reveal()).Me(ctx)
	require.NoError(t, err)
	assert.Equal(t, "7f1d0c2a-app", me.UserName, "the token authenticates as the service principal")

	all, err := ws.ListWorkspaceTokens(ctx, AdminListOptions{})
	require.NoError(t, err)
	assert.Len(t, all, 2)
	mine, err := ws.ListWorkspaceTokens(ctx, AdminListOptions{CreatedByUsername: fakeworkspace.DefaultUser})
	require.NoError(t, err)
	assert.Len(t, mine, 2, "the admin created both")
	none, err := ws.ListWorkspaceTokens(ctx, AdminListOptions{CreatedByUsername: "nobody@example.com"})
	require.NoError(t, err)
	assert.Empty(t, none)

	// The service principal's own list shows only its token.
	spList, err := connect(t, fw, obo.Value.Reveal()).ListPATs(ctx)
	require.NoError(t, err)
	require.Len(t, spList, 1)
	assert.Equal(t, obo.Info.ID, spList[0].ID)

	require.NoError(t, ws.RevokeWorkspaceToken(ctx, obo.Info.ID))
	assert.False(t, fw.TokenValid(obo.Value.Reveal()))
	assert.ErrorIs(t, ws.RevokeWorkspaceToken(ctx, obo.Info.ID), ErrWorkspaceNotFound)

	_, err = ws.CreateOBOToken(ctx, "no-such-app", "ci", time.Hour)
	assert.ErrorIs(t, err, ErrWorkspaceNotFound)

	// The service principal is not an admin: token management is refused.
	_, spTok := fw.MintToken("7f1d0c2a-app", "", 0)
	_, err = connect(t, fw, spTok).CreateOBOToken(ctx, "7f1d0c2a-app", "x", time.Hour)
	assert.ErrorIs(t, err, ErrWorkspacePermission)
}

func TestTokenInfoString(t *testing.T) {
	ti := TokenInfo{ID: "abc", Comment: "ci", CreatedBy: "me@example.com",
		Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	assert.Equal(t, `token abc "ci", created 2026-01-02T03:04:05Z by me@example.com, never expires`, ti.String())
	ti.Expiry = time.Date(2026, 2, 2, 3, 4, 5, 0, time.UTC)
	assert.Contains(t, ti.String(), "expires 2026-02-02T03:04:05Z")
}
