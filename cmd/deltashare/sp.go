package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/tokenmgr/databricks"
)

// This file holds `deltashare sp` (service principals; its subcommands are in sp_*.go), how a
// principal named on the command line is found, and the token JSON the Databricks commands
// share.

func init() {
	commandSet = append(commandSet, spCommand)
	errorCodeMappers = append(errorCodeMappers, mapPrincipalErrors)
	hintNames["Workspace.ListServicePrincipals"] = "`deltashare sp list`"
	hintNames["Workspace.GrantTokenUse"] = "deltashare sp grant-tokens"
}

// mapPrincipalErrors: a display name several principals share is a usage error (exit 2): name
// the principal by its application ID.
func mapPrincipalErrors(err error) (int, bool) {
	if errors.Is(err, databricks.ErrAmbiguousPrincipal) {
		return exitUsage, true
	}
	return 0, false
}

func spCommand() *cli.Command {
	return &cli.Command{
		Name:     "sp",
		Usage:    "Databricks service principals: find them, let them use tokens, delete them",
		Category: "databricks",
		Description: `Finds a workspace's service principals by display name (Partner Connect creates <PARTNER>_USER
principals), shows their tokens and whether they may use tokens, grants them CAN_USE on
tokens, and deletes them (which revokes their tokens). NAME is a display name (exact,
case-insensitive; when several principals share it, use the application ID) or an application
ID. Same authentication as deltashare pat; token management needs a workspace admin.`,
		Subcommands: []*cli.Command{spListCommand(), spShowCommand(), spGrantTokensCommand(), spDeleteCommand()},
	}
}

// findPrincipal resolves a display name or application ID.
func findPrincipal(ctx context.Context, ws *databricks.Workspace, ref string) (*databricks.ServicePrincipal, error) {
	return ws.FindServicePrincipal(ctx, ref)
}

// connectPrincipal connects to the workspace and finds the principal ref names (a display name
// or an application ID): the first steps of every command acting on one principal.
func connectPrincipal(ctx context.Context, d *deps, o databricks.WorkspaceOptions, ref string) (*databricks.Workspace, *databricks.ServicePrincipal, error) {
	return connectFind(ctx, d, o, ref, (*databricks.Workspace).FindServicePrincipal)
}

// principalTokens lists the live tokens a principal owns (token management; admins).
func principalTokens(ctx context.Context, ws *databricks.Workspace, p databricks.ServicePrincipal) ([]databricks.TokenInfo, error) {
	all, err := ws.ListWorkspaceTokens(ctx, databricks.AdminListOptions{})
	if err != nil {
		return nil, err
	}
	var out []databricks.TokenInfo
	for _, t := range all {
		if t.OwnerID != 0 && t.OwnerID == p.OwnerID() {
			out = append(out, t)
		}
	}
	sortTokens(out)
	return out, nil
}

func sortTokens(tokens []databricks.TokenInfo) {
	sort.SliceStable(tokens, func(i, j int) bool {
		if !tokens[i].Created.Equal(tokens[j].Created) {
			return tokens[i].Created.Before(tokens[j].Created)
		}
		return tokens[i].ID < tokens[j].ID
	})
}

// tokenJSON is a token in the JSON of the Databricks commands (never its value).
type tokenJSON struct {
	TokenID   string    `json:"tokenId"`
	Comment   string    `json:"comment,omitempty"`
	OwnerID   int64     `json:"ownerId,omitempty"`
	Owner     string    `json:"owner,omitempty"`
	CreatedBy string    `json:"createdBy,omitempty"`
	Created   time.Time `json:"createdTime,omitzero"`
	// Expiry is absent for a token that never expires.
	Expiry time.Time `json:"expirationTime,omitzero"`
	// ExpiresInSeconds is absent for a token that never expires (negative: expired).
	ExpiresInSeconds *int64 `json:"expiresInSeconds,omitempty"`
	// LastUsed is the day of the last use, where the workspace reports it.
	LastUsed time.Time `json:"lastUsedTime,omitzero"`
}

func toTokenJSON(t databricks.TokenInfo, owner string, now time.Time) tokenJSON {
	out := tokenJSON{TokenID: t.ID, Comment: t.Comment, OwnerID: t.OwnerID, Owner: owner, CreatedBy: t.CreatedBy,
		Created: t.Created, Expiry: t.Expiry, LastUsed: t.LastUsed}
	out.ExpiresInSeconds = secondsLeft(now, t.Expiry)
	return out
}

// toTokenJSONs is toTokenJSON for each token (an empty list, not null, for none).
func toTokenJSONs(tokens []databricks.TokenInfo, owner string, now time.Time) []tokenJSON {
	out := make([]tokenJSON, 0, len(tokens))
	for _, t := range tokens {
		out = append(out, toTokenJSON(t, owner, now))
	}
	return out
}

// principalJSON is a service principal in JSON.
type principalJSON struct {
	DisplayName   string `json:"displayName"`
	ApplicationID string `json:"applicationId"`
	ID            string `json:"id"`
	Active        bool   `json:"active"`
}

func toPrincipalJSON(p databricks.ServicePrincipal) principalJSON {
	return principalJSON{DisplayName: p.DisplayName, ApplicationID: p.ApplicationID, ID: p.ID, Active: p.Active}
}

// printTokenLines writes tokens as an indented table (ID, comment, created, expiry).
func printTokenLines(out io.Writer, tokens []databricks.TokenInfo, now time.Time) error {
	tw := newTable(out)
	fmt.Fprintln(tw, "  ID\tCOMMENT\tCREATED\tEXPIRES\tLAST USED")
	for _, t := range tokens {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", t.ID, orDash(t.Comment), dayOrDash(t.Created), expiryText(now, t.Expiry), dayOrDash(t.LastUsed))
	}
	return tw.Flush()
}

func dayOrDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02")
}

func expiryText(now, exp time.Time) string {
	if exp.IsZero() {
		return "never"
	}
	return exp.UTC().Format("2006-01-02 15:04") + " (" + expiresIn(now, exp) + ")"
}

// yesNo renders a bool for people.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// quoteArg quotes a command-line argument for a printed command when it needs it.
func quoteArg(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"'$`\\|&;<>()*?[]#~!{}") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
