package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/deltashare/deltashare/sharing/reader"

	"github.com/deltashare/deltashare/export"
	"github.com/deltashare/deltashare/formats"
	"github.com/urfave/cli/v2"
)

func init() { commandSet = append(commandSet, exportCommand, changesCommand) }

// outputFlags are the flags of commands that write table data (export, changes).
func outputFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "output: FILE, DIR/ (part files), or - for standard output", Required: true},
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "csv, ndjson, json or parquet (default: from the output file's extension, else csv)"},
		&cli.StringFlag{Name: "compression", Usage: "csv/ndjson/json: none, gzip or zstd; parquet: snappy (default), zstd, gzip or none"},
		&cli.StringFlag{Name: "delimiter", Usage: "CSV field delimiter (default ,; \\t for tab)"},
		&cli.StringFlag{Name: "null", Usage: "CSV text for null values (default empty)"},
		&cli.BoolFlag{Name: "no-header", Usage: "CSV without the header row"},
		&cli.StringFlag{Name: "nan", Value: "null", Usage: "JSON: write NaN and infinities as null or as strings (\"NaN\", \"Infinity\")"},
		&cli.StringFlag{Name: "columns", Usage: "comma-separated columns to export, in this order"},
		&cli.StringFlag{Name: "where", Usage: "row filter, e.g. \"date >= '2021-01-01' AND state = 'Ohio'\" (sent to the server as a hint, applied exactly)"},
		&cli.Int64Flag{Name: "limit", Value: -1, Usage: "export at most N rows"},
		&cli.IntFlag{Name: "parallel", Usage: "files downloaded at once (default: number of CPUs)"},
		&cli.Int64Flag{Name: "max-rows-per-file", Usage: "directory output: start a new part file after N rows"},
		&cli.StringFlag{Name: "partition-by", Usage: "directory output: Hive-style col=value/ directories for these comma-separated columns"},
		&cli.BoolFlag{Name: "overwrite", Usage: "replace an existing output file, or earlier part files in the output directory"},
		&cli.StringFlag{Name: "shard", Usage: "export only shard I of N of the table's files (I from 0, e.g. 0/4); part files are named part-shard-I-of-N-*"},
		quietFlag,
	}
}

