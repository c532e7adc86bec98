package main

// Flag parsing of the data commands (export, changes, sync) on its own: the real commands'
// flags and parse functions, no server, no credential.

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/export"
	"github.com/deltashare/deltashare/formats"
	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/deltashare/deltashare/sharing/reader"
)

// parseArgs parses args for command cmd as the app does (flags may follow the argument) and
// returns what parse made of them and the exit code of the parse.
func parseArgs[T any](t *testing.T, cmd func() *cli.Command, parse func(*cli.Context) (T, error), args ...string) (T, int, error) {
	t.Helper()
	c := cmd()
	var got T
	c.Action = func(ctx *cli.Context) error {
		var err error
		got, err = parse(ctx)
		return err
	}
	app := &cli.App{Name: "deltashare", Commands: []*cli.Command{c}, ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: onUsageError, Writer: io.Discard, ErrWriter: io.Discard}
	usageErrorsExit2(app.Commands)
	ctx := context.Background()
	err := app.RunContext(ctx, interspersed(app, append([]string{"deltashare", c.Name}, args...)))
	return got, exitCode(ctx, err), err
}

var ordersTable = protocol.Table{Share: "demo", Schema: "sales", Name: "orders"}

func ptr[T any](v T) *T { return &v }

// withoutShardFilter checks that the read options' shard filter is the shard's, and clears it
// (functions do not compare).
func withoutShardFilter(t *testing.T, o *outputOptions) {
	t.Helper()
	if o.Shard.IsZero() {
		assert.Nil(t, o.Read.Shard, "no shard, no filter")
		return
	}
	require.NotNil(t, o.Read.Shard, "the shard filters the files")
	for _, id := range []string{"a", "b", "c", "d", "e", "f"} {
		assert.Equal(t, o.Shard.Contains(id), o.Read.Shard(id), id)
	}
	o.Read.Shard = nil
}

func TestParseExportFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want exportOptions
	}{
		{"defaults", []string{"demo.sales.orders", "-o", "orders.csv"},
			exportOptions{Table: ordersTable, Output: outputOptions{Out: "orders.csv", Format: formats.Options{Format: formats.CSV}}}},
		{"format and compression from the name", []string{"demo.sales.orders", "-o", "dir/orders.ndjson.zst"},
			exportOptions{Table: ordersTable, Output: outputOptions{Out: "dir/orders.ndjson.zst", Format: formats.Options{Format: formats.NDJSON, Compression: formats.Zstd}}}},
		{".jsonl.gz", []string{"demo.sales.orders", "-o", "o.jsonl.gz"},
			exportOptions{Table: ordersTable, Output: outputOptions{Out: "o.jsonl.gz", Format: formats.Options{Format: formats.NDJSON, Compression: formats.Gzip}}}},
		{".JSON", []string{"demo.sales.orders", "-o", "o.JSON"},
			exportOptions{Table: ordersTable, Output: outputOptions{Out: "o.JSON", Format: formats.Options{Format: formats.JSON}}}},
		{"parquet", []string{"demo.sales.orders", "-o", "o.pq"},
			exportOptions{Table: ordersTable, Output: outputOptions{Out: "o.pq", Format: formats.Options{Format: formats.Parquet}}}},
		{"standard output: CSV, no compression inferred", []string{"-o", "-", "demo.sales.orders"},
			exportOptions{Table: ordersTable, Output: outputOptions{Out: "-", Format: formats.Options{Format: formats.CSV}}}},
		{"every output flag", []string{"-p", "me.share", "demo.sales.orders", "-o", "lake/", "--format", "parquet", "--compression", "zstd",
			"--partition-by", "region, day,", "--max-rows-per-file", "10", "--overwrite", "--shard", "1/4", "--parallel", "3",
			"--columns", "a,b", "--where", "x > 1", "--limit", "0", "-q", "--output", "json", "--version", "3"},
			exportOptions{Table: ordersTable, Version: ptr(int64(3)), Output: outputOptions{Out: "lake/",
				Format: formats.Options{Format: formats.Parquet, Compression: formats.Zstd},
				Read:   reader.ReadOptions{Columns: []string{"a", "b"}, Where: "x > 1", Limit: ptr(int64(0)), Parallel: 3},
				Shard:  export.Shard{Index: 1, Count: 4}, MaxRowsPerFile: 10, PartitionBy: []string{"region", "day"},
				Overwrite: true, Quiet: true, JSON: true}}},
		{"CSV and JSON options", []string{"demo.sales.orders", "-o", "x.csv", "--delimiter", `\t`, "--null", "NULL", "--no-header", "--nan", "string"},
			exportOptions{Table: ordersTable, Output: outputOptions{Out: "x.csv",
				Format: formats.Options{Format: formats.CSV, Delimiter: '\t', Null: "NULL", NoHeader: true, NaN: formats.NaNString}}}},
		{"an empty --null is set", []string{"demo.sales.orders", "-o", "x.csv", "--null", "", "--delimiter", "tab"},
			exportOptions{Table: ordersTable, Output: outputOptions{Out: "x.csv", Format: formats.Options{Format: formats.CSV, Delimiter: '\t'}}}},
		{"timestamp", []string{"demo.sales.orders", "-o", "x.csv", "--timestamp", "2025-01-06T10:00:00Z"},
			exportOptions{Table: ordersTable, Timestamp: "2025-01-06T10:00:00Z", Output: outputOptions{Out: "x.csv", Format: formats.Options{Format: formats.CSV}}}},
		{"a profile in the argument", []string{"me.share#demo.sales.orders", "-o", "x.csv"},
			exportOptions{Table: ordersTable, Profile: "me.share", Output: outputOptions{Out: "x.csv", Format: formats.Options{Format: formats.CSV}}}},
		{"no extension: CSV", []string{"demo.sales.orders", "-o", "orders"},
			exportOptions{Table: ordersTable, Output: outputOptions{Out: "orders", Format: formats.Options{Format: formats.CSV}}}},
		{".tsv: CSV", []string{"demo.sales.orders", "-o", "o.tsv", "--delimiter", "tab"},
			exportOptions{Table: ordersTable, Output: outputOptions{Out: "o.tsv", Format: formats.Options{Format: formats.CSV, Delimiter: '\t'}}}},
		{"a directory named like a format", []string{"demo.sales.orders", "-o", "json/"},
			exportOptions{Table: ordersTable, Output: outputOptions{Out: "json/", Format: formats.Options{Format: formats.CSV}}}},
		{"--format names the format of any file", []string{"demo.sales.orders", "-o", "out.xlsx", "--format", "csv"},
			exportOptions{Table: ordersTable, Output: outputOptions{Out: "out.xlsx", Format: formats.Options{Format: formats.CSV}}}},
		{"--format against the extension: a warning", []string{"demo.sales.orders", "-o", "x.csv", "--format", "parquet"},
			exportOptions{Table: ordersTable, Output: outputOptions{Out: "x.csv", Format: formats.Options{Format: formats.Parquet},
				Warning: "warning: --format parquet writes Parquet to x.csv, whose extension says CSV"}}},
		{"an object store file: the extension of its path, not of its query", []string{"demo.sales.orders", "-o", "s3://b/p/o.parquet?endpoint=http://127.0.0.1:9000"},
			exportOptions{Table: ordersTable, Output: outputOptions{Out: "s3://b/p/o.parquet?endpoint=http://127.0.0.1:9000", Format: formats.Options{Format: formats.Parquet}}}},
		{"an object store directory", []string{"demo.sales.orders", "-o", "s3://b/json/?region=x.y"},
			exportOptions{Table: ordersTable, Output: outputOptions{Out: "s3://b/json/?region=x.y", Format: formats.Options{Format: formats.CSV}}}},
		{"NDJSON in a .json file: no warning", []string{"demo.sales.orders", "-o", "x.json.gz", "--format", "ndjson"},
			exportOptions{Table: ordersTable, Output: outputOptions{Out: "x.json.gz", Format: formats.Options{Format: formats.NDJSON, Compression: formats.Gzip}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, code, err := parseArgs(t, exportCommand, parseExportFlags, tc.args...)
			require.NoError(t, err)
			assert.Equal(t, exitOK, code)
			withoutShardFilter(t, &got.Output)
			if tc.want.Output.Format.NaN == "" {
				tc.want.Output.Format.NaN = formats.NaNNull
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestParseFlagErrors: a bad flag or argument is a usage error (exit 2) that names it, found
// before any credential is looked at.
func TestParseFlagErrors(t *testing.T) {
	export := func(args ...string) []string { return append([]string{"demo.sales.orders", "-o", "x.csv"}, args...) }
	for _, tc := range []struct {
		cmd  string
		args []string
		msg  string
	}{
		{"export", export("--format", "xls"), "xls"},
		{"export", export("--compression", "lz4"), "lz4"},
		{"export", export("--delimiter", "ab"), "--delimiter"},
		{"export", export("--nan", "maybe"), "maybe"},
		{"export", export("--output", "xml"), "xml"},
		{"export", export("--limit", "-2"), "--limit"},
		{"export", export("--limit", "many"), "limit"},
		{"export", export("--parallel", "-1"), "--parallel"},
		{"export", export("--parallel", "257"), "--parallel"},
		{"export", export("--max-rows-per-file", "-1"), "--max-rows-per-file"},
		{"export", export("--shard", "3/3"), "0 <= I < N"},
		{"export", export("--shard", "x"), "--shard"},
		{"export", export("--format", "parquet", "--null", "NULL"), "null"},
		{"export", export("--version", "1", "--timestamp", "2025-01-06T10:00:00Z"), "not both"},
		{"export", export("--bogus"), "bogus"},
		{"export", []string{"-o", "x.csv"}, "needs one argument"},
		{"export", []string{"a.b.c", "d.e.f", "-o", "x.csv"}, "needs one argument"},
		{"export", []string{"a.b", "-o", "x.csv"}, "share.schema.table"},
		{"export", []string{"#a.b.c", "-o", "x.csv"}, "empty profile path"},
		{"export", []string{"a.b.c"}, "-o (--out) is required"},
		// An output named like a format (the Databricks CLI's -o json), or with an extension of
		// no format, without --format: refused with the flag meant, not written as CSV.
		{"export", []string{"a.b.c", "-o", "json"}, "for JSON data give --format json (and -o - for standard output, or a file such as out.json), for a JSON summary --output json"},
		{"export", []string{"a.b.c", "-o", "dir/Parquet"}, `would write a CSV file named "Parquet"`},
		{"export", []string{"a.b.c", "-o", "ndjson.gz"}, "--format ndjson"},
		{"export", []string{"a.b.c", "-o", "out.xlsx"}, ".xlsx is no format deltashare writes: give --format csv, ndjson, json or parquet"},
		{"export", []string{"a.b.c", "-o", "s3://b/p/o.xlsx?region=x.y"}, "-o o.xlsx: .xlsx is no format"},
		{"changes", []string{"demo.sales.customers", "-o", "csv", "--starting-version", "0"}, "--format csv"},
		{"changes", []string{"demo.sales.customers", "-o", "c.xls", "--starting-version", "0"}, ".xls is no format"},
		{"sync", []string{"demo.sales.customers"}, "-o (--out) is required"},
		{"changes", []string{"demo.sales.customers", "-o", "-"}, "--starting-version V or --starting-timestamp T"},
		{"changes", []string{"demo.sales.customers", "-o", "-", "--starting-version", "-7"}, "--starting-version -7: table versions start at 0"},
		{"changes", []string{"demo.sales.customers", "-o", "-", "--starting-version", "1", "--starting-timestamp", "2025-01-07T09:00:00Z"}, "--starting-version V or --starting-timestamp T"},
		{"changes", []string{"demo.sales.customers", "-o", "-", "--starting-version", "3", "--ending-version", "1"}, "--ending-version 1 is before --starting-version 3"},
		{"changes", []string{"demo.sales.customers", "-o", "-", "--starting-version", "0", "--ending-version", "1", "--ending-timestamp", "2025-01-07T09:00:00Z"}, "not both"},
		{"changes", []string{"demo.sales.customers", "-o", "-", "--starting-version", "0", "--format", "xls"}, "xls"},
		{"sync", []string{"demo.sales.customers", "-o", "-"}, "not standard output"},
		{"sync", []string{"demo.sales.customers", "-o", "d", "--format", "json"}, "sync writes parquet, csv, ndjson or delta"},
		{"sync", []string{"demo.sales.customers", "-o", "d", "--format", "xls"}, "xls"},
		{"sync", []string{"demo.sales.customers", "-o", "d", "--compression", "lz4"}, "lz4"},
		{"sync", []string{"demo.sales.customers", "-o", "d", "--shard", "2/2"}, "--shard"},
		{"sync", []string{"demo.sales.customers", "-o", "d", "--parallel", "1000"}, "--parallel"},
		{"sync", []string{"demo.sales.customers", "-o", "d", "--delimiter", ";"}, "delimiter"},
		{"sync", []string{"demo.sales.customers", "-o", "d", "--overwrite"}, "overwrite"},
		{"sync", []string{"-o", "d"}, "sync needs one argument"},
	} {
		t.Run(tc.cmd+" "+tc.msg, func(t *testing.T) {
			var code int
			var err error
			switch tc.cmd {
			case "export":
				_, code, err = parseArgs(t, exportCommand, parseExportFlags, tc.args...)
			case "changes":
				_, code, err = parseArgs(t, changesCommand, parseChangesFlags, tc.args...)
			case "sync":
				_, code, err = parseArgs(t, syncCommand, parseSyncFlags, tc.args...)
			}
			require.Error(t, err, "%v", tc.args)
			assert.Equal(t, exitUsage, code, "%v: %v", tc.args, err)
			assert.Contains(t, err.Error(), tc.msg, "%v", tc.args)
		})
	}
}

func TestParseChangesFlags(t *testing.T) {
	customers := protocol.Table{Share: "demo", Schema: "sales", Name: "customers"}
	for _, tc := range []struct {
		name string
		args []string
		want protocol.ChangesRequest
	}{
		{"from a version", []string{"--starting-version", "0"}, protocol.ChangesRequest{StartingVersion: ptr(int64(0))}},
		{"a version range", []string{"--starting-version", "2", "--ending-version", "2"}, protocol.ChangesRequest{StartingVersion: ptr(int64(2)), EndingVersion: ptr(int64(2))}},
		{"a time range", []string{"--starting-timestamp", "2025-01-07T09:00:00Z", "--ending-timestamp", "2025-01-07T12:00:00Z"},
			protocol.ChangesRequest{StartingTimestamp: "2025-01-07T09:00:00Z", EndingTimestamp: "2025-01-07T12:00:00Z"}},
		{"a time to a version", []string{"--starting-timestamp", "2025-01-07T09:00:00Z", "--ending-version", "3"},
			protocol.ChangesRequest{StartingTimestamp: "2025-01-07T09:00:00Z", EndingVersion: ptr(int64(3))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"demo.sales.customers", "-o", "c.parquet", "--where", "tier = 'gold'", "--shard", "0/2"}, tc.args...)
			got, code, err := parseArgs(t, changesCommand, parseChangesFlags, args...)
			require.NoError(t, err)
			assert.Equal(t, exitOK, code)
			withoutShardFilter(t, &got.Output)
			assert.Equal(t, changesOptions{Table: customers, Range: tc.want, Output: outputOptions{Out: "c.parquet",
				Format: formats.Options{Format: formats.Parquet, NaN: formats.NaNNull}, Read: reader.ReadOptions{Where: "tier = 'gold'"},
				Shard: export.Shard{Index: 0, Count: 2}}}, got)
		})
	}
}

func TestParseSyncFlags(t *testing.T) {
	customers := protocol.Table{Share: "demo", Schema: "sales", Name: "customers"}
	got, code, err := parseArgs(t, syncCommand, parseSyncFlags, "demo.sales.customers", "-o", "s3://lake/c?region=x")
	require.NoError(t, err)
	assert.Equal(t, exitOK, code)
	withoutShardFilter(t, &got.Output)
	lake := export.LakeOptions{CheckpointInterval: export.DefaultCheckpointInterval}
	assert.Equal(t, syncOptions{Table: customers, Output: outputOptions{Out: "s3://lake/c?region=x", Format: formats.Options{Format: formats.Parquet}}, Lake: lake}, got,
		"parquet by default, no compression inferred")

	got, _, err = parseArgs(t, syncCommand, parseSyncFlags, "-p", "me", "demo.sales.customers", "-o", "dest.csv.gz", "--format", "CSV", "--compression", "gzip",
		"--shard", "1/2", "--parallel", "4", "--allow-schema-change", "--dry-run", "-q", "--output", "json")
	require.NoError(t, err)
	withoutShardFilter(t, &got.Output)
	assert.Equal(t, syncOptions{Table: customers, AllowSchemaChange: true, DryRun: true, Output: outputOptions{Out: "dest.csv.gz",
		Format: formats.Options{Format: formats.CSV, Compression: formats.Gzip}, Read: reader.ReadOptions{Parallel: 4},
		Shard: export.Shard{Index: 1, Count: 2}, Quiet: true, JSON: true}, Lake: lake}, got)

	got, _, err = parseArgs(t, syncCommand, parseSyncFlags, "demo.sales.customers", "-o", "lake/", "--format", "Delta", "--vacuum", "7d", "--checkpoint-interval", "5")
	require.NoError(t, err)
	assert.Equal(t, syncOptions{Table: customers, Output: outputOptions{Out: "lake/", Format: formats.Options{Format: export.FormatDelta}},
		Lake: export.LakeOptions{CheckpointInterval: 5, Vacuum: 7 * 24 * time.Hour, TargetFileSize: 128 << 20}}, got)
	got, _, err = parseArgs(t, syncCommand, parseSyncFlags, "demo.sales.customers", "-o", "lake/", "--format", "delta", "--target-file-size", "64mb")
	require.NoError(t, err)
	assert.Equal(t, int64(64e6), got.Lake.TargetFileSize)
	got, _, err = parseArgs(t, syncCommand, parseSyncFlags, "demo.sales.customers", "-o", "lake/", "--format", "delta", "--target-file-size", "0")
	require.NoError(t, err)
	assert.Equal(t, int64(-1), got.Lake.TargetFileSize, "0: one data file per source file")

	for _, args := range [][]string{
		{"--format", "parquet", "--vacuum", "7d"},
		{"--format", "delta", "--vacuum", "2h"},
		{"--format", "delta", "--vacuum", "soon"},
		{"--format", "delta", "--shard", "0/2"},
		{"--format", "delta", "--compression", "zstd"},
		{"--format", "delta", "--checkpoint-interval", "0"},
		{"--format", "delta", "--target-file-size", "big"},
		{"--format", "parquet", "--target-file-size", "1MiB"},
	} {
		_, code, err := parseArgs(t, syncCommand, parseSyncFlags, append([]string{"demo.sales.customers", "-o", "lake/"}, args...)...)
		require.Error(t, err, "%v", args)
		assert.Equal(t, exitUsage, code, "%v", args)
	}
	got, _, err = parseArgs(t, syncCommand, parseSyncFlags, "demo.sales.customers", "-o", "lake/", "--format", "delta", "--vacuum", "2h", "--force-vacuum")
	require.NoError(t, err)
	assert.Equal(t, 2*time.Hour, got.Lake.Vacuum)
}

func TestDirOutput(t *testing.T) {
	for in, want := range map[string]string{
		"dest":                       "dest/",
		"dest/":                      "dest/",
		"s3://lake/c":                "s3://lake/c/",
		"s3://lake/c/":               "s3://lake/c/",
		"s3://lake/c?endpoint=x&a=b": "s3://lake/c/?endpoint=x&a=b",
		"gs://b/p/?x=1":              "gs://b/p/?x=1",
	} {
		assert.Equal(t, want, dirOutput(in), in)
	}
}
