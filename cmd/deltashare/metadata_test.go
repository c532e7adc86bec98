package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/sharing/protocol"
)

func i64(v int64) *int64 { return &v }

func TestParseMetadataOptions(t *testing.T) {
	target := tableTarget{Profile: "x", Table: ordersTable}
	testParse(t, parseMetadataOptions, append(tableAtMistakes[metadataOptions]("metadata"), []parseCase[metadataOptions]{
		{name: "latest", args: []string{"metadata", "-p", "x", "demo.sales.orders"}, want: metadataOptions{tableTarget: target, Output: "text"}},
		{name: "version", args: []string{"metadata", "demo.sales.orders", "-p", "x", "--version", "0", "-O", "json"},
			want: metadataOptions{tableTarget: target, Output: "json", At: protocol.MetadataOptions{Version: i64(0)}}},
		{name: "timestamp", args: []string{"metadata", "-p", "x", "demo.sales.orders", "--timestamp", "2024-01-01T00:00:00Z"},
			want: metadataOptions{tableTarget: target, Output: "text", At: protocol.MetadataOptions{Timestamp: "2024-01-01T00:00:00Z"}}},
		{name: "version not a number", args: []string{"metadata", "-p", "x", "demo.sales.orders", "--version", "latest"}, code: exitUsage, msg: "version"},
		{name: "empty schema part", args: []string{"metadata", "-p", "x", "a..c"}, code: exitUsage, msg: "share.schema.table"},
	}...))
}

func TestRunMetadata(t *testing.T) {
	d, target, _ := demoTables(t)

	r := call(t, d, "", runMetadata, metadataOptions{tableTarget: target, Output: "json"})
	require.Equal(t, 0, r.Code, r.Err)
	var md metadataJSON
	require.NoError(t, json.Unmarshal([]byte(r.Out), &md))
	assert.Equal(t, tableRef{Share: "demo", Schema: "sales", Name: "orders", FullName: "demo.sales.orders"}, md.Table)
	assert.Equal(t, int64(2), md.Version)
	assert.Equal(t, []string{"region"}, md.PartitionColumns)
	require.NotEmpty(t, md.Columns)
	assert.Equal(t, "order_id", md.Columns[0].Name)
	assert.Equal(t, "long", md.Columns[0].Type)
	var types []string
	for _, c := range md.Columns {
		types = append(types, c.Type)
	}
	assert.Contains(t, types, "decimal(12,2)")
	assert.Contains(t, types, "timestamp_ntz")

	r = call(t, d, "", runMetadata, metadataOptions{tableTarget: target, Output: "text", At: protocol.MetadataOptions{Version: i64(0)}})
	require.Equal(t, 0, r.Code, r.Err)
	assert.Contains(t, r.Out, "table:        demo.sales.orders\n")
	assert.Contains(t, r.Out, "version:      0")
	assert.Contains(t, r.Out, "partitioned:  region\n")
	assert.Regexp(t, `(?m)^COLUMN\s+TYPE\s+NULLABLE\norder_id\s+long\s`, r.Out)
}
