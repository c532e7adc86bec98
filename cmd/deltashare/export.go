package main

import (
	"context"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/export"
	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/protocol"
)

// export and changes are listed in this order in help (changes.go is read first).
func init() { commandSet = append(commandSet, exportCommand, changesCommand) }

// exportOptions are the options of `deltashare export`.
type exportOptions struct {
	Table     protocol.Table
	Profile   string // a profile embedded in the TABLE argument; "" for --profile
	Output    outputOptions
	Version   *int64 // time travel: --version, or
	Timestamp string // --timestamp
}

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "export a shared table (or a slice of it) to CSV, NDJSON, JSON or Parquet",
		ArgsUsage: "TABLE",
		Category:  "export",
		Description: `Reads the table's data files through Apache Arrow and writes them out exactly: every Delta
type, deletion vectors applied, partition columns included. Output files appear only when complete
(written under temporary names, then renamed); an existing output is kept unless --overwrite.
A FIFO, a character device (/dev/null, a terminal) or /dev/stdout is written as a stream, never
replaced; a socket or other special file is refused. No progress bar while the data goes to a
terminal.

Examples:
  deltashare export -p me.share sales.emea.orders -o orders.csv
  deltashare export -p me.share sales.emea.orders -o lake/orders/ --format parquet --partition-by region
  deltashare export -p me.share sales.emea.orders -o - --where "amount > 100" --columns id,amount --limit 10

` + whereHelp,
		Flags: append(tableFlags(
			&cli.Int64Flag{Name: "version", Value: -1, DefaultText: "latest", Usage: "export this table version (time travel)"},
			&cli.StringFlag{Name: "timestamp", Usage: "export the table as of this time (ISO 8601)"},
		), outputFlags(oneOffOutput)...),
		Action: clientAction(parseExportFlags, runExport),
	}
}

func (o exportOptions) embeddedProfile() string { return o.Profile }

// parseExportFlags maps the flags and the argument of export to options.
func parseExportFlags(c *cli.Context) (o exportOptions, err error) {
	if o.Output, err = parseOutput(c, oneOffOutput); err != nil {
		return o, err
	}
	if o.Version, o.Timestamp, err = timeTravelFlags(c); err != nil {
		return o, err
	}
	o.Profile, o.Table, err = tableArgument(c, "export")
	return o, err
}

// runExport exports the table as o says and prints the summary.
func runExport(ctx context.Context, cl *sharing.Client, o exportOptions, st *streams) error {
	read := o.Output.Read
	read.Version, read.Timestamp = o.Version, o.Timestamp
	t := export.NewSharedTable(cl, o.Table, read)
	return writeOneOff(st, o.Output, o.Table, func(sink export.Sink, opts export.Options) (*export.Summary, error) {
		return t.Export(ctx, sink, opts)
	})
}
