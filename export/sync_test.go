package export

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob/memblob"

	"github.com/deltashare/deltashare/formats"
)

var syncFormats = []formats.Format{formats.Parquet, formats.CSV, formats.NDJSON}

func TestSyncFirstRunExportsTheSnapshot(t *testing.T) {
	t.Parallel()
	for _, f := range syncFormats {
		t.Run(string(f), func(t *testing.T) {
			t.Parallel()
			ft := peopleTable(t, 2, true)
			dest := filepath.Join(t.TempDir(), "dest") // created by the run
			res := doSync(t, ft, NewLocalSink(dest), syncOpts(f, newClock()))

			ext := "." + string(f)
			parts := []string{"snapshot/v=00000002/part-00000" + ext, "snapshot/v=00000002/part-00001" + ext, "snapshot/v=00000002/part-00002" + ext}
			assert.Equal(t, append([]string{"_deltashare_state.json"}, parts...), listFiles(t, dest),
				"one part per input file, the state; no lock, no temporary file")
			assert.Equal(t, []string{"info", "snapshot 2"}, ft.called())

			// The files hold the table at version 2.
			assert.Equal(t, fakeKeys(ft.snapshotFiles(2)), rowKeys(rowsOf(t, dest, f, parts)))
			b, err := os.ReadFile(filepath.Join(dest, parts[0]))
			require.NoError(t, err)
			cols, _ := decodeRows(t, string(f), b)
			assert.Equal(t, []string{"id", "name"}, cols, "the table's columns, no change data columns")

			size := fileSizes(t, dest, parts)
			assert.Equal(t, &SyncResult{Table: testTable, Action: "snapshot", FromVersion: 2, ToVersion: 2,
				Dir: filepath.Join(dest, "snapshot/v=00000002") + "/", Files: locations(dest, parts), Rows: 6, Bytes: size,
				State: filepath.Join(dest, "_deltashare_state.json"), Seconds: res.Seconds}, res)
			assert.Regexp(t, `^exported the snapshot at version 2: 6 rows to 3 files \(.+\) in `+regexpQuote(res.Dir)+` in [0-9.]+s; state at version 2$`, res.Text())

			// The state file, as JSON.
			st, raw := stateOf(t, dest, "_deltashare_state.json")
			assert.Equal(t, map[string]any{
				"formatVersion": 1.0, "table": testTable, "endpoint": testEndpoint, "tableId": "table-id-1", "format": string(f),
				"lastVersion": 2.0, "generation": 1.0, "updatedAt": "2026-04-01T12:00:00Z",
				"schema": []any{
					map[string]any{"name": "id", "type": "long", "nullable": false},
					map[string]any{"name": "name", "type": "string", "nullable": true},
				},
				"schemaFingerprint": SchemaFingerprint(peopleColumns()),
				"runs": []any{map[string]any{"kind": "snapshot", "fromVersion": 2.0, "toVersion": 2.0, "dir": "snapshot/v=00000002/",
					"files": []any{parts[0], parts[1], parts[2]}, "rows": 6.0, "bytes": float64(size), "completed": "2026-04-01T12:00:00Z"}},
			}, raw, "no shard key without sharding")
			assert.Equal(t, parts, recorded(st))
		})
	}
}

func regexpQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `.`, `\.`, `(`, `\(`, `)`, `\)`, `[`, `\[`, `]`, `\]`, `+`, `\+`, `*`, `\*`, `?`, `\?`, `$`, `\$`, `^`, `\^`, `|`, `\|`, `{`, `\{`, `}`, `\}`)
	return r.Replace(s)
}

// replay applies exported change rows to exported snapshot rows: the table as a reader of the
// destination rebuilds it.
func replay(snapshot, changes []map[string]string) []string {
	live := map[string]string{}
	for _, r := range snapshot {
		live[r["id"]] = r["name"]
	}
	sort.SliceStable(changes, func(i, j int) bool { return changes[i]["_commit_version"] < changes[j]["_commit_version"] })
	for _, c := range changes {
		switch c["_change_type"] {
		case "insert", "update_postimage":
			live[c["id"]] = c["name"]
		case "delete":
			delete(live, c["id"])
		}
	}
	var out []string
	for id, name := range live {
		out = append(out, id+"|"+name)
	}
	sort.Strings(out)
	return out
}

