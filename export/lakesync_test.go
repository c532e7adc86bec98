package export_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/export"
	"github.com/deltashare/deltashare/formats"
	"github.com/deltashare/deltashare/internal/arrowtest"
	"github.com/deltashare/deltashare/internal/sharedtest"
	"github.com/deltashare/deltashare/internal/sharingtest"
	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/deltashare/deltashare/sharing/reader"
)

// Tests of the delta format of Sync: a source table grows commit by commit (a copy of a real
// table whose _delta_log receives one commit after the other), and after every run the lake
// table is read back twice and compared with the source at that version: through our server
// and reader, and through the minimal log replay of this file (JSON commits and checkpoint,
// adds minus removes, Parquet read with Arrow's reader).

// grower is a copy of a real table that receives its commits one by one.
type grower struct {
	src, dir string
	versions []int64
	next     int
}

func newGrower(t *testing.T, src string) *grower {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "source")
	require.NoError(t, filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if rel == "_delta_log" && d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		if strings.HasPrefix(rel, "_delta_log"+string(filepath.Separator)) {
			return nil
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	}))
	g := &grower{src: src, dir: dir}
	names, err := filepath.Glob(filepath.Join(src, "_delta_log", "*.json"))
	require.NoError(t, err)
	for _, n := range names {
		v, err := strconv.ParseInt(strings.TrimSuffix(filepath.Base(n), ".json"), 10, 64)
		require.NoError(t, err)
		g.versions = append(g.versions, v)
	}
	sort.Slice(g.versions, func(i, j int) bool { return g.versions[i] < g.versions[j] })
	require.NotEmpty(t, g.versions)
	require.Equal(t, int64(0), g.versions[0], "%s: the growing tests need every commit from 0", src)
	return g
}

// advance adds the next commit; false when all are in.
func (g *grower) advance(t *testing.T) (int64, bool) {
	if g.next >= len(g.versions) {
		return 0, false
	}
	v := g.versions[g.next]
	g.next++
	name := filepath.Join("_delta_log", filepath.Base(lakeCommit(v)))
	b, err := os.ReadFile(filepath.Join(g.src, name))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(g.dir, name), b, 0o644))
	return v, true
}

func lakeCommit(v int64) string { return filepath.Join("_delta_log", padVersion(v)+".json") }

func padVersion(v int64) string {
	s := strconv.FormatInt(v, 10)
	return strings.Repeat("0", 20-len(s)) + s
}

// lakeEnv is a server of the growing source and of the lake table (once it exists).
type lakeEnv struct {
	src    *grower
	dest   string
	client *sharing.Client
	table  protocol.Table
	noHist bool
}

func newLakeEnv(t *testing.T, src string, noHistory bool) *lakeEnv {
	g := newGrower(t, src)
	g.advance(t)
	dest := filepath.Join(t.TempDir(), "lake")
	env := sharingtest.Start(t, sharingtest.Options{Tables: map[string]string{"src.s.t": g.dir}, NoHistory: noHistory})
	return &lakeEnv{src: g, dest: dest, client: env.Client(t), table: env.Table("src.s.t"), noHist: noHistory}
}

func (e *lakeEnv) opts() export.SyncOptions {
	return export.SyncOptions{Table: e.table.String(), Endpoint: e.client.Endpoint(), Format: formats.Options{Format: export.FormatDelta}}
}

func (e *lakeEnv) sync(t *testing.T, o export.SyncOptions) *export.SyncResult {
	t.Helper()
	res, err := export.Sync(context.Background(), export.NewSharedTable(e.client, e.table, reader.ReadOptions{}), export.NewLocalSink(e.dest), o)
	require.NoError(t, err)
	return res
}

// sourceRows are the rows of the source at version v, as our reader reads them.
func (e *lakeEnv) sourceRows(t *testing.T, v int64) ([]string, *arrow.Schema) {
	r, err := reader.Open(context.Background(), e.client, e.table, reader.ReadOptions{Version: &v})
	require.NoError(t, err)
	defer r.Release()
	return recordRows(t, r, nil), r.Schema()
}

