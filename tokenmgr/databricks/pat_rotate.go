package databricks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/deltashare/deltashare/tokenmgr/secret"
)

// RotateOptions configures [RotatePAT]. Give either Profile (with ConfigFile) or TokenFile.
//
// Which token is the old one? Databricks never shows token values, so the token stored in the
// target cannot be recognised by its value. RotatePAT authenticates with the stored token and
// lists that identity's tokens (/api/2.0/token/list): if OldTokenID is given it must be in
// that list; otherwise the identity must have exactly one live token, which is then the old
// one. With several tokens and no OldTokenID, RotatePAT stops before changing anything with an
// error matching ErrOldTokenUnknown that lists the candidates (set OldTokenID). Matching on
// comments or creation times is deliberately not done: revoking the wrong token would lock out
// another machine.
type RotateOptions struct {
	// Profile is the profile of the Databricks config file holding the token (token key).
	Profile string
	// ConfigFile is that file; default ~/.databrickscfg. RotatePAT reads no environment
	// variable: a caller honouring DATABRICKS_CONFIG_FILE passes its value here.
	ConfigFile string
	// TokenFile is a file holding just the token (alternative to Profile).
	TokenFile string
	// Host is the workspace URL. Required for TokenFile; for a profile it overrides the
	// profile's host.
	Host string
	// OldTokenID is the ID of the stored token (see above).
	OldTokenID string
	// Comment and Lifetime describe the new token (Lifetime 0: no expiry).
	Comment  string
	Lifetime time.Duration
	// Verify checks the new token as read back from the target. The default looks up the
	// current user with it and checks it is the same identity as the old token's.
	Verify func(ctx context.Context, newToken secret.Sensitive) error
	// Show makes the result's String() and JSON include the new token's value.
	Show bool
	// HTTPClient, when set, provides the transport and timeout.
	HTTPClient *http.Client
	// Timeout and OnRetry are those of WorkspaceOptions.
	Timeout time.Duration
	OnRetry func(msg string)
}

// RotateResult is a completed rotation. NewValue holds the new token, but String() and JSON
// include it only when Show is set.
type RotateResult struct {
	// Target names where the token lives, e.g. "profile prod in /home/me/.databrickscfg".
	Target     string
	Host       string
	OldTokenID string
	NewToken   TokenInfo
	NewValue   secret.Sensitive
	Show       bool
}

// String summarises the rotation; the token value only with Show.
func (r RotateResult) String() string {
	s := fmt.Sprintf("rotated the token in %s: new %s; old token %s revoked", r.Target, r.NewToken, r.OldTokenID)
	if r.Show {
		s += "\nnew token value: " + r.NewValue.Reveal()
	}
	return s
}

// GoString keeps %#v from printing the value.
func (r RotateResult) GoString() string {
	return fmt.Sprintf("databricks.RotateResult{Target: %q, OldTokenID: %q, NewToken: %q}", r.Target, r.OldTokenID, r.NewToken.ID)
}

// MarshalJSON includes "new_token_value" only with Show.
func (r RotateResult) MarshalJSON() ([]byte, error) {
	out := struct {
		Target     string    `json:"target"`
		Host       string    `json:"host"`
		OldTokenID string    `json:"old_token_id"`
		NewToken   TokenInfo `json:"new_token"`
		NewValue   string    `json:"new_token_value,omitempty"`
	}{Target: r.Target, Host: r.Host, OldTokenID: r.OldTokenID, NewToken: r.NewToken}
	if r.Show {
		out.NewValue = r.NewValue.Reveal()
	}
	return json.Marshal(out)
}

// rollbackTimeout bounds the clean-up calls after a failure (they run even if ctx is done).
const rollbackTimeout = 30 * time.Second

