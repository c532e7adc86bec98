package export_test

// Tests of SharedTable against our own Delta Sharing server on loopback, over the demo tables:
// what it tells Sync about a table (Info, Plan), what it reads (Snapshot, Changes), one-off
// exports (Export, ExportChanges: exact rows, slices, partitions, the overwrite rule) and Sync
// runs through it (snapshot then changes, no change data feed, shards, a schema change).

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/export"
	"github.com/deltashare/deltashare/formats"
	"github.com/deltashare/deltashare/internal/exporttest"
	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/deltashare/deltashare/sharing/reader"
	"github.com/deltashare/deltashare/sharing/server/demo"
)

func columnsOf(s *delta.StructType) []export.Column {
	var out []export.Column
	for _, f := range s.Fields {
		out = append(out, export.Column{Name: f.Name, Type: f.Type.String(), Nullable: f.Nullable})
	}
	return out
}

func TestSharedTableInfo(t *testing.T) {
	t.Parallel()
	vt := exporttest.NewVersioned(t, demoTableDir(t, "customers"), 1)
	srv := demoServer(t, map[string]string{"customers": vt.Dir})
	ctx := context.Background()
	ids := map[string]bool{}
	for _, tc := range []struct {
		table   string
		version int64
		cdf     bool
		schema  *delta.StructType
	}{
		{"demo.sales.orders", 2, false, demo.OrdersSchema()},
		{"demo.sales.customers", 4, true, demo.CustomersSchema()},
		{"demo.test.customers", 1, true, demo.CustomersSchema()},
	} {
		info, err := shared(t, srv.Client, tc.table, reader.ReadOptions{}).Info(ctx)
		require.NoError(t, err, tc.table)
		assert.Equal(t, tc.version, info.Version, tc.table)
		assert.Equal(t, tc.cdf, info.ChangeDataFeed, tc.table)
		assert.Equal(t, columnsOf(tc.schema), info.Columns, tc.table)
		assert.NotEmpty(t, info.ID, tc.table)
		ids[info.ID] = true
	}
	assert.Len(t, ids, 2, "a table's id is the Delta table id: a copy keeps it")

	// The latest version follows the table.
	vt.Publish(3)
	info, err := shared(t, srv.Client, "demo.test.customers", reader.ReadOptions{}).Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(3), info.Version)

	_, err = shared(t, srv.Client, "demo.sales.nosuch", reader.ReadOptions{}).Info(ctx)
	assert.ErrorIs(t, err, protocol.ErrNotFound)
}

func TestSharedTablePlan(t *testing.T) {
	t.Parallel()
	srv := demoServer(t, nil)
	ctx := context.Background()
	tbl := table(t, "demo.sales.customers")
	v := int64(4)
	query, err := srv.Client.Query(ctx, tbl, protocol.QueryRequest{Version: &v})
	require.NoError(t, err)
	from, to := int64(2), int64(3)
	changes, err := srv.Client.Changes(ctx, tbl, protocol.ChangesRequest{StartingVersion: &from, EndingVersion: &to})
	require.NoError(t, err)
	size := func(files []protocol.File, shard func(string) bool) (n int, bytes int64) {
		for _, f := range files {
			if shard == nil || shard(f.ID) {
				n++
				bytes += f.Size
			}
		}
		return n, bytes
	}

	whole := shared(t, srv.Client, "demo.sales.customers", reader.ReadOptions{})
	snap, err := whole.Plan(ctx, export.RunSnapshot, 4, 4)
	require.NoError(t, err)
	n, b := size(query.Files, nil)
	assert.Equal(t, export.ReadPlan{Files: n, Bytes: b, Rows: int64(len(exporttest.ExpectedCustomerIDs(t, 4)))}, snap,
		"the files of the version; rows from their statistics, less deleted rows")
	ch, err := whole.Plan(ctx, export.RunChanges, 2, 3)
	require.NoError(t, err)
	n, b = size(changes.Files, nil)
	assert.Equal(t, n, ch.Files)
	assert.Equal(t, b, ch.Bytes)
	assert.Positive(t, ch.Files)

	// Each shard plans its own files; together they are the whole.
	var sum [2]export.ReadPlan
	for i := 0; i < 2; i++ {
		shard := export.Shard{Index: i, Count: 2}
		st := shared(t, srv.Client, "demo.sales.customers", reader.ReadOptions{Shard: shard.Filter()})
		p, err := st.Plan(ctx, export.RunSnapshot, 4, 4)
		require.NoError(t, err)
		n, b := size(query.Files, shard.Filter())
		assert.Equal(t, n, p.Files)
		assert.Equal(t, b, p.Bytes)
		sum[0].Files, sum[0].Bytes, sum[0].Rows = sum[0].Files+p.Files, sum[0].Bytes+p.Bytes, sum[0].Rows+p.Rows
		p, err = st.Plan(ctx, export.RunChanges, 2, 3)
		require.NoError(t, err)
		sum[1].Files, sum[1].Bytes, sum[1].Rows = sum[1].Files+p.Files, sum[1].Bytes+p.Bytes, sum[1].Rows+p.Rows
	}
	assert.Equal(t, snap, sum[0])
	assert.Equal(t, ch, sum[1])
}

