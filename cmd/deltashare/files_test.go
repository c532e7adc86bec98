package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/sharing/reader"
)

func TestParseFilesOptions(t *testing.T) {
	target := tableTarget{Profile: "x", Table: ordersTable}
	testParse(t, parseFilesOptions, append(tableAtMistakes[filesOptions]("files"), []parseCase[filesOptions]{
		{name: "latest", args: []string{"files", "-p", "x", "demo.sales.orders"}, want: filesOptions{tableTarget: target, Output: "text"}},
		{name: "every flag", args: []string{"files", "demo.sales.orders", "--where=region = 'Europe'", "--version", "1", "--limit-hint", "5", "-p", "x", "-O", "json"},
			want: filesOptions{tableTarget: target, Output: "json", List: reader.ListOptions{Version: i64(1), Where: "region = 'Europe'", LimitHint: i64(5)}}},
		{name: "timestamp", args: []string{"files", "-p", "x", "demo.sales.orders", "--timestamp", "2024-01-01T00:00:00Z", "--limit-hint", "0"},
			want: filesOptions{tableTarget: target, Output: "text", List: reader.ListOptions{Timestamp: "2024-01-01T00:00:00Z", LimitHint: i64(0)}}},
		{name: "limit hint not a number", args: []string{"files", "-p", "x", "demo.sales.orders", "--limit-hint", "many"}, code: exitUsage, msg: "limit-hint"},
	}...))
}

func TestRunFiles(t *testing.T) {
	d, target, _ := demoTables(t)

	// The latest version's files, rows from stats adding up to the table's 2900 rows.
	r := call(t, d, "", runFilesCommand, filesOptions{tableTarget: target, Output: "json"})
	require.Equal(t, 0, r.Code, r.Err)
	var list filesJSON
	require.NoError(t, json.Unmarshal([]byte(r.Out), &list))
	var rows, size int64
	for _, f := range list.Files {
		require.NotNil(t, f.Rows)
		rows += *f.Rows
		size += f.Size
		assert.NotNil(t, f.URLExpires)
	}
	assert.Equal(t, int64(2900), rows)
	// The totals the text shows, in JSON too.
	assert.Equal(t, filesTotalsJSON{Files: len(list.Files), Size: size, Rows: 2900, FilesWithStats: len(list.Files)}, list.Totals)
	assert.Equal(t, refOf(ordersTable), list.Table)
	assert.Equal(t, int64(2), list.Version)
	assert.NotContains(t, r.Out, "sig=", "signed URLs are not printed")

	// Text: a row per file, then the totals.
	r = call(t, d, "", runFilesCommand, filesOptions{tableTarget: target, Output: "text"})
	require.Equal(t, 0, r.Code, r.Err)
	assert.Regexp(t, `^ID\s+SIZE\s+ROWS\s+PARTITION\s+URL EXPIRES\n`, r.Out)
	assert.Regexp(t, `(?m)^\w+\s+[\d.]+ KiB\s+\d+\s+region=\w+\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`, r.Out)
	assert.Regexp(t, `\n\d+ files, [\d.]+ KiB, 2,900 rows \(from stats\), table version 2\n$`, r.Out)
	assert.NotContains(t, r.Out, "sig=")

	// --where is sent as a hint: only the Europe files come back.
	r = call(t, d, "", runFilesCommand, filesOptions{tableTarget: target, Output: "json", List: reader.ListOptions{Where: "region = 'Europe'"}})
	require.Equal(t, 0, r.Code, r.Err)
	var europe filesJSON
	require.NoError(t, json.Unmarshal([]byte(r.Out), &europe))
	require.NotEmpty(t, europe.Files)
	assert.Less(t, len(europe.Files), len(list.Files))
	assert.Equal(t, len(europe.Files), europe.Totals.Files)
	for _, f := range europe.Files {
		assert.Equal(t, "Europe", f.PartitionValues["region"])
	}

	// A bad --where names the problem.
	r = call(t, d, "", runFilesCommand, filesOptions{tableTarget: target, Output: "text", List: reader.ListOptions{Where: "nosuch = 1"}})
	assert.Equal(t, exitUsage, r.Code)
	assert.Contains(t, r.Err, "nosuch")
}
