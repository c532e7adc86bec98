package main

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/deltashare/deltashare/export"
	"github.com/deltashare/deltashare/formats"
	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/deltashare/deltashare/sharing/reader"
)

// The output flags of the commands that write table data (export, changes and sync) are
// declared here once (outputFlags) and parsed here once (parseOutput).

// outputKind is what a command writes: a one-off export (export, changes: a file, a directory
// of part files, or standard output) or a sync (a directory or bucket prefix kept up to date).
type outputKind int

const (
	oneOffOutput outputKind = iota
	syncOutput
)

// outputFlags are the output flags of a command of kind k, in the order help lists them.
// Sync takes a subset (its files are appended to a folder: no single file, no partitioning,
// no CSV options) with its own defaults; extra flags of the sync command go before --parallel.
func outputFlags(k outputKind, syncExtra ...cli.Flag) []cli.Flag {
	if k == syncOutput {
		flags := []cli.Flag{
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "destination: DIR, or s3://, gs://, azblob:// URL of a prefix"},
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "parquet", Usage: "parquet, csv, ndjson, or delta for a Delta table (a destination keeps the format of its first run)"},
			&cli.StringFlag{Name: "compression", Usage: "csv/ndjson: none, gzip or zstd; parquet: snappy (default), zstd, gzip or none"},
			&cli.StringFlag{Name: "shard", Usage: "export only shard I of N (I from 0), e.g. 0/4; file ids must be stable on the server"},
		}
		flags = append(flags, syncExtra...)
		return append(flags, parallelFlag(), quietFlag)
	}
	return []cli.Flag{
		&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "output: FILE, DIR/ (part files), or - for standard output"},
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "csv, ndjson, json or parquet (default: from the output file's extension; csv for -, a DIR/ or a name without one)"},
		&cli.StringFlag{Name: "compression", Usage: "csv/ndjson/json: none, gzip or zstd; parquet: snappy (default), zstd, gzip or none"},
		&cli.StringFlag{Name: "delimiter", Usage: "CSV field delimiter (default ,; \\t for tab)"},
		&cli.StringFlag{Name: "null", Usage: "CSV text for null values (default empty)"},
		&cli.BoolFlag{Name: "no-header", Usage: "CSV without the header row"},
		&cli.StringFlag{Name: "nan", Value: "null", Usage: "JSON: write NaN and infinities as null or as strings (\"NaN\", \"Infinity\")"},
		&cli.StringFlag{Name: "columns", Usage: "comma-separated columns to export, in this order"},
		&cli.StringFlag{Name: "where", Usage: "row filter, e.g. \"date >= '2021-01-01' AND state = 'Ohio'\" (sent to the server as a hint, applied exactly)"},
		&cli.Int64Flag{Name: "limit", Value: -1, DefaultText: "no limit", Usage: "export at most N rows"},
		parallelFlag(),
		&cli.Int64Flag{Name: "max-rows-per-file", DefaultText: "no maximum", Usage: "directory output: start a new part file after N rows"},
		&cli.StringFlag{Name: "partition-by", Usage: "directory output: Hive-style col=value/ directories for these comma-separated columns"},
		&cli.BoolFlag{Name: "overwrite", Usage: "replace an existing output file, or earlier part files in the output directory"},
		&cli.StringFlag{Name: "shard", Usage: "export only shard I of N of the table's files (I from 0, e.g. 0/4); part files are named part-shard-I-of-N-*"},
		quietFlag,
	}
}

func parallelFlag() cli.Flag {
	return &cli.IntFlag{Name: "parallel", Usage: "files downloaded at once", DefaultText: "number of CPUs"}
}

// outputOptions are the parsed output flags.
type outputOptions struct {
	Out    string          // --out as given (for sync: the destination)
	Format formats.Options // format, compression and, for one-off exports, the CSV and JSON options
	// Read holds --parallel and the shard filter; for one-off exports also --columns,
	// --where and --limit.
	Read           reader.ReadOptions
	Shard          export.Shard
	MaxRowsPerFile int64
	PartitionBy    []string
	Overwrite      bool
	Quiet          bool
	JSON           bool // --output json
	// Warning is printed on stderr before the export (a --format that contradicts the output
	// file's extension); "" for none.
	Warning string
}

