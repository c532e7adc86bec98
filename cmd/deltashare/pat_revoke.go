package main

import (
	"context"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/tokenmgr/databricks"
)

// patRevokeOptions are the options of `deltashare pat revoke`.
type patRevokeOptions struct {
	Workspace databricks.WorkspaceOptions
	ID        string
	// Admin revokes another user's token (token-management API).
	Admin bool
	Quiet bool
}

func patRevokeCommand() *cli.Command {
	return &cli.Command{
		Name:      "revoke",
		Usage:     "revoke a token by ID (pat list shows the IDs)",
		ArgsUsage: "ID",
		Flags: workspaceFlags(
			&cli.BoolFlag{Name: "admin", Usage: "revoke another user's token (token management API; workspace admins)"},
		),
		Action: action(parsePATRevokeOptions, runPATRevoke),
	}
}

func parsePATRevokeOptions(c *cli.Context) (patRevokeOptions, error) {
	if err := nargs(c, 1, 1, "ID"); err != nil {
		return patRevokeOptions{}, err
	}
	return patRevokeOptions{Workspace: workspaceOptionsFrom(c), ID: c.Args().First(), Admin: c.Bool("admin"), Quiet: c.Bool("quiet")}, nil
}

func runPATRevoke(ctx context.Context, o patRevokeOptions, d *deps) error {
	ws, err := connectWorkspace(ctx, d, o.Workspace)
	if err != nil {
		return err
	}
	if o.Admin {
		err = ws.RevokeWorkspaceToken(ctx, o.ID)
	} else {
		err = ws.RevokePAT(ctx, o.ID)
	}
	if err != nil {
		return err
	}
	say(o.Quiet, d.IO.Out, "revoked token %s", o.ID)
	return nil
}
