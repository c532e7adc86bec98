package main

import (
	"context"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/reader"
)

// countOptions are the options of `deltashare count`.
type countOptions struct {
	tableTarget
	Output string // text or json
	Count  reader.CountOptions
}

func countCommand() *cli.Command {
	return &cli.Command{
		Name:        "count",
		Usage:       "count a table's rows exactly (from statistics when they suffice, else by reading the files)",
		ArgsUsage:   "TABLE",
		Category:    "explore",
		Description: whereHelp,
		Flags: tableFlags(
			&cli.StringFlag{Name: "where", Usage: "count the rows matching this filter, e.g. \"region = 'EMEA'\" (reads the files)"},
			&cli.Int64Flag{Name: "version", Usage: "rows of this table version", Value: -1, DefaultText: "latest"},
			&cli.StringFlag{Name: "timestamp", Usage: "rows at this time (ISO 8601)"},
			parallelFlag(),
		),
		Action: action(parseCountOptions, runCount),
	}
}

func parseCountOptions(c *cli.Context) (o countOptions, err error) {
	if o.Output, o.tableTarget, o.Count.Version, o.Count.Timestamp, err = parseTableAt(c, "count"); err != nil {
		return o, err
	}
	o.Count.Where = c.String("where")
	if p := c.Int("parallel"); p < 0 || p > 256 {
		return o, usageError(fmt.Errorf("--parallel %d: give 1 to 256", p))
	} else {
		o.Count.Parallel = p
	}
	return o, nil
}

// countJSON is the --output json shape of `count`.
type countJSON struct {
	Table   tableRef `json:"table"`
	Version int64    `json:"version"`
	Rows    int64    `json:"rows"`
	// Method is "statistics" (the files' record counts) or "scan" (the files read).
	Method       string `json:"method"`
	Files        int    `json:"files"`
	ScannedFiles int    `json:"scannedFiles"`
}

func runCount(ctx context.Context, o countOptions, d *deps) error {
	return showAnswer(d, o.Profile, o.Output,
		func(cl *sharing.Client) (*reader.RowCount, error) { return reader.Count(ctx, cl, o.Table, o.Count) },
		func(n *reader.RowCount) any {
			method := "scan"
			if n.FromStatistics {
				method = "statistics"
			}
			return countJSON{Table: refOf(o.Table), Version: n.Version, Rows: n.Rows, Method: method, Files: n.Files, ScannedFiles: n.Scanned}
		},
		printCount)
}

// printCount writes "N rows (from statistics)" or "N rows (scanned K files)".
func printCount(w io.Writer, n *reader.RowCount) error {
	how := "from statistics"
	if !n.FromStatistics {
		how = fmt.Sprintf("scanned %d %s", n.Scanned, countNoun(n.Scanned, "file", "files"))
	}
	_, err := fmt.Fprintf(w, "%d %s (%s)\n", n.Rows, countNoun(int(min(n.Rows, 2)), "row", "rows"), how)
	return err
}

func countNoun(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
