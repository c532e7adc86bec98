package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/deltashare/deltashare/tokenmgr/databricks"
	"github.com/urfave/cli/v2"
)

func init() { commandSet = append(commandSet, recipientCommand) }

func recipientCommand() *cli.Command {
	return &cli.Command{
		Name:     "recipient",
		Usage:    "Delta Sharing recipients of a Databricks workspace (provider side): create, show, rotate",
		Category: "databricks",
		Description: `Manages open-sharing (TOKEN) recipients in a Databricks workspace, with the same authentication
as deltashare pat. An activation link gives whoever opens it first the recipient's credential:
recipient create prints it (that is its purpose); show and rotate print links only with
--show-link. Send links over a private channel.`,
		Subcommands: []*cli.Command{recipientCreateCommand(), recipientShowCommand(), recipientRotateCommand()},
	}
}

// recipientJSON is a recipient in --output json; activation links only when shown.
type recipientJSON struct {
	Name               string               `json:"name"`
	Comment            string               `json:"comment,omitempty"`
	Owner              string               `json:"owner,omitempty"`
	AuthenticationType string               `json:"authentication_type"`
	Activated          bool                 `json:"activated"`
	ActivationPending  bool                 `json:"activation_pending"`
	ActivationLink     string               `json:"activation_link,omitempty"`
	Created            time.Time            `json:"created,omitzero"`
	Tokens             []recipientTokenJSON `json:"tokens"`
}

type recipientTokenJSON struct {
	ID                string    `json:"id"`
	Created           time.Time `json:"created,omitzero"`
	Expiry            time.Time `json:"expiry,omitzero"`
	ExpiresIn         string    `json:"expires_in"`
	ActivationPending bool      `json:"activation_pending"`
	ActivationLink    string    `json:"activation_link,omitempty"`
}

func toRecipientJSON(r *databricks.Recipient, showLink bool, now time.Time) recipientJSON {
	out := recipientJSON{Name: r.Name, Comment: r.Comment, Owner: r.Owner, AuthenticationType: r.AuthenticationType,
		Activated: r.Activated, ActivationPending: r.PendingActivation(), Created: r.Created, Tokens: []recipientTokenJSON{}}
	if showLink {
		out.ActivationLink = r.ActivationLink.Reveal()
	}
	for _, t := range r.Tokens {
		tj := recipientTokenJSON{ID: t.ID, Created: t.Created, Expiry: t.Expiry, ExpiresIn: expiresIn(now, t.Expiry), ActivationPending: !t.ActivationLink.IsZero()}
		if showLink {
			tj.ActivationLink = t.ActivationLink.Reveal()
		}
		out.Tokens = append(out.Tokens, tj)
	}
	return out
}

// printRecipient writes a recipient for people; activation links only with showLink.
func printRecipient(out io.Writer, r *databricks.Recipient, showLink bool, now time.Time) error {
	fmt.Fprintf(out, "recipient:       %s\n", r.Name)
	if r.Comment != "" {
		fmt.Fprintf(out, "comment:         %s\n", r.Comment)
	}
	if r.Owner != "" {
		fmt.Fprintf(out, "owner:           %s\n", r.Owner)
	}
	fmt.Fprintf(out, "authentication:  %s\n", r.AuthenticationType)
	state := "not activated"
	switch {
	case r.PendingActivation():
		state = "activation link not used yet"
	case r.Activated:
		state = "activated"
	}
	fmt.Fprintf(out, "state:           %s\n", state)
	if !r.Created.IsZero() {
		fmt.Fprintf(out, "created:         %s\n", r.Created.UTC().Format(time.RFC3339))
	}
	if len(r.Tokens) > 0 {
		fmt.Fprintln(out)
		tw := newTable(out)
		fmt.Fprintln(tw, "TOKEN\tCREATED\tEXPIRES\tEXPIRES IN\tLINK USED")
		for _, t := range r.Tokens {
			created, exp := "-", "never"
			if !t.Created.IsZero() {
				created = t.Created.UTC().Format(time.RFC3339)
			}
			if !t.Expiry.IsZero() {
				exp = t.Expiry.UTC().Format(time.RFC3339)
			}
			used := "yes"
			if !t.ActivationLink.IsZero() {
				used = "no"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.ID, created, exp, expiresIn(now, t.Expiry), used)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if r.PendingActivation() {
		if showLink {
			fmt.Fprintf(out, "\nactivation link (works once; send it privately):\n%s\n", r.ActivationLink.Reveal())
		} else {
			fmt.Fprintf(out, "\nactivation link: not shown; pass --show-link to print it\n")
		}
	}
	return nil
}

func recipientCreateCommand() *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "create a TOKEN recipient and print its activation link",
		ArgsUsage: "NAME",
		Flags: workspaceFlags(
			&cli.StringFlag{Name: "comment", Usage: "the recipient's comment"},
		),
		Action: func(c *cli.Context) error {
			mode, err := outputMode(c)
			if err != nil {
				return err
			}
			if err := nargs(c, 1, 1, "[--comment C] NAME"); err != nil {
				return err
			}
			ws, err := databricks.NewWorkspace(c.Context, workspaceOptionsFrom(c))
			if err != nil {
				return err
			}
			return runRecipientCreate(c.Context, ws, c.Args().First(), c.String("comment"), mode, ioFrom(c).Out)
		},
	}
}

