package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/deltashare/deltashare/sharing/reader"
)

// schemaOptions are the options of `deltashare schema`.
type schemaOptions struct {
	tableTarget
	Output string // text, json, ddl or arrow
	// At is the table version or time whose schema to print (the latest when empty).
	At protocol.MetadataOptions
}

func schemaCommand() *cli.Command {
	return &cli.Command{
		Name:      "schema",
		Usage:     "print a table's columns: names, types, nullability, partitioning (or a CREATE TABLE, or the Arrow schema)",
		ArgsUsage: "TABLE",
		Category:  "explore",
		Flags: []cli.Flag{
			profileFlag,
			&cli.StringFlag{Name: "output", Aliases: []string{"O"}, Value: "text", Usage: "text, json, ddl (Spark SQL CREATE TABLE) or arrow (the Arrow schema of the rows a read returns)"},
			configDirFlag,
			&cli.Int64Flag{Name: "version", Usage: "schema of this table version", Value: -1, DefaultText: "latest"},
			&cli.StringFlag{Name: "timestamp", Usage: "schema at this time (ISO 8601)"},
		},
		Action: action(parseSchemaOptions, runSchema),
	}
}

func parseSchemaOptions(c *cli.Context) (o schemaOptions, err error) {
	switch o.Output = strings.ToLower(c.String("output")); o.Output {
	case "", "text":
		o.Output = "text"
	case "json", "ddl", "arrow":
	default:
		return o, usageError(fmt.Errorf("unknown --output %q: use text, json, ddl or arrow", o.Output))
	}
	if o.tableTarget, err = parseTableTarget(c, "schema"); err != nil {
		return o, err
	}
	o.At.Version, o.At.Timestamp, err = timeTravelFlags(c)
	return o, err
}

// schemaJSON is the --output json shape of `schema`.
type schemaJSON struct {
	Table            tableRef           `json:"table"`
	Version          int64              `json:"version"`
	PartitionColumns []string           `json:"partitionColumns"`
	Columns          []schemaColumnJSON `json:"columns"`
}

type schemaColumnJSON struct {
	Name      string `json:"name"`
	Type      string `json:"type"`
	SQLType   string `json:"sqlType"`
	ArrowType string `json:"arrowType"`
	Nullable  bool   `json:"nullable"`
	// Partition is the column's position among the partition columns, from 1.
	Partition int    `json:"partition,omitempty"`
	Comment   string `json:"comment,omitempty"`
}

func runSchema(ctx context.Context, o schemaOptions, d *deps) error {
	return showAnswer(d, o.Profile, o.Output,
		func(cl *sharing.Client) (*reader.Schema, error) { return reader.ReadSchema(ctx, cl, o.Table, o.At) },
		func(s *reader.Schema) any {
			sj := schemaJSON{Table: refOf(s.Table), Version: s.Version, PartitionColumns: s.PartitionColumns,
				Columns: make([]schemaColumnJSON, 0, len(s.Columns))}
			for _, c := range s.Columns {
				sj.Columns = append(sj.Columns, schemaColumnJSON(c))
			}
			return sj
		},
		func(out io.Writer, s *reader.Schema) error {
			var err error
			switch o.Output {
			case "ddl":
				_, err = io.WriteString(out, s.DDL())
			case "arrow":
				_, err = fmt.Fprintln(out, s.Arrow.String())
			default:
				err = printSchema(out, s)
			}
			return err
		})
}

// printSchema writes a table's columns for people: a line naming the table, then a row per
// column.
func printSchema(out io.Writer, s *reader.Schema) error {
	fmt.Fprintf(out, "%s (version %d), partitioned by %s\n\n", s.Table, s.Version, orNone(strings.Join(s.PartitionColumns, ", ")))
	comments := false
	for _, c := range s.Columns {
		comments = comments || c.Comment != ""
	}
	tw := newTable(out)
	head := "COLUMN\tTYPE\tNULLABLE\tPARTITION"
	if comments {
		head += "\tCOMMENT"
	}
	fmt.Fprintln(tw, head)
	for _, c := range s.Columns {
		part := "-"
		if c.Partition > 0 {
			part = fmt.Sprint(c.Partition)
		}
		line := fmt.Sprintf("%s\t%s\t%v\t%s", c.Name, c.Type, c.Nullable, part)
		if comments {
			line += "\t" + escapeControls(c.Comment)
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}
