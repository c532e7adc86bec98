package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/deltashare/deltashare/sharing/delta"

	"github.com/deltashare/deltashare/export"
	"github.com/deltashare/deltashare/sharing/protocol"

	"github.com/deltashare/deltashare/sharing"
	"github.com/urfave/cli/v2"
)

func init() {
	commandSet = append(commandSet, sharesCommand, schemasCommand, tablesCommand, versionCommand,
		metadataCommand, filesCommand)
}

func sharesCommand() *cli.Command {
	return &cli.Command{
		Name:     "shares",
		Usage:    "list the shares the credential can read",
		Category: "explore",
		Flags:    []cli.Flag{profileFlag, outputFlag, configDirFlag},
		Action: func(c *cli.Context) error {
			mode, err := outputMode(c)
			if err != nil {
				return err
			}
			if c.NArg() > 0 {
				return usageError(errors.New("shares takes no arguments"))
			}
			cl, err := clientFor(c, "")
			if err != nil {
				return err
			}
			shares, err := cl.ListShares(c.Context)
			if err != nil {
				return err
			}
			out := ioFrom(c).Out
			if mode == "json" {
				return writeJSON(out, nonNil(shares))
			}
			tw := newTable(out)
			fmt.Fprintln(tw, "SHARE\tID")
			for _, s := range shares {
				fmt.Fprintf(tw, "%s\t%s\n", s.Name, s.ID)
			}
			return tw.Flush()
		},
	}
}

func schemasCommand() *cli.Command {
	return &cli.Command{
		Name:      "schemas",
		Usage:     "list the schemas of a share",
		ArgsUsage: "SHARE",
		Category:  "explore",
		Flags:     []cli.Flag{profileFlag, outputFlag, configDirFlag},
		Action: func(c *cli.Context) error {
			mode, err := outputMode(c)
			if err != nil {
				return err
			}
			if c.NArg() != 1 {
				return usageError(errors.New("schemas needs one argument: SHARE (deltashare shares lists them)"))
			}
			cl, err := clientFor(c, "")
			if err != nil {
				return err
			}
			schemas, err := cl.ListSchemas(c.Context, c.Args().First())
			if err != nil {
				return err
			}
			out := ioFrom(c).Out
			if mode == "json" {
				return writeJSON(out, nonNil(schemas))
			}
			tw := newTable(out)
			fmt.Fprintln(tw, "SHARE\tSCHEMA")
			for _, s := range schemas {
				fmt.Fprintf(tw, "%s\t%s\n", s.Share, s.Name)
			}
			return tw.Flush()
		},
	}
}

// listTables lists the tables of every share, of one share, or of one schema.
func listTables(c *cli.Context, cl *sharing.Client, scope string) ([]protocol.TableInfo, error) {
	if scope == "" {
		shares, err := cl.ListShares(c.Context)
		if err != nil {
			return nil, err
		}
		var all []protocol.TableInfo
		for _, s := range shares {
			ts, err := cl.ListAllTables(c.Context, s.Name)
			if err != nil {
				return nil, fmt.Errorf("share %s: %w", s.Name, err)
			}
			all = append(all, ts...)
		}
		return all, nil
	}
	share, schema, hasSchema := strings.Cut(scope, ".")
	if share == "" || (hasSchema && (schema == "" || strings.Contains(schema, "."))) {
		return nil, usageError(fmt.Errorf("bad scope %q: use SHARE or SHARE.SCHEMA", scope))
	}
	if hasSchema {
		return cl.ListTables(c.Context, share, schema)
	}
	return cl.ListAllTables(c.Context, share)
}

