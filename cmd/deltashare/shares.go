package main

import (
	"context"
	"errors"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/protocol"
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
		Flags:    tableFlags(),
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
	return showAnswer(d, o.Profile, o.Output,
		func(cl *sharing.Client) ([]protocol.Share, error) { return cl.ListShares(ctx) },
		func(shares []protocol.Share) any { return nonNil(shares) },
		func(w io.Writer, shares []protocol.Share) error {
			return printTable(w, []string{"SHARE", "ID"}, shares, func(s protocol.Share) []string { return []string{s.Name, s.ID} })
		})
}