func TestSyncExportsChangeRangesThenIsUpToDate(t *testing.T) {
	t.Parallel()
	for _, f := range syncFormats {
		t.Run(string(f), func(t *testing.T) {
			t.Parallel()
			ft := peopleTable(t, 1, true)
			dest := t.TempDir()
			sink := NewLocalSink(dest)
			clock := newClock()
			opts := syncOpts(f, clock)
			ext := "." + string(f)
			res := doSync(t, ft, sink, opts)
			require.Equal(t, "snapshot", res.Action)

			// Nothing new: up to date, nothing read, nothing written.
			before := treeOf(t, dest)
			ft.resetCalls()
			clock.Add(time.Hour)
			res = doSync(t, ft, sink, opts)
			assert.Equal(t, &SyncResult{Table: testTable, Action: "up-to-date", FromVersion: 1, ToVersion: 1,
				State: filepath.Join(dest, "_deltashare_state.json"), Seconds: res.Seconds}, res)
			assert.Equal(t, "up to date at version 1", res.Text())
			assert.Equal(t, []string{"info"}, ft.called())
			assert.Equal(t, before, treeOf(t, dest), "an up-to-date run writes nothing")

			// Two new versions: one run exports their change data.
			ft.publish(3)
			ft.resetCalls()
			res = doSync(t, ft, sink, opts)
			assert.Equal(t, []string{"info", "changes 2-3"}, ft.called())
			changes23 := []string{"changes/v=00000002-00000003/part-00000" + ext, "changes/v=00000002-00000003/part-00001" + ext,
				"changes/v=00000002-00000003/part-00002" + ext}
			assert.Equal(t, "changes", res.Action)
			assert.Equal(t, int64(2), res.FromVersion)
			assert.Equal(t, int64(3), res.ToVersion)
			assert.Equal(t, filepath.Join(dest, "changes/v=00000002-00000003")+"/", res.Dir)
			assert.Equal(t, locations(dest, changes23), res.Files)
			assert.Equal(t, int64(6), res.Rows)
			assert.Equal(t, fileSizes(t, dest, changes23), res.Bytes)
			assert.Contains(t, res.Text(), "exported the changes of versions 2 to 3: 6 rows to 3 files")
			rows := rowsOf(t, dest, f, changes23)
			assert.Equal(t, fakeKeys(ft.changeFiles(2, 3)), rowKeys(rows))
			for _, r := range rows {
				v := map[string]int64{"2": 2, "3": 3}[r["_commit_version"]]
				assert.Equal(t, commitTime(v).Format(time.RFC3339), r["_commit_timestamp"], "commit timestamp of %v", r)
			}
			b, err := os.ReadFile(filepath.Join(dest, changes23[0]))
			require.NoError(t, err)
			cols, _ := decodeRows(t, string(f), b)
			assert.Equal(t, []string{"id", "name", "_change_type", "_commit_version", "_commit_timestamp"}, cols)

			st, _ := stateOf(t, dest, "_deltashare_state.json")
			assert.Equal(t, int64(3), st.LastVersion)
			assert.Equal(t, int64(2), st.Generation)
			assert.Equal(t, t0.Add(time.Hour), st.UpdatedAt)
			require.Len(t, st.Runs, 2)
			assert.Equal(t, RunInfo{Kind: RunChanges, FromVersion: 2, ToVersion: 3, Dir: "changes/v=00000002-00000003/", Files: changes23,
				Rows: 6, Bytes: res.Bytes, Completed: t0.Add(time.Hour)}, st.Runs[1])
			assert.Equal(t, RunSnapshot, st.Runs[0].Kind, "earlier runs are kept")

			// And the next range, in JSON as --output json prints it.
			ft.publish(5)
			res = doSync(t, ft, sink, opts)
			var raw map[string]any
			b, err = json.Marshal(res)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(b, &raw))
			for _, k := range []string{"table", "action", "fromVersion", "toVersion", "dir", "files", "rows", "bytes", "state", "seconds"} {
				assert.Contains(t, raw, k)
			}
			for _, k := range []string{"dryRun", "plan", "schemaChange", "cleaned", "note", "shard"} {
				assert.NotContains(t, raw, k)
			}
			assert.Equal(t, "changes", raw["action"])
			assert.Equal(t, 4.0, raw["fromVersion"])
			assert.Equal(t, 5.0, raw["toVersion"])

			// The destination holds the recorded files and the state, nothing else; the snapshot
			// and the changes rebuild the table at version 5, each row once.
			st, _ = stateOf(t, dest, "_deltashare_state.json")
			assert.Equal(t, int64(3), st.Generation)
			assert.Equal(t, append([]string{"_deltashare_state.json"}, recorded(st)...), listFiles(t, dest))
			all := recorded(st)
			got := replay(rowsOf(t, dest, f, under(all, "snapshot/")), rowsOf(t, dest, f, under(all, "changes/")))
			var want []string
			for _, r := range ft.snapshotRows(5) {
				want = append(want, fmt.Sprintf("%d|%s", r["id"], r["name"]))
			}
			sort.Strings(want)
			assert.Equal(t, want, got)
			assert.Equal(t, fakeKeys(ft.changeFiles(2, 5)), rowKeys(rowsOf(t, dest, f, under(all, "changes/"))),
				"every change once")
		})
	}
}

func TestSyncWithoutChangeDataFeedExportsTheSnapshotAgain(t *testing.T) {
	t.Parallel()
	ft, dest, opts := syncedOnce(t, 1, false, formats.CSV)
	sink := NewLocalSink(dest)
	first := contents(t, dest)

	ft.publish(3)
	ft.resetCalls()
	res := doSync(t, ft, sink, opts)
	assert.Equal(t, []string{"info", "snapshot 3"}, ft.called(), "no change data is read")
	assert.Equal(t, "resnapshot", res.Action)
	assert.Equal(t, int64(3), res.FromVersion)
	assert.Equal(t, int64(3), res.ToVersion)
	assert.Equal(t, filepath.Join(dest, "snapshot/v=00000003")+"/", res.Dir)
	assert.Contains(t, res.Note, "table "+testTable+" has no change data feed (delta.enableChangeDataFeed)")
	assert.Contains(t, res.Text(), "exported the snapshot again at version 3: 7 rows to 4 files")
	assert.Contains(t, res.Text(), "\nnote: table "+testTable+" has no change data feed")

	st, _ := stateOf(t, dest, "_deltashare_state.json")
	assert.Equal(t, int64(3), st.LastVersion)
	require.Len(t, st.Runs, 2)
	assert.Equal(t, RunSnapshot, st.Runs[1].Kind)
	assert.Equal(t, "snapshot/v=00000003/", st.Runs[1].Dir)
	assert.Equal(t, fakeKeys(ft.snapshotFiles(3)), rowKeys(rowsOf(t, dest, formats.CSV, st.Runs[1].Files)))
	for name, c := range first {
		if name != "_deltashare_state.json" {
			assert.Equal(t, c, contents(t, dest)[name], "the first snapshot stays: %s", name)
		}
	}
	assert.NoDirExists(t, filepath.Join(dest, "changes"))

	// A dry run says the same.
	ft.publish(4)
	res, err := Sync(context.Background(), ft, sink, func() SyncOptions { o := opts; o.DryRun = true; return o }())
	require.NoError(t, err)
	assert.Contains(t, res.Text(), "dry run: would export the snapshot again at version 4")

	// Once the table has a change data feed, the changes follow the last snapshot.
	ft.cdf = true
	ft.resetCalls()
	res = doSync(t, ft, sink, opts)
	assert.Equal(t, []string{"info", "changes 4-4"}, ft.called())
	assert.Equal(t, "changes", res.Action)
}

// schemaTable changes its schema at version 2: name is dropped, age widened from integer to
// long, note added.
func schemaTable(t *testing.T) *fakeTable {
	v0 := []Column{{"id", "long", false}, {"name", "string", true}, {"age", "integer", true}}
	v2 := []Column{{"id", "long", false}, {"age", "long", true}, {"note", "string", true}}
	return newFakeTable(t, 1, true,
		fakeCommit{Columns: v0, Files: [][]fakeChange{{{"insert", fakeRow{"id": int64(1), "name": "Ada", "age": int32(36)}}}}},
		fakeCommit{Files: [][]fakeChange{{{"insert", fakeRow{"id": int64(2), "name": "Linus", "age": int32(28)}}}}},
		fakeCommit{Columns: v2, Files: [][]fakeChange{{{"insert", fakeRow{"id": int64(3), "age": int64(40), "note": "new"}}}}},
		fakeCommit{Files: [][]fakeChange{{{"insert", fakeRow{"id": int64(4), "age": int64(50), "note": "newer"}}}}},
	)
}