// exportOptions are what export and changes share.
type exportOptions struct {
	Out            string
	Format         formats.Options
	Read           reader.ReadOptions
	MaxRowsPerFile int64
	PartitionBy    []string
	Overwrite      bool
	PartPrefix     string
	Quiet          bool
	JSON           bool
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// inferFormat picks the format from the output file's extension.
func inferFormat(out string) formats.Format {
	name := strings.ToLower(filepath.Base(out))
	for _, z := range []string{".gz", ".zst"} {
		name = strings.TrimSuffix(name, z)
	}
	switch filepath.Ext(name) {
	case ".ndjson", ".jsonl":
		return formats.NDJSON
	case ".json":
		return formats.JSON
	case ".parquet", ".pq":
		return formats.Parquet
	}
	return formats.CSV
}

// inferCompression picks gzip or zstd from a .gz or .zst output file name.
func inferCompression(out string) formats.Compression {
	switch strings.ToLower(filepath.Ext(out)) {
	case ".gz":
		return formats.Gzip
	case ".zst":
		return formats.Zstd
	}
	return formats.CompressionDefault
}

// parseExportOptions maps the shared output flags to options.
func parseExportOptions(c *cli.Context) (exportOptions, error) {
	mode, err := outputMode(c)
	if err != nil {
		return exportOptions{}, err
	}
	o := exportOptions{
		Out: c.String("out"), MaxRowsPerFile: c.Int64("max-rows-per-file"),
		PartitionBy: splitList(c.String("partition-by")), Overwrite: c.Bool("overwrite"),
		Quiet: c.Bool("quiet"), JSON: mode == "json",
	}
	if f := c.String("format"); f != "" {
		if o.Format.Format, err = formats.ParseFormat(f); err != nil {
			return o, usageError(err)
		}
	} else {
		o.Format.Format = inferFormat(o.Out)
	}
	if z := c.String("compression"); z != "" {
		if o.Format.Compression, err = formats.ParseCompression(z); err != nil {
			return o, usageError(err)
		}
	} else if o.Out != "-" {
		o.Format.Compression = inferCompression(o.Out)
	}
	if d := c.String("delimiter"); d != "" {
		if d == `\t` || d == "tab" {
			d = "\t"
		}
		r, size := utf8.DecodeRuneInString(d)
		if size != len(d) {
			return o, usageError(fmt.Errorf("--delimiter %q: give one character", d))
		}
		o.Format.Delimiter = r
	}
	if c.IsSet("null") {
		o.Format.Null = c.String("null")
	}
	o.Format.NoHeader = c.Bool("no-header")
	if o.Format.NaN, err = formats.ParseNaNMode(c.String("nan")); err != nil {
		return o, usageError(err)
	}
	if err := o.Format.Validate(); err != nil {
		return o, usageError(err)
	}
	o.Read.Columns = splitList(c.String("columns"))
	o.Read.Where = c.String("where")
	if n := c.Int64("limit"); n >= 0 {
		o.Read.Limit = &n
	} else if c.IsSet("limit") {
		return o, usageError(fmt.Errorf("--limit %d: give 0 or more rows", n))
	}
	if p := c.Int("parallel"); p < 0 || p > 256 {
		return o, usageError(fmt.Errorf("--parallel %d: give 1 to 256", p))
	} else {
		o.Read.Parallel = p
	}
	shard, err := export.ParseShard(c.String("shard"))
	if err != nil {
		return o, usageError(fmt.Errorf("--shard: %w", err))
	}
	if !shard.IsZero() {
		o.Read.Shard, o.PartPrefix = shard.Filter(), shard.PartPrefix()
	}
	if o.MaxRowsPerFile < 0 {
		return o, usageError(fmt.Errorf("--max-rows-per-file %d: give a positive number", o.MaxRowsPerFile))
	}
	return o, nil
}

// writeTable runs the export pipeline from an open reader and prints the summary.
func writeTable(c *cli.Context, r *reader.Reader, o exportOptions) error {
	st := ioFrom(c)
	var sink export.Sink
	name := o.Out
	if o.Out == "-" {
		sink = export.NewStreamSink(st.Out)
	} else {
		var err error
		if sink, name, err = export.OpenSink(o.Out); err != nil {
			return usageError(err)
		}
		if closer, ok := sink.(io.Closer); ok {
			defer closer.Close()
		}
	}
	var progress export.Progress
	if st.ErrTerminal && !o.Quiet {
		if f, ok := st.Err.(*os.File); ok {
			progress = export.TerminalProgress(f)
		}
	}
	sum, err := export.Run(c.Context, r, sink, export.Options{
		Output: name, Format: o.Format, MaxRowsPerFile: o.MaxRowsPerFile, PartitionBy: o.PartitionBy,
		Overwrite: o.Overwrite, Progress: progress, PartPrefix: o.PartPrefix,
	})
	if sum != nil {
		sum.TableVersion = r.Version()
	}
	if err != nil {
		if errors.Is(err, export.ErrExists) {
			return usageError(err)
		}
		return err
	}
	// The summary is a result: stdout, unless the data itself went there.
	w := st.Out
	if o.Out == "-" {
		w = st.Err
	}
	if o.JSON {
		return writeJSON(w, sum)
	}
	if !o.Quiet {
		_, err = fmt.Fprintln(w, sum.Text())
	}
	return err
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

Examples:
  deltashare export -p me.share sales.emea.orders -o orders.csv
  deltashare export -p me.share sales.emea.orders -o lake/orders/ --format parquet --partition-by region
  deltashare export -p me.share sales.emea.orders -o - --where "amount > 100" --columns id,amount --limit 10`,
		Flags: append(tableFlags(
			&cli.Int64Flag{Name: "version", Value: -1, Usage: "export this table version (time travel)"},
			&cli.StringFlag{Name: "timestamp", Usage: "export the table as of this time (ISO 8601)"},
		), outputFlags()...),
		Action: func(c *cli.Context) error {
			o, err := parseExportOptions(c)
			if err != nil {
				return err
			}
			if o.Read.Version, o.Read.Timestamp, err = timeTravelFlags(c); err != nil {
				return err
			}
			cl, t, err := oneTable(c, "export")
			if err != nil {
				return err
			}
			r, err := reader.Open(c.Context, cl, t, o.Read)
			if err != nil {
				return err
			}
			defer r.Release()
			return writeTable(c, r, o)
		},
	}
}

func changesCommand() *cli.Command {
	return &cli.Command{
		Name:      "changes",
		Usage:     "export a table's change data feed (_change_type, _commit_version, _commit_timestamp)",
		ArgsUsage: "TABLE",
		Category:  "export",
		Flags: append(tableFlags(
			&cli.Int64Flag{Name: "starting-version", Value: -1, Usage: "first version of the range"},
			&cli.Int64Flag{Name: "ending-version", Value: -1, Usage: "last version of the range (default: latest)"},
			&cli.StringFlag{Name: "starting-timestamp", Usage: "start of the range (ISO 8601), instead of --starting-version"},
			&cli.StringFlag{Name: "ending-timestamp", Usage: "end of the range (ISO 8601)"},
		), outputFlags()...),
		Action: func(c *cli.Context) error {
			o, err := parseExportOptions(c)
			if err != nil {
				return err
			}
			var req protocol.ChangesRequest
			if v := c.Int64("starting-version"); v >= 0 {
				req.StartingVersion = &v
			}
			if v := c.Int64("ending-version"); v >= 0 {
				req.EndingVersion = &v
			}
			req.StartingTimestamp = c.String("starting-timestamp")
			req.EndingTimestamp = c.String("ending-timestamp")
			if (req.StartingVersion == nil) == (req.StartingTimestamp == "") {
				return usageError(errors.New("give the start of the range: --starting-version V or --starting-timestamp T"))
			}
			if req.EndingVersion != nil && req.EndingTimestamp != "" {
				return usageError(errors.New("give --ending-version or --ending-timestamp, not both"))
			}
			if req.StartingVersion != nil && req.EndingVersion != nil && *req.EndingVersion < *req.StartingVersion {
				return usageError(fmt.Errorf("--ending-version %d is before --starting-version %d", *req.EndingVersion, *req.StartingVersion))
			}
			cl, t, err := oneTable(c, "changes")
			if err != nil {
				return err
			}
			r, err := reader.OpenChanges(c.Context, cl, t, req, o.Read)
			if err != nil {
				return err
			}
			defer r.Release()
			return writeTable(c, r, o)
		},
	}
}
