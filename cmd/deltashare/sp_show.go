package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/tokenmgr/databricks"
)

// spShowOptions are the options of `deltashare sp show`.
type spShowOptions struct {
	Workspace databricks.WorkspaceOptions
	Name      string
	Output    string
}

func spShowCommand() *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "show a service principal: application ID, whether it may use tokens, its tokens",
		ArgsUsage: "NAME|APP_ID",
		Flags:     workspaceFlags(),
		Action:    action(parseSPShowOptions, runSPShow),
	}
}

func parseSPShowOptions(c *cli.Context) (o spShowOptions, err error) {
	if o.Output, o.Workspace, o.Name, err = parseWorkspaceTarget(c, "NAME|APP_ID"); err != nil {
		return o, err
	}
	return o, nil
}

// spShowJSON is the --output json of `sp show`.
type spShowJSON struct {
	principalJSON
	Groups []string `json:"groups"`
	// CanUseTokens says whether the token permissions let it use tokens; TokenUseVia how
	// ("direct" or "group NAME"). Both absent when the permissions could not be read.
	CanUseTokens *bool       `json:"canUseTokens,omitempty"`
	TokenUseVia  string      `json:"tokenUseVia,omitempty"`
	Tokens       []tokenJSON `json:"tokens"`
	TotalTokens  int         `json:"totalTokens"`
}

func runSPShow(ctx context.Context, o spShowOptions, d *deps) error {
	ws, p, err := connectPrincipal(ctx, d, o.Workspace, o.Name)
	if err != nil {
		return err
	}
	now := d.Now()
	out := spShowJSON{principalJSON: toPrincipalJSON(*p), Groups: nonNil(p.Groups)}
	// The token permissions and the workspace's tokens need a workspace admin: without, the
	// principal is shown without them.
	notAdmin := func(err error) bool { return errors.Is(err, databricks.ErrWorkspacePermission) }
	perms, err := ws.TokenPermissions(ctx)
	switch {
	case err == nil:
		via := databricks.CanUseTokens(perms, *p)
		can := via != ""
		out.CanUseTokens, out.TokenUseVia = &can, via
	case notAdmin(err):
		fmt.Fprintln(d.IO.Err, "deltashare: whether it may use tokens is not shown: reading the token permissions needs a workspace admin")
	default:
		return err
	}
	tokens, err := principalTokens(ctx, ws, *p)
	switch {
	case err == nil:
	case notAdmin(err):
		fmt.Fprintln(d.IO.Err, "deltashare: its tokens are not shown: listing the workspace's tokens needs a workspace admin")
	default:
		return err
	}
	out.Tokens, out.TotalTokens = toTokenJSONs(tokens, p.DisplayName, now), len(tokens)
	return printResult(d, o.Output, out, func(w io.Writer) error {
		f := fieldLines{w: w, width: 19}
		f.linef("service principal", "%s", p.DisplayName)
		f.linef("application ID", "%s", p.ApplicationID)
		f.linef("ID", "%s", p.ID)
		f.linef("active", "%s", yesNo(p.Active))
		use := "unknown (needs a workspace admin)"
		switch {
		case out.CanUseTokens == nil:
		case *out.CanUseTokens:
			use = "yes (CAN_USE, " + out.TokenUseVia + ")"
		default:
			use = "no: grant it with deltashare sp grant-tokens " + quoteArg(p.ApplicationID)
		}
		f.linef("may use tokens", "%s", use)
		f.linef("tokens", "%d", len(tokens))
		if len(tokens) > 0 {
			return printTokenLines(w, tokens, now)
		}
		return nil
	})
}
