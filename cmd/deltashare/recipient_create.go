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

// recipientCreateOptions are the options of `deltashare recipient create`.
type recipientCreateOptions struct {
	Workspace databricks.WorkspaceOptions
	Name      string
	Comment   string
	// Lifetime of the recipient's token (0: the metastore's recipient token lifetime).
	Lifetime time.Duration
	Output   string // text or json
}

func recipientCreateCommand() *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "create a TOKEN recipient and print its activation link",
		ArgsUsage: "NAME",
		Flags: workspaceFlags(
			&cli.StringFlag{Name: "comment", Usage: "the recipient's comment"},
			&cli.StringFlag{Name: "lifetime", Usage: "how long the recipient's token works (90d, 36h, ...)", DefaultText: "the metastore's recipient token lifetime"},
		),
		Action: action(parseRecipientCreateOptions, runRecipientCreate),
	}
}

func parseRecipientCreateOptions(c *cli.Context) (o recipientCreateOptions, err error) {
	if o.Output, o.Workspace, o.Name, err = parseWorkspaceTarget(c, "[--comment C] [--lifetime D] NAME"); err != nil {
		return o, err
	}
	if c.IsSet("lifetime") {
		if o.Lifetime, err = durationFlag(c, "lifetime"); err != nil {
			return o, err
		}
		if o.Lifetime == 0 {
			return o, usageError(errors.New("recipient create: --lifetime must be more than 0 (leave it out for the metastore's default)"))
		}
	}
	o.Comment = c.String("comment")
	return o, nil
}

func runRecipientCreate(ctx context.Context, o recipientCreateOptions, d *deps) error {
	ws, err := connectWorkspace(ctx, d, o.Workspace)
	if err != nil {
		return err
	}
	spec := databricks.RecipientSpec{Name: o.Name, Comment: o.Comment}
	if o.Lifetime > 0 {
		spec.Expiry = d.Now().Add(o.Lifetime)
	}
	r, err := ws.CreateRecipientWith(ctx, spec)
	if err != nil {
		return err
	}
	// The activation link is what this command is for: it is printed.
	return printResult(d, o.Output, toRecipientJSON(r, true, d.Now()), func(out io.Writer) error {
		fmt.Fprintf(out, "created recipient %s (%s)", r.Name, r.AuthenticationType)
		if n := len(r.Tokens); n > 0 {
			fmt.Fprintf(out, ", its token expires %s", expiryPhrase(d.Now(), r.Tokens[n-1].Expiry))
		}
		fmt.Fprintln(out)
		if r.ActivationLink.IsZero() {
			fmt.Fprintf(out, "the workspace returned no activation link: see deltashare recipient show --show-link %s\n", r.Name)
			return nil
		}
		fmt.Fprintf(out, "activation link (works once; send it to the recipient privately):\n%s\n", r.ActivationLink.Reveal())
		return nil
	})
}
