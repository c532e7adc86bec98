package main

// head, schema and count: flag parsing, and their output on the demo tables as golden files
// (testdata/golden; go test -run 'TestHead|TestSchema|TestCount' -update rewrites them), and
// their golden help (testdata/help, with TestHelpText).

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/deltashare/deltashare/sharing/reader"
)

// assertGolden compares got with testdata/golden/name (rewritten with -update).
func assertGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -run %s -update", t.Name())
	assert.Equal(t, string(want), got)
}

// TestHelpTextExploreData: the golden help of head, schema and count (run by
// go test -run TestHelpText -update too).
func TestHelpTextExploreData(t *testing.T) {
	credEnv(t)
	for _, name := range []string{"head", "schema", "count"} {
		t.Run(name, func(t *testing.T) {
			r := run(t, "", name, "--help")
			require.Equal(t, 0, r.Code, r.Err)
			assertGoldenHelp(t, "deltashare_"+name, r.Out)
		})
	}
}

// goldenCase is a run of a command whose standard output is a golden file's.
type goldenCase[O any] struct {
	golden string
	o      O
}

// testGolden calls run with the options of every case: each exits 0 and prints its golden file.
func testGolden[O any](t *testing.T, d *deps, run func(context.Context, O, *deps) error, cases []goldenCase[O]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			r := call(t, d, "", run, tc.o)
			require.Equal(t, 0, r.Code, r.Err)
			assertGolden(t, tc.golden, r.Out)
		})
	}
}

// demoTables serves the demo tables (demoDeps) and returns deps and the targets of its orders
// and customers tables.
func demoTables(t *testing.T) (d *deps, orders, customers tableTarget) {
	t.Helper()
	profile, d := demoDeps(t)
	orders = tableTarget{Profile: profile, Table: ordersTable}
	customers = tableTarget{Profile: profile, Table: protocol.Table{Share: "demo", Schema: "sales", Name: "customers"}}
	return d, orders, customers
}

func assertGoldenHelp(t *testing.T, name, got string) {
	t.Helper()
	golden := filepath.Join("testdata", "help", name+".txt")
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run go test -run TestHelpText -update")
	assert.Equal(t, string(want), got)
}

func TestParseHeadOptions(t *testing.T) {
	target := tableTarget{Profile: "x", Table: ordersTable}
	testParse(t, parseHeadOptions, append(tableAtMistakes[headOptions]("head"), []parseCase[headOptions]{
		{name: "defaults", args: []string{"head", "-p", "x", "demo.sales.orders"},
			want: headOptions{tableTarget: target, Output: "text", Read: reader.ReadOptions{Limit: i64(20)}, MaxWidth: 40}},
		{name: "all", args: []string{"head", "demo.sales.orders", "-p", "x", "-n", "5", "--columns", "order_id, region", "--where", "region = 'Europe'", "--version", "1", "--max-width", "0", "-O", "json"},
			want: headOptions{tableTarget: target, Output: "json", MaxWidth: 0, Read: reader.ReadOptions{Limit: i64(5), Columns: []string{"order_id", "region"}, Where: "region = 'Europe'", Version: i64(1)}}},
		{name: "timestamp", args: []string{"head", "-p", "x", "demo.sales.orders", "--timestamp", "2025-01-06T10:00:00Z", "-n", "0"},
			want: headOptions{tableTarget: target, Output: "text", MaxWidth: 40, Read: reader.ReadOptions{Limit: i64(0), Timestamp: "2025-01-06T10:00:00Z"}}},
		{name: "negative rows", args: []string{"head", "-p", "x", "demo.sales.orders", "-n", "-1"}, code: exitUsage, msg: "--rows -1"},
		{name: "narrow", args: []string{"head", "-p", "x", "demo.sales.orders", "--max-width", "1"}, code: exitUsage, msg: "--max-width 1"},
		{name: "bad output", args: []string{"head", "-p", "x", "demo.sales.orders", "-O", "csv"}, code: exitUsage, msg: "--output"},
	}...))
}