// RotatePAT replaces the personal access token stored in a .databrickscfg profile or a token
// file: it creates a new token with the stored one, writes it in place of the old one
// (atomically, keeping everything else in the file and its mode), verifies the new token as
// read back from the file, and revokes the old token. If any step fails it puts the old value
// back and revokes the new token, and the error (matching ErrRotationFailed) says what was
// rolled back. Tokens never appear in errors.
func RotatePAT(ctx context.Context, opts RotateOptions) (*RotateResult, error) {
	const op = "rotate token"
	target, err := rotationTargetFor(opts)
	if err != nil {
		return nil, err
	}
	oldValue, host, err := target.load()
	if err != nil {
		return nil, newError(op, nil, fmt.Sprintf("%s: %s", op, secret.Redact(err.Error(), oldValue)), err)
	}
	secrets := []string{oldValue}
	if others := target.alsoHeldBy(oldValue); len(others) > 0 {
		return nil, newError(op, nil, fmt.Sprintf(
			"%s: profile(s) %s in the same file hold the same token, and revoking it would break them; give them their own tokens first (nothing was changed)",
			op, strings.Join(others, ", ")), nil)
	}
	if opts.Host != "" {
		host = opts.Host
	}
	if host == "" {
		return nil, newHintedError(op, ErrNoWorkspaceHost, fmt.Sprintf("%s: the workspace host of %s is unknown; ", op, target), "pass {RotateOptions.Host}", nil)
	}
	connect := func(token string) (*Workspace, error) {
		return NewWorkspace(ctx, WorkspaceOptions{Host: host, Token: token, NoEnvironment: true, HTTPClient: opts.HTTPClient, Timeout: opts.Timeout, OnRetry: opts.OnRetry})
	}
	oldWS, err := connect(oldValue)
	if err != nil {
		return nil, err
	}
	oldUser, err := oldWS.Me(ctx)
	if err != nil {
		if errors.Is(err, ErrWorkspaceAuth) {
			return nil, newError(op, ErrWorkspaceAuth, fmt.Sprintf(
				"%s: Databricks rejects the token stored in %s, and rotation needs it to work: create a new token in the workspace UI and put it there by hand",
				op, target), err)
		}
		return nil, err
	}
	tokens, err := oldWS.ListPATs(ctx)
	if err != nil {
		return nil, err
	}
	oldID, err := pickOldToken(op, target.String(), tokens, opts.OldTokenID, time.Now())
	if err != nil {
		return nil, err
	}

	created, err := oldWS.CreatePAT(ctx, opts.Comment, opts.Lifetime)
	if err != nil {
		return nil, err
	}
	newValue := created.Value.Reveal()
	newID := created.Info.ID
	secrets = append(secrets, newValue)
	wrote := false

	fail := func(step string, cause error) error {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		defer cancel()
		var notes []string
		restored := true
		if wrote {
			if rerr := target.restore(); rerr != nil {
				restored = false
				notes = append(notes, fmt.Sprintf(
					"could NOT put the old token back in %s (%s): it now holds the new token %s, which was kept valid; the old token %s was not revoked",
					target, secret.Redact(rerr.Error(), secrets...), newID, oldID))
			} else {
				notes = append(notes, "the old token was put back in "+target.String())
			}
		} else {
			notes = append(notes, target.String()+" was not changed")
		}
		if restored {
			if rerr := oldWS.RevokePAT(cctx, newID); rerr != nil {
				notes = append(notes, fmt.Sprintf("could not revoke the new token %s (%s): revoke it by hand", newID, secret.Redact(rerr.Error(), secrets...)))
			} else {
				notes = append(notes, "the new token "+newID+" was revoked")
			}
			notes = append(notes, "the old token "+oldID+" is still valid")
		}
		return newError(op, ErrRotationFailed, fmt.Sprintf("%s in %s: %s failed: %s; rolled back: %s",
			op, target, step, secret.Redact(cause.Error(), secrets...), strings.Join(notes, "; ")), cause)
	}

	if err := target.write(newValue); err != nil {
		return nil, fail("writing the new token", err)
	}
	wrote = true
	got, err := target.readBack()
	if err == nil && got != newValue {
		err = errors.New("the token read back differs from the token written")
	}
	if err != nil {
		return nil, fail("reading the new token back", err)
	}
	verify := opts.Verify
	if verify == nil {
		verify = func(ctx context.Context, tok secret.Sensitive) error {
			ws, err := connect(tok.Reveal())
			if err != nil {
				return err
			}
			me, err := ws.Me(ctx)
			if err != nil {
				return err
			}
			if me.UserName != oldUser.UserName {
				return fmt.Errorf("the new token authenticates as %s, not %s", me.UserName, oldUser.UserName)
			}
			return nil
		}
	}
	if err := verify(ctx, secret.Sensitive(got)); err != nil {
		return nil, fail("verifying the new token", err)
	}
	newWS, err := connect(newValue)
	if err != nil {
		return nil, fail("connecting with the new token", err)
	}
	if err := newWS.RevokePAT(ctx, oldID); err != nil {
		// The revocation may have happened even though the answer was lost: if the old token
		// is gone, the rotation is complete and rolling back would lock the user out.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		left, lerr := newWS.ListPATs(cctx)
		cancel()
		if lerr != nil || containsToken(left, oldID) {
			return nil, fail("revoking the old token", err)
		}
	}
	return &RotateResult{
		Target:     target.String(),
		Host:       oldWS.Host(),
		OldTokenID: oldID,
		NewToken:   created.Info,
		NewValue:   created.Value,
		Show:       opts.Show,
	}, nil
}

