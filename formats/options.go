package formats

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow/memory"
)

// Format names an output file format.
type Format string

// The output formats.
const (
	CSV     Format = "csv"
	NDJSON  Format = "ndjson"
	JSON    Format = "json"
	Parquet Format = "parquet"
)

// Compression names a compression codec. For CSV, NDJSON and JSON it compresses the whole stream;
// for Parquet it compresses the pages inside the file.
type Compression string

// The compression codecs. The empty Compression means the format's default: none for text formats,
// snappy for Parquet.
const (
	CompressionDefault Compression = ""
	None               Compression = "none"
	Gzip               Compression = "gzip"
	Zstd               Compression = "zstd"
	Snappy             Compression = "snappy"
)

// NaNMode says how JSON text writes NaN and infinite floating-point values.
type NaNMode string

// The NaN modes. The empty NaNMode means [NaNNull].
const (
	NaNNull   NaNMode = "null"   // NaN, +Inf and -Inf become null
	NaNString NaNMode = "string" // they become the strings "NaN", "Infinity" and "-Infinity"
)

// Defaults used when the corresponding Options field is zero.
const (
	DefaultRowGroupRows  int64 = 256 << 10 // rows per Parquet row group
	DefaultRowGroupBytes int64 = 32 << 20  // approximate compressed bytes per Parquet row group (held in memory until written)
)

// Options configures an Encoder. The zero value of every field but Format means "the default";
// options that do not apply to the chosen format must be left at their zero value (Validate
// says which one is wrong).
type Options struct {
	Format      Format      // required: csv, ndjson, json or parquet
	Compression Compression // "" for the format's default (none; snappy for parquet)

	// CSV only.
	Delimiter rune   // field separator; 0 means ','
	NoHeader  bool   // leave out the header row
	CRLF      bool   // end lines with CR LF instead of LF
	Null      string // text written for a null value; default empty

	// JSON text: ndjson, json, and the nested values that csv writes as JSON text.
	NaN NaNMode

	// Parquet only.
	RowGroupRows  int64            // maximum rows per row group; 0 means DefaultRowGroupRows
	RowGroupBytes int64            // target compressed bytes per row group; 0 means DefaultRowGroupBytes (less for schemas of over 256 columns)
	Allocator     memory.Allocator // Arrow allocator for the Parquet writer; nil means the default (text formats allocate no Arrow memory)
}

var formatNames = "csv, ndjson, json or parquet"

// ParseFormat reads a format name, case-insensitively. "jsonl" is accepted for ndjson.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "csv":
		return CSV, nil
	case "ndjson", "jsonl":
		return NDJSON, nil
	case "json":
		return JSON, nil
	case "parquet":
		return Parquet, nil
	case "":
		return "", errors.New("no output format given: use " + formatNames)
	}
	return "", fmt.Errorf("unknown format %q: use %s", s, formatNames)
}

// ParseCompression reads a compression name, case-insensitively ("zst" is accepted for zstd,
// "gz" for gzip). Whether it suits a format is checked by Options.Validate.
func ParseCompression(s string) (Compression, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return CompressionDefault, nil
	case "none", "uncompressed":
		return None, nil
	case "gzip", "gz":
		return Gzip, nil
	case "zstd", "zst":
		return Zstd, nil
	case "snappy":
		return Snappy, nil
	}
	return "", fmt.Errorf("unknown compression %q: use none, gzip or zstd (or snappy for parquet)", s)
}

// ParseNaNMode reads a NaN mode: "null" or "string".
func ParseNaNMode(s string) (NaNMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "null":
		return NaNNull, nil
	case "string":
		return NaNString, nil
	}
	return "", fmt.Errorf("unknown NaN mode %q: use null or string", s)
}

// Validate checks the options and returns an error that says what to change.
func (o Options) Validate() error {
	f, err := ParseFormat(string(o.Format))
	if err != nil {
		return err
	}
	if _, err := o.compression(f); err != nil {
		return err
	}
	if f != CSV {
		switch {
		case o.Delimiter != 0 && o.Delimiter != ',':
			return fmt.Errorf("a delimiter applies only to csv, not to %s", f)
		case o.NoHeader:
			return fmt.Errorf("leaving out the header applies only to csv, not to %s", f)
		case o.CRLF:
			return fmt.Errorf("CRLF line endings apply only to csv, not to %s", f)
		case o.Null != "":
			return fmt.Errorf("a null text applies only to csv: %s writes nulls natively", f)
		}
	} else {
		if err := validateCSV(o); err != nil {
			return err
		}
	}
	if _, err := ParseNaNMode(string(o.NaN)); err != nil {
		return err
	}
	if f == Parquet && o.NaN != "" && o.NaN != NaNNull {
		return errors.New("a NaN mode applies only to json text: parquet stores NaN and infinities natively")
	}
	if f != Parquet {
		if o.RowGroupRows != 0 || o.RowGroupBytes != 0 {
			return fmt.Errorf("row group sizes apply only to parquet, not to %s", f)
		}
	} else if o.RowGroupRows < 0 || o.RowGroupBytes < 0 {
		return errors.New("row group sizes must be positive (or zero for the default)")
	}
	return nil
}

func validateCSV(o Options) error {
	d := o.delimiter()
	switch {
	case !utf8.ValidRune(d) || d == utf8.RuneError:
		return fmt.Errorf("delimiter %q is not a valid character", d)
	case d == '"' || d == '\r' || d == '\n':
		return fmt.Errorf("delimiter %q cannot be used: choose a character other than a quote, CR or LF", d)
	}
	if strings.ContainsRune(o.Null, d) || strings.ContainsAny(o.Null, "\"\r\n") {
		return fmt.Errorf("null text %q cannot contain the delimiter, a quote, CR or LF", o.Null)
	}
	if o.Null != strings.TrimSpace(o.Null) {
		return fmt.Errorf("null text %q cannot start or end with white space", o.Null)
	}
	return nil
}

func (o Options) delimiter() rune {
	if o.Delimiter == 0 {
		return ','
	}
	return o.Delimiter
}

// compression returns the codec to use for format f, or an error if it does not suit f.
func (o Options) compression(f Format) (Compression, error) {
	c, err := ParseCompression(string(o.Compression))
	if err != nil {
		return "", err
	}
	if f == Parquet {
		switch c {
		case CompressionDefault:
			return Snappy, nil
		case None, Gzip, Zstd, Snappy:
			return c, nil
		}
	}
	switch c {
	case CompressionDefault:
		return None, nil
	case None, Gzip, Zstd:
		return c, nil
	}
	return "", fmt.Errorf("compression %q does not apply to %s: use none, gzip or zstd", c, f)
}

// Extension returns the file name extension for files written with opts: ".csv", ".csv.gz",
// ".ndjson.zst", ".json", ".parquet" (Parquet compresses inside the file, so its extension never
// changes). For options that do not validate it does its best and may return "".
func Extension(opts Options) string {
	f, err := ParseFormat(string(opts.Format))
	if err != nil {
		return ""
	}
	ext := "." + string(f)
	if f == Parquet {
		return ext
	}
	c, _ := opts.compression(f)
	switch c {
	case Gzip:
		ext += ".gz"
	case Zstd:
		ext += ".zst"
	}
	return ext
}
