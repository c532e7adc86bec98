package main

import (
	"context"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/tokenmgr/databricks"
)

// spGrantTokensOptions are the options of `deltashare sp grant-tokens`.
type spGrantTokensOptions struct {
	Workspace databricks.WorkspaceOptions
	Name      string
	Output    string
	Quiet     bool
}

func spGrantTokensCommand() *cli.Command {
	return &cli.Command{
		Name:      "grant-tokens",
		Usage:     "let a service principal use tokens (CAN_USE on the workspace's token permissions)",
		ArgsUsage: "NAME|APP_ID",
		Description: `Adds CAN_USE for the service principal to the workspace's token permissions (a PATCH: every
other entry is kept). Needed before a token can be created on its behalf when the workspace
restricts token use. Workspace admins.`,
		Flags:  workspaceFlags(),
		Action: action(parseSPGrantTokensOptions, runSPGrantTokens),
	}
}

func parseSPGrantTokensOptions(c *cli.Context) (o spGrantTokensOptions, err error) {
	if o.Output, o.Workspace, o.Name, err = parseWorkspaceTarget(c, "NAME|APP_ID"); err != nil {
		return o, err
	}
	o.Quiet = c.Bool("quiet")
	return o, nil
}

// spGrantJSON is the --output json of `sp grant-tokens`.
type spGrantJSON struct {
	ServicePrincipal principalJSON `json:"servicePrincipal"`
	// Granted is true when this run added the entry; AlreadyVia says how the principal could
	// already use tokens ("direct" or "group NAME") when nothing was changed.
	Granted    bool   `json:"granted"`
	AlreadyVia string `json:"alreadyVia,omitempty"`
}

func runSPGrantTokens(ctx context.Context, o spGrantTokensOptions, d *deps) error {
	ws, p, err := connectPrincipal(ctx, d, o.Workspace, o.Name)
	if err != nil {
		return err
	}
	perms, err := ws.TokenPermissions(ctx)
	if err != nil {
		return err
	}
	out := spGrantJSON{ServicePrincipal: toPrincipalJSON(*p)}
	if via := databricks.CanUseTokens(perms, *p); via == "direct" {
		out.AlreadyVia = via
	} else {
		if _, err := ws.GrantTokenUse(ctx, *p); err != nil {
			return err
		}
		out.Granted = true
	}
	return printResult(d, o.Output, out, func(w io.Writer) error {
		if out.Granted {
			say(o.Quiet, w, "granted CAN_USE on tokens to service principal %s", p)
		} else {
			say(o.Quiet, w, "service principal %s already has CAN_USE on tokens; nothing changed", p)
		}
		return nil
	})
}
