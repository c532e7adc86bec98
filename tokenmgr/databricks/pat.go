package databricks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/databricks/databricks-sdk-go/apierr"
	"github.com/databricks/databricks-sdk-go/service/settings"

	"github.com/deltashare/deltashare/tokenmgr/secret"
)

// TokenInfo describes a personal access token (never its value).
type TokenInfo struct {
	// ID is the token ID used to revoke it.
	ID      string `json:"token_id"`
	Comment string `json:"comment,omitempty"`
	// Created is when the token was created.
	Created time.Time `json:"created,omitzero"`
	// Expiry is when the token stops working; zero means it never expires.
	Expiry time.Time `json:"expiry,omitzero"`
	// OwnerID, CreatedByID and CreatedBy are filled by the token-management (admin) API and
	// for tokens created on behalf of a service principal.
	OwnerID     int64  `json:"owner_id,omitempty"`
	CreatedByID int64  `json:"created_by_id,omitempty"`
	CreatedBy   string `json:"created_by,omitempty"`
	// LastUsed is the day the token was last used (token-management API only).
	LastUsed time.Time `json:"last_used,omitzero"`
	Scopes   []string  `json:"scopes,omitempty"`
}

// NeverExpires reports whether the token has no expiry.
func (t TokenInfo) NeverExpires() bool { return t.Expiry.IsZero() }

// Expired reports whether the token had expired at now.
func (t TokenInfo) Expired(now time.Time) bool { return !t.Expiry.IsZero() && !now.Before(t.Expiry) }

// ExpiringSoon reports whether the token expires within window from now (an expired token
// counts as expiring soon; a token without expiry never does).
func (t TokenInfo) ExpiringSoon(window time.Duration) bool {
	return t.ExpiringSoonAt(time.Now(), window)
}

// ExpiringSoonAt is ExpiringSoon with an explicit clock.
func (t TokenInfo) ExpiringSoonAt(now time.Time, window time.Duration) bool {
	return !t.Expiry.IsZero() && t.Expiry.Sub(now) <= window
}

// String describes the token without any secret.
func (t TokenInfo) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "token %s", t.ID)
	if t.Comment != "" {
		fmt.Fprintf(&b, " %q", t.Comment)
	}
	if !t.Created.IsZero() {
		fmt.Fprintf(&b, ", created %s", t.Created.UTC().Format(time.RFC3339))
	}
	if t.CreatedBy != "" {
		fmt.Fprintf(&b, " by %s", t.CreatedBy)
	}
	if t.Expiry.IsZero() {
		b.WriteString(", never expires")
	} else {
		fmt.Fprintf(&b, ", expires %s", t.Expiry.UTC().Format(time.RFC3339))
	}
	return b.String()
}

// CreatedToken is a newly created token: its info and its value. The value is shown once by
// Databricks; it is held as [secret.Sensitive] and left out of String(), %v and JSON.
type CreatedToken struct {
	Info  TokenInfo
	Value secret.Sensitive
}

// String describes the token without its value.
func (c CreatedToken) String() string { return "created " + c.Info.String() }

// GoString keeps %#v from printing the value.
func (c CreatedToken) GoString() string { return "databricks.CreatedToken{" + c.Info.String() + "}" }

// MarshalJSON writes the token info only.
func (c CreatedToken) MarshalJSON() ([]byte, error) { return json.Marshal(c.Info) }

