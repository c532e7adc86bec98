package databricks

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/deltashare/deltashare/tokenmgr/secret"
)

// RotatePrincipalOptions configures [Workspace.RotatePrincipalToken].
type RotatePrincipalOptions struct {
	// Principal is the service principal whose token is rotated.
	Principal ServicePrincipal
	// Comment is the new token's comment; the principal's existing tokens with exactly this
	// comment are the old ones (unless OldTokenIDs names them).
	Comment string
	// Lifetime of the new token (0: no expiry, which the workspace may refuse or cap).
	Lifetime time.Duration
	// OldTokenIDs names the old tokens explicitly (they must belong to the principal).
	OldTokenIDs []string
	// RevokeOld revokes the old tokens after RevokeOldAfter (0: at once, once the new token is
	// verified). Without it the old tokens are left alone and listed in the result, for the
	// caller to revoke once the consumer uses the new token.
	RevokeOld      bool
	RevokeOldAfter time.Duration
	// Save stores the new token value (the caller writes it to a private file); Discard undoes
	// Save when a later step fails. Save is required.
	Save    func(value secret.Sensitive) error
	Discard func()
	// Verify checks the new token; the default authenticates with it and checks that it is
	// the principal.
	Verify func(ctx context.Context, value secret.Sensitive) error
	// Waiting, when set, is told before the wait for RevokeOldAfter starts.
	Waiting func(until time.Time, old []TokenInfo)
}

// RotatePrincipalResult is a completed rotation; it never holds the token value.
type RotatePrincipalResult struct {
	Principal ServicePrincipal
	NewToken  TokenInfo
	// Old are the old tokens; Revoked the IDs of those revoked.
	Old     []TokenInfo
	Revoked []string
}

// RotatePrincipalToken rotates a service principal's token in the order the integration guides
// give: create the new token on the principal's behalf, hand it over (Save), verify that it
// works as the principal, and only then, when asked (RevokeOld, after RevokeOldAfter), revoke
// the old tokens. When several of the principal's tokens match Comment and RevokeOld is set, it
// stops before creating anything with an error matching ErrOldTokenUnknown that lists them: it
// never guesses which token is old. A failure after the creation revokes the new token again
// (and calls Discard); the error matches ErrRotationFailed.
func (w *Workspace) RotatePrincipalToken(ctx context.Context, opts RotatePrincipalOptions) (*RotatePrincipalResult, error) {
	p := opts.Principal
	op := "rotate the token of service principal " + p.String()
	if opts.Save == nil {
		return nil, newError(op, nil, op+": no place to save the new token", nil)
	}
	if opts.RevokeOldAfter < 0 {
		return nil, newError(op, nil, fmt.Sprintf("%s: the wait before revoking the old tokens must not be negative (got %s)", op, opts.RevokeOldAfter), nil)
	}
	all, err := w.ListWorkspaceTokens(ctx, AdminListOptions{})
	if err != nil {
		return nil, err
	}
	var owned, old []TokenInfo
	for _, t := range all {
		if t.OwnerID != 0 && t.OwnerID == p.OwnerID() {
			owned = append(owned, t)
		}
	}
	if len(opts.OldTokenIDs) > 0 {
		for _, id := range opts.OldTokenIDs {
			i := slices.IndexFunc(owned, func(t TokenInfo) bool { return t.ID == id })
			if i < 0 {
				return nil, newHintedError(op, ErrOldTokenUnknown,
					fmt.Sprintf("%s: token %s is not a token of this principal (nothing was changed); ", op, id),
					"see its tokens with {Workspace.ListWorkspaceTokens}", nil)
			}
			old = append(old, owned[i])
		}
	} else {
		for _, t := range owned {
			if t.Comment == opts.Comment {
				old = append(old, t)
			}
		}
	}
	if opts.RevokeOld && len(old) > 1 && len(opts.OldTokenIDs) == 0 {
		return nil, newChoiceError(op, ErrOldTokenUnknown,
			fmt.Sprintf("%s: %d of its tokens have the comment %q and which one the consumer holds cannot be told (nothing was changed); ", op, len(old), opts.Comment),
			"name the old ones with {RotatePrincipalOptions.OldTokenIDs}, or leave out {RotatePrincipalOptions.RevokeOld} and revoke by hand", old)
	}

	created, err := w.CreateOBOToken(ctx, p.ApplicationID, opts.Comment, opts.Lifetime)
	if err != nil {
		return nil, err
	}
	secrets := []string{created.Value.Reveal()}
	saved := false
	fail := func(step string, cause error) error {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		defer cancel()
		var notes []string
		if saved && opts.Discard != nil {
			opts.Discard()
			notes = append(notes, "the saved copy was removed")
		}
		if rerr := w.RevokeWorkspaceToken(cctx, created.Info.ID); rerr != nil {
			notes = append(notes, fmt.Sprintf("could not revoke the new token %s (%s): revoke it by hand", created.Info.ID, secret.Redact(rerr.Error(), secrets...)))
		} else {
			notes = append(notes, "the new token "+created.Info.ID+" was revoked")
		}
		notes = append(notes, "the old tokens were not touched")
		return newError(op, ErrRotationFailed, fmt.Sprintf("%s: %s failed: %s; rolled back: %s",
			op, step, secret.Redact(cause.Error(), secrets...), strings.Join(notes, "; ")), cause)
	}
	if err := opts.Save(created.Value); err != nil {
		return nil, fail("saving the new token", err)
	}
	saved = true
	verify := opts.Verify
	if verify == nil {
		verify = func(ctx context.Context, v secret.Sensitive) error {
			nw, err := NewWorkspace(ctx, WorkspaceOptions{Host: w.host, Token: v.Reveal(), NoEnvironment: true, HTTPClient: w.httpClient, Timeout: w.timeout, OnRetry: w.onRetry})
			if err != nil {
				return err
			}
			me, err := nw.Me(ctx)
			if err != nil {
				return err
			}
			if !strings.EqualFold(me.UserName, p.ApplicationID) {
				return fmt.Errorf("the new token authenticates as %s, not as the service principal", me.UserName)
			}
			return nil
		}
	}
	if err := verify(ctx, created.Value); err != nil {
		return nil, fail("verifying the new token", err)
	}
	res := &RotatePrincipalResult{Principal: p, NewToken: created.Info, Old: old}
	if !opts.RevokeOld || len(old) == 0 {
		return res, nil
	}
	if opts.RevokeOldAfter > 0 {
		if opts.Waiting != nil {
			opts.Waiting(time.Now().Add(opts.RevokeOldAfter), old)
		}
		timer := time.NewTimer(opts.RevokeOldAfter)
		select {
		case <-ctx.Done():
			timer.Stop()
			return res, newError(op, nil, fmt.Sprintf("%s: interrupted while waiting to revoke the old token(s) %s: the new token %s is in place; revoke the old ones by hand when the consumer uses the new one",
				op, tokenIDs(old), created.Info.ID), ctx.Err())
		case <-timer.C:
		}
	}
	for _, t := range old {
		if err := w.RevokeWorkspaceToken(ctx, t.ID); err != nil {
			return res, err
		}
		res.Revoked = append(res.Revoked, t.ID)
	}
	return res, nil
}

func tokenIDs(ts []TokenInfo) string {
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	return strings.Join(ids, ", ")
}
