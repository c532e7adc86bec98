package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/tokenmgr/databricks"
)

// patRotateOptions are the options of `deltashare pat rotate`.
type patRotateOptions struct {
	Rotate databricks.RotateOptions
	Output string // text or json
	Quiet  bool
}

func patRotateCommand() *cli.Command {
	return &cli.Command{
		Name:  "rotate",
		Usage: "replace the token in a ~/.databrickscfg profile or a token file, revoking the old one",
		Description: `Creates a new token with the stored one, writes it in place of the old one (keeping the rest of
the file and its mode), verifies it as read back, then revokes the old token. If a step fails,
the old token is put back and the new one revoked; the error says what was rolled back.

The stored token cannot be recognised by its value: if its identity has several tokens, pass
--old-id ID (see pat list). The new value is printed only with --show.`,
		Flags: []cli.Flag{dbHostFlag, dbProfileFlag, dbConfigFileFlag, outputFlag, quietFlag,
			&cli.StringFlag{Name: "token-file", Usage: "file holding just the token (instead of --databricks-profile; needs --host)"},
			&cli.StringFlag{Name: "old-id", Usage: "ID of the token stored in the target"},
			&cli.StringFlag{Name: "comment", Value: "deltashare", Usage: "comment of the new token"},
			&cli.StringFlag{Name: "lifetime", Value: "90d", Usage: "lifetime of the new token (0: no expiry)"},
			&cli.BoolFlag{Name: "show", Usage: "print the new token value"},
		},
		Action: action(parsePATRotateOptions, runPATRotate),
	}
}

// parsePATRotateOptions reads the flags; the host of a --token-file and the profile default
// to DATABRICKS_HOST and DATABRICKS_CONFIG_PROFILE.
func parsePATRotateOptions(c *cli.Context) (o patRotateOptions, err error) {
	if o.Output, err = outputMode(c); err != nil {
		return o, err
	}
	if err := nargs(c, 0, 0, "--databricks-profile P | --token-file F --host H"); err != nil {
		return o, err
	}
	lifetime, err := durationFlag(c, "lifetime")
	if err != nil {
		return o, err
	}
	o.Quiet = c.Bool("quiet")
	o.Rotate = databricks.RotateOptions{
		Profile: c.String("databricks-profile"), ConfigFile: cmp.Or(c.String("databricks-config-file"), os.Getenv("DATABRICKS_CONFIG_FILE")),
		TokenFile: c.String("token-file"), Host: c.String("host"),
		OldTokenID: c.String("old-id"), Comment: c.String("comment"), Lifetime: lifetime, Show: c.Bool("show"),
	}
	switch r := &o.Rotate; {
	case r.TokenFile != "" && r.Host == "":
		r.Host = os.Getenv("DATABRICKS_HOST")
	case r.TokenFile == "" && r.Profile == "":
		r.Profile = os.Getenv("DATABRICKS_CONFIG_PROFILE")
	}
	if o.Rotate.Profile == "" && o.Rotate.TokenFile == "" {
		return o, usageError(errors.New("pat rotate: say where the token lives: --databricks-profile NAME (in ~/.databrickscfg) or --token-file FILE --host URL"))
	}
	return o, nil
}

func runPATRotate(ctx context.Context, o patRotateOptions, d *deps) error {
	res, err := databricks.RotatePAT(ctx, o.Rotate)
	if err != nil {
		return err
	}
	if o.Output == "json" {
		return writeJSON(d.IO.Out, res)
	}
	if !o.Quiet || o.Rotate.Show {
		fmt.Fprintln(d.IO.Out, res.String())
	}
	return nil
}
