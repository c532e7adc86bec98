// Package export writes the Arrow records of a table to output files: a [Source] of records
// goes through a [formats.Encoder] into a [Sink], with partitioned output, an atomic commit,
// progress and a [Summary].
//
// [Run] and [Sync] know nothing about Delta Sharing: the table reader hands them records through
// the small Source interface (any array.RecordReader is one), and reports input-file boundaries
// and size hints through the optional [FileBoundaries] and [TotalsHint] interfaces.
// [SharedTable] is the one place where a table of a Delta Sharing server is opened (through
// sharing/reader) and exported: Export and ExportChanges for one-off exports, and the
// [SyncTable] of a Sync.
//
// # Outputs
//
// [OpenSink] turns a user's --output into a sink and the Options.Output name for [Run]:
//
//   - "out.csv": one file. The file is created even when the table is empty (CSV header,
//     "[]" for JSON, a Parquet file with the schema and no rows).
//   - "out/" (a trailing separator, or an existing directory): part files
//     out/part-00000.csv, out/part-00001.csv, ... numbered in the order they are started, which
//     is deterministic for a given input order. MaxRowsPerFile starts a new part after that
//     many rows; without it there is one part per input file when the source implements
//     FileBoundaries, else a single part. An empty table gives one empty part file (none
//     when partitioning: there is no partition value to put it under).
//   - "-": standard output, through a [StreamSink]. Parquet is allowed there: pqarrow writes a
//     file front to back without seeking. Partitioning and MaxRowsPerFile need a directory.
//
// # Atomic commit
//
// Every file is written under a temporary name beside its destination
// (".part-00000.csv.deltashare-tmp-<random>", hidden from Spark, Hive and most readers). Only
// when the whole source has been read and every file finished does the commit phase start: the
// files are committed (renamed into place) one by one in name order. So an error from the
// source or an encoder, or a cancelled context, leaves no file under a final name, and every
// temporary file is removed (Run aborts them in a deferred function, on every return path).
// A cancelled context is checked before and after each record; Run then returns an error that
// wraps context.Canceled. Once the commit phase has started it runs to the end.
//
// If a commit fails, the files already renamed in this run are removed again (best effort),
// and the rest are aborted. With --overwrite, a renamed file may have replaced an earlier file
// of the same name; that earlier file cannot be brought back. Without --overwrite Run also
// checks just before committing that no final name appeared meanwhile.
//
// A local sink fsyncs each file before renaming it and fsyncs the directory after, so after a
// crash a name holds either nothing (or its previous file) or the complete new file. A killed
// process (SIGKILL, power loss) can leave temporary files behind; they carry [TempMarker] in
// their names and Run never treats them as output.
//
// Standard output cannot be atomic: a failed run may have written part of the data, and Run
// returns an error so that the command exits non-zero.
//
// # Overwriting
//
// Without Overwrite, Run refuses (before reading anything) an output file that exists, and an
// output directory that holds part files of an export: files named <prefix>-<5 or more
// digits><extensions> under zero or more col=value directories. Other files in the directory
// are left alone. With Overwrite, a single file is replaced atomically by the rename. A
// directory is updated in this order: (1) all new parts are written to temporary files;
// (2) they are renamed into place, replacing old parts of the same name; (3) the old part files
// that were not rewritten (whatever their format or partition directory) are removed, and
// partition directories left empty with them. A reader listing the directory between (2) and
// (3) sees new parts next to old ones; Summary.Removed lists what (3) removed.
//
// # Partitioning
//
// PartitionBy writes Hive-style directories, one level per column in the given order:
// out/region=EMEA/year=2024/part-00000.parquet, with part numbers counted per directory.
// Column names match exactly, else case-insensitively when that is unique.
//
// Values are written as Delta Lake (Kernel) serializes partition values: strings as they are,
// integers in decimal, booleans true/false, decimals exactly with their scale, floats in the
// shortest form that reads back (NaN, Infinity, -Infinity), dates 2024-01-31, timestamps with
// a time zone as UTC 2024-01-31T12:00:00.000000Z, timestamps without one (timestamp_ntz) as
// 2024-01-31 12:00:00.000000 (nine fraction digits when the value has nanoseconds).
// Dictionary-encoded columns use their values. Binary and nested columns cannot be partition
// columns. A null value, and an empty string (which Delta reads as null), becomes
// __HIVE_DEFAULT_PARTITION__. Column names and values are then escaped as Hive, Spark and
// Delta do: control characters, DEL and " # % ' * / : = ? \ { [ ] ^ become %XX (upper-case
// hex); NUL is escaped too. Other bytes, including non-ASCII UTF-8, are kept.
//
// The partition columns are left out of the files by default, as Spark, Hive and Delta do:
// readers with Hive partitioning (Spark, DuckDB, Trino, pyarrow) take the values from the
// directory names, and a column in both places confuses some of them. KeepPartitionColumns
// keeps them in the files too (useful for CSV read without partition discovery).
//
// The input does not need to be grouped by partition value. Each record is split by value:
// rows of one value that are contiguous are sliced (no copy), scattered rows are gathered into
// one record (compute.TakeArray, and a direct copy for string and binary columns). At most
// MaxOpenFiles (default 64) part files are open at once; when a new value arrives with every slot taken, the least recently used part is finished, and a later
// row of its value starts the next part in that directory. Memory is bounded by the open
// encoders: a text encoder buffers 256 KiB, but a Parquet encoder holds its open row group (up
// to RowGroupBytes, 32 MiB by default) in memory, so with many interleaved partition values
// and Parquet, lower MaxOpenFiles or the row group size. Input grouped by partition value, as
// a Delta table read file by file is, keeps one or a few parts open.
//
// # Progress and summary
//
// Progress receives rows, output bytes (counted as the encoders write them, after
// compression) and finished output files; a Progress that implements [InputFiles] also gets the
// input files read of the total (from a source with [FileBoundaries]). [TerminalProgress] draws a bar on a terminal and nothing
// otherwise. [Summary] has a one-line Text form and JSON tags for --output json.
//
// # Object stores, incremental sync and shards
//
// [OpenSink] also opens s3://, gs://, azblob:// and file:// URLs as a [BlobSink]
// (gocloud.dev/blob): parts are uploaded under a temporary prefix and copied to their final
// names only when all are written. [Sync] keeps a destination up to date with a table: a
// snapshot first, then the change data of each new version range, each run under fixed names
// (snapshot/v=N/, changes/v=A-B/) and recorded in a state object written last, under a lock
// object and a generation check; see [State]. A [Shard] selects a deterministic, disjoint share
// of a table's files by a hash of their ids, so N workers can split one table.
package export
