package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/tokenmgr/databricks"
)

// recipientRotateOptions are the options of `deltashare recipient rotate`.
type recipientRotateOptions struct {
	Workspace databricks.WorkspaceOptions
	Name      string
	// KeepOldFor is how long the current tokens keep working (0: revoked at once).
	KeepOldFor time.Duration
	ShowLink   bool   // print the new activation link
	Output     string // text or json
}

func recipientRotateCommand() *cli.Command {
	return &cli.Command{
		Name:      "rotate",
		Usage:     "issue a new token and activation link; old tokens keep working for --keep-old-for",
		ArgsUsage: "NAME",
		Flags: workspaceFlags(
			&cli.StringFlag{Name: "keep-old-for", Usage: "how long the existing tokens keep working (1h, 7d, ...; 0 revokes them at once) (required)"},
			&cli.BoolFlag{Name: "show-link", Usage: "print the new activation link"},
		),
		Action: action(parseRecipientRotateOptions, runRecipientRotate),
	}
}

func parseRecipientRotateOptions(c *cli.Context) (o recipientRotateOptions, err error) {
	if o.Output, o.Workspace, o.Name, err = parseWorkspaceTarget(c, "--keep-old-for 1h [--show-link] NAME"); err != nil {
		return o, err
	}
	if !c.IsSet("keep-old-for") {
		return o, usageError(errors.New("recipient rotate: say how long the current tokens keep working with --keep-old-for (e.g. 1h, 7d; 0 revokes them at once, cutting the recipient off until they activate the new link)"))
	}
	if o.KeepOldFor, err = durationFlag(c, "keep-old-for"); err != nil {
		return o, err
	}
	o.ShowLink = c.Bool("show-link")
	return o, nil
}

func runRecipientRotate(ctx context.Context, o recipientRotateOptions, d *deps) error {
	ws, err := connectWorkspace(ctx, d, o.Workspace)
	if err != nil {
		return err
	}
	r, err := ws.RotateRecipientToken(ctx, o.Name, o.KeepOldFor)
	if err != nil {
		return err
	}
	now := d.Now()
	return printResult(d, o.Output, toRecipientJSON(r, o.ShowLink, now), func(w io.Writer) error {
		old := "the old tokens were revoked"
		if o.KeepOldFor > 0 {
			old = fmt.Sprintf("the old tokens keep working until %s", now.Add(o.KeepOldFor).UTC().Format(time.RFC3339))
		}
		fmt.Fprintf(w, "rotated the token of recipient %s: %s; the recipient must activate the new link\n\n", r.Name, old)
		return printRecipient(w, r, o.ShowLink, now)
	})
}
