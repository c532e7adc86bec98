package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"
)

// schemasOptions are the options of `deltashare schemas`.
type schemasOptions struct {
	Profile string // the credential (--profile)
	Output  string // text or json
	Share   string
}

func schemasCommand() *cli.Command {
	return &cli.Command{
		Name:      "schemas",
		Usage:     "list the schemas of a share",
		ArgsUsage: "SHARE",
		Category:  "explore",
		Flags:     []cli.Flag{profileFlag, outputFlag, configDirFlag},
		Action:    action(parseSchemasOptions, runSchemas),
	}
}

func parseSchemasOptions(c *cli.Context) (o schemasOptions, err error) {
	if o.Output, err = outputMode(c); err != nil {
		return o, err
	}
	if c.NArg() != 1 {
		return o, usageError(errors.New("schemas needs one argument: SHARE (deltashare shares lists them)"))
	}
	o.Share = c.Args().First()
	o.Profile, err = profileRef(c, "")
	return o, err
}

func runSchemas(ctx context.Context, o schemasOptions, d *deps) error {
	cl, err := d.Client(o.Profile)
	if err != nil {
		return err
	}
	schemas, err := cl.ListSchemas(ctx, o.Share)
	if err != nil {
		return err
	}
	if o.Output == "json" {
		return writeJSON(d.IO.Out, nonNil(schemas))
	}
	tw := newTable(d.IO.Out)
	fmt.Fprintln(tw, "SHARE\tSCHEMA")
	for _, s := range schemas {
		fmt.Fprintf(tw, "%s\t%s\n", s.Share, s.Name)
	}
	return tw.Flush()
}