func TestSyncRefusesASchemaChange(t *testing.T) {
	t.Parallel()
	ft := schemaTable(t)
	dest := t.TempDir()
	sink := NewLocalSink(dest)
	opts := syncOpts(formats.NDJSON, newClock())
	doSync(t, ft, sink, opts)

	ft.publish(2)
	before := treeOf(t, dest)
	ft.resetCalls()
	res, err := Sync(context.Background(), ft, sink, opts)
	require.Error(t, err)
	assert.Nil(t, res)
	var sc *SchemaChangeError
	require.ErrorAs(t, err, &sc)
	assert.Equal(t, &SchemaChangeError{Table: testTable, FromVersion: 1, ToVersion: 2, Diff: SchemaDiff{
		Added:   []Column{{"note", "string", true}},
		Removed: []Column{{"name", "string", true}},
		Changed: []ColumnDiff{{Name: "age", From: Column{"age", "integer", true}, To: Column{"age", "long", true}}},
	}}, sc)
	assert.Equal(t, "the schema of "+testTable+" changed between version 1 (the destination) and 2: added column note (string); removed column name (string); changed column age: integer -> long; nothing was exported. Use the AllowSchemaChange option to export with the new schema (files of both schemas then sit side by side), or sync to a new destination", err.Error())
	assert.Equal(t, "Use {AllowSchemaChange} to export with the new schema (files of both schemas then sit side by side), or sync to a new destination", hintOf(err))
	assert.Equal(t, []string{"info"}, ft.called(), "nothing read")
	assert.Equal(t, before, treeOf(t, dest), "nothing written, the lock released")

	// A dry run refuses it too.
	dry := opts
	dry.DryRun = true
	_, err = Sync(context.Background(), ft, sink, dry)
	require.ErrorAs(t, err, &sc)

	// Allowed: the changes are exported with the new schema, and the state takes it.
	allow := opts
	allow.AllowSchemaChange = true
	res = doSync(t, ft, sink, allow)
	assert.Equal(t, "changes", res.Action)
	require.NotNil(t, res.SchemaDiff)
	assert.Equal(t, sc.Diff, *res.SchemaDiff)
	b, err := json.Marshal(res)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"schemaChange":{"added":[{"name":"note","type":"string","nullable":true}]`)
	st, _ := stateOf(t, dest, "_deltashare_state.json")
	assert.Equal(t, int64(2), st.LastVersion)
	assert.Equal(t, ft.columnsAt(2), st.Schema)
	assert.Equal(t, SchemaFingerprint(ft.columnsAt(2)), st.Fingerprint)
	rows := rowsOf(t, dest, formats.NDJSON, st.Runs[1].Files)
	assert.Equal(t, []map[string]string{{"id": "3", "age": "40", "note": "new", "_change_type": "insert", "_commit_version": "2",
		"_commit_timestamp": commitTime(2).Format(time.RFC3339)}}, rows)

	// The next run compares with the new schema: no change, no flag needed.
	ft.publish(3)
	res = doSync(t, ft, sink, opts)
	assert.Equal(t, "changes", res.Action)
	assert.Nil(t, res.SchemaDiff)
}

func TestSyncRefusesAnotherDestination(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, dest string, ft *fakeTable, o *SyncOptions)
		want   string
	}{
		{"another format", func(t *testing.T, dest string, ft *fakeTable, o *SyncOptions) { o.Format.Format = formats.CSV },
			"the destination holds ndjson files (state DEST/_deltashare_state.json): set the Format option to ndjson, or sync to a new destination"},
		{"another table", func(t *testing.T, dest string, ft *fakeTable, o *SyncOptions) { o.Table = "share.schema.other" },
			"the destination follows table " + testTable + " (state DEST/_deltashare_state.json), not share.schema.other"},
		{"another server", func(t *testing.T, dest string, ft *fakeTable, o *SyncOptions) {
			o.Endpoint = "https://other.example.com"
		},
			"the destination follows " + testTable + " from another server (" + testEndpoint + ", state DEST/_deltashare_state.json)"},
		{"a recreated table", func(t *testing.T, dest string, ft *fakeTable, o *SyncOptions) { ft.id = "table-id-2" },
			"table " + testTable + " was recreated (its Delta table id changed from table-id-1 to table-id-2)"},
		{"an older table version", func(t *testing.T, dest string, ft *fakeTable, o *SyncOptions) { ft.latest = 1 },
			"table " + testTable + " is at version 1, older than the destination's version 2"},
		{"a state of another shard", func(t *testing.T, dest string, ft *fakeTable, o *SyncOptions) {
			st, _ := stateOf(t, dest, "_deltashare_state.json")
			st.Shard = "0/2"
			require.NoError(t, WriteState(context.Background(), NewLocalSink(dest), "_deltashare_state.json", st))
		}, `the state DEST/_deltashare_state.json is of shard "0/2", not ""`},
		{"a newer state format", func(t *testing.T, dest string, ft *fakeTable, o *SyncOptions) {
			st, _ := stateOf(t, dest, "_deltashare_state.json")
			st.FormatVersion = 2
			require.NoError(t, WriteState(context.Background(), NewLocalSink(dest), "_deltashare_state.json", st))
		}, "the sync state DEST/_deltashare_state.json has format version 2; this deltashare reads version 1"},
		{"a Delta table", func(t *testing.T, dest string, ft *fakeTable, o *SyncOptions) {
			require.NoError(t, os.MkdirAll(filepath.Join(dest, "_delta_log"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dest, "_delta_log", "00000000000000000000.json"), []byte("{}\n"), 0o644))
		}, "is a Delta table (it has a _delta_log): ndjson files synced into it would be ignored by its readers and deleted by its VACUUM; sync it in the delta format, or to a new destination"},
		{"a damaged state", func(t *testing.T, dest string, ft *fakeTable, o *SyncOptions) {
			require.NoError(t, os.WriteFile(filepath.Join(dest, "_deltashare_state.json"), []byte(`{"formatVersion":1,`), 0o644))
		}, "the sync state DEST/_deltashare_state.json is damaged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ft, dest, opts := syncedOnce(t, 2, true, formats.NDJSON)
			ft.publish(3)
			tc.change(t, dest, ft, &opts)
			before := treeOf(t, dest)
			for _, dry := range []bool{false, true} {
				ft.resetCalls()
				opts.DryRun = dry
				res, err := Sync(context.Background(), ft, NewLocalSink(dest), opts)
				require.Error(t, err, "dry run %v", dry)
				assert.Nil(t, res)
				assert.Contains(t, err.Error(), strings.ReplaceAll(tc.want, "DEST", dest), "dry run %v", dry)
				assert.Equal(t, before, treeOf(t, dest), "nothing written, the lock released (dry run %v)", dry)
				for _, c := range ft.called() {
					assert.Contains(t, []string{"info"}, c, "no data read")
				}
			}
		})
	}
}

func TestSyncOptionErrors(t *testing.T) {
	t.Parallel()
	ft := peopleTable(t, 1, true)
	dest := t.TempDir()
	for _, tc := range []struct {
		name string
		sink Sink
		f    formats.Options
		want string
	}{
		{"json", NewLocalSink(dest), formats.Options{Format: formats.JSON}, "sync writes parquet, csv or ndjson, not json"},
		{"bad options", NewLocalSink(dest), formats.Options{Format: formats.NDJSON, Delimiter: ';'}, "a delimiter applies only to csv"},
		{"standard output", NewStreamSink(&strings.Builder{}), formats.Options{Format: formats.CSV}, "this output cannot hold a sync state"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := syncOpts(formats.CSV, newClock())
			opts.Format = tc.f
			_, err := Sync(context.Background(), ft, tc.sink, opts)
			assert.ErrorContains(t, err, tc.want)
		})
	}
	assert.Empty(t, ft.called())
	assert.Empty(t, listAll(t, dest))
}

func TestSyncDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	ft := peopleTable(t, 2, true)
	dest := filepath.Join(t.TempDir(), "dest")
	sink := NewLocalSink(dest)
	clock := newClock()
	opts := syncOpts(formats.Parquet, clock)
	dry := opts
	dry.DryRun = true

	// A new destination: the snapshot would be exported; the directory is not even created.
	res, err := Sync(context.Background(), ft, sink, dry)
	require.NoError(t, err)
	assert.Equal(t, &SyncResult{Table: testTable, Action: "snapshot", DryRun: true, FromVersion: 2, ToVersion: 2,
		Dir: filepath.Join(dest, "snapshot/v=00000002") + "/", Plan: &ReadPlan{Files: 3, Rows: 6, Bytes: 3000},
		State: filepath.Join(dest, "_deltashare_state.json"), Seconds: res.Seconds}, res)
	assert.Equal(t, "dry run: would export the snapshot at version 2 to "+res.Dir+": 3 files, about 6 rows (2.9 KiB to read); nothing written", res.Text())
	assert.Equal(t, []string{"info", "plan snapshot 2-2"}, ft.called())
	assert.NoDirExists(t, dest)

	doSync(t, ft, sink, opts)
	ft.publish(4)

	// A dry run takes no lock: it works while a run holds it, and leaves everything as it is.
	writeLock(t, dest, "_deltashare_state.lock", t0.Add(time.Hour))
	before := treeOf(t, dest)
	ft.resetCalls()
	ft.planNoStats = true
	res, err = Sync(context.Background(), ft, sink, dry)
	require.NoError(t, err)
	assert.Equal(t, "changes", res.Action)
	assert.Equal(t, int64(3), res.FromVersion)
	assert.Equal(t, int64(4), res.ToVersion)
	assert.Equal(t, &ReadPlan{Files: 3, Rows: -1, Bytes: 3000}, res.Plan)
	assert.Equal(t, "dry run: would export the changes of versions 3 to 4 to "+filepath.Join(dest, "changes/v=00000003-00000004")+
		"/: 3 files, rows unknown (the files have no statistics) (2.9 KiB to read); nothing written", res.Text())
	b, err := json.Marshal(res)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"dryRun":true`)
	assert.Contains(t, string(b), `"plan":{"files":3,"estimatedRows":-1,"bytes":3000}`)
	assert.Equal(t, []string{"info", "plan changes 3-4"}, ft.called())
	assert.Equal(t, before, treeOf(t, dest))

	// A failing plan is an error, and still nothing is written.
	ft.planErr = errInjected
	_, err = Sync(context.Background(), ft, sink, dry)
	assert.ErrorIs(t, err, errInjected)
	assert.Equal(t, before, treeOf(t, dest))
}

func TestSyncLockHeldByAnotherRun(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		sink func(dir string) Sink
	}{
		{"exclusive create", func(dir string) Sink { return NewLocalSink(dir) }},
		{"look then write", func(dir string) Sink { return newPlainSink(dir) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ft := peopleTable(t, 2, true)
			dest := t.TempDir()
			opts := syncOpts(formats.CSV, newClock())
			lock := writeLock(t, dest, "_deltashare_state.lock", t0.Add(time.Minute))
			res, err := Sync(context.Background(), ft, tc.sink(dest), opts)
			require.ErrorIs(t, err, ErrLocked)
			assert.Nil(t, res)
			assert.Equal(t, "sync destination is locked: another sync run (host elsewhere, pid 1, since 2026-04-01T11:01:00Z) holds "+
				filepath.Join(dest, "_deltashare_state.lock")+" until 2026-04-01T12:01:00Z: if that run died, wait until then, or use the BreakLock option to remove its lock (a run still going then stops before its next write)", err.Error())
			assert.Empty(t, ft.called(), "the table is not even asked")
			assert.Equal(t, []string{"_deltashare_state.lock"}, listAll(t, dest))
			b, err := os.ReadFile(filepath.Join(dest, "_deltashare_state.lock"))
			require.NoError(t, err)
			assert.Equal(t, lock, string(b), "the other run's lock is left alone")

			// The lock of another shard does not block.
			sharded := opts
			sharded.Shard = Shard{Index: 1, Count: 2}
			doSync(t, ft, tc.sink(dest), sharded)
		})
	}
}