// recordRows renders every row as "col=value|..." (columns by lower-cased name, sorted), rows
// sorted. Columns in skip are left out.
func recordRows(t *testing.T, r array.RecordReader, skip map[string]bool) []string {
	var rows []string
	for r.Next() {
		rows = append(rows, renderRecord(r.Record(), skip, nil)...)
	}
	require.NoError(t, r.Err())
	sort.Strings(rows)
	return rows
}

func renderRecord(rec arrow.Record, skip map[string]bool, extra map[string]string) []string {
	var out []string
	for i := 0; i < int(rec.NumRows()); i++ {
		var cells []string
		for c, f := range rec.Schema().Fields() {
			n := strings.ToLower(f.Name)
			if skip[n] {
				continue
			}
			cells = append(cells, n+"="+arrowtest.Cell(rec.Column(c), i, nil))
		}
		for k, v := range extra {
			cells = append(cells, k+"="+v)
		}
		sort.Strings(cells)
		out = append(out, strings.Join(cells, "|"))
	}
	return out
}

// mirrorRowsByServer reads the lake table at its latest version through our server and reader.
func mirrorRowsByServer(t *testing.T, dest string) ([]string, int64) {
	env := sharingtest.Start(t, sharingtest.Options{Tables: map[string]string{"lake.s.t": dest}})
	cl := env.Client(t)
	r, err := reader.Open(context.Background(), cl, env.Table("lake.s.t"), reader.ReadOptions{})
	require.NoError(t, err)
	defer r.Release()
	return recordRows(t, r, nil), r.Version()
}

// Minimal log replay of the test: what a Delta reader must do, written independently of the
// writer.
type replayAdd struct {
	Path            string             `json:"path" parquet:"path"`
	PartitionValues map[string]*string `json:"partitionValues" parquet:"partitionValues"`
	Stats           string             `json:"stats" parquet:"stats,optional"`
}

type replayRemove struct {
	Path string `json:"path" parquet:"path"`
}

type replayRow struct {
	Add    *replayAdd    `json:"add" parquet:"add,optional"`
	Remove *replayRemove `json:"remove" parquet:"remove,optional"`
	Txn    *struct {
		AppID   string `json:"appId" parquet:"appId"`
		Version int64  `json:"version" parquet:"version"`
	} `json:"txn" parquet:"txn,optional"`
	MetaData *struct {
		SchemaString     string   `json:"schemaString" parquet:"schemaString"`
		PartitionColumns []string `json:"partitionColumns" parquet:"partitionColumns,list"`
	} `json:"metaData" parquet:"metaData,optional"`
	Protocol *struct {
		MinReaderVersion int32 `json:"minReaderVersion" parquet:"minReaderVersion"`
		MinWriterVersion int32 `json:"minWriterVersion" parquet:"minWriterVersion"`
	} `json:"protocol" parquet:"protocol,optional"`
}

type replayed struct {
	version    int64
	files      map[string]*replayAdd
	txn        map[string]int64
	schema     string
	partitions []string
	protocol   [2]int32
}

func replayLog(t *testing.T, dest string) *replayed {
	t.Helper()
	logDir := filepath.Join(dest, "_delta_log")
	st := &replayed{version: -1, files: map[string]*replayAdd{}, txn: map[string]int64{}}
	apply := func(r replayRow) {
		switch {
		case r.Add != nil:
			st.files[r.Add.Path] = r.Add
		case r.Remove != nil:
			delete(st.files, r.Remove.Path)
		case r.Txn != nil:
			st.txn[r.Txn.AppID] = r.Txn.Version
		case r.MetaData != nil:
			st.schema, st.partitions = r.MetaData.SchemaString, r.MetaData.PartitionColumns
		case r.Protocol != nil:
			st.protocol = [2]int32{r.Protocol.MinReaderVersion, r.Protocol.MinWriterVersion}
		}
	}
	from := int64(0)
	if b, err := os.ReadFile(filepath.Join(logDir, "_last_checkpoint")); err == nil {
		var lc struct {
			Version int64 `json:"version"`
		}
		require.NoError(t, json.Unmarshal(b, &lc))
		data, err := os.ReadFile(filepath.Join(logDir, padVersion(lc.Version)+".checkpoint.parquet"))
		require.NoError(t, err)
		pr := parquet.NewGenericReader[replayRow](bytes.NewReader(data))
		rows := make([]replayRow, pr.NumRows())
		n, err := pr.Read(rows)
		if err != io.EOF {
			require.NoError(t, err)
		}
		for _, r := range rows[:n] {
			apply(r)
		}
		require.NoError(t, pr.Close())
		from, st.version = lc.Version+1, lc.Version
	}
	for v := from; ; v++ {
		b, err := os.ReadFile(filepath.Join(logDir, padVersion(v)+".json"))
		if os.IsNotExist(err) {
			break
		}
		require.NoError(t, err)
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var r replayRow
			require.NoError(t, json.Unmarshal([]byte(line), &r), "commit %d", v)
			apply(r)
		}
		st.version = v
	}
	return st
}

