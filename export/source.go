package export

import "github.com/apache/arrow/go/v17/arrow"

// Source yields the Arrow records to export. It has the method set of array.RecordReader
// (without Retain), so any array.RecordReader is a Source.
//
// Next advances to the next record and reports whether there is one; Record returns it and is
// valid until the next call to Next (Run never keeps it longer). Err reports the error that ended
// the iteration, if any. Run does not call Release: whoever made the source releases it.
type Source interface {
	Schema() *arrow.Schema
	Next() bool
	Record() arrow.Record
	Err() error
	Release()
}

// FileBoundaries is implemented by sources that know which input file each record came from.
// With a directory output and MaxRowsPerFile zero, Run starts a new part file whenever the
// input file changes, so the output has one part per input file (per partition value).
type FileBoundaries interface {
	// FileIndex returns the index of the input file the current record came from.
	FileIndex() int
	// FileCount returns the number of input files, or -1 when it is unknown.
	FileCount() int
}

// TotalsHint is implemented by sources that know, before reading, roughly how much they will
// yield. Run passes the numbers to Progress.Start for a completion estimate. A negative number
// means unknown. Bytes are the size of the input (for example the Parquet files of a Delta
// table), not of the output.
type TotalsHint interface {
	Totals() (rows, bytes int64)
}
