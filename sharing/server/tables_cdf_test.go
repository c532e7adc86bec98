package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/deltashare/deltashare/sharing/protocol"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/server/deltalog"
	"github.com/deltashare/deltashare/sharing/server/demo"
)

// changeKey describes a change for comparisons: version, timestamp, kind and path.
func changeKeyOf(t *testing.T, root string, dt *deltalog.Table, c *deltalog.Change) string {
	var p string
	kind := string(c.Kind)
	switch c.Kind {
	case deltalog.ChangeCDC:
		p, kind = c.CDC.Path, "cdf"
	case deltalog.ChangeAdd:
		p = c.Add.Path
	case deltalog.ChangeRemove:
		p = c.Remove.Path
	}
	abs, err := dt.AbsPath(p)
	require.NoError(t, err)
	rel, err := filepath.Rel(root, abs)
	require.NoError(t, err)
	return fmt.Sprintf("%d@%d %s %s", c.Version, c.Timestamp.UnixMilli(), kind, filepath.ToSlash(rel))
}

func fileChangeKey(t *testing.T, f protocol.File) string {
	require.NotNil(t, f.Version)
	require.NotNil(t, f.Timestamp)
	return fmt.Sprintf("%d@%d %s %s", *f.Version, *f.Timestamp, f.Kind, urlRelPath(t, f.URL))
}

// The change data feed of every CDF table, over its whole history: per version the cdc files
// where the commit has them, else its adds and removes, with versions and timestamps; paged
// with maxFiles=1 it is the same.
func TestChangesSharedTables(t *testing.T) {
	ctx := context.Background()
	all, _ := sharedTables(t)
	tables := map[string]string{"demo_customers": demoDir(t, "customers")}
	for name, dir := range all {
		if strings.HasPrefix(name, "kernel-cdf_") || strings.HasPrefix(name, "delta-rs_cdf-table") || name == "r-fixtures_cdf" {
			tables[name] = dir
		}
	}
	env := startTables(t, tables, nil)
	for _, name := range sortedNames(tables) {
		t.Run(name, func(t *testing.T) {
			dt, err := deltalog.Open(ctx, tables[name])
			require.NoError(t, err)
			latest, err := dt.LatestVersion(ctx)
			require.NoError(t, err)
			// Start at the first version with change data feed enabled.
			var start int64
			for ; start <= latest; start++ {
				snap, err := dt.Snapshot(ctx, start)
				require.NoError(t, err)
				if snap.Metadata.ChangeDataFeedEnabled() {
					break
				}
			}
			require.LessOrEqual(t, start, latest, "%s never enables change data feed", name)
			changes, err := dt.Changes(ctx, start, latest)
			require.NoError(t, err)
			var want []string
			for _, c := range changes {
				want = append(want, changeKeyOf(t, tables[name], dt, c))
			}
			req := protocol.ChangesRequest{StartingVersion: &start}
			res, err := env.client.Changes(ctx, tbl(name), req)
			require.NoError(t, err)
			assert.Equal(t, start, res.Version, "Delta-Table-Version is the start")
			var got []string
			for _, f := range res.Files {
				got = append(got, fileChangeKey(t, f))
				if f.Kind == protocol.FileAdd {
					assert.NotEmpty(t, f.Stats, "adds carry their stats")
				}
			}
			assert.Equal(t, want, got)

			one := 1
			req.MaxFiles = &one
			paged, err := env.client.Changes(ctx, tbl(name), req)
			require.NoError(t, err)
			var pgot []string
			for _, f := range paged.Files {
				pgot = append(pgot, fileChangeKey(t, f))
			}
			assert.Equal(t, want, pgot, "paged")
			assert.Equal(t, max(1, len(want)), paged.Pages)

			if start > 0 {
				zero := int64(0)
				_, err := env.client.Changes(ctx, tbl(name), protocol.ChangesRequest{StartingVersion: &zero})
				var ae *protocol.APIError
				require.True(t, errors.As(err, &ae), "%v", err)
				assert.Equal(t, 400, ae.Status)
				assert.Equal(t, CodeInvalidParameterValue, ae.Code)
				assert.Regexp(t, "change data was not recorded|not all present", ae.Message)
			}
		})
	}
}

