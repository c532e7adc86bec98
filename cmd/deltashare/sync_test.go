package main

import (
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
	"github.com/deltashare/deltashare/internal/exporttest"
	"github.com/deltashare/deltashare/internal/sharedtest"
	"github.com/deltashare/deltashare/internal/sharingtest"
	"github.com/deltashare/deltashare/sharing/server"
)

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

// TestSyncCustomersSnapshotThenChanges: sync's smoke run, through the CLI: a first run exports
// the snapshot, a later one the changes; text and JSON results on stdout. What Sync does in
// detail is tested in package export (sync_test.go, sharedtable_test.go).
func TestSyncCustomersSnapshotThenChanges(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "dest")
	vt, _, sync := syncCustomers(t, dest, "ndjson")

	// First run: the snapshot at version 1.
	r := sync()
	require.Equal(t, 0, r.Code, r.Err)
	assert.Contains(t, r.Out, "the snapshot at version 1")
	assert.Empty(t, r.Err)
	st := exporttest.ReadState(t, dest, "_deltashare_state.json")
	assert.Equal(t, int64(1), st.LastVersion)
	assert.Equal(t, "ndjson", st.Format)
	require.Len(t, st.Runs, 1)
	assert.Equal(t, exporttest.ExpectedCustomerIDs(t, 1), exporttest.CustomerIDs(exporttest.NDJSONObjects(t, exporttest.Paths(dest, st.Runs[0].Files...)...)))

	// Two more versions: one incremental run with their changes, the result as JSON.
	vt.Publish(3)
	r = sync("--output", "json")
	require.Equal(t, 0, r.Code, r.Err)
	var res struct {
		Table          tableRef
		Action         string
		FromVersion    int64
		ToVersion      int64
		ElapsedSeconds *int64
		Seconds        *float64
	}
	require.NoError(t, json.Unmarshal([]byte(r.Out), &res))
	assert.Equal(t, "changes", res.Action)
	assert.Equal(t, int64(2), res.FromVersion)
	assert.Equal(t, int64(3), res.ToVersion)
	assert.Equal(t, "customers", res.Table.Name)
	assert.NotNil(t, res.ElapsedSeconds, "durations in whole seconds")
	assert.Nil(t, res.Seconds)
	st = exporttest.ReadState(t, dest, "_deltashare_state.json")
	require.Len(t, st.Runs, 2)
	assert.Equal(t, exporttest.ExpectedCustomerChangeKeys(2, 3), exporttest.ChangeKeysOf(exporttest.NDJSONObjects(t, exporttest.Paths(dest, st.Runs[1].Files...)...)))

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
			vt := exporttest.NewVersioned(t, sharedtest.Path(t, "delta", "kernel-cdf", tc.name), tc.first)
			profile := serveTable(t, map[string]string{"k": vt.Dir})
			dest := filepath.Join(t.TempDir(), "dest")
			args := []string{"sync", "-p", profile, "demo.test.k", "-o", dest, "--format", "ndjson", "-q"}
			r := run(t, "", args...)
			require.Equal(t, 0, r.Code, r.Err)
			for _, v := range tc.steps {
				vt.Publish(v)
				r = run(t, "", args...)
				require.Equal(t, 0, r.Code, r.Err)
			}
			st := exporttest.ReadState(t, dest, "_deltashare_state.json")
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
			want := exporttest.RawLines(t, filepath.Join(oneOff, "changes.ndjson"))
			require.NotEmpty(t, want)
			assert.Equal(t, exporttest.RawLines(t, filepath.Join(oneOff, "snap.ndjson")), exporttest.RawLines(t, exporttest.RunFiles(st, dest, export.RunSnapshot)...))
			assert.Equal(t, want, exporttest.RawLines(t, exporttest.RunFiles(st, dest, export.RunChanges)...))
		})
	}
}

func TestSyncSchemaChange(t *testing.T) {
	t.Setenv("DELTASHARE_CONFIG_DIR", t.TempDir())
	tbl := exporttest.NewPeople(t)

	profile := serveTable(t, map[string]string{"people": tbl.Dir()})
	dest := filepath.Join(t.TempDir(), "dest")
	args := []string{"sync", "-p", profile, "demo.test.people", "-o", dest, "--format", "parquet"}
	r := run(t, "", args...)
	require.Equal(t, 0, r.Code, r.Err)

	// Version 1 adds a column and widens another (a new metaData action).
	exporttest.ChangePeopleSchema(t, tbl)

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
	assert.Equal(t, int64(0), exporttest.ReadState(t, dest, "_deltashare_state.json").LastVersion)
}

