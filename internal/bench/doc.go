// Package bench is the measuring side of `make bench` (cmd/deltashare-bench): it runs a child
// process and records its wall time and peak resident memory, parses the lines of the DuckDB
// speed anchor (../shared/bench/duckdb-anchor.sh), keeps the best of repeated runs, compares
// them with the targets, and prints the aligned results table and the JSON report.
//
// The targets are the issue's: end to end through our server, an export reaches at least
// 0.7× DuckDB's rows/s for CSV, 1.0× for NDJSON and 0.5× for Parquet (DuckDB converting the
// same local Parquet files, no HTTP); the export process stays under 300 MB peak RSS on the
// 10M-row table, and within 20% of that on a table four times larger.
package bench
