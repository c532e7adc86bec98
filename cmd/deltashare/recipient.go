package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/deltashare/deltashare/tokenmgr/databricks"
	"github.com/urfave/cli/v2"
)

// This file holds `deltashare recipient` (its subcommands are in recipient_*.go) and how a
// recipient is shown.

func init() { commandSet = append(commandSet, recipientCommand) }

func recipientCommand() *cli.Command {
	return &cli.Command{
		Name:     "recipient",
		Usage:    "Delta Sharing recipients of a Databricks workspace (provider side): create, list, show, rotate, delete",
		Category: "databricks",
		Description: `Manages open-sharing (TOKEN) recipients in a Databricks workspace, with the same authentication
as deltashare pat. An activation link gives whoever opens it first the recipient's credential:
recipient create prints it (that is its purpose); show and rotate print links only with
--show-link; list never does. Send links over a private channel. Recipient names are unique
case-insensitively: create refuses PowerBI when powerbi exists.`,
		Subcommands: []*cli.Command{recipientCreateCommand(), recipientListCommand(), recipientShowCommand(), recipientRotateCommand(), recipientDeleteCommand()},
	}
}

// connectRecipient connects to the workspace and reads the recipient called name: the first
// steps of every command acting on one existing recipient.
func connectRecipient(ctx context.Context, d *deps, o databricks.WorkspaceOptions, name string) (*databricks.Workspace, *databricks.Recipient, error) {
	return connectFind(ctx, d, o, name, (*databricks.Workspace).ShowRecipient)
}

// recipientStateJSON is what the JSON of every recipient command says of a recipient first.
type recipientStateJSON struct {
	Name               string `json:"name"`
	Comment            string `json:"comment,omitempty"`
	Owner              string `json:"owner,omitempty"`
	AuthenticationType string `json:"authenticationType"`
	Activated          bool   `json:"activated"`
	ActivationPending  bool   `json:"activationPending"`
}

func toRecipientStateJSON(r *databricks.Recipient) recipientStateJSON {
	return recipientStateJSON{Name: r.Name, Comment: r.Comment, Owner: r.Owner, AuthenticationType: r.AuthenticationType,
		Activated: r.Activated, ActivationPending: r.PendingActivation()}
}

// recipientJSON is a recipient in --output json; activation links only when shown.
type recipientJSON struct {
	recipientStateJSON
	ActivationLink string               `json:"activationLink,omitempty"`
	Created        time.Time            `json:"createdTime,omitzero"`
	Tokens         []recipientTokenJSON `json:"tokens"`
	TotalTokens    int                  `json:"totalTokens"`
}

type recipientTokenJSON struct {
	ID      string    `json:"id"`
	Created time.Time `json:"createdTime,omitzero"`
	// Expiry and ExpiresInSeconds are absent for a token that never expires.
	Expiry            time.Time `json:"expirationTime,omitzero"`
	ExpiresInSeconds  *int64    `json:"expiresInSeconds,omitempty"`
	ActivationPending bool      `json:"activationPending"`
	ActivationLink    string    `json:"activationLink,omitempty"`
}

func toRecipientJSON(r *databricks.Recipient, showLink bool, now time.Time) recipientJSON {
	out := recipientJSON{recipientStateJSON: toRecipientStateJSON(r), Created: r.Created, Tokens: []recipientTokenJSON{}}
	if showLink {
		out.ActivationLink = r.ActivationLink.Reveal()
	}
	for _, t := range r.Tokens {
		tj := recipientTokenJSON{ID: t.ID, Created: t.Created, Expiry: t.Expiry, ExpiresInSeconds: secondsLeft(now, t.Expiry),
			ActivationPending: !t.ActivationLink.IsZero()}
		if showLink {
			tj.ActivationLink = t.ActivationLink.Reveal()
		}
		out.Tokens = append(out.Tokens, tj)
	}
	out.TotalTokens = len(out.Tokens)
	return out
}

// printRecipient writes a recipient for people; activation links only with showLink.
func printRecipient(out io.Writer, r *databricks.Recipient, showLink bool, now time.Time) error {
	f := fieldLines{w: out, width: 17}
	f.linef("recipient", "%s", r.Name)
	f.optional("comment", r.Comment)
	f.optional("owner", r.Owner)
	f.linef("authentication", "%s", r.AuthenticationType)
	state := "not activated"
	switch {
	case r.PendingActivation():
		state = "activation link not used yet"
	case r.Activated:
		state = "activated"
	}
	f.linef("state", "%s", state)
	if !r.Created.IsZero() {
		f.linef("created", "%s", r.Created.UTC().Format(time.RFC3339))
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