// rows reads the replayed table's data files directly. Partition columns of types whose
// text is the same in a partition value and in a rendered cell (strings, integers, dates) are
// added; others are left out of the comparison (they are in skip).
func (st *replayed) rows(t *testing.T, dest string) (rows []string, skip map[string]bool) {
	types := map[string]string{}
	var sch struct {
		Fields []struct {
			Name string          `json:"name"`
			Type json.RawMessage `json:"type"`
		} `json:"fields"`
	}
	require.NoError(t, json.Unmarshal([]byte(st.schema), &sch))
	for _, f := range sch.Fields {
		var s string
		_ = json.Unmarshal(f.Type, &s)
		types[strings.ToLower(f.Name)] = s
	}
	skip = map[string]bool{}
	for _, p := range st.partitions {
		switch types[strings.ToLower(p)] {
		case "string", "integer", "long", "short", "byte", "date":
		default:
			skip[strings.ToLower(p)] = true
		}
	}
	for path, a := range st.files {
		extra := map[string]string{}
		for k, v := range a.PartitionValues {
			n := strings.ToLower(k)
			if skip[n] {
				continue
			}
			switch {
			case v == nil:
				extra[n] = "NULL"
			case types[n] == "string":
				extra[n] = strconv.Quote(*v)
			default:
				extra[n] = *v
			}
		}
		f, err := os.Open(filepath.Join(dest, filepath.FromSlash(path)))
		require.NoError(t, err)
		pf, err := file.NewParquetReader(f)
		require.NoError(t, err)
		fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1024}, memory.DefaultAllocator)
		require.NoError(t, err)
		tbl, err := fr.ReadTable(context.Background())
		require.NoError(t, err)
		// Columns of the table schema that the file lacks (added later) are null.
		for n := range types {
			if len(tbl.Schema().FieldIndices(n)) == 0 && !partitionCol(st.partitions, n) && !hasFold(tbl.Schema(), n) {
				extra[n] = "NULL"
			}
		}
		tr := array.NewTableReader(tbl, 1024)
		for tr.Next() {
			rows = append(rows, renderRecord(tr.Record(), nil, extra)...)
		}
		tr.Release()
		tbl.Release()
		require.NoError(t, pf.Close())
		var stats struct {
			NumRecords int64 `json:"numRecords"`
		}
		require.NoError(t, json.Unmarshal([]byte(a.Stats), &stats))
		require.Equal(t, pf.NumRows(), stats.NumRecords, "numRecords of %s", path)
	}
	sort.Strings(rows)
	return rows, skip
}

func partitionCol(parts []string, n string) bool {
	for _, p := range parts {
		if strings.EqualFold(p, n) {
			return true
		}
	}
	return false
}

func hasFold(s *arrow.Schema, n string) bool {
	for _, f := range s.Fields() {
		if strings.EqualFold(f.Name, n) {
			return true
		}
	}
	return false
}