func TestParseSchemaOptions(t *testing.T) {
	target := tableTarget{Profile: "x", Table: ordersTable}
	testParse(t, parseSchemaOptions, append(tableAtMistakes[schemaOptions]("schema"), []parseCase[schemaOptions]{
		{name: "latest", args: []string{"schema", "-p", "x", "demo.sales.orders"}, want: schemaOptions{tableTarget: target, Output: "text"}},
		{name: "ddl", args: []string{"schema", "-p", "x", "demo.sales.orders", "-O", "DDL", "--version", "0"},
			want: schemaOptions{tableTarget: target, Output: "ddl", At: protocol.MetadataOptions{Version: i64(0)}}},
		{name: "arrow", args: []string{"schema", "demo.sales.orders", "-p", "x", "--output", "arrow", "--timestamp", "2025-01-06T10:00:00Z"},
			want: schemaOptions{tableTarget: target, Output: "arrow", At: protocol.MetadataOptions{Timestamp: "2025-01-06T10:00:00Z"}}},
		{name: "bad output", args: []string{"schema", "-p", "x", "demo.sales.orders", "-O", "yaml"}, code: exitUsage, msg: "text, json, ddl or arrow"},
	}...))
}

func TestParseCountOptions(t *testing.T) {
	target := tableTarget{Profile: "x", Table: ordersTable}
	testParse(t, parseCountOptions, append(tableAtMistakes[countOptions]("count"), []parseCase[countOptions]{
		{name: "latest", args: []string{"count", "-p", "x", "demo.sales.orders"}, want: countOptions{tableTarget: target, Output: "text"}},
		{name: "all", args: []string{"count", "demo.sales.orders", "-p", "x", "--where", "amount > 1", "--version", "1", "--parallel", "3", "-O", "json"},
			want: countOptions{tableTarget: target, Output: "json", Count: reader.CountOptions{Where: "amount > 1", Version: i64(1), Parallel: 3}}},
		{name: "parallel", args: []string{"count", "-p", "x", "demo.sales.orders", "--parallel", "1000"}, code: exitUsage, msg: "--parallel 1000"},
	}...))
}

func TestHead(t *testing.T) {
	d, orders, customers := demoTables(t)
	testGolden(t, d, runHead, []goldenCase[headOptions]{
		{"head_orders.txt", headOptions{tableTarget: orders, Output: "text", MaxWidth: 40, Read: reader.ReadOptions{Limit: i64(20), Parallel: 1}}},
		{"head_orders_narrow.txt", headOptions{tableTarget: orders, Output: "text", MaxWidth: 8,
			Read: reader.ReadOptions{Limit: i64(3), Columns: []string{"customer", "order_id", "region"}, Where: "region = 'Europe'", Parallel: 1}}},
		{"head_orders_none.txt", headOptions{tableTarget: orders, Output: "text", MaxWidth: 40, Read: reader.ReadOptions{Limit: i64(5), Where: "order_id < 0"}}},
		{"head_orders_v0.json", headOptions{tableTarget: orders, Output: "json", Read: reader.ReadOptions{Limit: i64(2), Version: i64(0), Parallel: 1}}},
		{"head_customers.txt", headOptions{tableTarget: customers, Output: "text", MaxWidth: 40, Read: reader.ReadOptions{Limit: i64(5), Parallel: 1}}},
	})

	// An unknown column or a bad filter is a usage error (an unknown table: TestExploreNotFound).
	r := call(t, d, "", runHead, headOptions{tableTarget: orders, Output: "text", Read: reader.ReadOptions{Columns: []string{"nosuch"}}})
	assert.Equal(t, exitUsage, r.Code, r.Err)
	assert.Contains(t, r.Err, "nosuch")
	r = call(t, d, "", runHead, headOptions{tableTarget: orders, Output: "text", Read: reader.ReadOptions{Where: "amount >"}})
	assert.Equal(t, exitUsage, r.Code, r.Err)
}

func TestGridFit(t *testing.T) {
	g := &grid{maxWidth: 5}
	assert.Equal(t, "abc", g.fit("abc"))
	assert.Equal(t, "abcde", g.fit("abcde"))
	assert.Equal(t, "abcd…", g.fit("abcdef"))
	assert.Equal(t, "日本語日…", g.fit("日本語日本語"))
	assert.Equal(t, `a\nb…`, g.fit("a\nbcdef"))
	assert.Equal(t, `a\tb\r\x01`, (&grid{}).fit("a\tb\r\x01"))
}