// sourceRows reads a source to the end and returns its rows as NDJSON objects, and its columns.
func sourceRows(t *testing.T, src export.Source) ([]map[string]any, []string) {
	t.Helper()
	defer src.Release()
	var cols []string
	for _, f := range src.Schema().Fields() {
		cols = append(cols, f.Name)
	}
	var buf strings.Builder
	enc, err := formats.New(&buf, src.Schema(), formats.Options{Format: formats.NDJSON})
	require.NoError(t, err)
	for src.Next() {
		require.NoError(t, enc.Write(src.Record()))
	}
	require.NoError(t, src.Err())
	require.NoError(t, enc.Close())
	var rows []map[string]any
	for _, l := range lines([]byte(buf.String())) {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m))
		rows = append(rows, m)
	}
	return rows, cols
}

func TestSharedTableSnapshotAndChanges(t *testing.T) {
	t.Parallel()
	srv := demoServer(t, nil)
	ctx := context.Background()
	st := shared(t, srv.Client, "demo.sales.customers", reader.ReadOptions{})
	src, err := st.Snapshot(ctx, 3)
	require.NoError(t, err)
	rows, cols := sourceRows(t, src)
	assert.Equal(t, exporttest.ExpectedCustomerIDs(t, 3), exporttest.CustomerIDs(rows), "the table at the version asked for")
	assert.NotContains(t, cols, "_change_type")

	src, err = st.Changes(ctx, 2, 3)
	require.NoError(t, err)
	rows, cols = sourceRows(t, src)
	assert.Equal(t, exporttest.ExpectedCustomerChangeKeys(2, 3), exporttest.ChangeKeysOf(rows))
	assert.Equal(t, []string{"_change_type", "_commit_version", "_commit_timestamp"}, cols[len(cols)-3:])
}

