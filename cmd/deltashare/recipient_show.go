package main

import (
	"context"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/tokenmgr/databricks"
)

// recipientShowOptions are the options of `deltashare recipient show`.
type recipientShowOptions struct {
	Workspace databricks.WorkspaceOptions
	Name      string
	ShowLink  bool   // print the unused activation link
	Output    string // text or json
}

func recipientShowCommand() *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "show a recipient: state and tokens with expiry (activation link with --show-link)",
		ArgsUsage: "NAME",
		Flags: workspaceFlags(
			&cli.BoolFlag{Name: "show-link", Usage: "print the unused activation link"},
		),
		Action: action(parseRecipientShowOptions, runRecipientShow),
	}
}

func parseRecipientShowOptions(c *cli.Context) (o recipientShowOptions, err error) {
	if o.Output, o.Workspace, o.Name, err = parseWorkspaceTarget(c, "[--show-link] NAME"); err != nil {
		return o, err
	}
	o.ShowLink = c.Bool("show-link")
	return o, nil
}

func runRecipientShow(ctx context.Context, o recipientShowOptions, d *deps) error {
	_, r, err := connectRecipient(ctx, d, o.Workspace, o.Name)
	if err != nil {
		return err
	}
	now := d.Now()
	return printResult(d, o.Output, toRecipientJSON(r, o.ShowLink, now), func(w io.Writer) error { return printRecipient(w, r, o.ShowLink, now) })
}
