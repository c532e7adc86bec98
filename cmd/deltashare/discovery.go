package main

import (
	"errors"

	"github.com/urfave/cli/v2"
)

// The explore commands, one file each (shares.go, schemas.go, tables.go, version.go,
// metadata.go, files.go), and what the commands that take one TABLE share.

func init() {
	commandSet = append(commandSet, sharesCommand, schemasCommand, tablesCommand, versionCommand,
		metadataCommand, filesCommand)
}

// timeTravelFlags reads --version (negative: unset) and --timestamp, which exclude each other.
func timeTravelFlags(c *cli.Context) (*int64, string, error) {
	var version *int64
	if v := c.Int64("version"); v >= 0 {
		version = &v
	}
	ts := c.String("timestamp")
	if version != nil && ts != "" {
		return nil, "", usageError(errors.New("give --version or --timestamp, not both"))
	}
	return version, ts, nil
}

// tableFlags are the flags of commands that take one TABLE.
func tableFlags(extra ...cli.Flag) []cli.Flag {
	return append([]cli.Flag{profileFlag, outputFlag, configDirFlag}, extra...)
}
