package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/deltashare/deltashare/internal/atomicfile"
	"github.com/deltashare/deltashare/tokenmgr/databricks"
	"github.com/deltashare/deltashare/tokenmgr/secret"
)

// This file holds `deltashare pat rotate --for-service-principal`: a service principal's token
// rotated in the order the integration guides give.

func init() {
	hintNames["RotatePrincipalOptions.OldTokenIDs"] = "--old-id ID[,ID]"
	hintNames["RotatePrincipalOptions.RevokeOld"] = "--revoke-old-after"
	hintNames["Workspace.ListWorkspaceTokens"] = "`deltashare sp show`"
}

// spRotateJSON is the --output json of `pat rotate --for-service-principal`.
type spRotateJSON struct {
	ServicePrincipal principalJSON `json:"servicePrincipal"`
	NewToken         tokenJSON     `json:"newToken"`
	WrittenTo        string        `json:"writtenTo"`
	Verified         bool          `json:"verified"`
	OldTokens        []tokenJSON   `json:"oldTokens"`
	Revoked          []string      `json:"revoked"`
	// RevokeCommands are the commands that revoke the old tokens not revoked by this run.
	RevokeCommands []string `json:"revokeCommands"`
}

func runSPRotate(ctx context.Context, o patRotateOptions, d *deps) error {
	sp := o.Principal
	if err := checkNewFile(sp.Out); err != nil {
		return err
	}
	ws, p, err := connectPrincipal(ctx, d, sp.Workspace, sp.Name)
	if err != nil {
		return err
	}
	res, err := ws.RotatePrincipalToken(ctx, databricks.RotatePrincipalOptions{
		Principal: *p, Comment: sp.Comment, Lifetime: sp.Lifetime, OldTokenIDs: sp.OldIDs,
		RevokeOld: sp.RevokeOld, RevokeOldAfter: sp.RevokeOldAfter,
		Save: func(v secret.Sensitive) error {
			err := atomicfile.WriteSecret(sp.Out, []byte(v.Reveal()+"\n"))
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = fmt.Errorf("writing %s: %w", sp.Out, pe.Err)
			}
			return err
		},
		Discard: func() { _ = os.Remove(sp.Out) },
		Waiting: func(until time.Time, old []databricks.TokenInfo) {
			if !o.Quiet {
				fmt.Fprintf(d.IO.Err, "deltashare: the new token is written and verified; revoking %d old token(s) at %s (interrupt to keep them)\n",
					len(old), until.UTC().Format(time.RFC3339))
			}
		},
	})
	if res == nil {
		return err
	}
	now := d.Now()
	out := spRotateJSON{ServicePrincipal: toPrincipalJSON(*p), NewToken: toTokenJSON(res.NewToken, p.DisplayName, now),
		WrittenTo: sp.Out, Verified: true, OldTokens: []tokenJSON{}, Revoked: nonNil(res.Revoked), RevokeCommands: []string{}}
	revoked := map[string]bool{}
	for _, id := range res.Revoked {
		revoked[id] = true
	}
	for _, t := range res.Old {
		out.OldTokens = append(out.OldTokens, toTokenJSON(t, p.DisplayName, now))
		if !revoked[t.ID] {
			out.RevokeCommands = append(out.RevokeCommands, "deltashare pat revoke --admin "+t.ID)
		}
	}
	if o.Output == "json" {
		if werr := writeJSON(d.IO.Out, out); werr != nil {
			return werr
		}
		return err
	}
	w := d.IO.Out
	if !o.Quiet {
		fmt.Fprintf(w, "created token %s for service principal %s", res.NewToken.ID, p)
		if res.NewToken.Comment != "" {
			fmt.Fprintf(w, " (%q)", res.NewToken.Comment)
		}
		fmt.Fprintf(w, ", expires %s\n", expiryPhrase(now, res.NewToken.Expiry))
		fmt.Fprintf(w, "token value written to %s (mode 0600)\n", sp.Out)
		fmt.Fprintln(w, "verified: the new token works as the service principal")
		for _, id := range res.Revoked {
			fmt.Fprintf(w, "revoked old token %s\n", id)
		}
		if len(res.Old) == 0 {
			fmt.Fprintf(w, "no earlier token of this principal has the comment %q: nothing to revoke\n", sp.Comment)
		}
	}
	if len(out.RevokeCommands) > 0 {
		if len(res.Old) > 1 {
			fmt.Fprintf(w, "%d earlier tokens have the comment %q; check which ones the consumer used before revoking:\n", len(res.Old), sp.Comment)
			if perr := printTokenLines(w, res.Old, now); perr != nil {
				return perr
			}
		}
		fmt.Fprintln(w, "once the consumer uses the new token, revoke the old one(s):")
		for _, c := range out.RevokeCommands {
			fmt.Fprintf(w, "  %s\n", c)
		}
	}
	return err
}
