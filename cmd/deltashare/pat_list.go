package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/tokenmgr/databricks"
)

// Token hygiene: Databricks revokes tokens unused for 90 days and caps each user at 600 tokens.
const (
	nonUseRevocation = 90 * 24 * time.Hour
	nonUseWarning    = 80 * 24 * time.Hour
	tokenCap         = 600
	tokenCapWarning  = tokenCap * 9 / 10
)

// patListOptions are the options of `deltashare pat list`.
type patListOptions struct {
	Workspace databricks.WorkspaceOptions
	// All lists every user's tokens (token-management API, admins).
	All bool
	// Owner keeps the tokens of this owner (display name, user name or application ID;
	// case-insensitive). It implies All.
	Owner string
	// Window marks tokens expiring within it; Filter keeps only those.
	Window time.Duration
	Filter bool
	Output string
}

func patListCommand() *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list your tokens (--all: every user's, for admins), flagging those that expire soon",
		Description: `Lists tokens with their expiry. With --all (workspace admins) it lists every user's and service
principal's tokens with their owner (the principal that owns the token, not the admin who
created it on its behalf) and the day each was last used. Databricks revokes tokens unused for
90 days: tokens unused for 80 days or more are flagged. Owners at 90% or more of the 600-token
cap are named after the table.`,
		Flags: workspaceFlags(
			&cli.StringFlag{Name: "expiring-within", Value: "30d", Usage: "flag tokens expiring within this window; when given, list only those"},
			&cli.BoolFlag{Name: "all", Usage: "list the tokens of every user (token management API; workspace admins)"},
			&cli.StringFlag{Name: "owner", Usage: "only the tokens of this owner (display name, user name or application ID); implies --all"},
		),
		Action: action(parsePATListOptions, runPATList),
	}
}

func parsePATListOptions(c *cli.Context) (o patListOptions, err error) {
	if o.Output, err = outputArgs(c, 0, 0, "[--expiring-within 30d] [--all] [--owner NAME]"); err != nil {
		return o, err
	}
	if o.Window, err = durationFlag(c, "expiring-within"); err != nil {
		return o, err
	}
	o.Workspace, o.All, o.Filter, o.Owner = workspaceOptionsFrom(c), c.Bool("all"), c.IsSet("expiring-within"), c.String("owner")
	if o.Owner != "" {
		o.All = true
	}
	return o, nil
}

// tokenRowJSON is one token of `pat list --output json`.
type tokenRowJSON struct {
	tokenJSON
	ExpiresSoon bool `json:"expiresSoon"`
	Expired     bool `json:"expired"`
	// UnusedSeconds is how long the token has not been used (from its last use, or from its
	// creation if never used), where the workspace reports last use (--all).
	UnusedSeconds *int64 `json:"unusedSeconds,omitempty"`
	// RevokedSoonForNonUse: unused for 80 days or more; Databricks revokes it at 90.
	RevokedSoonForNonUse bool `json:"revokedSoonForNonUse"`
}

// ownerJSON counts an owner's tokens against the cap.
type ownerJSON struct {
	Owner   string `json:"owner"`
	OwnerID int64  `json:"ownerId"`
	Tokens  int    `json:"tokens"`
	// NearCap: at 90% or more of TokenCap.
	NearCap bool `json:"nearCap"`
}

// patListJSON is the --output json of `pat list`.
type patListJSON struct {
	Tokens []tokenRowJSON `json:"tokens"`
	Total  int            `json:"total"`
	// Owners (with --all) counts every listed owner's tokens, before --expiring-within.
	Owners   []ownerJSON `json:"owners,omitempty"`
	TokenCap int         `json:"tokenCap"`
}