// msTime converts Databricks epoch milliseconds (0 or negative: unset) to a time.
func msTime(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// fromPublicTokenInfo converts the caller's view of its own token: a token info without the
// owner, creator and last-use fields.
func fromPublicTokenInfo(p *settings.PublicTokenInfo) TokenInfo {
	if p == nil {
		return TokenInfo{}
	}
	return fromTokenInfo(&settings.TokenInfo{TokenId: p.TokenId, Comment: p.Comment,
		CreationTime: p.CreationTime, ExpiryTime: p.ExpiryTime, Scopes: p.Scopes})
}

func fromTokenInfo(p *settings.TokenInfo) TokenInfo {
	if p == nil {
		return TokenInfo{}
	}
	return TokenInfo{
		ID:          p.TokenId,
		Comment:     p.Comment,
		Created:     msTime(p.CreationTime),
		Expiry:      msTime(p.ExpiryTime),
		OwnerID:     p.OwnerId,
		CreatedByID: p.CreatedById,
		CreatedBy:   p.CreatedByUsername,
		LastUsed:    msTime(p.LastUsedDay),
		Scopes:      p.Scopes,
	}
}

// lifetimeSeconds converts a lifetime to the API's seconds (0: no expiry requested).
func lifetimeSeconds(op string, d time.Duration) (int64, error) {
	if d < 0 {
		return 0, newError(op, nil, fmt.Sprintf("%s: the token lifetime must not be negative (got %s)", op, d), nil)
	}
	if d > 0 && d < time.Second {
		return 0, newError(op, nil, fmt.Sprintf("%s: the token lifetime must be at least 1s (got %s)", op, d), nil)
	}
	return int64(d / time.Second), nil
}

// CreatePAT creates a personal access token for the caller. A zero lifetime asks for a token
// without expiry (the workspace may impose a maximum).
func (w *Workspace) CreatePAT(ctx context.Context, comment string, lifetime time.Duration) (*CreatedToken, error) {
	const op = "create token"
	secs, err := lifetimeSeconds(op, lifetime)
	if err != nil {
		return nil, err
	}
	return w.createChecked(ctx, op, comment, w.ListPATs, func(ctx context.Context) (*CreatedToken, error) {
		resp, err := w.client.Tokens.Create(ctx, settings.CreateTokenRequest{Comment: comment, LifetimeSeconds: secs})
		if err != nil {
			return nil, w.tokenUseError(ctx, op, "", w.err(op, err))
		}
		return createdToken(op, resp.TokenValue, fromPublicTokenInfo(resp.TokenInfo))
	}, w.RevokePAT, nil)
}

// createdToken is the answer of a token creation, or an error when it lacks the value or the ID.
func createdToken(op, value string, info TokenInfo) (*CreatedToken, error) {
	if value == "" || info.ID == "" {
		return nil, newError(op, nil, op+": Databricks answered without a token value or ID", nil)
	}
	return &CreatedToken{Info: info, Value: secret.Sensitive(value)}, nil
}

// ListPATs lists the caller's own tokens (/api/2.0/token/list).
func (w *Workspace) ListPATs(ctx context.Context) ([]TokenInfo, error) {
	infos, err := w.client.Tokens.ListAll(ctx)
	if err != nil {
		return nil, w.err("list tokens", err)
	}
	return tokenInfos(infos, fromPublicTokenInfo), nil
}

// tokenInfos converts the SDK's token infos with from.
func tokenInfos[T any](infos []T, from func(*T) TokenInfo) []TokenInfo {
	out := make([]TokenInfo, 0, len(infos))
	for i := range infos {
		out = append(out, from(&infos[i]))
	}
	return out
}

// AdminListOptions filters [Workspace.ListWorkspaceTokens].
type AdminListOptions struct {
	// CreatedByUsername keeps only tokens created by this user name.
	CreatedByUsername string
	// CreatedByID keeps only tokens created by this user ID.
	CreatedByID int64
}

// ListWorkspaceTokens lists the tokens of every user in the workspace through the
// token-management API (workspace admins only); it fills owner and creator fields.
func (w *Workspace) ListWorkspaceTokens(ctx context.Context, opts AdminListOptions) ([]TokenInfo, error) {
	infos, err := w.client.TokenManagement.ListAll(ctx, settings.ListTokenManagementRequest{
		CreatedByUsername: opts.CreatedByUsername,
		CreatedById:       opts.CreatedByID,
	})
	if err != nil {
		return nil, w.err("list workspace tokens (token management)", err)
	}
	return tokenInfos(infos, fromTokenInfo), nil
}

// RevokePAT revokes one of the caller's own tokens by ID.
func (w *Workspace) RevokePAT(ctx context.Context, id string) error {
	return w.revoke("revoke token", id, func() error {
		return w.client.Tokens.Delete(ctx, settings.RevokeTokenRequest{TokenId: id})
	})
}

// revoke checks the token ID and revokes it with del.
func (w *Workspace) revoke(op, id string, del func() error) error {
	if strings.TrimSpace(id) == "" {
		return newError(op, nil, op+": a token ID is required (see the token list)", nil)
	}
	if err := del(); err != nil {
		return w.err(op+" "+id, err)
	}
	return nil
}

// RevokeWorkspaceToken revokes any user's token by ID through the token-management API
// (workspace admins only).
func (w *Workspace) RevokeWorkspaceToken(ctx context.Context, id string) error {
	return w.revoke("revoke token (token management)", id, func() error {
		return w.client.TokenManagement.Delete(ctx, settings.DeleteTokenManagementRequest{TokenId: id})
	})
}

// CreateOBOToken creates a token on behalf of the service principal with the given
// application ID (token-management API; workspace admins only).
func (w *Workspace) CreateOBOToken(ctx context.Context, applicationID, comment string, lifetime time.Duration) (*CreatedToken, error) {
	const op = "create token on behalf of a service principal"
	if strings.TrimSpace(applicationID) == "" {
		return nil, newError(op, nil, op+": the service principal's application ID is required", nil)
	}
	secs, err := lifetimeSeconds(op, lifetime)
	if err != nil {
		return nil, err
	}
	list := func(ctx context.Context) ([]TokenInfo, error) { return w.ListWorkspaceTokens(ctx, AdminListOptions{}) }
	// Another admin's token with the same comment is never taken for ours.
	mine := func(ctx context.Context) (func(TokenInfo) bool, error) {
		me, err := w.Me(ctx)
		if err != nil {
			return nil, err
		}
		return func(t TokenInfo) bool { return t.CreatedBy == me.UserName }, nil
	}
	return w.createChecked(ctx, op, comment, list, func(ctx context.Context) (*CreatedToken, error) {
		resp, err := w.client.TokenManagement.CreateOboToken(ctx, settings.CreateOboTokenRequest{
			ApplicationId:   applicationID,
			Comment:         comment,
			LifetimeSeconds: secs,
		})
		if err != nil {
			return nil, w.tokenUseError(ctx, op+" "+applicationID, applicationID, w.err(op+" "+applicationID, err))
		}
		return createdToken(op, resp.TokenValue, fromTokenInfo(resp.TokenInfo))
	}, w.RevokeWorkspaceToken, mine)
}

// tokenUseError explains a 403 on token creation: either the principal lacks CAN_USE on
// tokens, or tokens are disabled for the workspace. For a service principal (applicationID
// set) the token permissions are read to tell which.
func (w *Workspace) tokenUseError(ctx context.Context, op, applicationID string, err error) error {
	var we *WorkspaceError
	if !errors.As(err, &we) || !errors.Is(err, ErrWorkspacePermission) {
		return err
	}
	server := fmt.Sprintf("permission denied (HTTP %d", we.StatusCode)
	if we.ErrorCode != "" {
		server += " " + we.ErrorCode
	}
	var apiErr *apierr.APIError
	if errors.As(err, &apiErr) && apiErr.Message != "" {
		server += ": " + secret.Redact(strings.TrimSpace(apiErr.Message), w.secrets...)
	}
	server += ")"
	if applicationID == "" {
		return newHintedError(op, ErrWorkspacePermission, fmt.Sprintf(
			"%s: %s: you may not use tokens here: personal access tokens are disabled for the workspace, or you have no CAN_USE permission on tokens; ", op, server),
			"ask a workspace admin to turn tokens on (admin settings, Advanced: Personal Access Tokens) or to grant you CAN_USE on tokens", err)
	}
	cause := "the service principal has no CAN_USE permission on tokens, or tokens are disabled for the workspace"
	if perms, perr := w.TokenPermissions(ctx); perr == nil {
		sps, lerr := w.listServicePrincipals(ctx, op, "applicationId eq "+scimString(applicationID))
		if lerr == nil && len(sps) == 1 {
			if via := CanUseTokens(perms, sps[0]); via != "" {
				cause = fmt.Sprintf("the service principal may use tokens (%s), so tokens are most likely disabled for the workspace: turn them on in the admin settings (Advanced: Personal Access Tokens)", via)
				return newError(op, ErrWorkspacePermission, fmt.Sprintf("%s: %s: %s", op, server, cause), err)
			}
			cause = "the service principal has no CAN_USE permission on tokens"
		}
	}
	return newHintedError(op, ErrWorkspacePermission, fmt.Sprintf("%s: %s: %s; ", op, server, cause),
		"grant it with {Workspace.GrantTokenUse} "+applicationID+" (and check that tokens are turned on in the admin settings)", err)
}
