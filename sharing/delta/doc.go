// Package delta holds the Delta Lake rules shared by the Delta Sharing client, the table reader
// and our server, in one place: the log actions (protocol, metaData, add, remove, cdc,
// commitInfo and the rest) as they appear in `_delta_log` commits, checkpoints and delta-format
// Delta Sharing responses; the table schema (the `schemaString` JSON) and column-mapping names;
// Z85 and the deletion vector formats (descriptors, files, RoaringBitmapArray); partition value
// parsing and Hive-style partition directory escaping; the value spellings of dates, timestamps
// and decimals in partition values and statistics; and live row counts from statistics minus
// deleted rows.
//
// It imports no other package of this module, so every other package may use it.
package delta
