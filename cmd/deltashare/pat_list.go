package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/tokenmgr/databricks"
)

// patListOptions are the options of `deltashare pat list`.
type patListOptions struct {
	Workspace databricks.WorkspaceOptions
	// All lists every user's tokens (token-management API, admins).
	All bool
	// Window marks tokens expiring within it; Filter keeps only those.
	Window time.Duration
	Filter bool
	Output string
}

func patListCommand() *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list your tokens (--all: every user's, for admins), flagging those that expire soon",
		Flags: workspaceFlags(
			&cli.StringFlag{Name: "expiring-within", Value: "30d", Usage: "flag tokens expiring within this window; when given, list only those"},
			&cli.BoolFlag{Name: "all", Usage: "list the tokens of every user (token management API; workspace admins)"},
		),
		Action: action(parsePATListOptions, runPATList),
	}
}

func parsePATListOptions(c *cli.Context) (o patListOptions, err error) {
	if o.Output, err = outputMode(c); err != nil {
		return o, err
	}
	if err := nargs(c, 0, 0, "[--expiring-within 30d] [--all]"); err != nil {
		return o, err
	}
	if o.Window, err = durationFlag(c, "expiring-within"); err != nil {
		return o, err
	}
	o.Workspace, o.All, o.Filter = workspaceOptionsFrom(c), c.Bool("all"), c.IsSet("expiring-within")
	return o, nil
}

// tokenRowJSON is one token of `pat list --output json`.
type tokenRowJSON struct {
	databricks.TokenInfo
	ExpiresIn   string `json:"expires_in"`
	ExpiresSoon bool   `json:"expires_soon"`
	Expired     bool   `json:"expired"`
}

func runPATList(ctx context.Context, o patListOptions, d *deps) error {
	ws, err := d.Workspace(ctx, o.Workspace)
	if err != nil {
		return err
	}
	var tokens []databricks.TokenInfo
	if o.All {
		tokens, err = ws.ListWorkspaceTokens(ctx, databricks.AdminListOptions{})
	} else {
		tokens, err = ws.ListPATs(ctx)
	}
	if err != nil {
		return err
	}
	sort.SliceStable(tokens, func(i, j int) bool {
		if !tokens[i].Created.Equal(tokens[j].Created) {
			return tokens[i].Created.Before(tokens[j].Created)
		}
		return tokens[i].ID < tokens[j].ID
	})
	now := d.Now()
	rows := make([]tokenRowJSON, 0, len(tokens))
	for _, t := range tokens {
		soon := t.ExpiringSoonAt(now, o.Window)
		if o.Filter && !soon {
			continue
		}
		rows = append(rows, tokenRowJSON{TokenInfo: t, ExpiresIn: expiresIn(now, t.Expiry), ExpiresSoon: soon, Expired: t.Expired(now)})
	}
	if o.Output == "json" {
		return writeJSON(d.IO.Out, rows)
	}
	return printTokens(d.IO.Out, rows, o.All)
}

// printTokens writes the token table for people; all adds the owner column.
func printTokens(out io.Writer, rows []tokenRowJSON, all bool) error {
	tw := newTable(out)
	header := "ID\tCOMMENT\tCREATED\tEXPIRES\t"
	if all {
		header = "ID\tOWNER\tCOMMENT\tCREATED\tEXPIRES\t"
	}
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		flag := ""
		switch {
		case r.Expired:
			flag = "EXPIRED"
		case r.ExpiresSoon:
			flag = "EXPIRES SOON"
		}
		exp := "never"
		if !r.Expiry.IsZero() {
			exp = r.Expiry.UTC().Format("2006-01-02 15:04") + " (" + r.ExpiresIn + ")"
		}
		created := "-"
		if !r.Created.IsZero() {
			created = r.Created.UTC().Format("2006-01-02")
		}
		if all {
			owner := r.CreatedBy
			if owner == "" && r.OwnerID != 0 {
				owner = fmt.Sprint(r.OwnerID)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, orDash(owner), orDash(r.Comment), created, exp, flag)
		} else {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, orDash(r.Comment), created, exp, flag)
		}
	}
	return tw.Flush()
}
