package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/export"
	"github.com/deltashare/deltashare/internal/sharedtest"
	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/deltashare/deltashare/sharing/server"
	"github.com/deltashare/deltashare/sharing/server/demo"
)

// copyTree copies a directory, keeping file modification times (commit timestamps of tables
// without in-commit timestamps come from them).
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	require.NoError(t, filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(target, b, 0o644); err != nil {
			return err
		}
		return os.Chtimes(target, info.ModTime(), info.ModTime())
	}))
}

// versionedTable is a copy of a Delta table whose later commits can be hidden and brought back,
// so that a server sees the table grow between sync runs.
type versionedTable struct {
	t      *testing.T
	dir    string
	hidden string
}

func newVersionedTable(t *testing.T, src string, upTo int64) *versionedTable {
	vt := &versionedTable{t: t, dir: filepath.Join(t.TempDir(), "table"), hidden: t.TempDir()}
	copyTree(t, src, vt.dir)
	ents, err := os.ReadDir(filepath.Join(vt.dir, "_delta_log"))
	require.NoError(t, err)
	for _, e := range ents {
		var v int64
		if _, err := fmt.Sscanf(e.Name(), "%020d.json", &v); err == nil && v > upTo {
			require.NoError(t, os.Rename(filepath.Join(vt.dir, "_delta_log", e.Name()), filepath.Join(vt.hidden, e.Name())))
		}
	}
	return vt
}

// publish brings back the commits up to version upTo.
func (vt *versionedTable) publish(upTo int64) {
	ents, err := os.ReadDir(vt.hidden)
	require.NoError(vt.t, err)
	for _, e := range ents {
		var v int64
		if _, err := fmt.Sscanf(e.Name(), "%020d.json", &v); err == nil && v <= upTo {
			require.NoError(vt.t, os.Rename(filepath.Join(vt.hidden, e.Name()), filepath.Join(vt.dir, "_delta_log", e.Name())))
		}
	}
}

// serveTable serves dir as demo.test.<name> beside the demo tables.
func serveTable(t *testing.T, tables map[string]string) string {
	profile, _ := demoServer(t, func(cfg *server.Config) {
		for name, dir := range tables {
			f, err := server.ParseTableFlag("demo.test." + name + "=" + dir)
			require.NoError(t, err)
			cfg.AddTable(f)
		}
	})
	return profile
}

func readState(t *testing.T, dest, name string) *export.State {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dest, name))
	require.NoError(t, err)
	var st export.State
	require.NoError(t, json.Unmarshal(b, &st))
	return &st
}

// ndjsonLines returns the lines of NDJSON files, decoded as objects.
func ndjsonLines(t *testing.T, dest string, files []string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, f := range files {
		fh, err := os.Open(filepath.Join(dest, filepath.FromSlash(f)))
		require.NoError(t, err)
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var m map[string]any
			require.NoError(t, json.Unmarshal(sc.Bytes(), &m), f)
			out = append(out, m)
		}
		require.NoError(t, sc.Err())
		fh.Close()
	}
	return out
}

// rawLines returns the lines of files, sorted (a multiset).
func rawLines(t *testing.T, paths ...string) []string {
	t.Helper()
	var out []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			if l != "" {
				out = append(out, l)
			}
		}
	}
	sort.Strings(out)
	return out
}

// runFiles returns the files the state records for the runs of a kind, as paths under dest.
func runFiles(st *export.State, dest string, kind export.RunKind) []string {
	var out []string
	for _, r := range st.Runs {
		if r.Kind == kind {
			for _, f := range r.Files {
				out = append(out, filepath.Join(dest, filepath.FromSlash(f)))
			}
		}
	}
	return out
}

func changeKey(id int64, typ string, v int64, email, tier string) string {
	return fmt.Sprintf("%d|%s|%d|%s|%s", id, typ, v, email, tier)
}

func expectedCustomerChangeKeys(from, to int64) []string {
	var out []string
	for _, c := range demo.ExpectedCustomerChanges() {
		if c.Version >= from && c.Version <= to {
			out = append(out, changeKey(c.Row[demo.CustomerID].(int64), string(c.Type), c.Version,
				c.Row[demo.CustomerEmail].(string), c.Row[demo.CustomerTier].(string)))
		}
	}
	sort.Strings(out)
	return out
}

