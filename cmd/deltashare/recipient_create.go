package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/tokenmgr/databricks"
)

// recipientCreateOptions are the options of `deltashare recipient create`.
type recipientCreateOptions struct {
	Workspace databricks.WorkspaceOptions
	Name      string
	Comment   string
	Output    string // text or json
}

func recipientCreateCommand() *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "create a TOKEN recipient and print its activation link",
		ArgsUsage: "NAME",
		Flags: workspaceFlags(
			&cli.StringFlag{Name: "comment", Usage: "the recipient's comment"},
		),
		Action: action(parseRecipientCreateOptions, runRecipientCreate),
	}
}

func parseRecipientCreateOptions(c *cli.Context) (o recipientCreateOptions, err error) {
	if o.Output, err = outputMode(c); err != nil {
		return o, err
	}
	if err := nargs(c, 1, 1, "[--comment C] NAME"); err != nil {
		return o, err
	}
	o.Workspace, o.Name, o.Comment = workspaceOptionsFrom(c), c.Args().First(), c.String("comment")
	return o, nil
}

func runRecipientCreate(ctx context.Context, o recipientCreateOptions, d *deps) error {
	ws, err := d.Workspace(ctx, o.Workspace)
	if err != nil {
		return err
	}
	r, err := ws.CreateRecipient(ctx, o.Name, o.Comment)
	if err != nil {
		return err
	}
	// The activation link is what this command is for: it is printed.
	out := d.IO.Out
	if o.Output == "json" {
		return writeJSON(out, toRecipientJSON(r, true, d.Now()))
	}
	fmt.Fprintf(out, "created recipient %s (%s)\n", r.Name, r.AuthenticationType)
	if r.ActivationLink.IsZero() {
		fmt.Fprintf(out, "the workspace returned no activation link: see deltashare recipient show --show-link %s\n", r.Name)
		return nil
	}
	fmt.Fprintf(out, "activation link (works once; send it to the recipient privately):\n%s\n", r.ActivationLink.Reveal())
	return nil
}
