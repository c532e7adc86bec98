package main

import (
	"context"
	"io"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/tokenmgr/databricks"
)

// recipientListOptions are the options of `deltashare recipient list`.
type recipientListOptions struct {
	Workspace databricks.WorkspaceOptions
	Output    string
}

func recipientListCommand() *cli.Command {
	return &cli.Command{
		Name:   "list",
		Usage:  "list recipients: state, tokens and when the newest token expires (never activation links)",
		Flags:  workspaceFlags(),
		Action: action(parseRecipientListOptions, runRecipientList),
	}
}

func parseRecipientListOptions(c *cli.Context) (o recipientListOptions, err error) {
	if o.Output, err = outputArgs(c, 0, 0, ""); err != nil {
		return o, err
	}
	o.Workspace = workspaceOptionsFrom(c)
	return o, nil
}

// recipientRowJSON is one recipient of `recipient list --output json`.
type recipientRowJSON struct {
	recipientStateJSON
	Created time.Time `json:"createdTime,omitzero"`
	Tokens  int       `json:"tokens"`
	// Expiry is when the newest token expires (absent: never, or no token).
	Expiry           time.Time `json:"expirationTime,omitzero"`
	ExpiresInSeconds *int64    `json:"expiresInSeconds,omitempty"`
}

// recipientListJSON is the --output json of `recipient list`.
type recipientListJSON struct {
	Recipients []recipientRowJSON `json:"recipients"`
	Total      int                `json:"total"`
}

func runRecipientList(ctx context.Context, o recipientListOptions, d *deps) error {
	ws, err := connectWorkspace(ctx, d, o.Workspace)
	if err != nil {
		return err
	}
	list, err := ws.ListRecipients(ctx)
	if err != nil {
		return err
	}
	now := d.Now()
	out := recipientListJSON{Recipients: []recipientRowJSON{}, Total: len(list)}
	for _, r := range list {
		row := recipientRowJSON{recipientStateJSON: toRecipientStateJSON(&r), Created: r.Created, Tokens: len(r.Tokens)}
		if n := len(r.Tokens); n > 0 {
			row.Expiry, row.ExpiresInSeconds = r.Tokens[n-1].Expiry, secondsLeft(now, r.Tokens[n-1].Expiry)
		}
		out.Recipients = append(out.Recipients, row)
	}
	return printResult(d, o.Output, out, func(w io.Writer) error {
		rows := make([][]string, 0, len(out.Recipients))
		for _, r := range out.Recipients {
			state := "not activated"
			switch {
			case r.ActivationPending:
				state = "link not used yet"
			case r.Activated:
				state = "activated"
			}
			exp := "-"
			if r.Tokens > 0 {
				exp = expiryText(now, r.Expiry)
			}
			rows = append(rows, []string{r.Name, r.AuthenticationType, state, strconv.Itoa(r.Tokens), exp, dayOrDash(r.Created)})
		}
		return printListing(w, "recipient", []string{"NAME", "AUTHENTICATION", "STATE", "TOKENS", "EXPIRES", "CREATED"}, rows)
	})
}
