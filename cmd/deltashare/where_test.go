package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWhereNewForms: LIKE, BETWEEN, NOT IN and bare boolean columns filter the demo orders
// exactly (compared with the same filter applied here to every row of the table), through our
// server; BETWEEN and NOT IN also reach the server as hints (fewer files listed), LIKE does not
// (every file listed: it is applied locally only).
func TestWhereNewForms(t *testing.T) {
	profile := demoCommandLine(t)
	all := ndjsonRows(t, run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", "-", "--format", "ndjson", "-q"))
	require.Len(t, all, 2900)

	str := func(r map[string]any, k string) string { s, _ := r[k].(string); return s }
	num := func(r map[string]any, k string) (float64, bool) { f, ok := r[k].(float64); return f, ok }
	for _, tc := range []struct {
		where string
		keep  func(r map[string]any) bool
	}{
		{"customer LIKE 'W%'", func(r map[string]any) bool { return strings.HasPrefix(str(r, "customer"), "W") }},
		{"customer LIKE '%e_'", func(r map[string]any) bool {
			c := []rune(str(r, "customer"))
			return r["customer"] != nil && len(c) >= 2 && c[len(c)-2] == 'e'
		}},
		{"customer NOT LIKE '%a%'", func(r map[string]any) bool { return r["customer"] != nil && !strings.Contains(str(r, "customer"), "a") }},
		{"quantity BETWEEN 2 AND 5", func(r map[string]any) bool { q, ok := num(r, "quantity"); return ok && q >= 2 && q <= 5 }},
		{"quantity NOT BETWEEN 2 AND 18", func(r map[string]any) bool { q, ok := num(r, "quantity"); return ok && (q < 2 || q > 18) }},
		{"region NOT IN ('Europe', 'Asia')", func(r map[string]any) bool {
			return r["region"] != nil && str(r, "region") != "Europe" && str(r, "region") != "Asia"
		}},
		{"is_member", func(r map[string]any) bool { return r["is_member"] == true }},
		{"NOT is_member", func(r map[string]any) bool { return r["is_member"] == false }},
		{"is_member AND customer LIKE 'Z%' AND quantity BETWEEN 1 AND 10 AND region NOT IN ('Europe')", func(r map[string]any) bool {
			q, ok := num(r, "quantity")
			return r["is_member"] == true && strings.HasPrefix(str(r, "customer"), "Z") && ok && q >= 1 && q <= 10 &&
				r["region"] != nil && str(r, "region") != "Europe"
		}},
	} {
		t.Run(tc.where, func(t *testing.T) {
			var want []any
			for _, r := range all {
				if tc.keep(r) {
					want = append(want, r["order_id"])
				}
			}
			require.NotEmpty(t, want, "the case selects something")
			require.Less(t, len(want), len(all), "and not everything")
			r := run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", "-", "--format", "ndjson", "-q", "--where", tc.where)
			require.Equal(t, 0, r.Code, r.Err)
			var got []any
			for _, row := range ndjsonRows(t, r) {
				got = append(got, row["order_id"])
			}
			assert.ElementsMatch(t, want, got)
		})
	}

	files := func(where string) int {
		r := run(t, "", "files", "-p", profile, "demo.sales.orders", "--output", "json", "--where", where)
		require.Equal(t, 0, r.Code, r.Err)
		var list filesJSON
		require.NoError(t, json.Unmarshal([]byte(r.Out), &list))
		return list.Totals.Files
	}
	total := files("order_id IS NOT NULL")
	assert.Less(t, files("region NOT IN ('Europe', 'Asia')"), total, "NOT IN is sent as a hint")
	assert.Less(t, files("region BETWEEN 'Europe' AND 'Europe'"), total, "BETWEEN is sent as a hint")
	assert.Equal(t, total, files("customer LIKE 'W%' AND region LIKE 'Eu%'"), "LIKE is local only")
	assert.Less(t, files("customer LIKE 'W%' AND region = 'Europe'"), total, "the rest of an AND is still sent")

	// Errors name the problem.
	r := run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", "-", "--where", "quantity LIKE '1%'")
	assert.Equal(t, exitUsage, r.Code)
	assert.Contains(t, r.Err, "LIKE applies to string columns")
	r = run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", "-", "--where", "quantity BETWEEN 1")
	assert.Equal(t, exitUsage, r.Code)
	assert.Contains(t, r.Err, "expected AND in BETWEEN")
}

func ndjsonRows(t *testing.T, r result) []map[string]any {
	t.Helper()
	require.Equal(t, 0, r.Code, r.Err)
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(r.Out), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		out = append(out, m)
	}
	return out
}

// TestChangesWithoutChangeDataFeed: changes on a table that records no change data (the demo
// orders) fails with the server's reason and the way out: export --version.
func TestChangesWithoutChangeDataFeed(t *testing.T) {
	profile := demoCommandLine(t)
	r := run(t, "", "changes", "-p", profile, "demo.sales.orders", "--starting-version", "0", "-o", "-")
	assert.Equal(t, exitError, r.Code, r.Err)
	assert.Contains(t, r.Err, "change data was not recorded")
	assert.Contains(t, r.Err, "deltashare export demo.sales.orders --version N")
	assert.Empty(t, r.Out)
	// A table with change data is not affected.
	r = run(t, "", "changes", "-p", profile, "demo.sales.customers", "--starting-version", "0", "-o", "-", "-q")
	assert.Equal(t, 0, r.Code, r.Err)
}