// parseOutput maps the output flags of a command of kind k to options; a bad value is a usage
// error.
func parseOutput(c *cli.Context, k outputKind) (outputOptions, error) {
	mode, err := outputMode(c)
	if err != nil {
		return outputOptions{}, err
	}
	o := outputOptions{Out: c.String("out"), Quiet: c.Bool("quiet"), JSON: mode == "json"}
	if o.Out == "" {
		// Checked here rather than by urfave/cli (Required), whose missing-flag error exits 1.
		if k == syncOutput {
			return o, usageError(errors.New("-o (--out) is required: the destination directory or bucket prefix"))
		}
		return o, usageError(errors.New("-o (--out) is required: a FILE, a DIR/ of part files, or - for standard output"))
	}
	if k == syncOutput {
		if o.Out == "-" {
			return o, usageError(errors.New("sync writes to a directory or a bucket, not standard output: use export -o - for a one-off export"))
		}
		if strings.EqualFold(strings.TrimSpace(c.String("format")), string(export.FormatDelta)) {
			// A Delta table: snappy Parquet data files and a _delta_log (see sync --help).
			o.Format.Format = export.FormatDelta
			if c.IsSet("compression") {
				return o, usageError(errors.New("--compression: the data files of --format delta are snappy Parquet; drop --compression"))
			}
			if o.Shard, err = export.ParseShard(c.String("shard")); err != nil {
				return o, usageError(fmt.Errorf("--shard: %w", err))
			}
			if !o.Shard.IsZero() {
				return o, usageError(errors.New("--shard: a Delta table is written by one run at a time (each commit is atomic); sync --format delta without --shard"))
			}
			if p := c.Int("parallel"); p < 0 || p > 256 {
				return o, usageError(fmt.Errorf("--parallel %d: give 1 to 256", p))
			} else {
				o.Read.Parallel = p
			}
			return o, nil
		}
		if o.Format.Format, err = formats.ParseFormat(c.String("format")); err != nil {
			return o, usageError(err)
		}
		switch o.Format.Format {
		case formats.Parquet, formats.CSV, formats.NDJSON:
		default:
			return o, usageError(fmt.Errorf("--format %s: sync writes parquet, csv, ndjson or delta (files that can be appended to a folder, or a Delta table)", o.Format.Format))
		}
	} else if f := c.String("format"); f != "" {
		if o.Format.Format, err = formats.ParseFormat(f); err != nil {
			return o, usageError(err)
		}
		o.Warning = formatMismatch(o.Out, o.Format.Format)
	} else if o.Format.Format, err = inferFormat(o.Out); err != nil {
		return o, usageError(err)
	}
	if z := c.String("compression"); z != "" {
		if o.Format.Compression, err = formats.ParseCompression(z); err != nil {
			return o, usageError(err)
		}
	} else if k == oneOffOutput && o.Out != "-" {
		o.Format.Compression = inferCompression(o.Out)
	}
	if k == oneOffOutput {
		if err := parseTextOptions(c, &o.Format); err != nil {
			return o, err
		}
	}
	if err := o.Format.Validate(); err != nil {
		return o, usageError(err)
	}
	if k == oneOffOutput {
		o.Read.Columns = splitList(c.String("columns"))
		o.Read.Where = c.String("where")
		if n := c.Int64("limit"); n >= 0 {
			o.Read.Limit = &n
		} else if c.IsSet("limit") {
			return o, usageError(fmt.Errorf("--limit %d: give 0 or more rows", n))
		}
	}
	if p := c.Int("parallel"); p < 0 || p > 256 {
		return o, usageError(fmt.Errorf("--parallel %d: give 1 to 256", p))
	} else {
		o.Read.Parallel = p
	}
	if o.Shard, err = export.ParseShard(c.String("shard")); err != nil {
		return o, usageError(fmt.Errorf("--shard: %w", err))
	}
	o.Read.Shard = o.Shard.Filter()
	if k == oneOffOutput {
		o.MaxRowsPerFile, o.Overwrite = c.Int64("max-rows-per-file"), c.Bool("overwrite")
		o.PartitionBy = splitList(c.String("partition-by"))
		if o.MaxRowsPerFile < 0 {
			return o, usageError(fmt.Errorf("--max-rows-per-file %d: give a positive number", o.MaxRowsPerFile))
		}
	}
	return o, nil
}