// checkMirror requires the lake table to equal the source at version v, read both ways.
func (e *lakeEnv) checkMirror(t *testing.T, v int64) {
	t.Helper()
	want, _ := e.sourceRows(t, v)
	got, _ := mirrorRowsByServer(t, e.dest)
	t.Logf("version %d: %d rows", v, len(want))
	require.Equal(t, want, got, "the lake table read by our server and reader equals the source at version %d", v)

	st := replayLog(t, e.dest)
	require.Equal(t, [2]int32{1, 2}, st.protocol)
	require.Len(t, st.txn, 1)
	for _, tv := range st.txn {
		require.Equal(t, v, tv, "the txn action records the source version")
	}
	rows, skip := st.rows(t, e.dest)
	if len(skip) > 0 {
		r, err := reader.Open(context.Background(), e.client, e.table, reader.ReadOptions{Version: &v})
		require.NoError(t, err)
		want = recordRows(t, r, skip)
		r.Release()
	}
	require.Equal(t, want, rows, "the lake table replayed by the test equals the source at version %d", v)
}

// grow syncs after each commit of the source and checks the lake table.
func growAndCheck(t *testing.T, e *lakeEnv, o export.SyncOptions) []*export.SyncResult {
	var out []*export.SyncResult
	v := int64(0)
	for {
		res := e.sync(t, o)
		require.Equal(t, v, res.ToVersion)
		e.checkMirror(t, v)
		out = append(out, res)
		again := e.sync(t, o)
		require.Equal(t, "up-to-date", again.Action, "a run with nothing new commits nothing")
		next, ok := e.src.advance(t)
		if !ok {
			return out
		}
		v = next
	}
}

var lakeCases = []string{
	"dat/basic_append",
	"dat/basic_partitioned",
	"dat/multi_partitioned",
	"dat/multi_partitioned_2",
	"dat/all_primitive_types",
	"dat/nested_types",
	"dat/with_checkpoint",
	"dat/no_stats",
	"delta-rs/table-with-dv-small",
	"delta-rs/table_with_column_mapping",
	"delta-rs/delta-0.8.0-special-partition",
	"delta-rs/delta-0.8.0-null-partition",
	"delta-rs/partition-type-primitives",
	"kernel-cdf/cdf-table-update-ops",
	"kernel-cdf/cdf-table",
	"kernel-cdf/cdf-table-partitioned",
	"kernel-cdf/cdf-table-simple",
	"kernel-cdf/cdf-table-with-dv",
	"kernel-cdf/cdf-table-delete-conditional-two-rows",
	"kernel-cdf/cdf-column-mapping-name-mode",
	"r-fixtures/deletion-vectors",
	"r-fixtures/column-mapping",
}

func lakeSource(t *testing.T, c string) string {
	p := sharedtest.Path(t, "delta", c)
	if _, err := os.Stat(filepath.Join(p, "delta", "_delta_log")); err == nil {
		return filepath.Join(p, "delta")
	}
	return p
}

func TestSyncDeltaFollowsGrowingTables(t *testing.T) {
	for _, c := range lakeCases {
		t.Run(c, func(t *testing.T) {
			e := newLakeEnv(t, lakeSource(t, c), false)
			res := growAndCheck(t, e, e.opts())
			require.Equal(t, "snapshot", res[0].Action)
			for _, r := range res[1:] {
				require.Equal(t, "changes", r.Action, "with history shared, later runs apply the file changes")
			}
		})
	}
}

// latestRows are the rows of the source's latest version (a server without history answers
// no query by version).
func (e *lakeEnv) latestRows(t *testing.T) []string {
	r, err := reader.Open(context.Background(), e.client, e.table, reader.ReadOptions{})
	require.NoError(t, err)
	defer r.Release()
	return recordRows(t, r, nil)
}

func TestSyncDeltaWithoutHistoryRewritesInOneCommit(t *testing.T) {
	e := newLakeEnv(t, lakeSource(t, "kernel-cdf/cdf-table-update-ops"), true)
	res := e.sync(t, e.opts())
	require.Equal(t, "snapshot", res.Action)
	got, _ := mirrorRowsByServer(t, e.dest)
	require.Equal(t, e.latestRows(t), got)
	first := replayLog(t, e.dest)

	_, ok := e.src.advance(t)
	require.True(t, ok)
	res = e.sync(t, e.opts())
	require.Equal(t, "rewrite", res.Action)
	require.Contains(t, res.Note, "does not share the history")
	require.Contains(t, res.Text(), "note: the server does not share the history")
	require.Equal(t, int64(1), *res.Lake.CommitVersion, "one commit")
	require.Equal(t, len(first.files), res.Lake.Removed, "every file removed")
	got, v := mirrorRowsByServer(t, e.dest)
	require.Equal(t, int64(1), v)
	require.Equal(t, e.latestRows(t), got)
	st := replayLog(t, e.dest)
	for p := range first.files {
		require.NotContains(t, st.files, p)
	}
	require.Equal(t, "up-to-date", e.sync(t, e.opts()).Action)
}

