package main

import (
	"context"
	"errors"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/tokenmgr"
)

// credsRemoveOptions are the options of `deltashare creds remove`.
type credsRemoveOptions struct {
	Name  string
	Quiet bool
}

func credsRemoveCommand() *cli.Command {
	return &cli.Command{
		Name:      "remove",
		Aliases:   []string{"rm"},
		Usage:     "delete a stored credential (the token stays valid at the provider until it expires)",
		ArgsUsage: "NAME",
		Flags:     []cli.Flag{configDirFlag, quietFlag},
		Action:    action(parseCredsRemoveOptions, runCredsRemove),
	}
}

func parseCredsRemoveOptions(c *cli.Context) (credsRemoveOptions, error) {
	if err := nargs(c, 1, 1, "NAME"); err != nil {
		return credsRemoveOptions{}, err
	}
	return credsRemoveOptions{Name: c.Args().First(), Quiet: c.Bool("quiet")}, nil
}

func runCredsRemove(_ context.Context, o credsRemoveOptions, d *deps) error {
	store, err := d.Store()
	if err != nil {
		return err
	}
	name := o.Name
	m, err := store.Stat(name)
	if err != nil && !errors.Is(err, tokenmgr.ErrInsecurePermissions) {
		return err
	}
	if err := store.Remove(name); err != nil {
		return err
	}
	if m.Name != "" {
		name = m.Name
	}
	say(o.Quiet, d.IO.Out, "removed credential %s", name)
	return nil
}
