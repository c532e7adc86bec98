package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/tokenmgr"
)

// credsListOptions are the options of `deltashare creds list`.
type credsListOptions struct {
	Output string // text or json
}

func credsListCommand() *cli.Command {
	return &cli.Command{
		Name:   "list",
		Usage:  "list stored credentials: name, state, endpoint, time to expiry; * marks the default",
		Flags:  []cli.Flag{outputFlag, configDirFlag},
		Action: action(parseCredsListOptions, runCredsList),
	}
}

func parseCredsListOptions(c *cli.Context) (o credsListOptions, err error) {
	o.Output, err = outputArgs(c, 0, 0, "[--output json]")
	return o, err
}

func runCredsList(_ context.Context, o credsListOptions, d *deps) error {
	store, err := d.Store()
	if err != nil {
		return err
	}
	metas, err := store.List()
	if err != nil {
		return err
	}
	def, err := store.Default()
	if err != nil {
		return err
	}
	isDefault := func(m tokenmgr.Meta) bool { return def != "" && strings.EqualFold(def, m.Name) }
	now, out := d.Now(), d.IO.Out
	if o.Output == "json" {
		rows := make([]credJSON, 0, len(metas))
		for _, m := range metas {
			rows = append(rows, newCredJSON(now, m, isDefault(m)))
		}
		return writeJSON(out, rows)
	}
	if len(metas) == 0 {
		_, err := fmt.Fprintf(out, "no stored credentials in %s: add one with deltashare activate LINK or deltashare creds import NAME FILE\n", store.Dir())
		return err
	}
	tw := newTable(out)
	fmt.Fprintln(tw, "NAME\tSTATE\tENDPOINT\tEXPIRES IN")
	var problems []string
	for _, m := range metas {
		name := m.Name
		if isDefault(m) {
			name += " *"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, m.State, orDash(m.Endpoint), credExpiresIn(now, m))
		if m.Problem != "" {
			problems = append(problems, m.Problem)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if def != "" {
		fmt.Fprintf(out, "* default credential: used when no -p is given\n")
	}
	for _, p := range problems {
		fmt.Fprintf(out, "%s\n", p)
	}
	return nil
}