func TestSyncTakesOverAStaleLock(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		lock func(t *testing.T, dest string)
	}{
		{"expired", func(t *testing.T, dest string) { writeLock(t, dest, "_deltashare_state.lock", t0.Add(-time.Second)) }},
		{"expires now", func(t *testing.T, dest string) { writeLock(t, dest, "_deltashare_state.lock", t0) }},
		{"unreadable (killed while writing it)", func(t *testing.T, dest string) {
			require.NoError(t, os.WriteFile(filepath.Join(dest, "_deltashare_state.lock"), []byte(`{"owner":`), 0o644))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ft := peopleTable(t, 2, true)
			dest := t.TempDir()
			tc.lock(t, dest)
			res := doSync(t, ft, NewLocalSink(dest), syncOpts(formats.CSV, newClock()))
			assert.Equal(t, "snapshot", res.Action)
			assert.NoFileExists(t, filepath.Join(dest, "_deltashare_state.lock"), "released at the end")
			st, _ := stateOf(t, dest, "_deltashare_state.json")
			assert.Equal(t, int64(2), st.LastVersion)
		})
	}
}

func TestSyncLockContent(t *testing.T) {
	t.Parallel()
	for _, ttl := range []time.Duration{0, 5 * time.Minute} {
		t.Run(fmt.Sprint(ttl), func(t *testing.T) {
			ft := peopleTable(t, 2, true)
			dest := t.TempDir()
			opts := syncOpts(formats.CSV, newClock())
			opts.LockTTL = ttl
			var seen []lockInfo
			ft.beforeRecord = func(file, rec int) {
				b, err := os.ReadFile(filepath.Join(dest, "_deltashare_state.lock"))
				require.NoError(t, err)
				var li lockInfo
				require.NoError(t, json.Unmarshal(b, &li))
				seen = append(seen, li)
			}
			doSync(t, ft, NewLocalSink(dest), opts)
			require.NotEmpty(t, seen)
			host, _ := os.Hostname()
			want := ttl
			if want == 0 {
				want = DefaultLockTTL
			}
			li := seen[0]
			assert.Len(t, li.Owner, 24)
			self := selfIdentity()
			assert.Equal(t, lockInfo{Owner: li.Owner, Host: host, PID: os.Getpid(), BootID: self.BootID, PIDNamespace: self.PIDNamespace,
				ProcessStart: self.Start, Table: testTable, Since: t0, Expires: t0.Add(want)}, li)
			if runtime.GOOS == "linux" {
				assert.NotEmpty(t, li.BootID, "the owner's boot, pid namespace and start time are recorded")
				assert.NotEmpty(t, li.PIDNamespace)
				assert.NotEmpty(t, li.ProcessStart)
			}
			assert.NoFileExists(t, filepath.Join(dest, "_deltashare_state.lock"))
		})
	}
}