func runRecipientCreate(ctx context.Context, ws *databricks.Workspace, name, comment, mode string, out io.Writer) error {
	r, err := ws.CreateRecipient(ctx, name, comment)
	if err != nil {
		return err
	}
	// The activation link is what this command is for: it is printed.
	if mode == "json" {
		return writeJSON(out, toRecipientJSON(r, true, time.Now()))
	}
	fmt.Fprintf(out, "created recipient %s (%s)\n", r.Name, r.AuthenticationType)
	if r.ActivationLink.IsZero() {
		fmt.Fprintf(out, "the workspace returned no activation link: see deltashare recipient show --show-link %s\n", r.Name)
		return nil
	}
	fmt.Fprintf(out, "activation link (works once; send it to the recipient privately):\n%s\n", r.ActivationLink.Reveal())
	return nil
}

func recipientShowCommand() *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "show a recipient: state and tokens with expiry (activation link with --show-link)",
		ArgsUsage: "NAME",
		Flags: workspaceFlags(
			&cli.BoolFlag{Name: "show-link", Usage: "print the unused activation link"},
		),
		Action: func(c *cli.Context) error {
			mode, err := outputMode(c)
			if err != nil {
				return err
			}
			if err := nargs(c, 1, 1, "[--show-link] NAME"); err != nil {
				return err
			}
			ws, err := databricks.NewWorkspace(c.Context, workspaceOptionsFrom(c))
			if err != nil {
				return err
			}
			r, err := ws.ShowRecipient(c.Context, c.Args().First())
			if err != nil {
				return err
			}
			out, now := ioFrom(c).Out, time.Now()
			if mode == "json" {
				return writeJSON(out, toRecipientJSON(r, c.Bool("show-link"), now))
			}
			return printRecipient(out, r, c.Bool("show-link"), now)
		},
	}
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
		Action: func(c *cli.Context) error {
			mode, err := outputMode(c)
			if err != nil {
				return err
			}
			if err := nargs(c, 1, 1, "--keep-old-for 1h [--show-link] NAME"); err != nil {
				return err
			}
			if !c.IsSet("keep-old-for") {
				return usageError(errors.New("recipient rotate: say how long the current tokens keep working with --keep-old-for (e.g. 1h, 7d; 0 revokes them at once, cutting the recipient off until they activate the new link)"))
			}
			keep, err := durationFlag(c, "keep-old-for")
			if err != nil {
				return err
			}
			ws, err := databricks.NewWorkspace(c.Context, workspaceOptionsFrom(c))
			if err != nil {
				return err
			}
			r, err := ws.RotateRecipientToken(c.Context, c.Args().First(), keep)
			if err != nil {
				return err
			}
			out, now := ioFrom(c).Out, time.Now()
			show := c.Bool("show-link")
			if mode == "json" {
				return writeJSON(out, toRecipientJSON(r, show, now))
			}
			old := "the old tokens were revoked"
			if keep > 0 {
				old = fmt.Sprintf("the old tokens keep working until %s", now.Add(keep).UTC().Format(time.RFC3339))
			}
			fmt.Fprintf(out, "rotated the token of recipient %s: %s; the recipient must activate the new link\n\n", r.Name, old)
			return printRecipient(out, r, show, now)
		},
	}
}