// TestSharedTableExportFile: the table exactly, in one file, which appears only when complete;
// an existing file is not replaced without Overwrite.
func TestSharedTableExportFile(t *testing.T) {
	t.Parallel()
	srv := demoServer(t, nil)
	dir := t.TempDir()
	out := filepath.Join(dir, "orders.csv")
	orders := shared(t, srv.Client, "demo.sales.orders", reader.ReadOptions{})
	sum := exportTo(t, orders, out)
	assert.Equal(t, int64(2900), sum.Rows)
	assert.Equal(t, int64(2), sum.TableVersion)
	assert.Equal(t, []string{out}, sum.Outputs)

	recs := exporttest.CSVRecords(t, out)
	require.Len(t, recs, 2901)
	assert.Equal(t, []string{"order_id", "customer", "amount", "quantity", "discount", "is_member", "order_date", "created_at", "updated_at", "region"}, recs[0])
	want := map[string]bool{}
	for _, row := range expectedOrders(t, 2) {
		want[strconv.FormatInt(row[demo.OrderID].(int64), 10)] = true
	}
	got := map[string]bool{}
	for _, rec := range recs[1:] {
		got[rec[0]] = true
	}
	assert.Equal(t, want, got)
	assert.Equal(t, []string{"orders.csv"}, exporttest.Files(t, dir), "no temporary files left")

	// A second export does not overwrite without Overwrite, and leaves the file as it was.
	before, err := os.ReadFile(out)
	require.NoError(t, err)
	three := int64(3)
	limited := shared(t, srv.Client, "demo.sales.orders", reader.ReadOptions{Limit: &three})
	opts := export.Options{Output: out, Format: formats.Options{Format: formats.CSV}}
	_, err = limited.Export(context.Background(), nil, opts)
	require.ErrorIs(t, err, export.ErrExists)
	assert.Contains(t, err.Error(), "already exists")
	after, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, before, after)
	opts.Overwrite = true
	_, err = limited.Export(context.Background(), nil, opts)
	require.NoError(t, err)
	assert.Len(t, exporttest.CSVRecords(t, out), 4)
	assert.Equal(t, []string{"orders.csv"}, exporttest.Files(t, dir))
}

// TestSharedTableExportSlice: --where, --columns, --limit and --version read exactly.
func TestSharedTableExportSlice(t *testing.T) {
	t.Parallel()
	srv := demoServer(t, nil)

	// A filter and columns: exactly the matching rows, only those keys.
	data := exportBytes(t, shared(t, srv.Client, "demo.sales.orders", reader.ReadOptions{
		Where: "region = 'Europe' AND quantity >= 10", Columns: []string{"order_id", "quantity", "region"}}), formats.NDJSON)
	want := map[int64]bool{}
	for _, row := range expectedOrders(t, 2) {
		if row[demo.OrderRegion] == "Europe" && row[demo.OrderQuantity].(int32) >= 10 {
			want[row[demo.OrderID].(int64)] = true
		}
	}
	require.NotEmpty(t, want)
	got := map[int64]bool{}
	for _, l := range lines(data) {
		var obj map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &obj))
		assert.Len(t, obj, 3)
		assert.Equal(t, "Europe", obj["region"])
		got[int64(obj["order_id"].(float64))] = true
	}
	assert.Equal(t, want, got)

	// A limit is exact.
	seven := int64(7)
	data = exportBytes(t, shared(t, srv.Client, "demo.sales.orders", reader.ReadOptions{Limit: &seven}), formats.CSV)
	assert.Equal(t, 8, strings.Count(string(data), "\n"), "header and 7 rows")

	// Time travel to the first load.
	zero := int64(0)
	out := filepath.Join(t.TempDir(), "v0.parquet")
	sum := exportTo(t, shared(t, srv.Client, "demo.sales.orders", reader.ReadOptions{Version: &zero}), out)
	assert.Equal(t, int64(len(expectedOrders(t, 0))), exporttest.ParquetRows(t, out))
	assert.Equal(t, int64(0), sum.TableVersion)
}

// TestSharedTableExportPartitioned: a directory of Parquet files under region=... directories.
func TestSharedTableExportPartitioned(t *testing.T) {
	t.Parallel()
	srv := demoServer(t, nil)
	dir := filepath.Join(t.TempDir(), "lake") + "/"
	_, err := shared(t, srv.Client, "demo.sales.orders", reader.ReadOptions{}).Export(context.Background(), nil, export.Options{
		Output: dir, Format: formats.Options{Format: formats.Parquet, Compression: formats.Zstd}, PartitionBy: []string{"region"}})
	require.NoError(t, err)
	var total int64
	perRegion := map[string]int64{}
	for _, f := range exporttest.Files(t, dir) {
		require.True(t, strings.HasSuffix(f, ".parquet"), f)
		n := exporttest.ParquetRows(t, filepath.Join(dir, f))
		total += n
		perRegion[strings.SplitN(f, "/", 2)[0]] += n
	}
	assert.Equal(t, int64(2900), total)
	want := map[string]int64{}
	for _, row := range expectedOrders(t, 2) {
		key := "region=__HIVE_DEFAULT_PARTITION__"
		if s, ok := row[demo.OrderRegion].(string); ok {
			key = "region=" + strings.ReplaceAll(s, "/", "%2F")
		}
		want[key]++
	}
	assert.Equal(t, want, perRegion)
}

