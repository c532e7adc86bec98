package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/tokenmgr/databricks"
)

// spListOptions are the options of `deltashare sp list`.
type spListOptions struct {
	Workspace    databricks.WorkspaceOptions
	NameContains string
	Output       string
}

func spListCommand() *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list service principals: display name, application ID, active, tokens owned",
		Flags: workspaceFlags(
			&cli.StringFlag{Name: "name-contains", Usage: "only principals whose display name contains this text (case-insensitive)"},
		),
		Action: action(parseSPListOptions, runSPList),
	}
}

func parseSPListOptions(c *cli.Context) (o spListOptions, err error) {
	if o.Output, err = outputArgs(c, 0, 0, "[--name-contains TEXT]"); err != nil {
		return o, err
	}
	o.Workspace, o.NameContains = workspaceOptionsFrom(c), c.String("name-contains")
	return o, nil
}

// spListJSON is the --output json of `sp list`.
type spListJSON struct {
	ServicePrincipals []spListRowJSON `json:"servicePrincipals"`
	Total             int             `json:"total"`
}

type spListRowJSON struct {
	principalJSON
	// TokensOwned is absent when the caller may not list the workspace's tokens.
	TokensOwned *int `json:"tokensOwned,omitempty"`
}

func runSPList(ctx context.Context, o spListOptions, d *deps) error {
	ws, err := connectWorkspace(ctx, d, o.Workspace)
	if err != nil {
		return err
	}
	sps, err := ws.ListServicePrincipals(ctx, o.NameContains)
	if err != nil {
		return err
	}
	// Tokens owned: one token-management listing for all principals (admins only).
	var owned map[int64]int
	if len(sps) > 0 {
		tokens, terr := ws.ListWorkspaceTokens(ctx, databricks.AdminListOptions{})
		switch {
		case terr == nil:
			owned = map[int64]int{}
			for _, t := range tokens {
				owned[t.OwnerID]++
			}
		case errors.Is(terr, databricks.ErrWorkspacePermission):
			fmt.Fprintln(d.IO.Err, "deltashare: tokens owned are not shown: listing the workspace's tokens needs a workspace admin")
		default:
			return terr
		}
	}
	out := spListJSON{ServicePrincipals: []spListRowJSON{}, Total: len(sps)}
	for _, p := range sps {
		row := spListRowJSON{principalJSON: toPrincipalJSON(p)}
		if owned != nil {
			n := owned[p.OwnerID()]
			row.TokensOwned = &n
		}
		out.ServicePrincipals = append(out.ServicePrincipals, row)
	}
	return printResult(d, o.Output, out, func(w io.Writer) error {
		rows := make([][]string, 0, len(out.ServicePrincipals))
		for _, r := range out.ServicePrincipals {
			tokens := "-"
			if r.TokensOwned != nil {
				tokens = fmt.Sprint(*r.TokensOwned)
			}
			rows = append(rows, []string{orDash(r.DisplayName), r.ApplicationID, yesNo(r.Active), tokens})
		}
		return printListing(w, "service principal", []string{"DISPLAY NAME", "APPLICATION ID", "ACTIVE", "TOKENS"}, rows)
	})
}
