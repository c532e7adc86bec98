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

// parseTableAt reads the opening of the commands that read one table at a version or time
// (count, files, head, metadata): --output, the TABLE argument with its credential, then
// --version or --timestamp.
func parseTableAt(c *cli.Context, cmd string) (output string, t tableTarget, version *int64, timestamp string, err error) {
	if output, err = outputMode(c); err != nil {
		return "", t, nil, "", err
	}
	if t, err = parseTableTarget(c, cmd); err != nil {
		return "", t, nil, "", err
	}
	version, timestamp, err = timeTravelFlags(c)
	return output, t, version, timestamp, err
}

// whereHelp documents the --where language in the help of every command that takes it.
const whereHelp = `The --where filter:
  column = value                      also ==, != (or <>), <, <=, >, >=; the value may come first
  column IS [NOT] NULL
  column [NOT] IN (v1, v2, ...)
  column [NOT] BETWEEN low AND high   bounds included
  column [NOT] LIKE 'pattern'         % any run of characters, _ one character, \ escapes the next;
                                      case-sensitive; applied here only (never sent to the server)
  column                              a boolean column: rows where it is true (NOT column: false)
  cond AND cond, cond OR cond, NOT cond, ( cond )      AND binds tighter than OR
Values: 'text' ('' for a quote), numbers, true, false, DATE '2024-01-31',
TIMESTAMP '2024-01-31 12:00:00[.ffffff][+01:00]'; a quoted value is read as the column's type
('2024-01-31' for a date column). Columns: name, ` + "`odd name`" + `, struct.field; names are
case-insensitive; a column named like a keyword (like, between, in...) needs backquotes. A null
matches no comparison (SQL). The filter is applied exactly to the rows; what the protocol can
express is also sent to the server to skip files.`