// TestSharedTableExportChanges: the change data feed, with its three columns.
func TestSharedTableExportChanges(t *testing.T) {
	t.Parallel()
	srv := demoServer(t, nil)
	var buf strings.Builder
	sum, err := shared(t, srv.Client, "demo.sales.customers", reader.ReadOptions{}).ExportChanges(context.Background(), changesFrom(0, -1),
		export.NewStreamSink(&buf), export.Options{Output: "-", Format: formats.Options{Format: formats.NDJSON}})
	require.NoError(t, err)
	counts := map[string]int{}
	versions := map[float64]bool{}
	var rows []map[string]any
	for _, l := range lines([]byte(buf.String())) {
		var obj map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &obj))
		counts[obj["_change_type"].(string)]++
		versions[obj["_commit_version"].(float64)] = true
		assert.NotEmpty(t, obj["_commit_timestamp"])
		rows = append(rows, obj)
	}
	want := map[string]int{}
	for _, ch := range demo.ExpectedCustomerChanges() {
		want[string(ch.Type)]++
	}
	assert.Equal(t, want, counts)
	assert.Len(t, versions, 5)
	assert.Equal(t, exporttest.ExpectedCustomerChangeKeys(0, 4), exporttest.ChangeKeysOf(rows))
	assert.Equal(t, int64(4), sum.TableVersion)
}

// growingSync serves the demo table at version 1 (vt publishes later versions) as
// demo.test.<table>, and returns it as a shared table with a new destination dest and the
// options of a sync to it in format f.
func growingSync(t *testing.T, table string, f formats.Format) (vt *exporttest.Versioned, st *export.SharedTable, dest string, opts export.SyncOptions) {
	t.Helper()
	vt = exporttest.NewVersioned(t, demoTableDir(t, table), 1)
	srv := demoServer(t, map[string]string{table: vt.Dir})
	name := "demo.test." + table
	st = shared(t, srv.Client, name, reader.ReadOptions{})
	dest = filepath.Join(t.TempDir(), "dest")
	opts = export.SyncOptions{Table: name, Endpoint: srv.Client.Endpoint(), Format: formats.Options{Format: f}}
	return vt, st, dest, opts
}

// syncTo runs Sync of st to the local directory dest.
func syncTo(st *export.SharedTable, dest string, opts export.SyncOptions) (*export.SyncResult, error) {
	return export.Sync(context.Background(), st, export.NewLocalSink(dest), opts)
}

