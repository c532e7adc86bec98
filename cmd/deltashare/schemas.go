package main

import (
	"context"
	"errors"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/protocol"
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
		Flags:     tableFlags(),
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
	return showAnswer(d, o.Profile, o.Output,
		func(cl *sharing.Client) ([]protocol.Schema, error) { return cl.ListSchemas(ctx, o.Share) },
		func(schemas []protocol.Schema) any { return nonNil(schemas) },
		func(w io.Writer, schemas []protocol.Schema) error {
			return printTable(w, []string{"SHARE", "SCHEMA"}, schemas, func(s protocol.Schema) []string { return []string{s.Share, s.Name} })
		})
}
