// Package reader turns a shared table into Arrow records: [Open] (a snapshot, time travel, a
// column projection, an exact filter and a row limit) and [OpenChanges] (the change data feed)
// query the table through a sharing.Client, then download the returned Parquet files a
// bounded number at a time (retrying, refreshing pre-signed URLs before they expire), decode
// them with pqarrow, apply deletion vectors, resolve column mapping to logical names, align each
// file's schema with the table's (type widening, INT96), add partition columns, and apply the
// filter exactly. A [Reader] is an array.RecordReader that also reports file boundaries and
// size hints, the shape package export consumes.
//
// Without downloading data, [Describe] summarises a table's metadata (protocol, partitioning,
// properties, columns) and [ListFiles] lists the data files a query returns, with their
// statistics and totals.
//
// The Delta rules it applies (deletion vector format, partition values, column mapping names)
// live in sharing/delta; the filter language in sharing/predicate.
package reader