func TestSharedTableSyncSnapshotThenChanges(t *testing.T) {
	t.Parallel()
	vt, st, dest, opts := growingSync(t, "customers", formats.NDJSON)
	sync := func(o export.SyncOptions) *export.SyncResult {
		t.Helper()
		res, err := syncTo(st, dest, o)
		require.NoError(t, err)
		return res
	}
	changeKeys := func(files []string) []string {
		return exporttest.ChangeKeysOf(exporttest.NDJSONObjects(t, locations(dest, files)...))
	}

	// First run: the snapshot at version 1.
	res := sync(opts)
	assert.Contains(t, res.Text(), "the snapshot at version 1")
	state := exporttest.ReadState(t, dest, "_deltashare_state.json")
	assert.Equal(t, int64(1), state.LastVersion)
	assert.Equal(t, "demo.test.customers", state.Table)
	assert.Equal(t, opts.Endpoint, state.Endpoint)
	assert.Equal(t, "ndjson", state.Format)
	assert.Equal(t, int64(1), state.Generation)
	assert.Equal(t, columnsOf(demo.CustomersSchema()), state.Schema)
	assert.Equal(t, export.SchemaFingerprint(state.Schema), state.Fingerprint)
	require.Len(t, state.Runs, 1)
	assert.Equal(t, "snapshot/v=00000001/", state.Runs[0].Dir)
	assert.Equal(t, exporttest.ExpectedCustomerIDs(t, 1), exporttest.CustomerIDs(exporttest.NDJSONObjects(t, locations(dest, state.Runs[0].Files)...)))

	// Nothing new.
	res = sync(opts)
	assert.Equal(t, "up to date at version 1", res.Text())

	// Two more versions: a dry run says what one incremental run exports, then the run does.
	vt.Publish(3)
	dry := opts
	dry.DryRun = true
	res = sync(dry)
	assert.Contains(t, res.Text(), "dry run: would export the changes of versions 2 to 3")
	assert.Contains(t, res.Text(), "nothing written")
	require.NotNil(t, res.Plan)
	assert.Positive(t, res.Plan.Files)
	assert.Equal(t, int64(1), exporttest.ReadState(t, dest, "_deltashare_state.json").LastVersion)
	assert.NoDirExists(t, filepath.Join(dest, "changes"))

	sync(opts)
	state = exporttest.ReadState(t, dest, "_deltashare_state.json")
	require.Len(t, state.Runs, 2)
	assert.Equal(t, export.RunInfo{Kind: "changes", FromVersion: 2, ToVersion: 3, Dir: "changes/v=00000002-00000003/"},
		export.RunInfo{Kind: state.Runs[1].Kind, FromVersion: state.Runs[1].FromVersion, ToVersion: state.Runs[1].ToVersion, Dir: state.Runs[1].Dir})
	assert.Equal(t, exporttest.ExpectedCustomerChangeKeys(2, 3), changeKeys(state.Runs[1].Files))

	// And the last one.
	vt.Publish(4)
	res = sync(opts)
	assert.Equal(t, "changes", res.Action)
	assert.Equal(t, int64(4), res.FromVersion)
	assert.Equal(t, int64(4), res.ToVersion)
	state = exporttest.ReadState(t, dest, "_deltashare_state.json")
	assert.Equal(t, int64(4), state.LastVersion)
	assert.Equal(t, int64(3), state.Generation)
	assert.Equal(t, exporttest.ExpectedCustomerChangeKeys(4, 4), changeKeys(state.Runs[2].Files))
	assert.Equal(t, int64(len(exporttest.ExpectedCustomerChangeKeys(4, 4))), res.Rows)

	// Only recorded files (and the state) are at the destination: no temporary files, no lock.
	var want []string
	for _, run := range state.Runs {
		want = append(want, run.Files...)
	}
	want = append(want, "_deltashare_state.json")
	sort.Strings(want)
	assert.Equal(t, want, exporttest.Files(t, dest))

	// Another format on the same destination is refused.
	other := opts
	other.Format.Format = formats.CSV
	_, err := syncTo(st, dest, other)
	assert.ErrorContains(t, err, "holds ndjson files")
}

// locations are names under dest as paths.
func locations(dest string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = filepath.Join(dest, filepath.FromSlash(n))
	}
	return out
}

func TestSharedTableSyncWithoutChangeDataFeed(t *testing.T) {
	t.Parallel()
	vt, st, dest, opts := growingSync(t, "orders", formats.CSV)
	_, err := syncTo(st, dest, opts)
	require.NoError(t, err)
	vt.Publish(2)
	res, err := syncTo(st, dest, opts)
	require.NoError(t, err)
	assert.Contains(t, res.Text(), "the snapshot again at version 2")
	assert.Contains(t, res.Text(), "no change data feed")
	state := exporttest.ReadState(t, dest, "_deltashare_state.json")
	require.Len(t, state.Runs, 2)
	assert.Equal(t, "snapshot/v=00000002/", state.Runs[1].Dir)
	var rows int
	for _, f := range exporttest.RunFiles(state, dest, export.RunSnapshot)[len(state.Runs[0].Files):] {
		rows += len(exporttest.CSVRecords(t, f)) - 1
	}
	assert.Equal(t, len(expectedOrders(t, 2)), rows)
}

