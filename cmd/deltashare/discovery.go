package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"
)

// The explore commands, one file each (shares.go, schemas.go, tables.go, version.go,
// metadata.go, files.go), and what the commands that take one TABLE share.

func init() {
	commandSet = append(commandSet, sharesCommand, schemasCommand, tablesCommand, versionCommand,
		metadataCommand, filesCommand)
}

// timeTravelFlags reads --version and --timestamp, which exclude each other.
func timeTravelFlags(c *cli.Context) (*int64, string, error) {
	version, err := versionFlag(c, "version")
	if err != nil {
		return nil, "", err
	}
	ts := c.String("timestamp")
	if version != nil && ts != "" {
		return nil, "", usageError(errors.New("give --version or --timestamp, not both"))
	}
	return version, ts, nil
}

// versionFlag reads a table version flag: nil when not given. Its default (-1) only shows it
// unset; a negative version given is refused, not read as "latest".
func versionFlag(c *cli.Context, name string) (*int64, error) {
	if !c.IsSet(name) {
		return nil, nil
	}
	v := c.Int64(name)
	if v < 0 {
		return nil, usageError(fmt.Errorf("--%s %d: table versions start at 0; leave --%s out for the default", name, v, name))
	}
	return &v, nil
}

// countFlag reads a flag counting something whose default (-1) means "none": nil when not
// given; a negative number given is refused.
func countFlag(c *cli.Context, name string) (*int64, error) {
	if !c.IsSet(name) {
		return nil, nil
	}
	v := c.Int64(name)
	if v < 0 {
		return nil, usageError(fmt.Errorf("--%s %d: give 0 or more", name, v))
	}
	return &v, nil
}

// tableFlags are the flags of the commands that read from a sharing server (shares, schemas,
// tables and those that take one TABLE): the credential, --output and --config-dir, then extra.
func tableFlags(extra ...cli.Flag) []cli.Flag {
	return append([]cli.Flag{profileFlag, outputFlag, configDirFlag}, extra...)
}
