package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"
)

// versionOptions are the options of `deltashare version`.
type versionOptions struct {
	tableTarget
	Output string // text or json
	// StartingTimestamp asks for the first version at or after this time instead of the
	// current one.
	StartingTimestamp string
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:      "version",
		Usage:     "print a table's current version (or the first at or after --starting-timestamp)",
		ArgsUsage: "TABLE",
		Category:  "explore",
		Flags:     tableFlags(&cli.StringFlag{Name: "starting-timestamp", Usage: "ISO 8601 timestamp, e.g. 2024-01-31T00:00:00Z"}),
		Action:    action(parseVersionOptions, runVersion),
	}
}

func parseVersionOptions(c *cli.Context) (o versionOptions, err error) {
	if o.Output, err = outputMode(c); err != nil {
		return o, err
	}
	if o.tableTarget, err = parseTableTarget(c, "version"); err != nil {
		return o, err
	}
	o.StartingTimestamp = c.String("starting-timestamp")
	return o, nil
}

func runVersion(ctx context.Context, o versionOptions, d *deps) error {
	cl, err := d.Client(o.Profile)
	if err != nil {
		return err
	}
	v, err := cl.TableVersion(ctx, o.Table, o.StartingTimestamp)
	if err != nil {
		return err
	}
	if o.Output == "json" {
		return writeJSON(d.IO.Out, map[string]any{"table": o.Table.String(), "version": v})
	}
	_, err = fmt.Fprintln(d.IO.Out, v)
	return err
}
