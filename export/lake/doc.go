// Package lake keeps the transaction log of a Delta table that deltashare writes (a "lake
// table"): it builds the JSON commits (protocol, metaData, add, remove, txn, commitInfo) and
// creates them put-if-absent, writes Parquet checkpoints with _last_checkpoint, replays the log
// back (live files, tombstones, the txn versions of applications) and computes the statistics
// of the data files it adds. Its actions are those of sharing/delta, the ones the readers of
// shared tables decode. It knows nothing of Delta Sharing or of how data files are written: the
// caller hands it finished files and a [Store] to keep the log in.
package lake