func changeKeysOf(rows []map[string]any) []string {
	var out []string
	for _, m := range rows {
		out = append(out, changeKey(int64(m["customer_id"].(float64)), m["_change_type"].(string),
			int64(m["_commit_version"].(float64)), m["email"].(string), m["tier"].(string)))
	}
	sort.Strings(out)
	return out
}

func customerIDs(rows []map[string]any) []int64 {
	var out []int64
	for _, m := range rows {
		out = append(out, int64(m["customer_id"].(float64)))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func expectedCustomerIDs(t *testing.T, v int64) []int64 {
	rows, err := demo.ExpectedCustomers(v)
	require.NoError(t, err)
	var out []int64
	for _, r := range rows {
		out = append(out, r[demo.CustomerID].(int64))
	}
	return out
}

func customersDir(t *testing.T) string {
	return filepath.Join(repoRoot(t), "testdata/demo/sales/customers")
}

// TestSyncCustomersSnapshotThenChanges: sync's smoke run, through the CLI: a first run exports
// the snapshot, a later one the changes; text and JSON results on stdout. What Sync does in
// detail is tested in package export (sync_test.go, sharedtable_test.go).
func TestSyncCustomersSnapshotThenChanges(t *testing.T) {
	t.Setenv("DELTASHARE_CONFIG_DIR", t.TempDir())
	vt := newVersionedTable(t, customersDir(t), 1)
	profile := serveTable(t, map[string]string{"customers": vt.dir})
	dest := filepath.Join(t.TempDir(), "dest")
	sync := func(args ...string) result {
		return run(t, "", append([]string{"sync", "-p", profile, "demo.test.customers", "-o", dest, "--format", "ndjson"}, args...)...)
	}

	// First run: the snapshot at version 1.
	r := sync()
	require.Equal(t, 0, r.Code, r.Err)
	assert.Contains(t, r.Out, "the snapshot at version 1")
	assert.Empty(t, r.Err)
	st := readState(t, dest, "_deltashare_state.json")
	assert.Equal(t, int64(1), st.LastVersion)
	assert.Equal(t, "ndjson", st.Format)
	require.Len(t, st.Runs, 1)
	assert.Equal(t, expectedCustomerIDs(t, 1), customerIDs(ndjsonLines(t, dest, st.Runs[0].Files)))

	// Two more versions: one incremental run with their changes, the result as JSON.
	vt.publish(3)
	r = sync("--output", "json")
	require.Equal(t, 0, r.Code, r.Err)
	var res export.SyncResult
	require.NoError(t, json.Unmarshal([]byte(r.Out), &res))
	assert.Equal(t, "changes", res.Action)
	assert.Equal(t, int64(2), res.FromVersion)
	assert.Equal(t, int64(3), res.ToVersion)
	st = readState(t, dest, "_deltashare_state.json")
	require.Len(t, st.Runs, 2)
	assert.Equal(t, expectedCustomerChangeKeys(2, 3), changeKeysOf(ndjsonLines(t, dest, st.Runs[1].Files)))

	// Nothing new.
	r = sync()
	require.Equal(t, 0, r.Code, r.Err)
	assert.Equal(t, "up to date at version 3\n", r.Out)
}

func TestSyncKernelCDFTable(t *testing.T) {
	t.Setenv("DELTASHARE_CONFIG_DIR", t.TempDir())
	for _, tc := range []struct {
		name  string
		first int64
		steps []int64
	}{
		{"cdf-table", 0, []int64{2, 3}},
		{"cdf-table-with-dv", 1, []int64{3, 6}},
		{"cdf-table-update-ops", 0, []int64{1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vt := newVersionedTable(t, sharedtest.Path(t, "delta", "kernel-cdf", tc.name), tc.first)
			profile := serveTable(t, map[string]string{"k": vt.dir})
			dest := filepath.Join(t.TempDir(), "dest")
			args := []string{"sync", "-p", profile, "demo.test.k", "-o", dest, "--format", "ndjson", "-q"}
			r := run(t, "", args...)
			require.Equal(t, 0, r.Code, r.Err)
			for _, v := range tc.steps {
				vt.publish(v)
				r = run(t, "", args...)
				require.Equal(t, 0, r.Code, r.Err)
			}
			st := readState(t, dest, "_deltashare_state.json")
			last := tc.steps[len(tc.steps)-1]
			assert.Equal(t, last, st.LastVersion)
			require.Len(t, st.Runs, 1+len(tc.steps))

			// The same rows as one-off exports of the snapshot and of the whole change range.
			oneOff := t.TempDir()
			r = run(t, "", "export", "-p", profile, "demo.test.k", "--version", fmt.Sprint(tc.first), "-o", filepath.Join(oneOff, "snap.ndjson"), "-q")
			require.Equal(t, 0, r.Code, r.Err)
			r = run(t, "", "changes", "-p", profile, "demo.test.k", "--starting-version", fmt.Sprint(tc.first+1),
				"--ending-version", fmt.Sprint(last), "-o", filepath.Join(oneOff, "changes.ndjson"), "-q")
			require.Equal(t, 0, r.Code, r.Err)
			want := rawLines(t, filepath.Join(oneOff, "changes.ndjson"))
			require.NotEmpty(t, want)
			assert.Equal(t, rawLines(t, filepath.Join(oneOff, "snap.ndjson")), rawLines(t, runFiles(st, dest, export.RunSnapshot)...))
			assert.Equal(t, want, rawLines(t, runFiles(st, dest, export.RunChanges)...))
		})
	}
}

func TestSyncSchemaChange(t *testing.T) {
	t.Setenv("DELTASHARE_CONFIG_DIR", t.TempDir())
	dir := filepath.Join(t.TempDir(), "people")
	schema := &delta.StructType{Fields: []*delta.StructField{
		{Name: "id", Type: &delta.PrimitiveType{Name: "long"}, Nullable: false},
		{Name: "name", Type: &delta.PrimitiveType{Name: "string"}, Nullable: true},
		{Name: "age", Type: &delta.PrimitiveType{Name: "integer"}, Nullable: true},
	}}
	tbl, err := demo.CreateTable(dir, demo.TableOptions{Name: "people", Schema: schema,
		Configuration: map[string]string{"delta.enableChangeDataFeed": "true"}})
	require.NoError(t, err)
	tx, err := tbl.Begin("WRITE", nil)
	require.NoError(t, err)
	_, err = tx.Append([]demo.Row{{int64(1), "Ada", int32(36)}, {int64(2), "Linus", int32(28)}})
	require.NoError(t, err)
	_, err = tx.Commit()
	require.NoError(t, err)

	profile := serveTable(t, map[string]string{"people": dir})
	dest := filepath.Join(t.TempDir(), "dest")
	args := []string{"sync", "-p", profile, "demo.test.people", "-o", dest, "--format", "parquet"}
	r := run(t, "", args...)
	require.Equal(t, 0, r.Code, r.Err)

	// Version 1 adds a column, drops one and widens another (a new metaData action).
	md := tbl.Metadata()
	newSchema := &delta.StructType{Fields: []*delta.StructField{
		{Name: "id", Type: &delta.PrimitiveType{Name: "long"}, Nullable: false},
		{Name: "name", Type: &delta.PrimitiveType{Name: "string"}, Nullable: true},
		{Name: "age", Type: &delta.PrimitiveType{Name: "long"}, Nullable: true},
		{Name: "note", Type: &delta.PrimitiveType{Name: "string"}, Nullable: true},
	}}
	md.SchemaString, err = delta.MarshalSchema(newSchema)
	require.NoError(t, err)
	ts := tbl.CommitTime(1).UnixMilli()
	commit, err := json.Marshal(map[string]any{"commitInfo": map[string]any{"timestamp": ts, "operation": "ADD COLUMNS"}})
	require.NoError(t, err)
	mdLine, err := json.Marshal(delta.Action{MetaData: &md})
	require.NoError(t, err)
	p := filepath.Join(dir, "_delta_log", fmt.Sprintf("%020d.json", 1))
	require.NoError(t, os.WriteFile(p, []byte(string(commit)+"\n"+string(mdLine)+"\n"), 0o644))
	require.NoError(t, os.Chtimes(p, tbl.CommitTime(1), tbl.CommitTime(1)))

	// Refused (exit 1), the change listed on stderr; with --output json, also as JSON on stdout.
	// Going on with --allow-schema-change is tested in package export.
	r = run(t, "", append(args, "--output", "json")...)
	assert.Equal(t, exitError, r.Code, r.Err)
	assert.Contains(t, r.Err, "changed column age: integer -> long")
	assert.Contains(t, r.Err, "--allow-schema-change")
	var out struct {
		Error        string            `json:"error"`
		SchemaChange export.SchemaDiff `json:"schemaChange"`
		FromVersion  int64             `json:"fromVersion"`
		ToVersion    int64             `json:"toVersion"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Out), &out), r.Out)
	assert.Equal(t, "schema changed", out.Error)
	assert.Equal(t, []export.ColumnDiff{{Name: "age", From: export.Column{Name: "age", Type: "integer", Nullable: true},
		To: export.Column{Name: "age", Type: "long", Nullable: true}}}, out.SchemaChange.Changed)
	assert.Equal(t, int64(0), out.FromVersion)
	assert.Equal(t, int64(1), out.ToVersion)
	assert.Equal(t, int64(0), readState(t, dest, "_deltashare_state.json").LastVersion)
}

func TestExportShardsUnionIsWhole(t *testing.T) {
	t.Setenv("DELTASHARE_CONFIG_DIR", t.TempDir())
	profile, _ := demoServer(t)
	for _, table := range []string{"demo.sales.orders", "demo.sales.customers"} {
		t.Run(table, func(t *testing.T) {
			whole := filepath.Join(t.TempDir(), "whole.ndjson")
			r := run(t, "", "export", "-p", profile, table, "-o", whole, "-q")
			require.Equal(t, 0, r.Code, r.Err)
			dir := t.TempDir() + "/"
			var perShard []int
			for i := 0; i < 3; i++ {
				r := run(t, "", "export", "-p", profile, table, "-o", dir, "--format", "ndjson", "--shard", fmt.Sprintf("%d/3", i), "-q")
				require.Equal(t, 0, r.Code, r.Err)
				var files []string
				for _, f := range listDir(t, dir) {
					if strings.HasPrefix(f, fmt.Sprintf("part-shard-%d-of-3-", i)) {
						files = append(files, filepath.Join(dir, f))
					}
				}
				perShard = append(perShard, len(rawLines(t, files...)))
			}
			var all []string
			for _, f := range listDir(t, dir) {
				all = append(all, filepath.Join(dir, f))
			}
			assert.Equal(t, rawLines(t, whole), rawLines(t, all...), "the shards together are the table, each row once")
			nonEmpty := 0
			for _, n := range perShard {
				if n > 0 {
					nonEmpty++
				}
			}
			assert.GreaterOrEqual(t, nonEmpty, 2, "the files spread over the shards: %v", perShard)
		})
	}

	r := run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", t.TempDir()+"/", "--shard", "3/3")
	assert.Equal(t, exitUsage, r.Code)
	assert.Contains(t, r.Err, "0 <= I < N")
}

// TestSyncShards: --shard I/N hooks up the read filter: each shard writes its own state and
// part files, and the shards together are the table. Sharded change runs, and a shard that dies,
// are tested in package export.
func TestSyncShards(t *testing.T) {
	t.Setenv("DELTASHARE_CONFIG_DIR", t.TempDir())
	profile, _ := demoServer(t)
	dest := filepath.Join(t.TempDir(), "dest")
	var snap []string
	perShard := map[int]int{}
	for i := 0; i < 2; i++ {
		r := run(t, "", "sync", "-p", profile, "demo.sales.customers", "-o", dest, "--format", "ndjson", "--shard", fmt.Sprintf("%d/2", i), "-q")
		require.Equal(t, 0, r.Code, r.Err)
		st := readState(t, dest, fmt.Sprintf("_deltashare_state.shard-%d-of-2.json", i))
		assert.Equal(t, fmt.Sprintf("%d/2", i), st.Shard)
		assert.Equal(t, int64(4), st.LastVersion)
		for _, f := range st.Runs[0].Files {
			assert.Contains(t, f, fmt.Sprintf("/part-shard-%d-of-2-", i))
			perShard[i] += len(ndjsonLines(t, dest, []string{f}))
		}
		snap = append(snap, st.Runs[0].Files...)
	}
	assert.Equal(t, expectedCustomerIDs(t, 4), customerIDs(ndjsonLines(t, dest, snap)), "the shards together are the table, each row once")
	assert.Positive(t, perShard[0], "rows in shard 0")
	assert.Positive(t, perShard[1], "rows in shard 1")
}

// s3Server runs an in-memory S3-compatible server on loopback with a bucket, and points the
// AWS SDK's environment at it (static test credentials, nothing from the host).
func s3Server(t *testing.T, bucket string) (backend *s3mem.Backend, urlQuery string) {
	backend = s3mem.New()
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	require.NoError(t, backend.CreateBucket(bucket))
	t.Setenv("AWS_ACCESS_KEY_ID", "test-access-key")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret-key")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return backend, "?endpoint=" + srv.URL + "&use_path_style=true&region=us-east-1&disable_https=true"
}

func bucketKeys(t *testing.T, b *s3mem.Backend, bucket string) []string {
	res, err := b.ListBucket(bucket, &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
	require.NoError(t, err)
	var keys []string
	for _, c := range res.Contents {
		keys = append(keys, c.Key)
	}
	sort.Strings(keys)
	return keys
}

// TestSyncToS3: -o of sync, export and changes takes an s3:// URL with the store's settings in
// its query string, which no message repeats. A failing run, the rerun and "up to date" on a
// bucket are tested in package export (TestSyncToBlobSink).
func TestSyncToS3(t *testing.T) {
	t.Setenv("DELTASHARE_CONFIG_DIR", t.TempDir())
	backend, q := s3Server(t, "lake")
	profile, _ := demoServer(t)
	r := run(t, "", "sync", "-p", profile, "demo.sales.customers", "-o", "s3://lake/customers"+q, "--format", "parquet")
	require.Equal(t, 0, r.Code, r.Err)
	assert.Contains(t, r.Out, "s3://lake/customers/snapshot/v=00000004/")
	assert.NotContains(t, r.Out+r.Err, "endpoint=", "no query string in messages")
	keys := bucketKeys(t, backend, "lake")
	assert.Contains(t, keys, "customers/_deltashare_state.json")
	var parts int
	for _, k := range keys {
		assert.False(t, strings.Contains(k, "_deltashare_tmp/"), "temporary object left: %s", k)
		assert.NotEqual(t, "customers/_deltashare_state.lock", k, "lock released")
		if strings.HasPrefix(k, "customers/snapshot/v=00000004/part-") {
			parts++
		}
	}
	assert.Positive(t, parts)

	// export and changes write to the bucket too.
	r = run(t, "", "export", "-p", profile, "demo.sales.customers", "-o", "s3://lake/one/customers.csv"+q, "-q")
	require.Equal(t, 0, r.Code, r.Err)
	r = run(t, "", "changes", "-p", profile, "demo.sales.customers", "--starting-version", "0", "-o", "s3://lake/cdf/"+q, "--format", "ndjson", "-q")
	require.Equal(t, 0, r.Code, r.Err)
	keys = bucketKeys(t, backend, "lake")
	assert.Contains(t, keys, "one/customers.csv")
	assert.Contains(t, keys, "cdf/part-00000.ndjson")
	obj, err := backend.GetObject("lake", "one/customers.csv", nil)
	require.NoError(t, err)
	b, err := io.ReadAll(obj.Contents)
	require.NoError(t, err)
	obj.Contents.Close()
	assert.Len(t, strings.Split(strings.TrimSpace(string(b)), "\n"), 1+len(expectedCustomerIDs(t, 4)))
}