func containsToken(list []TokenInfo, id string) bool {
	for _, t := range list {
		if t.ID == id {
			return true
		}
	}
	return false
}

// rotationTargetFor validates the options and builds the target.
func rotationTargetFor(opts RotateOptions) (rotationTarget, error) {
	const op = "rotate token"
	switch {
	case opts.Profile != "" && opts.TokenFile != "":
		return nil, newError(op, nil, op+": give either a profile or a token file, not both", nil)
	case opts.TokenFile != "":
		if opts.Host == "" {
			return nil, newHintedError(op, ErrNoWorkspaceHost, op+": a token file does not record the workspace; ", "pass {RotateOptions.Host}", nil)
		}
		return &tokenFileTarget{fileState{path: opts.TokenFile}}, nil
	case opts.Profile != "":
		path, err := expandHome(defaultString(opts.ConfigFile, "~/.databrickscfg"))
		if err != nil {
			return nil, newError(op, nil, op+": "+err.Error(), err)
		}
		return &profileTarget{fileState: fileState{path: path}, profile: opts.Profile}, nil
	default:
		return nil, newHintedError(op, nil, op+": say where the token lives: ", "{RotateOptions.Profile} NAME (in ~/.databrickscfg) or {RotateOptions.TokenFile} PATH", nil)
	}
}

// pickOldToken identifies the stored token among the identity's tokens (see RotateOptions).
func pickOldToken(op, target string, tokens []TokenInfo, wantID string, now time.Time) (string, error) {
	if wantID != "" {
		if containsToken(tokens, wantID) {
			return wantID, nil
		}
		return "", newHintedError(op, ErrOldTokenUnknown,
			fmt.Sprintf("%s: token %s is not one of the tokens of the identity in %s; ", op, wantID, target),
			"list them with {Workspace.ListPATs} and pass the right {RotateOptions.OldTokenID}", nil)
	}
	var live []TokenInfo
	for _, t := range tokens {
		if !t.Expired(now) {
			live = append(live, t)
		}
	}
	if len(live) == 1 {
		return live[0].ID, nil
	}
	if len(live) == 0 {
		return "", newHintedError(op, ErrOldTokenUnknown,
			fmt.Sprintf("%s: the identity in %s lists no live personal access token (the stored credential may not be a PAT); ", op, target),
			"pass {RotateOptions.OldTokenID} if you know it", nil)
	}
	return "", newChoiceError(op, ErrOldTokenUnknown,
		fmt.Sprintf("%s: the identity in %s has %d tokens and the one stored there cannot be recognised by its value; ", op, target, len(live)),
		"pass {RotateOptions.OldTokenID} with its ID (nothing was changed)", live)
}
