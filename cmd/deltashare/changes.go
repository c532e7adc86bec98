package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/deltashare/deltashare/internal/hint"
	"net/http"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/export"
	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/protocol"
)

// changesOptions are the options of `deltashare changes`.
type changesOptions struct {
	Table   protocol.Table
	Profile string // a profile embedded in the TABLE argument; "" for --profile
	Output  outputOptions
	Range   protocol.ChangesRequest // the versions or times of the change data
}

func changesCommand() *cli.Command {
	return &cli.Command{
		Name:        "changes",
		Usage:       "export a table's change data feed (_change_type, _commit_version, _commit_timestamp)",
		ArgsUsage:   "TABLE",
		Category:    "export",
		Description: whereHelp,
		Flags: append(tableFlags(
			&cli.Int64Flag{Name: "starting-version", Value: -1, DefaultText: "none", Usage: "first version of the range"},
			&cli.Int64Flag{Name: "ending-version", Value: -1, DefaultText: "latest", Usage: "last version of the range"},
			&cli.StringFlag{Name: "starting-timestamp", Usage: "start of the range (ISO 8601), instead of --starting-version"},
			&cli.StringFlag{Name: "ending-timestamp", Usage: "end of the range (ISO 8601)"},
		), outputFlags(oneOffOutput)...),
		Action: clientAction(parseChangesFlags, runChanges),
	}
}

func (o changesOptions) embeddedProfile() string { return o.Profile }

// parseChangesFlags maps the flags and the argument of changes to options.
func parseChangesFlags(c *cli.Context) (o changesOptions, err error) {
	if o.Output, err = parseOutput(c, oneOffOutput); err != nil {
		return o, err
	}
	if o.Range, err = changeRange(c); err != nil {
		return o, err
	}
	o.Profile, o.Table, err = tableArgument(c, "changes")
	return o, err
}

// changeRange reads the range flags: a start (a version or a time) and an optional end.
func changeRange(c *cli.Context) (protocol.ChangesRequest, error) {
	var req protocol.ChangesRequest
	var err error
	if req.StartingVersion, err = versionFlag(c, "starting-version"); err != nil {
		return req, err
	}
	if req.EndingVersion, err = versionFlag(c, "ending-version"); err != nil {
		return req, err
	}
	req.StartingTimestamp = c.String("starting-timestamp")
	req.EndingTimestamp = c.String("ending-timestamp")
	if (req.StartingVersion == nil) == (req.StartingTimestamp == "") {
		return req, usageError(errors.New("give the start of the range: --starting-version V or --starting-timestamp T"))
	}
	if req.EndingVersion != nil && req.EndingTimestamp != "" {
		return req, usageError(errors.New("give --ending-version or --ending-timestamp, not both"))
	}
	if req.StartingVersion != nil && req.EndingVersion != nil && *req.EndingVersion < *req.StartingVersion {
		return req, usageError(fmt.Errorf("--ending-version %d is before --starting-version %d", *req.EndingVersion, *req.StartingVersion))
	}
	return req, nil
}

// runChanges exports the table's change data as o says and prints the summary.
func runChanges(ctx context.Context, cl *sharing.Client, o changesOptions, st *streams) error {
	t := export.NewSharedTable(cl, o.Table, o.Output.Read)
	err := writeOneOff(st, o.Output, o.Table, func(sink export.Sink, opts export.Options) (*export.Summary, error) {
		return t.ExportChanges(ctx, o.Range, sink, opts)
	})
	if noChangeData(err) {
		return hint.New(err, fmt.Sprintf("the table has no change data feed for these versions (delta.enableChangeDataFeed was off, or its history is not shared): export the table as of a version instead, e.g. deltashare export %s --version N -o FILE, or keep a copy up to date with deltashare sync (it re-exports the table when there is no change data feed)", o.Table))
	}
	return err
}

// noChangeData reports whether err is a server's refusal of a change data query because the
// table records no change data (Databricks: "change data was not recorded for version",
// "cdf is not enabled on table").
func noChangeData(err error) bool {
	var api *protocol.APIError
	if !errors.As(err, &api) || api.Status != http.StatusBadRequest {
		return false
	}
	m := strings.ToLower(api.Message)
	return strings.Contains(m, "change data") || strings.Contains(m, "cdf is not enabled") || strings.Contains(m, "changedatafeed")
}