// parseTextOptions reads the CSV and JSON flags of a one-off export.
func parseTextOptions(c *cli.Context, f *formats.Options) error {
	if d := c.String("delimiter"); d != "" {
		if d == `\t` || d == "tab" {
			d = "\t"
		}
		r, size := utf8.DecodeRuneInString(d)
		if size != len(d) {
			return usageError(fmt.Errorf("--delimiter %q: give one character", d))
		}
		f.Delimiter = r
	}
	if c.IsSet("null") {
		f.Null = c.String("null")
	}
	f.NoHeader = c.Bool("no-header")
	var err error
	if f.NaN, err = formats.ParseNaNMode(c.String("nan")); err != nil {
		return usageError(err)
	}
	return nil
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

// extensionFormats are the output file extensions a format is inferred from.
var extensionFormats = map[string]formats.Format{
	".csv": formats.CSV, ".tsv": formats.CSV, ".txt": formats.CSV,
	".ndjson": formats.NDJSON, ".jsonl": formats.NDJSON,
	".json":    formats.JSON,
	".parquet": formats.Parquet, ".pq": formats.Parquet,
}

// outputPath is the path of a one-off export's output: out, or an object store URL's path
// (without its query, which configures the store).
func outputPath(out string) string {
	if strings.Contains(out, "://") {
		if u, err := url.Parse(out); err == nil {
			return u.Path
		}
	}
	return out
}

// outputName is the lower-case base name of a one-off export's output file without a .gz or
// .zst suffix, and its extension; "" for standard output and a directory (ending in /).
func outputName(out string) (name, ext string) {
	out = outputPath(out)
	if out == "" || out == "-" || strings.HasSuffix(out, "/") || strings.HasSuffix(out, string(filepath.Separator)) {
		return "", ""
	}
	name = strings.ToLower(filepath.Base(out))
	for _, z := range []string{".gz", ".zst"} {
		name = strings.TrimSuffix(name, z)
	}
	return name, filepath.Ext(name)
}

// inferFormat picks the format of a one-off export without --format: from the output file's
// extension; CSV for standard output, a directory, or a name without an extension. An output
// named like a format (-o json: the Databricks CLI's habit for --output json) or with an
// extension of no format we write (-o out.xlsx) is refused rather than written as CSV.
func inferFormat(out string) (formats.Format, error) {
	name, ext := outputName(out)
	if f, ok := extensionFormats["."+name]; ok {
		base := filepath.Base(outputPath(out))
		return "", fmt.Errorf("-o %s would write a CSV file named %q: -o is the output path (--out); for %s data give --format %s (and -o - for standard output, or a file such as out.%s), for a JSON summary --output json",
			base, base, formatTitle[f], f, f)
	}
	if f, ok := extensionFormats[ext]; ok {
		return f, nil
	}
	if ext != "" {
		return "", fmt.Errorf("-o %s: %s is no format deltashare writes: give --format csv, ndjson, json or parquet, or a file name ending in .csv, .ndjson, .json or .parquet (a directory: end it with /)", filepath.Base(outputPath(out)), ext)
	}
	return formats.CSV, nil
}

// formatMismatch is the warning for a --format that contradicts the output file's extension
// (--format parquet -o x.csv); "" when they agree or the extension says nothing. JSON and
// NDJSON agree (.json is a common name for JSON lines).
func formatMismatch(out string, f formats.Format) string {
	_, ext := outputName(out)
	byExt, ok := extensionFormats[ext]
	if !ok || byExt == f || (jsonish(byExt) && jsonish(f)) {
		return ""
	}
	return fmt.Sprintf("warning: --format %s writes %s to %s, whose extension says %s", f, formatTitle[f], filepath.Base(outputPath(out)), formatTitle[byExt])
}

// formatTitle is how messages name a format.
var formatTitle = map[formats.Format]string{formats.CSV: "CSV", formats.NDJSON: "NDJSON", formats.JSON: "JSON", formats.Parquet: "Parquet"}

func jsonish(f formats.Format) bool { return f == formats.JSON || f == formats.NDJSON }

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

// openOutput opens the sink of a one-off export: standard output for "-" and /dev/stdout, else
// OpenSink's file, directory, bucket or stream (a FIFO, a device); an output it cannot open is a
// usage error. release closes it.
func openOutput(st *streams, out string) (sink export.Sink, name string, release func(), err error) {
	if out == "-" || out == "/dev/stdout" {
		return &export.StreamSink{W: st.Out, Label: out}, "-", func() {}, nil
	}
	if sink, name, err = export.OpenSink(out); err != nil {
		return nil, "", nil, usageError(err)
	}
	release = func() {}
	if c, ok := sink.(io.Closer); ok {
		release = func() { c.Close() }
	}
	return sink, name, release, nil
}

// toStdout reports whether sink writes the data to the command's standard output.
func toStdout(st *streams, sink export.Sink) bool {
	s, ok := sink.(*export.StreamSink)
	return ok && s.W == st.Out
}

// dataOnTerminal reports whether sink writes the data to a terminal: standard output when it is
// one, or a terminal given as the output (-o /dev/tty, -o /dev/stderr on a terminal).
func dataOnTerminal(st *streams, sink export.Sink) bool {
	if toStdout(st, sink) {
		return st.OutTerminal
	}
	switch s := sink.(type) {
	case *export.FileStreamSink:
		return term.IsTerminal(int(s.File().Fd()))
	case *export.StreamSink:
		if f, ok := s.W.(*os.File); ok {
			return term.IsTerminal(int(f.Fd()))
		}
	}
	return false
}

// exportOptions are the options of export.Run for o, writing to the sink's name. No progress
// bar is drawn while the data goes to a terminal: bar and data would mix on the screen.
func (o outputOptions) exportOptions(st *streams, name string, dataOnTerminal bool) export.Options {
	opts := export.Options{
		Output: name, Format: o.Format, MaxRowsPerFile: o.MaxRowsPerFile, PartitionBy: o.PartitionBy,
		Overwrite: o.Overwrite, Progress: progressBar(st, o.Quiet || dataOnTerminal), PartPrefix: o.Shard.PartPrefix(),
	}
	if o.Format.Format == formats.Parquet {
		// The Parquet writer's state grows with the columns (see memoryPerColumn).
		opts.OnSchema = func(s *arrow.Schema) { fitMemoryLimit(s.NumFields()) }
	}
	return opts
}

// progressBar draws progress on stderr when it is a terminal and the command is not quiet.
func progressBar(st *streams, quiet bool) export.Progress {
	if st.ErrTerminal && !quiet {
		if f, ok := st.Err.(*os.File); ok {
			return export.TerminalProgress(f)
		}
	}
	return nil
}

// writeOneOff runs a one-off export (export or changes) to o.Out and prints its summary: a
// result, so on stdout, unless the data itself went there. do exports to the sink.
func writeOneOff(st *streams, o outputOptions, t protocol.Table, do func(export.Sink, export.Options) (*export.Summary, error)) error {
	sink, name, release, err := openOutput(st, o.Out)
	if err != nil {
		return err
	}
	if o.Warning != "" {
		fmt.Fprintln(st.Err, o.Warning)
	}
	defer release()
	sum, err := do(sink, o.exportOptions(st, name, dataOnTerminal(st, sink)))
	if err != nil {
		if errors.Is(err, export.ErrExists) || errors.Is(err, export.ErrOutputMismatch) {
			return usageError(err)
		}
		return err
	}
	w := st.Out
	if toStdout(st, sink) {
		w = st.Err
	}
	if o.JSON {
		m, err := styled(sum, &t, nil)
		if err != nil {
			return err
		}
		return writeJSON(w, m)
	}
	if !o.Quiet {
		_, err = fmt.Fprintln(w, sum.Text())
	}
	return err
}