func TestSyncDeltaSchemaChange(t *testing.T) {
	src := lakeSource(t, "dat/with_schema_change")
	t.Run("refused", func(t *testing.T) {
		e := newLakeEnv(t, src, false)
		e.sync(t, e.opts())
		e.src.advance(t)
		before := replayLog(t, e.dest)
		_, err := export.Sync(context.Background(), export.NewSharedTable(e.client, e.table, reader.ReadOptions{}), export.NewLocalSink(e.dest), e.opts())
		var sc *export.SchemaChangeError
		require.ErrorAs(t, err, &sc)
		require.NotEmpty(t, sc.Diff.Removed)
		require.Contains(t, err.Error(), "any other change rewrites the table")
		after := replayLog(t, e.dest)
		require.Equal(t, before.version, after.version, "nothing committed")
		require.Equal(t, before.files, after.files)
	})
	t.Run("allowed: rewritten", func(t *testing.T) {
		e := newLakeEnv(t, src, false)
		o := e.opts()
		o.AllowSchemaChange = true
		growAndCheck(t, e, o)
		st := replayLog(t, e.dest)
		require.Contains(t, st.schema, `"num1"`)
		require.NotContains(t, st.schema, `"letter"`)
	})
	t.Run("allowed: added nullable column", func(t *testing.T) {
		e := newLakeEnv(t, lakeSource(t, "dat/basic_append"), false)
		o := e.opts()
		o.AllowSchemaChange = true
		e.sync(t, o)
		// Version 1 of the source adds a nullable column and a data file without it.
		addColumnCommit(t, e.src.dir, 1)
		res := e.sync(t, o)
		require.Equal(t, "changes", res.Action, "an added nullable column needs no rewrite")
		require.NotNil(t, res.SchemaDiff)
		require.Equal(t, 0, res.Lake.Removed)
		e.checkMirror(t, 1)
		require.Contains(t, replayLog(t, e.dest).schema, `"extra"`)
	})
}

// addColumnCommit writes commit v of the table at dir: a metaData that adds the nullable
// string column "extra", and a copy of a data file of version 0 (without the column).
func addColumnCommit(t *testing.T, dir string, v int64) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, lakeCommit(0)))
	require.NoError(t, err)
	var md map[string]any
	var add map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var a map[string]map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &a))
		if a["metaData"] != nil {
			md = a["metaData"]
		}
		if a["add"] != nil && add == nil {
			add = a["add"]
		}
	}
	var schema map[string]any
	require.NoError(t, json.Unmarshal([]byte(md["schemaString"].(string)), &schema))
	schema["fields"] = append(schema["fields"].([]any), map[string]any{"name": "extra", "type": "string", "nullable": true, "metadata": map[string]any{}})
	sb, _ := json.Marshal(schema)
	md["schemaString"] = string(sb)
	old := add["path"].(string)
	data, err := os.ReadFile(filepath.Join(dir, old))
	require.NoError(t, err)
	add["path"] = "copy-" + old
	require.NoError(t, os.WriteFile(filepath.Join(dir, "copy-"+old), data, 0o644))
	lines := []map[string]any{{"commitInfo": map[string]any{"timestamp": 1700000000000, "operation": "WRITE"}}, {"metaData": md}, {"add": add}}
	var out bytes.Buffer
	for _, l := range lines {
		lb, _ := json.Marshal(l)
		out.Write(lb)
		out.WriteByte('\n')
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, lakeCommit(v)), out.Bytes(), 0o644))
}