func tablesCommand() *cli.Command {
	return &cli.Command{
		Name:      "tables",
		Usage:     "list tables: of every share, of SHARE, or of SHARE.SCHEMA",
		ArgsUsage: "[SHARE[.SCHEMA]]",
		Category:  "explore",
		Flags:     []cli.Flag{profileFlag, outputFlag, configDirFlag},
		Action: func(c *cli.Context) error {
			mode, err := outputMode(c)
			if err != nil {
				return err
			}
			if c.NArg() > 1 {
				return usageError(errors.New("tables takes at most one argument: SHARE or SHARE.SCHEMA"))
			}
			cl, err := clientFor(c, "")
			if err != nil {
				return err
			}
			tables, err := listTables(c, cl, c.Args().First())
			if err != nil {
				return err
			}
			out := ioFrom(c).Out
			if mode == "json" {
				type row struct {
					Table  string `json:"table"`
					Share  string `json:"share"`
					Schema string `json:"schema"`
					Name   string `json:"name"`
					ID     string `json:"id,omitempty"`
				}
				rows := make([]row, 0, len(tables))
				for _, t := range tables {
					rows = append(rows, row{t.Table().String(), t.Share, t.Schema, t.Name, t.ID})
				}
				return writeJSON(out, rows)
			}
			tw := newTable(out)
			fmt.Fprintln(tw, "TABLE\tID")
			for _, t := range tables {
				fmt.Fprintf(tw, "%s\t%s\n", t.Table(), t.ID)
			}
			return tw.Flush()
		},
	}
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

// oneTable parses the single TABLE argument and builds the client.
func oneTable(c *cli.Context, cmd string) (*sharing.Client, protocol.Table, error) {
	ref, t, err := tableArgument(c, cmd)
	if err != nil {
		return nil, t, err
	}
	cl, err := clientFor(c, ref)
	return cl, t, err
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:      "version",
		Usage:     "print a table's current version (or the first at or after --starting-timestamp)",
		ArgsUsage: "TABLE",
		Category:  "explore",
		Flags:     tableFlags(&cli.StringFlag{Name: "starting-timestamp", Usage: "ISO 8601 timestamp, e.g. 2024-01-31T00:00:00Z"}),
		Action: func(c *cli.Context) error {
			mode, err := outputMode(c)
			if err != nil {
				return err
			}
			cl, t, err := oneTable(c, "version")
			if err != nil {
				return err
			}
			v, err := cl.TableVersion(c.Context, t, c.String("starting-timestamp"))
			if err != nil {
				return err
			}
			if mode == "json" {
				return writeJSON(ioFrom(c).Out, map[string]any{"table": t.String(), "version": v})
			}
			_, err = fmt.Fprintln(ioFrom(c).Out, v)
			return err
		},
	}
}

