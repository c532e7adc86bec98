// Package formats encodes Apache Arrow records into output files: CSV, NDJSON, JSON and Parquet.
//
// An [Encoder] takes an [io.Writer] and a schema, receives records through Write and finishes the
// file on Close. The package works on Arrow records only; it knows nothing about Delta Sharing.
//
// # Value rules
//
// CSV, NDJSON and JSON share one set of value rules, so a value reads the same in every text
// format:
//
//   - Integers (int8..int64, uint8..uint64) are written in decimal. In JSON they are numbers, also
//     beyond 2^53: readers that parse numbers as float64 (JavaScript) lose precision there.
//   - Decimals are written exactly, in fixed notation with exactly scale digits after the point:
//     decimal(5,2) 1.5 is "1.50", decimal(3,3) 0.005 is "0.005", a negative scale appends zeros
//     (unscaled 12 with scale -2 is "1200"). In JSON they are numbers written with the same text.
//   - Floating-point numbers use the shortest text that reads back to the same value (float32 at
//     32-bit precision), in fixed notation when 1e-6 <= |x| < 1e21 and exponent notation otherwise
//     (1e-7, 1.5e+21), as JavaScript and encoding/json do. -0 is "-0". NaN and infinities are
//     NaN, Infinity and -Infinity in CSV; in JSON they are null, or the strings "NaN", "Infinity"
//     and "-Infinity" with [NaNString].
//   - Booleans are true and false.
//   - Dates are YYYY-MM-DD. Date64 values are written as their day (a time part is dropped).
//   - Timestamps are RFC 3339: 2021-01-01T00:00:00Z. The fraction is left out when it is zero,
//     has 6 digits (microseconds) when the value is a whole number of microseconds and 9 digits
//     otherwise. A timestamp with any time zone is an instant and is written in UTC with a "Z";
//     a timestamp without a time zone (Delta timestamp_ntz) is a wall-clock time and is written
//     with no zone suffix: 2021-01-01T00:00:00.123456. Second, milli, micro and nano units are
//     all accepted. Years outside 0000-9999 get a leading "-" or more digits.
//   - Times of day (time32, time64) are HH:MM:SS with the same fraction rule.
//   - Binary values are standard base64 with padding.
//   - Strings are written as they are in CSV; in JSON they are escaped (", \, control
//     characters; no HTML escaping) and invalid UTF-8 bytes become U+FFFD.
//   - Structs are JSON objects with keys in field order; lists are arrays; maps with string keys
//     are objects (keys in entry order, duplicates kept as they are), other maps are arrays of
//     {"key":...,"value":...} objects. In CSV a nested value is one field holding that JSON text.
//   - Dictionary-encoded columns are written as their values.
//   - Nulls are null in JSON (keys are always present) and the Null option's text in CSV.
//
// # CSV
//
// A header row with the column names comes first unless NoHeader is set. Lines end in LF (CRLF
// with the CRLF option). A field is quoted, RFC 4180 style with embedded quotes doubled, when it
// contains the delimiter, a double quote, CR or LF, when it starts or ends with a space or tab,
// or when a non-null value's text equals the Null text: with the default empty Null text, an
// empty string is written as "" and a null as nothing, so readers can tell them apart (the
// PostgreSQL COPY convention). One consequence: with a single column and the default empty Null
// text, a null row is an empty line, which some readers (encoding/csv among them) skip; set Null
// (for example to \N or NULL) when that matters.
//
// # NDJSON and JSON
//
// NDJSON writes one object per line, keys in schema order. JSON writes one array:
// "[\n" + objects separated by ",\n" + "\n]\n"; an empty result is "[]\n".
//
// # Parquet
//
// Parquet files are written with pqarrow: the Arrow schema is stored in the file metadata,
// compression is snappy unless set otherwise, dictionary encoding is on, and statistics are
// written. Timestamps are stored as int64 microseconds (TIMESTAMP(MICROS)); isAdjustedToUTC is
// true exactly when the Arrow type has a time zone, so timestamp_ntz stays a local time. A
// nanosecond value that is not a whole number of microseconds is an error, never silently
// truncated. Decimals stay DECIMAL. A row group is closed when it reaches RowGroupRows rows
// (default 262,144) or about RowGroupBytes bytes (default 32 MiB), whichever comes first. The
// size is checked every 65,536 rows and counts the compressed pages written so far, not the page
// each column is still filling (up to 1 MiB per column), so row groups can come out somewhat
// larger than RowGroupBytes. The open row group is held in memory until it is closed.
//
// The columns of a flat schema are encoded concurrently, and string and binary columns are
// dictionary-encoded by the encoder itself (a dictionary of up to 128 KiB per column chunk,
// then plain values, as pqarrow's own writer does); the file holds the same encodings,
// dictionaries and statistics as pqarrow's sequential writer would write.
//
// # Text output
//
// Large records are formatted on several goroutines, each a range of rows, and written in
// order: the text is the same as one goroutine's. A goroutine of the encoder writes (and
// compresses) full buffers while the next ones are formatted.
//
// # Compression
//
// CSV, NDJSON and JSON can be compressed with gzip or zstd as they are written; Close finishes
// the compressed stream. Parquet compresses inside the file (snappy, zstd, gzip or none).
//
// Close never closes the io.Writer given to [New].
package formats