func runPATList(ctx context.Context, o patListOptions, d *deps) error {
	ws, err := connectWorkspace(ctx, d, o.Workspace)
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
	sortTokens(tokens)
	names := map[int64]databricks.PrincipalName{}
	if o.All {
		ids := make([]int64, 0, len(tokens))
		for _, t := range tokens {
			ids = append(ids, t.OwnerID)
		}
		if names, err = ws.PrincipalNames(ctx, ids); err != nil {
			return err
		}
	}
	ownerName := func(t databricks.TokenInfo) string {
		if n, ok := names[t.OwnerID]; ok {
			return n.String()
		}
		if t.OwnerID != 0 {
			return fmt.Sprint(t.OwnerID)
		}
		return ""
	}
	if o.Owner != "" {
		kept := tokens[:0]
		for _, t := range tokens {
			n := names[t.OwnerID]
			if strings.EqualFold(n.DisplayName, o.Owner) || strings.EqualFold(n.UserName, o.Owner) || fmt.Sprint(t.OwnerID) == o.Owner {
				kept = append(kept, t)
			}
		}
		tokens = kept
	}
	now := d.Now()
	out := patListJSON{Tokens: []tokenRowJSON{}, TokenCap: tokenCap}
	if o.All {
		count := map[int64]int{}
		for _, t := range tokens {
			count[t.OwnerID]++
		}
		for id, n := range count {
			out.Owners = append(out.Owners, ownerJSON{Owner: ownerName(databricks.TokenInfo{OwnerID: id}), OwnerID: id, Tokens: n, NearCap: n >= tokenCapWarning})
		}
		sort.Slice(out.Owners, func(i, j int) bool {
			if out.Owners[i].Tokens != out.Owners[j].Tokens {
				return out.Owners[i].Tokens > out.Owners[j].Tokens
			}
			return out.Owners[i].OwnerID < out.Owners[j].OwnerID
		})
	}
	for _, t := range tokens {
		soon := t.ExpiringSoonAt(now, o.Window)
		if o.Filter && !soon {
			continue
		}
		row := tokenRowJSON{tokenJSON: toTokenJSON(t, ownerName(t), now), ExpiresSoon: soon, Expired: t.Expired(now)}
		if o.All {
			since := t.LastUsed
			if since.IsZero() {
				since = t.Created
			}
			if !since.IsZero() {
				s := int64(now.Sub(since) / time.Second)
				row.UnusedSeconds = &s
				row.RevokedSoonForNonUse = now.Sub(since) >= nonUseWarning && !row.Expired
			}
		}
		out.Tokens = append(out.Tokens, row)
	}
	out.Total = len(out.Tokens)
	return printResult(d, o.Output, out, func(w io.Writer) error { return printTokens(w, out, o.All, now) })
}

// printTokens writes the token table for people; all adds the owner and last-used columns and
// the owners near the cap.
func printTokens(out io.Writer, list patListJSON, all bool, now time.Time) error {
	tw := newTable(out)
	header := "ID\tCOMMENT\tCREATED\tEXPIRES\t"
	if all {
		header = "ID\tOWNER\tCOMMENT\tCREATED\tEXPIRES\tLAST USED\t"
	}
	fmt.Fprintln(tw, header)
	for _, r := range list.Tokens {
		var flags []string
		switch {
		case r.Expired:
			flags = append(flags, "EXPIRED")
		case r.ExpiresSoon:
			flags = append(flags, "EXPIRES SOON")
		}
		if r.RevokedSoonForNonUse {
			flags = append(flags, fmt.Sprintf("UNUSED %dd: REVOKED AT 90d", *r.UnusedSeconds/86400))
		}
		if all {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.TokenID, orDash(r.Owner), orDash(r.Comment), dayOrDash(r.Created),
				expiryText(now, r.Expiry), dayOrDash(r.LastUsed), strings.Join(flags, ", "))
		} else {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.TokenID, orDash(r.Comment), dayOrDash(r.Created), expiryText(now, r.Expiry), strings.Join(flags, ", "))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, o := range list.Owners {
		if o.NearCap {
			fmt.Fprintf(out, "%s owns %d of at most %d tokens: revoke unused ones before token creation fails\n", o.Owner, o.Tokens, list.TokenCap)
		}
	}
	return nil
}
