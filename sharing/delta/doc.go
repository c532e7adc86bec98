// Package delta holds the Delta Lake protocol types shared by the Delta Sharing client and our
// server: the log actions (protocol, metaData, add, remove, cdc, commitInfo and the rest) as they
// appear in `_delta_log` commits, checkpoints and in delta-format Delta Sharing responses, and the
// table schema (the `schemaString` JSON) with its column-mapping metadata.
//
// It is a leaf package: it imports nothing of this module, so every other package may use it.
package delta
