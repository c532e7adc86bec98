package main

import (
	"context"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/sharing"
)

// versionOptions are the options of `deltashare version`: with no TABLE it prints deltashare's
// own version (what --version prints), with one the table's version.
type versionOptions struct {
	Tool bool // no TABLE: deltashare's version
	tableTarget
	Output string // text or json
	// StartingTimestamp asks for the first version at or after this time instead of the
	// current one.
	StartingTimestamp string
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:      "version",
		Usage:     "print deltashare's version; with TABLE, the table's current version (or the first at or after --starting-timestamp)",
		ArgsUsage: "[TABLE]",
		Category:  "explore",
		Description: `With no TABLE, prints deltashare's own version, as --version does (--output json:
{"version": "..."}). With TABLE, prints the table's current version, or with --starting-timestamp
the first version at or after that time (--output json: {"table": "...", "version": N}).

Examples:
  deltashare version
  deltashare version -p me.share sales.emea.orders`,
		Flags:  tableFlags(&cli.StringFlag{Name: "starting-timestamp", Usage: "ISO 8601 timestamp, e.g. 2024-01-31T00:00:00Z"}),
		Action: action(parseVersionOptions, runVersion),
	}
}

func parseVersionOptions(c *cli.Context) (o versionOptions, err error) {
	if o.Output, err = outputMode(c); err != nil {
		return o, err
	}
	if c.NArg() == 0 && !c.IsSet("starting-timestamp") {
		o.Tool = true
		return o, nil
	}
	if o.tableTarget, err = parseTableTarget(c, "version"); err != nil {
		return o, err
	}
	o.StartingTimestamp = c.String("starting-timestamp")
	return o, nil
}

func runVersion(ctx context.Context, o versionOptions, d *deps) error {
	if o.Tool {
		if o.Output == "json" {
			return writeJSON(d.IO.Out, map[string]any{"version": version})
		}
		_, err := fmt.Fprintf(d.IO.Out, "deltashare version %s\n", version)
		return err
	}
	return showAnswer(d, o.Profile, o.Output,
		func(cl *sharing.Client) (int64, error) { return cl.TableVersion(ctx, o.Table, o.StartingTimestamp) },
		func(v int64) any { return map[string]any{"table": refOf(o.Table), "version": v} },
		func(w io.Writer, v int64) error {
			_, err := fmt.Fprintln(w, v)
			return err
		})
}
