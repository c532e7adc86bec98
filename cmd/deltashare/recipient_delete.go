package main

import (
	"context"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/tokenmgr/databricks"
)

// recipientDeleteOptions are the options of `deltashare recipient delete`.
type recipientDeleteOptions struct {
	Workspace databricks.WorkspaceOptions
	Name      string
	Yes       bool
	Output    string
}

func recipientDeleteCommand() *cli.Command {
	return &cli.Command{
		Name:      "delete",
		Usage:     "delete a recipient: its tokens stop working at once (without --yes: only say what would go)",
		ArgsUsage: "NAME",
		Flags: workspaceFlags(
			&cli.BoolFlag{Name: "yes", Usage: "really delete"},
		),
		Action: action(parseRecipientDeleteOptions, runRecipientDelete),
	}
}

func parseRecipientDeleteOptions(c *cli.Context) (o recipientDeleteOptions, err error) {
	if o.Output, o.Workspace, o.Name, err = parseWorkspaceTarget(c, "[--yes] NAME"); err != nil {
		return o, err
	}
	o.Yes = c.Bool("yes")
	return o, nil
}

// recipientDeleteJSON is the --output json of `recipient delete`.
type recipientDeleteJSON struct {
	Name      string `json:"name"`
	Activated bool   `json:"activated"`
	// Tokens is how many live tokens stopped (or would stop) working.
	Tokens int `json:"tokens"`
	// Deleted is false without --yes (nothing was changed).
	Deleted bool `json:"deleted"`
}

func runRecipientDelete(ctx context.Context, o recipientDeleteOptions, d *deps) error {
	ws, r, err := connectRecipient(ctx, d, o.Workspace, o.Name)
	if err != nil {
		return err
	}
	out := recipientDeleteJSON{Name: r.Name, Activated: r.Activated, Tokens: len(r.Tokens)}
	if o.Yes {
		if err := ws.DeleteRecipient(ctx, r.Name); err != nil {
			return err
		}
		out.Deleted = true
	}
	return printResult(d, o.Output, out, func(w io.Writer) error {
		if o.Yes {
			fmt.Fprintf(w, "deleted recipient %s: its %d token(s) stopped working\n", r.Name, out.Tokens)
			return nil
		}
		fmt.Fprintf(w, "would delete recipient %s (%s): its %d token(s) would stop working at once\n", r.Name, activatedWord(r.Activated), out.Tokens)
		return nothingDeleted(w, "recipient delete", r.Name)
	})
}

// nothingDeleted tells that a delete command run without --yes changed nothing, and the command
// that deletes arg.
func nothingDeleted(w io.Writer, command, arg string) error {
	_, err := fmt.Fprintf(w, "nothing was deleted: run again with --yes to delete it (deltashare %s --yes %s)\n", command, quoteArg(arg))
	return err
}

func activatedWord(b bool) string {
	if b {
		return "activated"
	}
	return "not activated"
}