func TestSyncRefreshesItsLock(t *testing.T) {
	t.Parallel()
	ft := peopleTable(t, 2, true)
	dest := t.TempDir()
	sink := NewLocalSink(dest)
	clock := newClock()
	opts := syncOpts(formats.CSV, clock)
	opts.LockTTL = 30 * time.Millisecond // refreshed every 10ms of real time
	var other error
	ft.beforeRecord = func(file, rec int) {
		if file != 0 {
			return
		}
		// Much later by the run's clock: without a refresh, the lock would have expired.
		clock.Add(time.Hour)
		require.Eventually(t, func() bool {
			li, err := readLock(context.Background(), sink, "_deltashare_state.lock")
			return err == nil && li != nil && !clock.Now().After(li.Expires) && li.Expires.Equal(clock.Now().Add(opts.LockTTL))
		}, 10*time.Second, time.Millisecond, "the lock is refreshed")
		_, other = acquireLock(context.Background(), sink, "_deltashare_state.lock", testTable, opts.LockTTL, clock.Now)
	}
	doSync(t, ft, sink, opts)
	assert.ErrorIs(t, other, ErrLocked, "another run is kept out while this one runs")
	assert.NoFileExists(t, filepath.Join(dest, "_deltashare_state.lock"))
}

func TestSyncLostLockRecordsNothing(t *testing.T) {
	t.Parallel()
	ft, dest, opts := syncedOnce(t, 1, true, formats.NDJSON)
	sink := NewLocalSink(dest)
	stateBefore := treeOf(t, dest)["_deltashare_state.json"]

	// Mid-run the lock expires and another run takes it.
	ft.publish(3)
	var lock string
	ft.beforeRecord = func(file, rec int) {
		if file == 1 {
			lock = writeLock(t, dest, "_deltashare_state.lock", t0.Add(time.Hour))
		}
	}
	res, err := Sync(context.Background(), ft, sink, opts)
	require.ErrorIs(t, err, ErrLocked)
	assert.Nil(t, res)
	assert.Contains(t, err.Error(), "this run lost the lock "+filepath.Join(dest, "_deltashare_state.lock")+" (it expired and another run took it); the state was not advanced")
	assert.Equal(t, stateBefore, treeOf(t, dest)["_deltashare_state.json"], "the state is unchanged")
	b, err := os.ReadFile(filepath.Join(dest, "_deltashare_state.lock"))
	require.NoError(t, err)
	assert.Equal(t, lock, string(b), "the other run's lock is left alone")
	assert.True(t, ft.allReleased())
	// None of the run's files was committed: it checks that it holds the lock before each.
	assert.Empty(t, under(listFiles(t, dest), "changes/"))
	assert.Empty(t, tempsUnder(t, dest))

	ft.beforeRecord = nil
	require.NoError(t, os.Remove(filepath.Join(dest, "_deltashare_state.lock")))
	res = doSync(t, ft, sink, opts)
	assert.Empty(t, res.Cleaned)
	st, _ := stateOf(t, dest, "_deltashare_state.json")
	assert.Equal(t, int64(2), st.Generation)
	assert.Equal(t, append([]string{"_deltashare_state.json"}, recorded(st)...), listFiles(t, dest))
}

func TestSyncStateAdvancedByAnotherRun(t *testing.T) {
	t.Parallel()
	ft, dest, opts := syncedOnce(t, 1, true, formats.NDJSON)
	sink := NewLocalSink(dest)

	// Mid-run another run (one that took the lock over, say) writes the state.
	ft.publish(3)
	var theirs *State
	ft.beforeRecord = func(file, rec int) {
		if theirs != nil {
			return
		}
		st, _ := stateOf(t, dest, "_deltashare_state.json")
		st.Generation, st.LastVersion = st.Generation+1, 3
		st.UpdatedAt = t0.Add(time.Minute)
		require.NoError(t, WriteState(context.Background(), sink, "_deltashare_state.json", st))
		theirs = st
	}
	res, err := Sync(context.Background(), ft, sink, opts)
	require.ErrorIs(t, err, ErrLocked)
	assert.Nil(t, res)
	assert.Equal(t, "sync destination is locked: another sync run advanced the state "+filepath.Join(dest, "_deltashare_state.json")+
		" while this one ran (generation 1, now 2); this run's files are not recorded: run sync again", err.Error())
	st, _ := stateOf(t, dest, "_deltashare_state.json")
	assert.Equal(t, theirs, st, "the other run's state stays")
	assert.NoFileExists(t, filepath.Join(dest, "_deltashare_state.lock"), "the lock is released")
}

func TestSyncReadFailureLeavesThePreviousState(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		fail func(ft *fakeTable)
		want string
	}{
		{"table info", func(ft *fakeTable) { ft.infoErr = errInjected }, "injected failure"},
		{"opening the changes", func(ft *fakeTable) { ft.openErr = errInjected }, "injected failure"},
		{"first file", func(ft *fakeTable) { ft.readErr, ft.readErrFile = errInjected, 0 }, "read the table: injected failure; no files written"},
		{"second record of the third file", func(ft *fakeTable) {
			ft.recordRows, ft.readErr, ft.readErrFile, ft.readErrRecord = 1, errInjected, 2, 1
		}, "read the table: injected failure; no files written"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ft := peopleTable(t, 1, true)
			dest, control := t.TempDir(), t.TempDir()
			opts := syncOpts(formats.NDJSON, newClock())
			doSync(t, ft, NewLocalSink(dest), opts)
			doSync(t, ft, NewLocalSink(control), opts)
			before := treeOf(t, dest)

			ft.publish(3)
			tc.fail(ft)
			res, err := Sync(context.Background(), ft, NewLocalSink(dest), opts)
			require.ErrorIs(t, err, errInjected)
			assert.Nil(t, res)
			assert.Contains(t, err.Error(), tc.want)
			assert.Equal(t, before, treeOf(t, dest), "the previous state, no files (final or temporary), no directory, no lock")
			assert.True(t, ft.allReleased())

			// The next run (the table moved on meanwhile) does the work; the destination is the
			// same as one where nothing failed.
			ft.infoErr, ft.openErr, ft.readErr, ft.recordRows = nil, nil, nil, 0
			ft.publish(4)
			res = doSync(t, ft, NewLocalSink(dest), opts)
			assert.Empty(t, res.Cleaned)
			doSync(t, ft, NewLocalSink(control), opts)
			assert.Equal(t, contents(t, control), contents(t, dest))
		})
	}
}

