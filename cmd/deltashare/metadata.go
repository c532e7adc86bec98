package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/export"
	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/deltashare/deltashare/sharing/reader"
)

// metadataOptions are the options of `deltashare metadata`.
type metadataOptions struct {
	tableTarget
	Output string // text or json
	// At is the table version or time to describe (the latest when empty).
	At protocol.MetadataOptions
}

func metadataCommand() *cli.Command {
	return &cli.Command{
		Name:      "metadata",
		Usage:     "print a table's schema, partitioning, protocol and properties",
		ArgsUsage: "TABLE",
		Category:  "explore",
		Flags: tableFlags(
			&cli.Int64Flag{Name: "version", Usage: "metadata at this table version", Value: -1, DefaultText: "latest"},
			&cli.StringFlag{Name: "timestamp", Usage: "metadata at this time (ISO 8601)"},
		),
		Action: action(parseMetadataOptions, runMetadata),
	}
}

func parseMetadataOptions(c *cli.Context) (o metadataOptions, err error) {
	o.Output, o.tableTarget, o.At.Version, o.At.Timestamp, err = parseTableAt(c, "metadata")
	return o, err
}

// metadataJSON is the --output json shape of `metadata`.
type metadataJSON struct {
	Table            tableRef          `json:"table"`
	Version          int64             `json:"version"`
	Format           string            `json:"responseFormat"`
	ID               string            `json:"id"`
	Name             string            `json:"name,omitempty"`
	Description      string            `json:"description,omitempty"`
	MinReaderVersion int               `json:"minReaderVersion"`
	ReaderFeatures   []string          `json:"readerFeatures,omitempty"`
	PartitionColumns []string          `json:"partitionColumns"`
	Configuration    map[string]string `json:"configuration,omitempty"`
	Size             *int64            `json:"size,omitempty"`
	NumFiles         *int64            `json:"numFiles,omitempty"`
	Columns          []columnJSON      `json:"columns"`
}

type columnJSON struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Nullable bool   `json:"nullable"`
}

func runMetadata(ctx context.Context, o metadataOptions, d *deps) error {
	return showAnswer(d, o.Profile, o.Output,
		func(cl *sharing.Client) (*reader.Description, error) { return reader.Describe(ctx, cl, o.Table, o.At) },
		func(desc *reader.Description) any { return toMetadataJSON(desc) },
		func(w io.Writer, desc *reader.Description) error { return printMetadata(w, toMetadataJSON(desc)) })
}

func toMetadataJSON(desc *reader.Description) metadataJSON {
	mj := metadataJSON{
		Table: refOf(desc.Table), Version: desc.Version, Format: string(desc.Format), ID: desc.ID,
		Name: desc.Name, Description: desc.Description,
		MinReaderVersion: desc.MinReaderVersion, ReaderFeatures: desc.ReaderFeatures,
		PartitionColumns: desc.PartitionColumns, Configuration: desc.Configuration,
		Size: desc.Size, NumFiles: desc.NumFiles, Columns: make([]columnJSON, 0, len(desc.Columns)),
	}
	for _, col := range desc.Columns {
		mj.Columns = append(mj.Columns, columnJSON(col))
	}
	return mj
}

// printMetadata writes a table's metadata for people.
func printMetadata(out io.Writer, mj metadataJSON) error {
	f := fieldLines{w: out, width: 14}
	f.linef("table", "%s", mj.Table.FullName)
	f.linef("version", "%d", mj.Version)
	f.optional("name", mj.Name)
	f.optional("description", mj.Description)
	f.linef("id", "%s", mj.ID)
	f.linef("format", "%s (minReaderVersion %d%s)", mj.Format, mj.MinReaderVersion, featureList(mj.ReaderFeatures))
	f.linef("partitioned", "%s", orNone(strings.Join(mj.PartitionColumns, ", ")))
	if mj.NumFiles != nil && mj.Size != nil {
		f.linef("files", "%d (%s)", *mj.NumFiles, export.HumanBytes(*mj.Size))
	}
	for k, v := range mj.Configuration {
		f.linef("property", "%s=%s", k, v)
	}
	fmt.Fprintln(out)
	tw := newTable(out)
	fmt.Fprintln(tw, "COLUMN\tTYPE\tNULLABLE")
	for _, col := range mj.Columns {
		fmt.Fprintf(tw, "%s\t%s\t%v\n", col.Name, col.Type, col.Nullable)
	}
	return tw.Flush()
}
