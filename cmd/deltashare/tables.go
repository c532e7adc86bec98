package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/protocol"
)

// tablesOptions are the options of `deltashare tables`: the tables of every share (Share ""),
// of one share (Schema ""), or of one schema.
type tablesOptions struct {
	Profile string // the credential (--profile)
	Output  string // text or json
	Share   string
	Schema  string
}

func tablesCommand() *cli.Command {
	return &cli.Command{
		Name:      "tables",
		Usage:     "list tables: of every share, of SHARE, or of SHARE.SCHEMA",
		ArgsUsage: "[SHARE[.SCHEMA]]",
		Category:  "explore",
		Flags:     tableFlags(),
		Action:    action(parseTablesOptions, runTables),
	}
}

func parseTablesOptions(c *cli.Context) (o tablesOptions, err error) {
	if o.Output, err = outputMode(c); err != nil {
		return o, err
	}
	if c.NArg() > 1 {
		return o, usageError(errors.New("tables takes at most one argument: SHARE or SHARE.SCHEMA"))
	}
	if o.Profile, err = profileRef(c, ""); err != nil {
		return o, err
	}
	if scope := c.Args().First(); scope != "" {
		var hasSchema bool
		o.Share, o.Schema, hasSchema = strings.Cut(scope, ".")
		if o.Share == "" || (hasSchema && (o.Schema == "" || strings.Contains(o.Schema, "."))) {
			return o, usageError(fmt.Errorf("bad scope %q: use SHARE or SHARE.SCHEMA", scope))
		}
	}
	return o, nil
}

// tableJSON is one table of `tables --output json`.
type tableJSON struct {
	Name     string `json:"name"`
	Schema   string `json:"schema"`
	Share    string `json:"share"`
	ShareID  string `json:"shareId,omitempty"`
	ID       string `json:"id,omitempty"`
	FullName string `json:"fullName"`
}

func runTables(ctx context.Context, o tablesOptions, d *deps) error {
	return showAnswer(d, o.Profile, o.Output,
		func(cl *sharing.Client) ([]protocol.TableInfo, error) { return cl.ListTablesIn(ctx, o.Share, o.Schema) },
		toTablesJSON,
		func(w io.Writer, tables []protocol.TableInfo) error {
			return printTable(w, []string{"TABLE", "ID"}, tables, func(t protocol.TableInfo) []string { return []string{t.Table().String(), t.ID} })
		})
}

func toTablesJSON(tables []protocol.TableInfo) any {
	rows := make([]tableJSON, 0, len(tables))
	for _, t := range tables {
		rows = append(rows, tableJSON{Name: t.Name, Schema: t.Schema, Share: t.Share, ShareID: t.ShareID, ID: t.ID, FullName: t.Table().String()})
	}
	return rows
}