func TestSchema(t *testing.T) {
	d, orders, customers := demoTables(t)
	testGolden(t, d, runSchema, []goldenCase[schemaOptions]{
		{"schema_orders.txt", schemaOptions{tableTarget: orders, Output: "text"}},
		{"schema_orders.json", schemaOptions{tableTarget: orders, Output: "json"}},
		{"schema_orders.sql", schemaOptions{tableTarget: orders, Output: "ddl"}},
		{"schema_orders_arrow.txt", schemaOptions{tableTarget: orders, Output: "arrow"}},
		{"schema_customers_v0.txt", schemaOptions{tableTarget: customers, Output: "text", At: protocol.MetadataOptions{Version: i64(0)}}},
	})
}

func TestCount(t *testing.T) {
	d, orders, _ := demoTables(t)
	var golden strings.Builder
	for _, o := range []countOptions{
		{tableTarget: orders, Output: "text"},
		{tableTarget: orders, Output: "text", Count: reader.CountOptions{Version: i64(0)}},
		{tableTarget: orders, Output: "text", Count: reader.CountOptions{Where: "region = 'Europe'"}},
		{tableTarget: orders, Output: "text", Count: reader.CountOptions{Where: "region = 'Europe' AND amount > 100"}},
		{tableTarget: orders, Output: "text", Count: reader.CountOptions{Where: "order_id < 0"}},
	} {
		r := call(t, d, "", runCount, o)
		require.Equal(t, 0, r.Code, r.Err)
		golden.WriteString("$ deltashare count demo.sales.orders" + countArgs(o) + "\n" + r.Out)
	}
	assertGolden(t, "count_orders.txt", golden.String())

	for _, tc := range []struct {
		golden string
		o      countOptions
	}{
		{"count_orders.json", countOptions{tableTarget: orders, Output: "json"}},
		{"count_orders_where.json", countOptions{tableTarget: orders, Output: "json", Count: reader.CountOptions{Where: "region = 'Europe'"}}},
	} {
		r := call(t, d, "", runCount, tc.o)
		require.Equal(t, 0, r.Code, r.Err)
		assertGolden(t, tc.golden, r.Out)
		var cj countJSON
		require.NoError(t, json.Unmarshal([]byte(r.Out), &cj))
	}

	r := call(t, d, "", runCount, countOptions{tableTarget: orders, Output: "text", Count: reader.CountOptions{Where: "nosuch = 1"}})
	assert.Equal(t, exitUsage, r.Code, r.Err)
}

// countArgs are the flags of o as a command line would give them (for the golden file).
func countArgs(o countOptions) string {
	var s string
	if o.Count.Version != nil {
		s += fmt.Sprintf(" --version %d", *o.Count.Version)
	}
	if o.Count.Where != "" {
		s += fmt.Sprintf(" --where %q", o.Count.Where)
	}
	return s
}

// TestExploreNotFound: an unknown share or table is the server's 404, exit 1, for every command
// that explores one.
func TestExploreNotFound(t *testing.T) {
	profile, d := demoDeps(t)
	nosuch := tableTarget{Profile: profile, Table: protocol.Table{Share: "demo", Schema: "sales", Name: "nosuch"}}
	for name, run := range map[string]func(t *testing.T) result{
		"schemas":  callWith(d, runSchemas, schemasOptions{Profile: profile, Output: "text", Share: "nope"}),
		"tables":   callWith(d, runTables, tablesOptions{Profile: profile, Output: "text", Share: "nope"}),
		"version":  callWith(d, runVersion, versionOptions{tableTarget: nosuch, Output: "text"}),
		"metadata": callWith(d, runMetadata, metadataOptions{tableTarget: nosuch, Output: "text"}),
		"schema":   callWith(d, runSchema, schemaOptions{tableTarget: nosuch, Output: "text"}),
		"count":    callWith(d, runCount, countOptions{tableTarget: nosuch, Output: "text"}),
		"files":    callWith(d, runFilesCommand, filesOptions{tableTarget: nosuch, Output: "text"}),
		"head":     callWith(d, runHead, headOptions{tableTarget: nosuch, Output: "text"}),
	} {
		t.Run(name, func(t *testing.T) {
			r := run(t)
			assert.Equal(t, exitError, r.Code, r.Err)
			assert.Contains(t, r.Err, "404")
		})
	}
}