func TestSyncSinkFailureLeavesThePreviousState(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		sink *faultSink
		// left: the names a failed run leaves under the destination (besides its previous
		// files), with "TMP" for a temporary file's random part.
		left      []string
		wantErr   string
		moveOn    bool // the table has a new version before the rerun
		wantClean []string
	}{
		{"error committing the second file", &faultSink{failPart: 2}, nil,
			"commit DEST/changes/v=00000002-00000003/part-00001.parquet: injected failure; the 1 files already committed in this run were removed", false, nil},
		{"error writing the state", &faultSink{failState: true}, []string{
			"changes/v=00000002-00000003/part-00000.parquet", "changes/v=00000002-00000003/part-00001.parquet", "changes/v=00000002-00000003/part-00002.parquet"},
			"write the sync state (the files of this run are in place but not recorded; the next run writes them again): injected failure", false, []string{
				"changes/v=00000002-00000003/part-00000.parquet", "changes/v=00000002-00000003/part-00001.parquet", "changes/v=00000002-00000003/part-00002.parquet"}},
		{"killed after the first file", &faultSink{failPart: 2, kill: true}, []string{
			"_deltashare_state.lock",
			"changes/v=00000002-00000003/.part-00001.parquet.deltashare-tmp-TMP", "changes/v=00000002-00000003/.part-00002.parquet.deltashare-tmp-TMP",
			"changes/v=00000002-00000003/part-00000.parquet"}, "injected failure", false, []string{
			"changes/v=00000002-00000003/.part-00001.parquet.deltashare-tmp-TMP", "changes/v=00000002-00000003/.part-00002.parquet.deltashare-tmp-TMP",
			"changes/v=00000002-00000003/part-00000.parquet"}},
		{"killed after the first file, then the table moves on", &faultSink{failPart: 2, kill: true}, []string{
			"_deltashare_state.lock",
			"changes/v=00000002-00000003/.part-00001.parquet.deltashare-tmp-TMP", "changes/v=00000002-00000003/.part-00002.parquet.deltashare-tmp-TMP",
			"changes/v=00000002-00000003/part-00000.parquet"}, "injected failure", true, []string{
			"changes/v=00000002-00000003/.part-00001.parquet.deltashare-tmp-TMP", "changes/v=00000002-00000003/.part-00002.parquet.deltashare-tmp-TMP",
			"changes/v=00000002-00000003/part-00000.parquet"}},
		{"killed writing the state", &faultSink{failState: true, kill: true}, []string{
			"._deltashare_state.json.deltashare-tmp-TMP", "_deltashare_state.lock",
			"changes/v=00000002-00000003/part-00000.parquet", "changes/v=00000002-00000003/part-00001.parquet", "changes/v=00000002-00000003/part-00002.parquet"},
			"injected failure", false, []string{
				"changes/v=00000002-00000003/part-00000.parquet", "changes/v=00000002-00000003/part-00001.parquet", "changes/v=00000002-00000003/part-00002.parquet",
				"._deltashare_state.json.deltashare-tmp-TMP"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ft := peopleTable(t, 1, true)
			dest, control := t.TempDir(), t.TempDir()
			clock := newClock()
			opts := syncOpts(formats.Parquet, clock)
			doSync(t, ft, NewLocalSink(dest), opts)
			doSync(t, ft, NewLocalSink(control), opts)
			before := listFiles(t, dest)
			stateBefore := treeOf(t, dest)["_deltashare_state.json"]

			ft.publish(3)
			tc.sink.Sink = NewLocalSink(dest)
			res, err := Sync(context.Background(), ft, tc.sink, opts)
			require.ErrorIs(t, err, errInjected)
			assert.Nil(t, res)
			assert.Contains(t, err.Error(), strings.ReplaceAll(tc.wantErr, "DEST", dest))
			assert.True(t, ft.allReleased())
			assert.Equal(t, stateBefore, treeOf(t, dest)["_deltashare_state.json"], "the previous state")
			var left []string
			for _, n := range listFiles(t, dest) {
				if !contains(before, n) {
					if i := strings.Index(n, TempMarker); i >= 0 {
						n = n[:i+len(TempMarker)] + "TMP"
					}
					left = append(left, n)
				}
			}
			sort.Strings(left)
			assert.Equal(t, tc.left, left)
			if len(tc.left) == 0 {
				assert.NoDirExists(t, filepath.Join(dest, "changes"), "no directory either")
			}

			// The next run, later (a killed run's lock has expired by then), redoes the work under
			// the same names and removes what the failed run left.
			clock.Add(DefaultLockTTL + time.Second)
			if tc.moveOn {
				ft.publish(4)
			}
			res = doSync(t, ft, NewLocalSink(dest), opts)
			var cleaned []string
			for _, c := range res.Cleaned {
				rel, err := filepath.Rel(dest, c)
				require.NoError(t, err)
				rel = filepath.ToSlash(rel)
				if i := strings.Index(rel, TempMarker); i >= 0 {
					rel = rel[:i+len(TempMarker)] + "TMP"
				}
				cleaned = append(cleaned, rel)
			}
			assert.Equal(t, tc.wantClean, cleaned)
			assert.Empty(t, tempsUnder(t, dest), "no temporary file left")
			assert.NoFileExists(t, filepath.Join(dest, "_deltashare_state.lock"))
			doSync(t, ft, NewLocalSink(control), opts)
			assert.Equal(t, contents(t, control), contents(t, dest), "the same as a destination where nothing failed")
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestSyncCancelledMidRun(t *testing.T) {
	t.Parallel()
	for _, first := range []bool{true, false} {
		t.Run(fmt.Sprintf("first run %v", first), func(t *testing.T) {
			ft := peopleTable(t, 1, true)
			dest := t.TempDir()
			opts := syncOpts(formats.CSV, newClock())
			if !first {
				doSync(t, ft, NewLocalSink(dest), opts)
				ft.publish(3)
			}
			before := treeOf(t, dest)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ft.beforeRecord = func(file, rec int) {
				if file == 1 {
					cancel()
				}
			}
			res, err := Sync(ctx, ft, NewLocalSink(dest), opts)
			require.ErrorIs(t, err, context.Canceled)
			assert.Nil(t, res)
			assert.Contains(t, err.Error(), "export cancelled, no files written")
			assert.Equal(t, before, treeOf(t, dest), "no files, no directory, no lock, the previous state")
			assert.True(t, ft.allReleased())

			ft.beforeRecord = nil
			res = doSync(t, ft, NewLocalSink(dest), opts)
			assert.Empty(t, res.Cleaned)
		})
	}
}

func TestSyncShards(t *testing.T) {
	t.Parallel()
	dest := t.TempDir()
	clock := newClock()
	tables := make([]*fakeTable, 2)
	opts := make([]SyncOptions, 2)
	for i := range tables {
		tables[i] = peopleTable(t, 1, true)
		tables[i].shard = Shard{Index: i, Count: 2}
		opts[i] = syncOpts(formats.NDJSON, clock)
		opts[i].Shard = tables[i].shard
	}
	whole := peopleTable(t, 1, true)
	syncAll := func(v int64) {
		for i, ft := range tables {
			ft.publish(v)
			res := doSync(t, ft, NewLocalSink(dest), opts[i])
			assert.Equal(t, fmt.Sprintf("%d/2", i), res.Shard)
			assert.Empty(t, res.Cleaned)
		}
	}
	syncAll(1)
	syncAll(3)

	var snap, changes []string
	for i := range tables {
		st, raw := stateOf(t, dest, fmt.Sprintf("_deltashare_state.shard-%d-of-2.json", i))
		assert.Equal(t, fmt.Sprintf("%d/2", i), raw["shard"])
		assert.Equal(t, int64(3), st.LastVersion)
		require.NotEmpty(t, recorded(st))
		for _, f := range recorded(st) {
			assert.Regexp(t, fmt.Sprintf(`^(snapshot|changes)/v=[0-9-]+/part-shard-%d-of-2-[0-9]{5}\.ndjson$`, i), f)
		}
		snap = append(snap, under(recorded(st), "snapshot/")...)
		changes = append(changes, under(recorded(st), "changes/")...)
	}
	assert.Equal(t, fakeKeys(whole.snapshotFiles(1)), rowKeys(rowsOf(t, dest, formats.NDJSON, snap)), "the shards together are the table, each row once")
	assert.Equal(t, fakeKeys(whole.changeFiles(2, 3)), rowKeys(rowsOf(t, dest, formats.NDJSON, changes)))

	// Shard 0 dies mid-run; shard 1 and an unsharded sync to the same place leave its files alone.
	for _, ft := range tables {
		ft.publish(5)
	}
	killed := &faultSink{Sink: NewLocalSink(dest), failPart: 2, kill: true}
	_, err := Sync(context.Background(), tables[0], killed, opts[0])
	require.ErrorIs(t, err, errInjected)
	left := []string{}
	for _, n := range listFiles(t, dest) {
		if strings.HasPrefix(n, "changes/v=00000004-00000005/") {
			left = append(left, n)
		}
	}
	require.NotEmpty(t, left)
	res := doSync(t, tables[1], NewLocalSink(dest), opts[1])
	assert.Empty(t, res.Cleaned)
	whole.publish(5)
	unsharded := syncOpts(formats.NDJSON, clock)
	res = doSync(t, whole, NewLocalSink(dest), unsharded)
	assert.Equal(t, "snapshot", res.Action, "an unsharded sync has its own state")
	assert.Empty(t, res.Cleaned, "and does not touch the shards' files")
	for _, n := range left {
		assert.FileExists(t, filepath.Join(dest, n))
	}

	// Shard 0's next run (its lock expired) removes only its own leftovers: not the temporary
	// state file of the unsharded sync, say.
	otherTemp := filepath.Join(dest, "._deltashare_state.json"+TempMarker+"0123")
	require.NoError(t, os.WriteFile(otherTemp, []byte("{"), 0o644))
	clock.Add(DefaultLockTTL + time.Second)
	res = doSync(t, tables[0], NewLocalSink(dest), opts[0])
	var cleaned []string
	for _, c := range res.Cleaned {
		rel, _ := filepath.Rel(dest, c)
		cleaned = append(cleaned, filepath.ToSlash(rel))
	}
	assert.Equal(t, left, cleaned)
	assert.FileExists(t, otherTemp)
	require.NoError(t, os.Remove(otherTemp))
	var all []string
	for _, name := range []string{"_deltashare_state.shard-0-of-2.json", "_deltashare_state.shard-1-of-2.json", "_deltashare_state.json"} {
		st, _ := stateOf(t, dest, name)
		all = append(all, recorded(st)...)
		all = append(all, name)
	}
	sort.Strings(all)
	assert.Equal(t, all, listFiles(t, dest), "every file is recorded by one of the states")
}

func TestSyncResultText(t *testing.T) {
	t.Parallel()
	r := &SyncResult{Action: "changes", FromVersion: 13, ToVersion: 15, Dir: "s3://lake/t/changes/v=00000013-00000015/",
		Files: make([]string, 1200), Rows: 1234567, Bytes: 3 << 20, Seconds: 1.5, Cleaned: []string{"a", "b"}}
	assert.Equal(t, "exported the changes of versions 13 to 15: 1,234,567 rows to 1,200 files (3.0 MiB) in s3://lake/t/changes/v=00000013-00000015/ in 1.50s; state at version 15; removed 2 files left by an interrupted run", r.Text())
}

func TestSyncToBlobSink(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bucket := memblob.OpenBucket(nil)
	defer bucket.Close()
	keys := func() (final, tmp []string) {
		it := bucket.List(nil)
		for {
			obj, err := it.Next(ctx)
			if err == io.EOF {
				break
			}
			require.NoError(t, err)
			if strings.HasPrefix(obj.Key, "people/"+BlobTempDir) {
				tmp = append(tmp, obj.Key)
			} else {
				final = append(final, obj.Key)
			}
		}
		return final, tmp
	}
	prefixed := func(names []string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = "people/" + n
		}
		return out
	}
	readRows := func(sink *BlobSink, names []string) []map[string]string {
		var rows []map[string]string
		for _, n := range names {
			b, err := sink.ReadObject(ctx, n)
			require.NoError(t, err)
			_, r := decodeRows(t, "parquet", b)
			rows = append(rows, r...)
		}
		return rows
	}
	ft := peopleTable(t, 1, true)
	clock := newClock()
	opts := syncOpts(formats.Parquet, clock)
	sink := NewBlobSink(bucket, "people/", "mem://lake/people")

	res := doSync(t, ft, sink, opts)
	snap := []string{"snapshot/v=00000001/part-00000.parquet", "snapshot/v=00000001/part-00001.parquet",
		"snapshot/v=00000001/part-00002.parquet", "snapshot/v=00000001/part-00003.parquet"}
	assert.Equal(t, "mem://lake/people/snapshot/v=00000001/", res.Dir)
	assert.Equal(t, "mem://lake/people/_deltashare_state.json", res.State)
	assert.Equal(t, []string{"mem://lake/people/" + snap[0], "mem://lake/people/" + snap[1], "mem://lake/people/" + snap[2], "mem://lake/people/" + snap[3]}, res.Files)
	final, tmp := keys()
	assert.Equal(t, prefixed(append([]string{"_deltashare_state.json"}, snap...)), final, "no lock left")
	assert.Empty(t, tmp, "no temporary object left")
	assert.Equal(t, fakeKeys(ft.snapshotFiles(1)), rowKeys(readRows(sink, snap)))
	st, err := ReadState(ctx, sink, "_deltashare_state.json")
	require.NoError(t, err)
	assert.Equal(t, snap, recorded(st))
	stateBefore, err := sink.ReadObject(ctx, "_deltashare_state.json")
	require.NoError(t, err)

	// A failing run leaves neither final nor temporary objects.
	ft.publish(3)
	_, err = Sync(ctx, ft, &faultSink{Sink: NewBlobSink(bucket, "people/", "mem://lake/people"), failPart: 2}, opts)
	require.ErrorIs(t, err, errInjected)
	final, tmp = keys()
	assert.Equal(t, prefixed(append([]string{"_deltashare_state.json"}, snap...)), final)
	assert.Empty(t, tmp)

	// A killed one leaves the objects it committed, its temporary objects and its lock.
	_, err = Sync(ctx, ft, &faultSink{Sink: NewBlobSink(bucket, "people/", "mem://lake/people"), failPart: 2, kill: true}, opts)
	require.ErrorIs(t, err, errInjected)
	final, tmp = keys()
	assert.Equal(t, prefixed(append([]string{"_deltashare_state.json", "_deltashare_state.lock", "changes/v=00000002-00000003/part-00000.parquet"}, snap...)), final)
	assert.Len(t, tmp, 2, "uploaded, not committed")
	b, err := sink.ReadObject(ctx, "_deltashare_state.json")
	require.NoError(t, err)
	assert.Equal(t, string(stateBefore), string(b), "the previous state")

	// The next run (the lock expired) removes the leftover and redoes the work under the same names.
	clock.Add(DefaultLockTTL + time.Second)
	res = doSync(t, ft, NewBlobSink(bucket, "people/", "mem://lake/people"), opts)
	require.Len(t, res.Cleaned, 3)
	assert.Equal(t, "mem://lake/people/changes/v=00000002-00000003/part-00000.parquet", res.Cleaned[0])
	assert.Equal(t, []string{"mem://lake/" + tmp[0], "mem://lake/" + tmp[1]}, res.Cleaned[1:], "and the temporary objects of the killed run")
	changes := []string{"changes/v=00000002-00000003/part-00000.parquet", "changes/v=00000002-00000003/part-00001.parquet",
		"changes/v=00000002-00000003/part-00002.parquet"}
	st, err = ReadState(ctx, sink, "_deltashare_state.json")
	require.NoError(t, err)
	assert.Equal(t, int64(2), st.Generation)
	assert.Equal(t, append(changes, snap...), recorded(st))
	final, tmp = keys()
	assert.Equal(t, prefixed(append(append([]string{"_deltashare_state.json"}, changes...), snap...)), final)
	assert.Empty(t, tmp, "a killed run's temporary objects are removed")
	assert.Equal(t, fakeKeys(ft.changeFiles(2, 3)), rowKeys(readRows(sink, changes)))

	// Up to date: nothing written.
	before, _ := keys()
	stateBefore, err = sink.ReadObject(ctx, "_deltashare_state.json")
	require.NoError(t, err)
	res = doSync(t, ft, sink, opts)
	assert.Equal(t, "up-to-date", res.Action)
	after, _ := keys()
	assert.Equal(t, before, after)
	b, err = sink.ReadObject(ctx, "_deltashare_state.json")
	require.NoError(t, err)
	assert.Equal(t, string(stateBefore), string(b))
}

func TestSyncTinyLockTTL(t *testing.T) {
	// A lock TTL under 3ns once made the refresh ticker's interval 0, and NewTicker panicked in
	// the refresh goroutine, killing the process.
	t.Parallel()
	for _, ttl := range []time.Duration{time.Nanosecond, 2 * time.Nanosecond} {
		ft := peopleTable(t, 1, true)
		opts := syncOpts(formats.CSV, newClock())
		opts.LockTTL = ttl
		res := doSync(t, ft, NewLocalSink(t.TempDir()), opts)
		assert.Equal(t, "snapshot", res.Action)
	}
}

func TestSyncEmptySnapshotAndEmptyRange(t *testing.T) {
	// An empty table gives one file with the header; a range whose commits hold no data (a
	// metadata-only commit, or none of the shard's files) gives one empty file too, and the
	// state moves on.
	t.Parallel()
	ft := newFakeTable(t, 0, true,
		fakeCommit{Columns: peopleColumns()},
		fakeCommit{},
		fakeCommit{Files: [][]fakeChange{{{"insert", fakeRow{"id": int64(1), "name": "a"}}}}},
	)
	dest := t.TempDir()
	sink := NewLocalSink(dest)
	opts := syncOpts(formats.CSV, newClock())
	res := doSync(t, ft, sink, opts)
	assert.Equal(t, locations(dest, []string{"snapshot/v=00000000/part-00000.csv"}), res.Files)
	assert.Equal(t, int64(0), res.Rows)
	assert.Equal(t, [][]string{{"id", "name"}}, readCSV(t, filepath.Join(dest, "snapshot/v=00000000/part-00000.csv")))

	ft.publish(1)
	res = doSync(t, ft, sink, opts)
	assert.Equal(t, "changes", res.Action)
	assert.Equal(t, locations(dest, []string{"changes/v=00000001-00000001/part-00000.csv"}), res.Files)
	assert.Equal(t, [][]string{{"id", "name", "_change_type", "_commit_version", "_commit_timestamp"}},
		readCSV(t, filepath.Join(dest, "changes/v=00000001-00000001/part-00000.csv")))
	st, _ := stateOf(t, dest, "_deltashare_state.json")
	assert.Equal(t, int64(1), st.LastVersion)

	ft.publish(2)
	res = doSync(t, ft, sink, opts)
	assert.Equal(t, int64(2), res.FromVersion)
	assert.Equal(t, int64(1), res.Rows)
	assert.Equal(t, []string{"1|a||insert|2"}, rowKeys(rowsOf(t, dest, formats.CSV, []string{"changes/v=00000002-00000002/part-00000.csv"})))
}