// metadataJSON is the --output json shape of `metadata`.
type metadataJSON struct {
	Table            string            `json:"table"`
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

func metadataCommand() *cli.Command {
	return &cli.Command{
		Name:      "metadata",
		Usage:     "print a table's schema, partitioning, protocol and properties",
		ArgsUsage: "TABLE",
		Category:  "explore",
		Flags: tableFlags(
			&cli.Int64Flag{Name: "version", Usage: "metadata at this table version", Value: -1},
			&cli.StringFlag{Name: "timestamp", Usage: "metadata at this time (ISO 8601)"},
		),
		Action: func(c *cli.Context) error {
			mode, err := outputMode(c)
			if err != nil {
				return err
			}
			cl, t, err := oneTable(c, "metadata")
			if err != nil {
				return err
			}
			var opts protocol.MetadataOptions
			if opts.Version, opts.Timestamp, err = timeTravelFlags(c); err != nil {
				return err
			}
			md, err := cl.Metadata(c.Context, t, opts)
			if err != nil {
				return err
			}
			schema, err := md.Metadata.Schema()
			if err != nil {
				return fmt.Errorf("table %s: %w", t, err)
			}
			mj := metadataJSON{
				Table: t.String(), Version: md.Version, Format: string(md.Format), ID: md.Metadata.ID,
				Name: md.Metadata.Name, Description: md.Metadata.Description,
				MinReaderVersion: md.Protocol.MinReaderVersion, ReaderFeatures: md.Protocol.ReaderFeatures,
				PartitionColumns: nonNil(md.Metadata.PartitionColumns), Configuration: md.Metadata.Configuration,
				Size: md.Size, NumFiles: md.NumFiles, Columns: []columnJSON{},
			}
			for _, f := range schema.Fields {
				mj.Columns = append(mj.Columns, columnJSON{f.Name, f.Type.String(), f.Nullable})
			}
			out := ioFrom(c).Out
			if mode == "json" {
				return writeJSON(out, mj)
			}
			fmt.Fprintf(out, "table:        %s\n", mj.Table)
			fmt.Fprintf(out, "version:      %d\n", mj.Version)
			if mj.Name != "" {
				fmt.Fprintf(out, "name:         %s\n", mj.Name)
			}
			if mj.Description != "" {
				fmt.Fprintf(out, "description:  %s\n", mj.Description)
			}
			fmt.Fprintf(out, "id:           %s\n", mj.ID)
			fmt.Fprintf(out, "format:       %s (minReaderVersion %d%s)\n", mj.Format, mj.MinReaderVersion, featureList(mj.ReaderFeatures))
			fmt.Fprintf(out, "partitioned:  %s\n", orNone(strings.Join(mj.PartitionColumns, ", ")))
			if mj.NumFiles != nil && mj.Size != nil {
				fmt.Fprintf(out, "files:        %d (%s)\n", *mj.NumFiles, export.HumanBytes(*mj.Size))
			}
			for k, v := range mj.Configuration {
				fmt.Fprintf(out, "property:     %s=%s\n", k, v)
			}
			fmt.Fprintln(out)
			tw := newTable(out)
			fmt.Fprintln(tw, "COLUMN\tTYPE\tNULLABLE")
			for _, col := range mj.Columns {
				fmt.Fprintf(tw, "%s\t%s\t%v\n", col.Name, col.Type, col.Nullable)
			}
			return tw.Flush()
		},
	}
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

func filesCommand() *cli.Command {
	return &cli.Command{
		Name:      "files",
		Usage:     "list the data files a query of the table returns (size, rows, partition values, URL expiry)",
		ArgsUsage: "TABLE",
		Category:  "explore",
		Flags: tableFlags(
			&cli.Int64Flag{Name: "version", Usage: "files of this table version", Value: -1},
			&cli.StringFlag{Name: "timestamp", Usage: "files at this time (ISO 8601)"},
			&cli.StringFlag{Name: "where", Usage: "filter, sent to the server as a hint (e.g. \"region = 'EMEA'\")"},
			&cli.Int64Flag{Name: "limit-hint", Usage: "ask the server for enough files for N rows", Value: -1},
		),
		Action: func(c *cli.Context) error {
			mode, err := outputMode(c)
			if err != nil {
				return err
			}
			cl, t, err := oneTable(c, "files")
			if err != nil {
				return err
			}
			var req protocol.QueryRequest
			if req.Version, req.Timestamp, err = timeTravelFlags(c); err != nil {
				return err
			}
			if n := c.Int64("limit-hint"); n >= 0 {
				req.LimitHint = &n
			}
			if w := c.String("where"); w != "" {
				hints, err := whereHints(c, cl, t, w, req.Version, req.Timestamp)
				if err != nil {
					return err
				}
				req.JSONPredicateHints = hints
			}
			res, err := cl.Query(c.Context, t, req)
			if err != nil {
				return err
			}
			rows := make([]fileJSON, 0, len(res.Files))
			for _, f := range res.Files {
				fj := fileJSON{ID: f.ID, Size: f.Size, PartitionValues: nonNilMap(f.PartitionValues), Version: f.Version, DeletionVector: f.DeletionVector != nil}
				if n, ok := delta.NumRecords(f.Stats); ok {
					fj.Rows = &n
				}
				if exp := f.Expiration(); !exp.IsZero() {
					fj.URLExpires = &exp
				}
				rows = append(rows, fj)
			}
			out := ioFrom(c).Out
			if mode == "json" {
				return writeJSON(out, rows)
			}
			tw := newTable(out)
			fmt.Fprintln(tw, "ID\tSIZE\tROWS\tPARTITION\tURL EXPIRES")
			var total, totalRows int64
			for _, f := range rows {
				rowsText := "?"
				if f.Rows != nil {
					rowsText = fmt.Sprint(*f.Rows)
					totalRows += *f.Rows
				}
				total += f.Size
				exp := "-"
				if f.URLExpires != nil {
					exp = f.URLExpires.UTC().Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.ID, export.HumanBytes(f.Size), rowsText, partitionText(f.PartitionValues), exp)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			_, err = fmt.Fprintf(out, "%d files, %s, %d rows (from stats), table version %d\n", len(rows), export.HumanBytes(total), totalRows, res.Version)
			return err
		},
	}
}