func TestSharedTableSyncShards(t *testing.T) {
	t.Parallel()
	vt := exporttest.NewVersioned(t, demoTableDir(t, "customers"), 1)
	srv := demoServer(t, map[string]string{"customers": vt.Dir})
	dest := filepath.Join(t.TempDir(), "dest")
	syncAll := func() {
		for i := 0; i < 2; i++ {
			shard := export.Shard{Index: i, Count: 2}
			st := shared(t, srv.Client, "demo.test.customers", reader.ReadOptions{Shard: shard.Filter()})
			_, err := syncTo(st, dest, export.SyncOptions{Table: "demo.test.customers", Endpoint: srv.Client.Endpoint(),
				Format: formats.Options{Format: formats.NDJSON}, Shard: shard})
			require.NoError(t, err)
		}
	}
	syncAll()
	vt.Publish(4)
	syncAll()
	var snap, changes []string
	for i := 0; i < 2; i++ {
		state := exporttest.ReadState(t, dest, fmt.Sprintf("_deltashare_state.shard-%d-of-2.json", i))
		assert.Equal(t, fmt.Sprintf("%d/2", i), state.Shard)
		assert.Equal(t, int64(4), state.LastVersion)
		for _, run := range state.Runs {
			for _, f := range run.Files {
				assert.Contains(t, f, fmt.Sprintf("/part-shard-%d-of-2-", i))
			}
		}
		snap = append(snap, exporttest.RunFiles(state, dest, export.RunSnapshot)...)
		changes = append(changes, exporttest.RunFiles(state, dest, export.RunChanges)...)
	}
	assert.Equal(t, exporttest.ExpectedCustomerIDs(t, 1), exporttest.CustomerIDs(exporttest.NDJSONObjects(t, snap...)))
	assert.Equal(t, exporttest.ExpectedCustomerChangeKeys(2, 4), exporttest.ChangeKeysOf(exporttest.NDJSONObjects(t, changes...)))
}

// TestSharedTableSyncSchemaChange: a new metaData action changes the columns Info reports; Sync
// refuses to go on, unless AllowSchemaChange (what --allow-schema-change sets).
func TestSharedTableSyncSchemaChange(t *testing.T) {
	t.Parallel()
	tbl := exporttest.NewPeople(t)

	srv := demoServer(t, map[string]string{"people": tbl.Dir()})
	st := shared(t, srv.Client, "demo.test.people", reader.ReadOptions{})
	dest := filepath.Join(t.TempDir(), "dest")
	opts := export.SyncOptions{Table: "demo.test.people", Endpoint: srv.Client.Endpoint(), Format: formats.Options{Format: formats.Parquet}}
	_, err := syncTo(st, dest, opts)
	require.NoError(t, err)

	// Version 1 adds a column and widens another (a new metaData action).
	newSchema := exporttest.ChangePeopleSchema(t, tbl)

	info, err := st.Info(context.Background())
	require.NoError(t, err)
	assert.Equal(t, columnsOf(newSchema), info.Columns)

	_, err = syncTo(st, dest, opts)
	var sc *export.SchemaChangeError
	require.ErrorAs(t, err, &sc)
	assert.Contains(t, err.Error(), "added column note (string)")
	assert.Contains(t, err.Error(), "changed column age: integer -> long")
	assert.Equal(t, int64(0), exporttest.ReadState(t, dest, "_deltashare_state.json").LastVersion)
	assert.NoDirExists(t, filepath.Join(dest, "changes"))

	opts.AllowSchemaChange = true
	res, err := syncTo(st, dest, opts)
	require.NoError(t, err)
	require.NotNil(t, res.SchemaDiff)
	assert.Equal(t, "note", res.SchemaDiff.Added[0].Name)
	state := exporttest.ReadState(t, dest, "_deltashare_state.json")
	assert.Equal(t, int64(1), state.LastVersion)
	assert.Equal(t, "note", state.Schema[3].Name)
}
