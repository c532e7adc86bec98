package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/export"
	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/deltashare/deltashare/sharing/reader"
)

// filesOptions are the options of `deltashare files`.
type filesOptions struct {
	tableTarget
	Output string // text or json
	// List says which files: a version or time, a filter hint, a row-count hint.
	List reader.ListOptions
}

func filesCommand() *cli.Command {
	return &cli.Command{
		Name:      "files",
		Usage:     "list the data files a query of the table returns (size, rows, partition values, URL expiry)",
		ArgsUsage: "TABLE",
		Category:  "explore",
		Description: whereHelp + `

files lists what the server returns for the filter: the server may skip files with it, but no
rows are read, so files can hold rows that do not match (and LIKE skips nothing).`,
		Flags: tableFlags(
			&cli.Int64Flag{Name: "version", Usage: "files of this table version", Value: -1, DefaultText: "latest"},
			&cli.StringFlag{Name: "timestamp", Usage: "files at this time (ISO 8601)"},
			&cli.StringFlag{Name: "where", Usage: "filter, sent to the server as a hint (e.g. \"region = 'EMEA'\")"},
			&cli.Int64Flag{Name: "limit-hint", Usage: "ask the server for enough files for N rows", Value: -1, DefaultText: "none"},
		),
		Action: action(parseFilesOptions, runFilesCommand),
	}
}

func parseFilesOptions(c *cli.Context) (o filesOptions, err error) {
	if o.Output, o.tableTarget, o.List.Version, o.List.Timestamp, err = parseTableAt(c, "files"); err != nil {
		return o, err
	}
	if o.List.LimitHint, err = countFlag(c, "limit-hint"); err != nil {
		return o, err
	}
	o.List.Where = c.String("where")
	return o, nil
}

// fileJSON is one row of `files`: what a query returns for one data file, without its URL.
type fileJSON struct {
	ID              string            `json:"id"`
	Size            int64             `json:"size"`
	Rows            *int64            `json:"rows,omitempty"`
	PartitionValues map[string]string `json:"partitionValues"`
	Version         *int64            `json:"version,omitempty"`
	URLExpires      *time.Time        `json:"urlExpires,omitempty"`
	DeletionVector  bool              `json:"deletionVector,omitempty"`
}

// filesJSON is what `files --output json` prints: the files and the totals the text shows.
type filesJSON struct {
	Table   tableRef        `json:"table"`
	Version int64           `json:"version"` // -1 when the server did not say
	Files   []fileJSON      `json:"files"`
	Totals  filesTotalsJSON `json:"totals"`
}

// filesTotalsJSON adds the files up; rows counts only the files with statistics
// (filesWithStats of them).
type filesTotalsJSON struct {
	Files          int   `json:"files"`
	Size           int64 `json:"size"`
	Rows           int64 `json:"rows"`
	FilesWithStats int   `json:"filesWithStats"`
}

// runFilesCommand runs `files` (runFiles is taken by a helper of the sync tests).
func runFilesCommand(ctx context.Context, o filesOptions, d *deps) error {
	return showAnswer(d, o.Profile, o.Output,
		func(cl *sharing.Client) (*reader.FileList, error) { return reader.ListFiles(ctx, cl, o.Table, o.List) },
		func(list *reader.FileList) any { return toFilesJSON(o.Table, list) },
		printFiles)
}

func toFilesJSON(t protocol.Table, list *reader.FileList) filesJSON {
	rows := make([]fileJSON, 0, len(list.Files))
	for _, f := range list.Files {
		fj := fileJSON{ID: f.ID, Size: f.Size, Rows: f.Rows, PartitionValues: f.PartitionValues, Version: f.Version, DeletionVector: f.DeletionVector}
		if !f.URLExpires.IsZero() {
			fj.URLExpires = &f.URLExpires
		}
		rows = append(rows, fj)
	}
	n, size, nrows := list.Totals()
	withStats := 0
	for _, f := range list.Files {
		if f.Rows != nil {
			withStats++
		}
	}
	return filesJSON{Table: refOf(t), Version: list.Version, Files: rows,
		Totals: filesTotalsJSON{Files: n, Size: size, Rows: nrows, FilesWithStats: withStats}}
}

// printFiles writes a file listing for people: a row per file, then the totals.
func printFiles(out io.Writer, list *reader.FileList) error {
	tw := newTable(out)
	fmt.Fprintln(tw, "ID\tSIZE\tROWS\tPARTITION\tURL EXPIRES")
	for _, f := range list.Files {
		rows, exp := "?", "-"
		if f.Rows != nil {
			rows = fmt.Sprint(*f.Rows)
		}
		if !f.URLExpires.IsZero() {
			exp = f.URLExpires.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.ID, export.HumanBytes(f.Size), rows, partitionText(f.PartitionValues), exp)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	n, size, rows := list.Totals()
	_, err := fmt.Fprintf(out, "%s, %s, %s (from stats), table version %d\n", export.Plural(int64(n), "file"), export.HumanBytes(size), export.Plural(rows, "row"), list.Version)
	return err
}
