package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"
)

// credsExportOptions are the options of `deltashare creds export`.
type credsExportOptions struct {
	Name string
	// Out is the file to write (default NAME.share); - writes the profile to standard output.
	Out       string
	Overwrite bool
	Quiet     bool
}

func credsExportCommand() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "write a stored credential's profile file (0600; default ./NAME.share; --out - for standard output)",
		ArgsUsage: "NAME",
		Flags: []cli.Flag{configDirFlag, quietFlag,
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "output file (default NAME.share in the current directory; - writes the secret to standard output)"},
			&cli.BoolFlag{Name: "overwrite", Aliases: []string{"force"}, Usage: "replace an existing output file"},
		},
		Action: action(parseCredsExportOptions, runCredsExport),
	}
}

func parseCredsExportOptions(c *cli.Context) (credsExportOptions, error) {
	if err := nargs(c, 1, 1, "[--out FILE] NAME"); err != nil {
		return credsExportOptions{}, err
	}
	o := credsExportOptions{Name: c.Args().First(), Out: c.String("out"), Overwrite: c.Bool("overwrite"), Quiet: c.Bool("quiet")}
	if o.Out == "" {
		o.Out = o.Name + ".share"
	}
	return o, nil
}

func runCredsExport(_ context.Context, o credsExportOptions, d *deps) error {
	store, err := d.Store()
	if err != nil {
		return err
	}
	if o.Out == "-" {
		cred, err := store.Get(o.Name)
		if err != nil {
			return err
		}
		// Always said, even with --quiet: the secret is about to go somewhere visible.
		fmt.Fprintln(d.IO.Err, "warning: the profile written to standard output contains the credential's secret: do not paste it in chats, tickets or logs")
		_, err = d.IO.Out.Write(cred.Raw)
		return err
	}
	if err := store.Export(o.Name, o.Out, o.Overwrite); err != nil {
		return err
	}
	say(o.Quiet, d.IO.Out, "wrote %s (mode 0600): it contains the credential's secret", o.Out)
	return nil
}
