package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/tokenmgr"
)

// credsImportOptions are the options of `deltashare creds import`.
type credsImportOptions struct {
	Name      string
	File      string // a profile file, or - for standard input
	Overwrite bool
	Quiet     bool
}

func credsImportCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "store a profile file under NAME (FILE - reads standard input)",
		ArgsUsage: "NAME FILE",
		Flags: []cli.Flag{configDirFlag, quietFlag,
			&cli.BoolFlag{Name: "overwrite", Aliases: []string{"force"}, Usage: "replace a stored credential of the same name"},
		},
		Action: action(parseCredsImportOptions, runCredsImport),
	}
}

func parseCredsImportOptions(c *cli.Context) (credsImportOptions, error) {
	if err := nargs(c, 2, 2, "NAME FILE"); err != nil {
		return credsImportOptions{}, err
	}
	return credsImportOptions{Name: c.Args().Get(0), File: c.Args().Get(1), Overwrite: c.Bool("overwrite"), Quiet: c.Bool("quiet")}, nil
}

func runCredsImport(_ context.Context, o credsImportOptions, d *deps) error {
	store, err := d.Store()
	if err != nil {
		return err
	}
	if err := importCredential(store, o, d.IO.In); err != nil {
		return err
	}
	m, err := store.Stat(o.Name)
	if err != nil {
		return err
	}
	say(o.Quiet, d.IO.Out, "stored credential %s (endpoint %s, expires %s); use it with -p %s", m.Name, m.Endpoint, expiryPhrase(d.Now(), m.Expiry), m.Name)
	return nil
}

// importCredential stores the profile of o.File (standard input for -) under o.Name.
func importCredential(store *tokenmgr.Store, o credsImportOptions, stdin io.Reader) error {
	if o.File != "-" && !o.Overwrite {
		return store.Import(o.Name, o.File)
	}
	var raw []byte
	var err error
	src := tokenmgr.Source{Kind: tokenmgr.SourceImport}
	if o.File == "-" {
		raw, err = io.ReadAll(io.LimitReader(stdin, sharing.MaxProfileSize+1))
		if err != nil {
			return fmt.Errorf("import: cannot read standard input: %w", err)
		}
	} else {
		raw, err = os.ReadFile(o.File)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return fmt.Errorf("import: cannot read %s: %v", o.File, err)
		}
		if abs, aerr := filepath.Abs(o.File); aerr == nil {
			src.File = abs
		}
	}
	if len(raw) > sharing.MaxProfileSize {
		return usageError(fmt.Errorf("import: the profile is larger than %d bytes: this is not a profile file", sharing.MaxProfileSize))
	}
	// Paths inside the profile are relative to its file's directory (the working directory for
	// standard input); the stored copy is elsewhere.
	dir := ""
	if o.File != "-" {
		dir = filepath.Dir(o.File)
	}
	if raw, err = sharing.ResolveProfileFiles(raw, dir); err != nil {
		return usageError(fmt.Errorf("import: not a usable profile: %w", err))
	}
	return store.Put(o.Name, raw, tokenmgr.Meta{Source: src}, o.Overwrite)
}
