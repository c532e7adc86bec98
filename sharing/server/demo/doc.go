// Package demo writes real Delta tables, deterministically: Parquet data files written with
// parquet-go from an explicit schema (Delta's physical and logical type mapping), Hive-style
// partition directories, per-file statistics, change data files under `_change_data`, and JSON
// commits in `_delta_log` built from the sharing/delta action types.
//
// It has three uses:
//
//   - [Generate] writes the demo tables that our Delta Sharing server serves in `deltashare demo`
//     and in end-to-end tests (committed under testdata/demo; regenerate them with
//     `go run ./sharing/server/demo/gen -o testdata/demo`). [Tables] lists them for the server,
//     and [ExpectedOrders] and [ExpectedCustomerChanges] give tests the rows a correct reader
//     must return.
//   - [GenerateBench] streams a large table (10M+ rows) for `make bench` with bounded memory.
//   - [CreateTable] and [Txn] are the small Delta writer under both, usable by tests that need
//     a table of their own.
//
// Everything is a pure function of its inputs: file names, table ids and commit timestamps are
// derived from fixed seeds, so generating twice gives byte-identical files.
package demo
