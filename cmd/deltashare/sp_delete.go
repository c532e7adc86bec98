package main

import (
	"context"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/tokenmgr/databricks"
)

// spDeleteOptions are the options of `deltashare sp delete`.
type spDeleteOptions struct {
	Workspace databricks.WorkspaceOptions
	Name      string
	Yes       bool
	Output    string
}

func spDeleteCommand() *cli.Command {
	return &cli.Command{
		Name:      "delete",
		Usage:     "delete a service principal and with it its tokens (without --yes: only say what would go)",
		ArgsUsage: "NAME|APP_ID",
		Description: `Deletes a service principal from the workspace, which is how a Partner Connect partner is
disconnected: every token it owns stops working. Without --yes nothing is deleted: the command
lists the principal and the tokens that would die with it. Workspace admins.`,
		Flags: workspaceFlags(
			&cli.BoolFlag{Name: "yes", Usage: "really delete"},
		),
		Action: action(parseSPDeleteOptions, runSPDelete),
	}
}

func parseSPDeleteOptions(c *cli.Context) (o spDeleteOptions, err error) {
	if o.Output, o.Workspace, o.Name, err = parseWorkspaceTarget(c, "[--yes] NAME|APP_ID"); err != nil {
		return o, err
	}
	o.Yes = c.Bool("yes")
	return o, nil
}

// spDeleteJSON is the --output json of `sp delete`.
type spDeleteJSON struct {
	ServicePrincipal principalJSON `json:"servicePrincipal"`
	// Deleted is false without --yes (nothing was changed).
	Deleted bool `json:"deleted"`
	// Tokens are the tokens that died (or would die) with the principal.
	Tokens      []tokenJSON `json:"tokens"`
	TotalTokens int         `json:"totalTokens"`
}

func runSPDelete(ctx context.Context, o spDeleteOptions, d *deps) error {
	ws, p, err := connectPrincipal(ctx, d, o.Workspace, o.Name)
	if err != nil {
		return err
	}
	tokens, err := principalTokens(ctx, ws, *p)
	if err != nil {
		return err
	}
	now := d.Now()
	out := spDeleteJSON{ServicePrincipal: toPrincipalJSON(*p), Tokens: toTokenJSONs(tokens, p.DisplayName, now), TotalTokens: len(tokens)}
	if o.Yes {
		if err := ws.DeleteServicePrincipal(ctx, *p); err != nil {
			return err
		}
		out.Deleted = true
	}
	return printResult(d, o.Output, out, func(w io.Writer) error {
		verb, tverb := "deleted", "stopped working"
		if !o.Yes {
			verb, tverb = "would delete", "would stop working"
		}
		fmt.Fprintf(w, "%s service principal %s\n", verb, p)
		if len(tokens) == 0 {
			fmt.Fprintln(w, "it owns no tokens")
		} else {
			fmt.Fprintf(w, "%d token(s) it owns %s:\n", len(tokens), tverb)
			if err := printTokenLines(w, tokens, now); err != nil {
				return err
			}
		}
		if !o.Yes {
			return nothingDeleted(w, "sp delete", p.ApplicationID)
		}
		return nil
	})
}
