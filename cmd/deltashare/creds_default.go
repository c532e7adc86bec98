package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"
)

// credsDefaultOptions are the options of `deltashare creds default`.
type credsDefaultOptions struct {
	Name   string // "" shows the default
	Unset  bool
	Output string // text or json
	Quiet  bool
}

func credsDefaultCommand() *cli.Command {
	return &cli.Command{
		Name:      "default",
		Usage:     "set (or show, or --unset) the credential used when no -p is given",
		ArgsUsage: "[NAME]",
		Description: `Makes the stored credential NAME the default: commands given no -p (and no
DELTASHARE_PROFILE, no PROFILE# in a TABLE) use it, as the Databricks CLI uses its DEFAULT
profile. Without NAME, prints the default. --unset forgets it; removing the credential does too.
deltashare creds list marks the default with *.`,
		Flags: []cli.Flag{configDirFlag, quietFlag, outputFlag,
			&cli.BoolFlag{Name: "unset", Usage: "forget the default credential (the credential itself is kept)"},
		},
		Action: action(parseCredsDefaultOptions, runCredsDefault),
	}
}

func parseCredsDefaultOptions(c *cli.Context) (o credsDefaultOptions, err error) {
	if o.Output, err = outputArgs(c, 0, 1, "[NAME] | --unset"); err != nil {
		return o, err
	}
	o.Name, o.Unset, o.Quiet = c.Args().First(), c.Bool("unset"), c.Bool("quiet")
	if o.Unset && o.Name != "" {
		return o, usageError(errors.New("creds default: give NAME or --unset, not both"))
	}
	return o, nil
}

// credsDefaultJSON is the --output json shape of `creds default`.
type credsDefaultJSON struct {
	// Default is the default credential's name (null when none is set).
	Default *string `json:"default"`
}

func runCredsDefault(_ context.Context, o credsDefaultOptions, d *deps) error {
	store, err := d.Store()
	if err != nil {
		return err
	}
	switch {
	case o.Unset:
		if err := store.ClearDefault(); err != nil {
			return err
		}
	case o.Name != "":
		if err := store.SetDefault(o.Name); err != nil {
			return err
		}
	}
	def, err := store.Default()
	if err != nil {
		return err
	}
	if o.Output == "json" {
		j := credsDefaultJSON{}
		if def != "" {
			j.Default = &def
		}
		return writeJSON(d.IO.Out, j)
	}
	switch {
	case def == "":
		say(o.Quiet, d.IO.Out, "no default credential: commands need -p NAME|FILE; set one with deltashare creds default NAME")
	case o.Name != "":
		say(o.Quiet, d.IO.Out, "default credential: %s (used when no -p is given)", def)
	default:
		if o.Quiet {
			// A script asking for the default gets the bare name.
			_, err := fmt.Fprintln(d.IO.Out, def)
			return err
		}
		say(false, d.IO.Out, "default credential: %s (used when no -p is given)", def)
	}
	return nil
}