// The demo customers' change data, read from the downloaded files, is exactly the expected
// feed: cdc files carry _change_type, adds of versions without cdc files are inserts.
func TestChangesDemoCustomersRows(t *testing.T) {
	ctx := context.Background()
	env := startTables(t, map[string]string{"customers": demoDir(t, "customers")}, nil)
	zero := int64(0)
	res, err := env.client.Changes(ctx, tbl("customers"), protocol.ChangesRequest{StartingVersion: &zero})
	require.NoError(t, err)
	var got []string
	for _, f := range res.Files {
		st, b := download(t, f.URL)
		require.Equal(t, 200, st)
		tb := readParquet(t, b)
		ids, emails, tiers := column(t, tb, "customer_id"), column(t, tb, "email"), column(t, tb, "tier")
		var types []any
		if f.Kind == protocol.FileCDF {
			types = column(t, tb, "_change_type")
		}
		for i := range ids {
			typ := f.ChangeType()
			if types != nil {
				typ = types[i].(string)
			}
			got = append(got, fmt.Sprintf("v%d@%d %s id=%d %s %s", *f.Version, *f.Timestamp, typ, ids[i], emails[i], tiers[i]))
		}
		tb.Release()
	}
	var want []string
	for _, c := range demo.ExpectedCustomerChanges() {
		want = append(want, fmt.Sprintf("v%d@%d %s id=%d %s %s", c.Version, c.Timestamp.UnixMilli(), c.Type,
			c.Row[demo.CustomerID], c.Row[demo.CustomerEmail], c.Row[demo.CustomerTier]))
	}
	sort.Strings(got)
	sort.Strings(want)
	assert.Equal(t, want, got)

	// By timestamps: the versions 1..3 of the demo (one hour apart).
	res2, err := env.client.Changes(ctx, tbl("customers"), protocol.ChangesRequest{
		StartingTimestamp: demo.CustomersBaseTime.Add(30 * 60e9).Format("2006-01-02T15:04:05Z"),
		EndingTimestamp:   demo.CustomersBaseTime.Add(3*3600e9 + 60e9).Format("2006-01-02T15:04:05Z"),
	})
	require.NoError(t, err)
	assert.Equal(t, int64(1), res2.Version)
	vs := map[int64]bool{}
	for _, f := range res2.Files {
		vs[*f.Version] = true
	}
	assert.Equal(t, map[int64]bool{1: true, 2: true, 3: true}, vs)
}

func TestChangesErrors(t *testing.T) {
	no := false
	env := startTables(t, map[string]string{"customers": demoDir(t, "customers"), "orders": demoDir(t, "orders")},
		func(c *Config) {
			c.Shares[0].Schemas[0].Tables = append(c.Shares[0].Schemas[0].Tables, TableConfig{Name: "private", Location: demoDir(t, "customers"), HistoryShared: &no})
		})
	for _, tc := range []struct {
		name, table, query, code, msg string
	}{
		{"no start", "customers", "", CodeInvalidParameterValue, "No startingVersion or startingTimestamp"},
		{"both starts", "customers", "startingVersion=0&startingTimestamp=2025-01-07T09:00:00Z", CodeInvalidParameterValue, "Multiple starting arguments"},
		{"both ends", "customers", "startingVersion=0&endingVersion=1&endingTimestamp=2025-01-07T09:00:00Z", CodeInvalidParameterValue, "Multiple ending arguments"},
		{"not a number", "customers", "startingVersion=x", CodeInvalidParameterValue, "startingVersion is not a valid number"},
		{"start after latest", "customers", "startingVersion=9", CodeInvalidParameterValue, "Start version cannot be greater than the latest version of the table(4)"},
		{"end after latest", "customers", "startingVersion=0&endingVersion=9", CodeInvalidParameterValue, "End version cannot be greater than the latest version of the table(4)"},
		{"start after end", "customers", "startingVersion=3&endingVersion=1", CodeInvalidParameterValue, "End cannot be before start"},
		{"bad timestamp", "customers", "startingTimestamp=yesterday", CodeInvalidParameterValue, "Invalid startingTimestamp"},
		{"timestamp after latest", "customers", "startingTimestamp=2030-01-01T00:00:00Z", CodeInvalidParameterValue, "no version was committed at or after"},
		{"maxFiles zero", "customers", "startingVersion=0&maxFiles=0", CodeInvalidParameterValue, "maxFiles must be positive"},
		{"no cdf", "orders", "startingVersion=0", CodeInvalidParameterValue, "change data was not recorded for version"},
		{"history not shared", "private", "startingVersion=0", CodeInvalidParameterValue, "cdf is not enabled on table s.x.private"},
		{"bad page token", "customers", "startingVersion=0&pageToken=abc", CodeInvalidParameterValue, "page token is invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, "GET", env.tableURL(tc.table, "/changes?"+tc.query), testToken, nil)
			require.Equal(t, 400, r.status, "%s", r.body)
			m := r.json(t)
			assert.Equal(t, tc.code, m["errorCode"])
			assert.Contains(t, m["message"], tc.msg)
		})
	}
}