func TestSyncDeltaCheckpoints(t *testing.T) {
	for _, c := range []string{"kernel-cdf/cdf-table", "dat/multi_partitioned", "dat/basic_partitioned", "kernel-cdf/cdf-table-with-dv"} {
		t.Run(c, func(t *testing.T) {
			e := newLakeEnv(t, lakeSource(t, c), false)
			o := e.opts()
			o.Lake.CheckpointInterval = 1
			res := growAndCheck(t, e, o)
			for _, r := range res[1:] {
				require.True(t, r.Lake.Checkpoint, "a checkpoint every commit")
			}
			b, err := os.ReadFile(filepath.Join(e.dest, "_delta_log", "_last_checkpoint"))
			require.NoError(t, err)
			var lc struct {
				Version       int64 `json:"version"`
				Size          int64 `json:"size"`
				NumOfAddFiles int64 `json:"numOfAddFiles"`
			}
			require.NoError(t, json.Unmarshal(b, &lc))
			st := replayLog(t, e.dest)
			require.Equal(t, st.version, lc.Version)
			require.Equal(t, int64(len(st.files)), lc.NumOfAddFiles)
			// The replay from the checkpoint alone (commits removed) gives the same table.
			for v := int64(0); v <= lc.Version; v++ {
				require.NoError(t, os.Remove(filepath.Join(e.dest, lakeCommit(v))))
			}
			again := replayLog(t, e.dest)
			require.Equal(t, st.files, again.files)
			require.Equal(t, st.txn, again.txn)
			e.checkMirror(t, st.txn[firstKey(st.txn)])
			require.Equal(t, "up-to-date", e.sync(t, o).Action, "the writer finds its txn version in the checkpoint")
		})
	}
}

func firstKey(m map[string]int64) string {
	for k := range m {
		return k
	}
	return ""
}

// addOf returns the first add action of commit v of the table at dir.
func addOf(t *testing.T, dir string, v int64) map[string]any {
	b, err := os.ReadFile(filepath.Join(dir, lakeCommit(v)))
	require.NoError(t, err)
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var a map[string]map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &a))
		if a["add"] != nil {
			return a["add"]
		}
	}
	t.Fatalf("commit %d has no add", v)
	return nil
}

func writeRawCommit(t *testing.T, dir string, v int64, lines ...map[string]any) {
	var out bytes.Buffer
	for _, l := range append([]map[string]any{{"commitInfo": map[string]any{"timestamp": 1700000000000 + v, "operation": "TEST"}}}, lines...) {
		b, err := json.Marshal(l)
		require.NoError(t, err)
		out.Write(b)
		out.WriteByte('\n')
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, lakeCommit(v)), out.Bytes(), 0o644))
}

// A compaction (files rewritten with dataChange false) is not in a startingVersion answer; the
// run matches the lake table against the file list of the source, so a later delete of the
// compacted file does not leave the rows of the files it replaced behind.
func TestSyncDeltaFollowsACompaction(t *testing.T) {
	e := newLakeEnv(t, lakeSource(t, "dat/basic_append"), false)
	e.sync(t, e.opts())
	e.checkMirror(t, 0)
	e.src.advance(t) // version 1: a second file
	e.sync(t, e.opts())
	e.checkMirror(t, 1)

	// Version 2: the file of version 1 rewritten as a copy, dataChange false.
	add := addOf(t, e.src.dir, 1)
	old := add["path"].(string)
	data, err := os.ReadFile(filepath.Join(e.src.dir, old))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(e.src.dir, "compacted-"+old), data, 0o644))
	cp := map[string]any{}
	for k, v := range add {
		cp[k] = v
	}
	cp["path"], cp["dataChange"] = "compacted-"+old, false
	writeRawCommit(t, e.src.dir, 2,
		map[string]any{"remove": map[string]any{"path": old, "deletionTimestamp": 1700000000002, "dataChange": false}},
		map[string]any{"add": cp})
	res := e.sync(t, e.opts())
	require.Contains(t, res.Note, "without a data change")
	e.checkMirror(t, 2)

	// Version 3: the compacted file deleted.
	writeRawCommit(t, e.src.dir, 3, map[string]any{"remove": map[string]any{"path": "compacted-" + old, "deletionTimestamp": 1700000000003, "dataChange": true}})
	e.sync(t, e.opts())
	e.checkMirror(t, 3)
}