func TestExportShardsUnionIsWhole(t *testing.T) {
	profile := demoCommandLine(t)
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
				for _, f := range exporttest.Files(t, dir) {
					if strings.HasPrefix(f, fmt.Sprintf("part-shard-%d-of-3-", i)) {
						files = append(files, filepath.Join(dir, f))
					}
				}
				perShard = append(perShard, len(exporttest.RawLines(t, files...)))
			}
			var all []string
			for _, f := range exporttest.Files(t, dir) {
				all = append(all, filepath.Join(dir, f))
			}
			assert.Equal(t, exporttest.RawLines(t, whole), exporttest.RawLines(t, all...), "the shards together are the table, each row once")
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
	profile := demoCommandLine(t)
	dest := filepath.Join(t.TempDir(), "dest")
	var snap []string
	perShard := map[int]int{}
	for i := 0; i < 2; i++ {
		r := run(t, "", "sync", "-p", profile, "demo.sales.customers", "-o", dest, "--format", "ndjson", "--shard", fmt.Sprintf("%d/2", i), "-q")
		require.Equal(t, 0, r.Code, r.Err)
		st := exporttest.ReadState(t, dest, fmt.Sprintf("_deltashare_state.shard-%d-of-2.json", i))
		assert.Equal(t, fmt.Sprintf("%d/2", i), st.Shard)
		assert.Equal(t, int64(4), st.LastVersion)
		for _, f := range st.Runs[0].Files {
			assert.Contains(t, f, fmt.Sprintf("/part-shard-%d-of-2-", i))
			perShard[i] += len(exporttest.NDJSONObjects(t, exporttest.Paths(dest, f)...))
		}
		snap = append(snap, st.Runs[0].Files...)
	}
	assert.Equal(t, exporttest.ExpectedCustomerIDs(t, 4), exporttest.CustomerIDs(exporttest.NDJSONObjects(t, exporttest.Paths(dest, snap...)...)), "the shards together are the table, each row once")
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
	assert.Len(t, strings.Split(strings.TrimSpace(string(b)), "\n"), 1+len(exporttest.ExpectedCustomerIDs(t, 4)))
}

// TestSyncBreakLock: a lock left by a run on another host stops sync (exit 1) with advice that
// names --break-lock; with --break-lock the run removes it, says whose lock it broke, and syncs.
func TestSyncBreakLock(t *testing.T) {
	dest := t.TempDir()
	_, _, sync := syncCustomers(t, dest, "ndjson")
	lock := `{"owner":"x","host":"other-host","pid":4242,"table":"demo.test.customers","since":"2026-01-01T00:00:00Z","expires":"2999-01-01T00:00:00Z"}`
	require.NoError(t, os.WriteFile(filepath.Join(dest, "_deltashare_state.lock"), []byte(lock), 0o644))

	r := sync()
	assert.Equal(t, 1, r.Code, r.Err)
	assert.Contains(t, r.Err, "another sync run (host other-host, pid 4242, since 2026-01-01T00:00:00Z) holds")
	assert.Contains(t, r.Err, "use --break-lock to remove its lock")
	assert.NoFileExists(t, filepath.Join(dest, "_deltashare_state.json"))

	r = sync("--break-lock")
	require.Equal(t, 0, r.Code, r.Err)
	assert.Contains(t, r.Out, "the snapshot at version 1")
	assert.Contains(t, r.Out, "note: took over the lock of the run of host other-host, pid 4242, since 2026-01-01T00:00:00Z (the lock was broken on request)")
	assert.NoFileExists(t, filepath.Join(dest, "_deltashare_state.lock"))
}