// writeLog writes commits (lines of JSON actions) as versions 0, 1, ... of a new table.
func writeLog(t *testing.T, dir string, commits ...[]string) {
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "_delta_log"), 0o755))
	for v, lines := range commits {
		body := strings.Join(lines, "\n") + "\n"
		require.NoError(t, os.WriteFile(filepath.Join(dir, "_delta_log", fmt.Sprintf("%020d.json", v)), []byte(body), 0o644))
	}
}

func cdfMetadata(fields string) string {
	schema := `{"type":"struct","fields":[` + fields + `]}`
	b, _ := json.Marshal(schema)
	return `{"metaData":{"id":"t1","format":{"provider":"parquet","options":{}},"schemaString":` + string(b) +
		`,"partitionColumns":[],"configuration":{"delta.enableChangeDataFeed":"true"}}}`
}

// includeHistoricalMetadata: the head is the metadata at the start, later metaData actions
// follow with their versions; includeHistoricalProtocol (delta format) versions the protocols.
func TestChangesHistoricalMetadata(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	id := `{"name":"id","type":"long","nullable":true,"metadata":{}}`
	add := func(n int) string {
		return fmt.Sprintf(`{"add":{"path":"f%d.parquet","partitionValues":{},"size":1,"modificationTime":0,"dataChange":true}}`, n)
	}
	writeLog(t, dir,
		[]string{`{"protocol":{"minReaderVersion":1,"minWriterVersion":4}}`, cdfMetadata(id), add(0)},
		[]string{cdfMetadata(id + `,{"name":"x","type":"string","nullable":true,"metadata":{}}`)},
		[]string{`{"protocol":{"minReaderVersion":1,"minWriterVersion":5}}`, add(2)},
		[]string{add(3)},
	)
	env := startTables(t, map[string]string{"h": dir}, nil)
	zero := int64(0)
	deltaClient := env.newClient(t, sharing.WithCapabilities(protocol.Capabilities{ResponseFormats: []protocol.ResponseFormat{protocol.FormatDelta}}))
	res, err := deltaClient.Changes(ctx, tbl("h"), protocol.ChangesRequest{StartingVersion: &zero, IncludeHistoricalMetadata: true, IncludeHistoricalProtocol: true})
	require.NoError(t, err)
	assert.Equal(t, protocol.FormatDelta, res.Format)
	require.NotNil(t, res.Metadata.Version)
	assert.Equal(t, int64(0), *res.Metadata.Version)
	assert.NotContains(t, res.Metadata.Metadata.SchemaString, `"x"`)
	require.Len(t, res.HistoricalMetadata, 1)
	assert.Equal(t, int64(1), *res.HistoricalMetadata[0].Version)
	assert.Contains(t, res.HistoricalMetadata[0].Metadata.SchemaString, `"x"`)
	require.NotNil(t, res.Protocol.Version)
	assert.Equal(t, int64(0), *res.Protocol.Version)
	require.Len(t, res.HistoricalProtocols, 1)
	assert.Equal(t, int64(2), *res.HistoricalProtocols[0].Version)
	assert.Equal(t, 5, res.HistoricalProtocols[0].Protocol.MinWriterVersion)
	assert.Len(t, res.Files, 3)

	plain, err := env.client.Changes(ctx, tbl("h"), protocol.ChangesRequest{StartingVersion: &zero})
	require.NoError(t, err)
	assert.Equal(t, protocol.FormatParquet, plain.Format)
	assert.Empty(t, plain.HistoricalMetadata)
	require.NotNil(t, plain.Metadata.Version)
	assert.Equal(t, int64(3), *plain.Metadata.Version, "without history the head is the metadata at the end")
	assert.Contains(t, plain.Metadata.Metadata.SchemaString, `"x"`)
	assert.Equal(t, fileIDs(plain.Files), fileIDs(res.Files))

	// The startingVersion form of a query returns the later metadata inline too.
	since, err := env.client.Query(ctx, tbl("h"), protocol.QueryRequest{StartingVersion: &zero})
	require.NoError(t, err)
	require.Len(t, since.HistoricalMetadata, 1)
	assert.Equal(t, int64(1), *since.HistoricalMetadata[0].Version)
	assert.Len(t, since.Files, 3)
}
