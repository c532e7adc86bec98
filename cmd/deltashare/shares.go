package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"
)

// sharesOptions are the options of `deltashare shares`.
type sharesOptions struct {
	Profile string // the credential (--profile)
	Output  string // text or json
}

func sharesCommand() *cli.Command {
	return &cli.Command{
		Name:     "shares",
		Usage:    "list the shares the credential can read",
		Category: "explore",
		Flags:    []cli.Flag{profileFlag, outputFlag, configDirFlag},
		Action:   action(parseSharesOptions, runShares),
	}
}

func parseSharesOptions(c *cli.Context) (o sharesOptions, err error) {
	if o.Output, err = outputMode(c); err != nil {
		return o, err
	}
	if c.NArg() > 0 {
		return o, usageError(errors.New("shares takes no arguments"))
	}
	o.Profile, err = profileRef(c, "")
	return o, err
}

func runShares(ctx context.Context, o sharesOptions, d *deps) error {
	cl, err := d.Client(o.Profile)
	if err != nil {
		return err
	}
	shares, err := cl.ListShares(ctx)
	if err != nil {
		return err
	}
	if o.Output == "json" {
		return writeJSON(d.IO.Out, nonNil(shares))
	}
	tw := newTable(d.IO.Out)
	fmt.Fprintln(tw, "SHARE\tID")
	for _, s := range shares {
		fmt.Fprintf(tw, "%s\t%s\n", s.Name, s.ID)
	}
	return tw.Flush()
}
