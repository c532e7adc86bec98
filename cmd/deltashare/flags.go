package main

import (
	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/sharing/protocol"
)

// Flag and argument parsing shared by the parse functions of several commands.

// profileRef is the credential a command uses: the profile embedded in a TABLE argument
// (PROFILE#share.schema.table), else --profile (env DELTASHARE_PROFILE). None gives "": the
// default credential of the store (deltashare creds default), resolved when the command runs.
func profileRef(c *cli.Context, embedded string) (string, error) {
	ref := c.String("profile")
	if embedded != "" {
		ref = embedded
	}
	return ref, nil
}

// tableTarget is what a command that takes one TABLE reads: which credential, which table.
type tableTarget struct {
	Profile string // the PROFILE# of the TABLE argument, else --profile
	Table   protocol.Table
}

// parseTableTarget parses the TABLE argument of command cmd and picks the credential.
func parseTableTarget(c *cli.Context, cmd string) (tableTarget, error) {
	ref, t, err := tableArgument(c, cmd)
	if err != nil {
		return tableTarget{}, err
	}
	ref, err = profileRef(c, ref)
	return tableTarget{Profile: ref, Table: t}, err
}