// TestSyncDeltaFormat: sync --format delta through the CLI: a Delta table at DEST, one commit
// per run with new versions, nothing when up to date; text and JSON results. What the Delta
// format does in detail is tested in package export (lakesync_test.go).
func TestSyncDeltaFormat(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "lake")
	vt, profile, sync := syncCustomers(t, dest, "delta")
	r := sync()
	require.Equal(t, 0, r.Code, r.Err)
	assert.Contains(t, r.Out, "committed version 0 of the Delta table")
	assert.Contains(t, r.Out, "the snapshot at version 1")

	vt.Publish(3)
	r = sync("--output", "json")
	require.Equal(t, 0, r.Code, r.Err)
	var res struct {
		export.SyncResult
		Table tableRef `json:"table"` // the table as an object (docs/json.md)
	}
	require.NoError(t, json.Unmarshal([]byte(r.Out), &res))
	assert.Equal(t, "demo.test.customers", res.Table.FullName)
	assert.Equal(t, "changes", res.Action)
	assert.Equal(t, int64(2), res.FromVersion)
	assert.Equal(t, int64(3), res.ToVersion)
	require.NotNil(t, res.Lake)
	require.NotNil(t, res.Lake.CommitVersion)
	assert.Equal(t, int64(1), *res.Lake.CommitVersion)

	r = sync()
	require.Equal(t, 0, r.Code, r.Err)
	assert.Equal(t, "up to date at version 3 (Delta table version 1)\n", r.Out)
	logs, err := filepath.Glob(filepath.Join(dest, "_delta_log", "*.json"))
	require.NoError(t, err)
	assert.Len(t, logs, 2)

	// Files of another format are not synced into the Delta table.
	r = run(t, "", "sync", "-p", profile, "demo.test.customers", "-o", dest, "--format", "parquet")
	assert.Equal(t, exitError, r.Code, r.Err)
	assert.Contains(t, r.Err, "is a Delta table (it has a _delta_log)")
	logs2, err := filepath.Glob(filepath.Join(dest, "_deltashare_state*"))
	require.NoError(t, err)
	assert.Empty(t, logs2, "no state or lock written into the Delta table")

	// A shard is refused up front; a destination of another format is refused.
	r = run(t, "", "sync", "-p", profile, "demo.test.customers", "-o", dest, "--format", "delta", "--shard", "0/2")
	assert.Equal(t, exitUsage, r.Code)
	assert.Contains(t, r.Err, "without --shard")
	other := filepath.Join(t.TempDir(), "files")
	r = run(t, "", "sync", "-p", profile, "demo.test.customers", "-o", other, "--format", "parquet")
	require.Equal(t, 0, r.Code, r.Err)
	r = run(t, "", "sync", "-p", profile, "demo.test.customers", "-o", other, "--format", "delta")
	assert.Equal(t, exitError, r.Code)
	assert.Contains(t, r.Err, "sync in another format")
	_, err = os.Stat(filepath.Join(other, "_delta_log"))
	assert.True(t, os.IsNotExist(err), "nothing written")
}

// syncCustomers serves the demo customers as demo.test.customers, a table with versions to
// publish (version 1 published), with an empty credential store; sync runs sync of it to dest
// in format, with more arguments; profile is the profile file of the server.
func syncCustomers(t *testing.T, dest, format string) (vt *exporttest.Versioned, profile string, sync func(args ...string) result) {
	t.Helper()
	t.Setenv("DELTASHARE_CONFIG_DIR", t.TempDir())
	vt = exporttest.NewVersioned(t, sharingtest.Demo(t)["demo.sales.customers"], 1)
	profile = serveTable(t, map[string]string{"customers": vt.Dir})
	return vt, profile, func(args ...string) result {
		return run(t, "", append([]string{"sync", "-p", profile, "demo.test.customers", "-o", dest, "--format", format}, args...)...)
	}
}

// TestSyncOfMissingTableLeavesNoDestination: a first sync (or export) of a table that the server
// does not have fails without leaving the destination folder (or its missing parents) behind; a
// destination folder that existed before is kept.
func TestSyncOfMissingTableLeavesNoDestination(t *testing.T) {
	profile := demoCommandLine(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"sync csv", []string{"sync", "--format", "csv"}},
		{"sync parquet", []string{"sync"}},
		{"sync ndjson shard", []string{"sync", "--format", "ndjson", "--shard", "1/2"}},
		{"sync delta", []string{"sync", "--format", "delta"}},
		{"export dir", []string{"export", "--format", "csv"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dest := filepath.Join(root, "new", "dest")
			out := dest
			if tc.args[0] == "export" {
				out += string(filepath.Separator)
			}
			r := run(t, "", append(tc.args, "-p", profile, "demo.sales.nope", "-o", out)...)
			assert.Equal(t, exitError, r.Code, r.Err)
			assert.Contains(t, r.Err, "does not exist")
			ents, err := os.ReadDir(root)
			require.NoError(t, err)
			assert.Empty(t, ents, "nothing left where the destination would have been")

			kept := filepath.Join(root, "kept")
			require.NoError(t, os.Mkdir(kept, 0o755))
			r = run(t, "", append(tc.args, "-p", profile, "demo.sales.nope", "-o", kept+string(filepath.Separator))...)
			assert.Equal(t, exitError, r.Code, r.Err)
			ents, err = os.ReadDir(kept)
			require.NoError(t, err, "a destination that existed is kept")
			assert.Empty(t, ents)
		})
	}
}
