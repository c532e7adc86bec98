package export_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/export"
	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/deltashare/deltashare/sharing/reader"
)

// The S3 round trip: the lake table is kept in the in-process fake S3 (conditional writes with
// If-None-Match), copied down after every run and read back both ways.
func TestSyncDeltaToS3(t *testing.T) {
	backend, query := export.FakeS3(t)
	e := newLakeEnv(t, lakeSource(t, "kernel-cdf/cdf-table"), false)
	ctx := context.Background()
	open := func() *export.BlobSink {
		sink, name, err := export.OpenBlobSink(ctx, "s3://lake/tables/cdf/"+query)
		require.NoError(t, err)
		require.Equal(t, "", name)
		t.Cleanup(func() { sink.Close() })
		return sink
	}
	download := func() string {
		dir := filepath.Join(t.TempDir(), "copy")
		res, err := backend.ListBucket("lake", &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
		require.NoError(t, err)
		for _, c := range res.Contents {
			rel, ok := strings.CutPrefix(c.Key, "tables/cdf/")
			require.True(t, ok, c.Key)
			if strings.HasPrefix(rel, export.BlobTempDir) {
				continue
			}
			obj, err := backend.GetObject("lake", c.Key, nil)
			require.NoError(t, err)
			p := filepath.Join(dir, filepath.FromSlash(rel))
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			f, err := os.Create(p)
			require.NoError(t, err)
			_, err = f.ReadFrom(obj.Contents)
			require.NoError(t, err)
			require.NoError(t, f.Close())
			obj.Contents.Close()
		}
		return dir
	}
	o := e.opts()
	o.Lake.CheckpointInterval = 2
	v := int64(0)
	for {
		res, err := export.Sync(ctx, export.NewSharedTable(e.client, e.table, reader.ReadOptions{}), open(), o)
		require.NoError(t, err)
		require.Equal(t, v, res.ToVersion)
		require.True(t, strings.HasPrefix(res.State, "s3://lake/tables/cdf/_delta_log"), res.State)
		e.dest = download()
		e.checkMirror(t, v)
		next, ok := e.src.advance(t)
		if !ok {
			break
		}
		v = next
	}
	_, err := os.Stat(filepath.Join(e.dest, "_delta_log", "_last_checkpoint"))
	require.NoError(t, err, "checkpoints are written to the bucket")

	// A second writer of an existing version fails: the commit is a conditional write.
	sink := open()
	before, err := sink.ReadObject(ctx, "_delta_log/"+padVersion(0)+".json")
	require.NoError(t, err)
	created, err := sink.CreateExclusive(ctx, "_delta_log/"+padVersion(0)+".json", []byte(`{"commitInfo":{}}`+"\n"))
	require.NoError(t, err)
	require.False(t, created, "If-None-Match refuses to replace a commit")
	after, err := sink.ReadObject(ctx, "_delta_log/"+padVersion(0)+".json")
	require.NoError(t, err)
	require.Equal(t, before, after)
}

func TestSyncDeltaVacuum(t *testing.T) {
	e := newLakeEnv(t, lakeSource(t, "kernel-cdf/cdf-table"), false)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	o := e.opts()
	o.Now = func() time.Time { return now }
	e.sync(t, o)
	v, _ := e.src.advance(t)
	res := e.sync(t, o)
	require.Positive(t, res.Lake.Removed)
	removed := map[string]bool{}
	for p := range replayLogAll(t, e.dest) {
		if _, ok := replayLog(t, e.dest).files[p]; !ok {
			removed[p] = true
		}
	}
	require.NotEmpty(t, removed)

	o.Lake.Vacuum = time.Hour
	_, err := export.Sync(context.Background(), export.NewSharedTable(e.client, e.table, reader.ReadOptions{}), export.NewLocalSink(e.dest), o)
	require.ErrorContains(t, err, "below 24h0m0s")

	o.Lake.Vacuum = 48 * time.Hour
	now = now.Add(24 * time.Hour)
	res = e.sync(t, o)
	require.Empty(t, res.Lake.Vacuumed, "files removed a day ago are kept with a retention of two days")
	now = now.Add(25 * time.Hour)
	res = e.sync(t, o)
	require.Equal(t, "up-to-date", res.Action)
	require.Len(t, res.Lake.Vacuumed, len(removed))
	require.Contains(t, res.Text(), "vacuum deleted")
	for p := range removed {
		_, err := os.Stat(filepath.Join(e.dest, p))
		require.True(t, os.IsNotExist(err), "%s vacuumed", p)
	}
	e.checkMirror(t, v)

	// The next checkpoint leaves out the tombstones past the retention.
	o.Lake.CheckpointInterval = 2
	v, _ = e.src.advance(t)
	res = e.sync(t, o)
	require.True(t, res.Lake.Checkpoint)
	cp, err := os.ReadFile(filepath.Join(e.dest, "_delta_log", padVersion(*res.Lake.CommitVersion)+".checkpoint.parquet"))
	require.NoError(t, err)
	pr := parquet.NewGenericReader[replayRow](bytes.NewReader(cp))
	rows := make([]replayRow, pr.NumRows())
	n, err := pr.Read(rows)
	if err != io.EOF {
		require.NoError(t, err)
	}
	require.NoError(t, pr.Close())
	for _, r := range rows[:n] {
		if r.Remove != nil {
			require.False(t, removed[r.Remove.Path], "the vacuumed file %s is no longer a tombstone", r.Remove.Path)
		}
	}
	e.checkMirror(t, v)
	checkNoOrphans(t, e.dest)
}

// sourceFileCount is the number of data files of the source at version v.
func (e *lakeEnv) sourceFileCount(t *testing.T, v int64) int {
	res, err := e.client.Query(context.Background(), e.table, protocol.QueryRequest{Version: &v})
	require.NoError(t, err)
	return len(res.Files)
}

func TestSyncDeltaCoalescesSmallFiles(t *testing.T) {
	src := lakeSource(t, "kernel-cdf/cdf-table")
	t.Run("default target: small source files of a partition share a data file", func(t *testing.T) {
		e := newLakeEnv(t, src, false)
		n := e.sourceFileCount(t, 0)
		e.sync(t, e.opts())
		st := replayLog(t, e.dest)
		require.Less(t, len(st.files), n, "fewer data files than source files")
		ids := 0
		for _, f := range st.files {
			lf := readAddTags(t, e.dest, f.Path)
			ids += len(strings.Split(lf[export.TagSourceFileID], ","))
		}
		require.Equal(t, n, ids, "every source file is named in the tags of one data file")
		// Later versions remove source files whose rows share data files with others: those
		// data files are replaced, the others' rows written again.
		growAndCheck(t, e, e.opts())
	})
	t.Run("one data file per source file", func(t *testing.T) {
		e := newLakeEnv(t, src, false)
		o := e.opts()
		o.Lake.TargetFileSize = -1
		n := e.sourceFileCount(t, 0)
		e.sync(t, o)
		require.Len(t, replayLog(t, e.dest).files, n)
		growAndCheck(t, e, o)
	})
	t.Run("one partition written at a time", func(t *testing.T) {
		e := newLakeEnv(t, lakeSource(t, "dat/multi_partitioned"), false)
		o := e.opts()
		export.SetLakeMaxOpen(&o.Lake, 1)
		growAndCheck(t, e, o)
	})
	t.Run("tiny target", func(t *testing.T) {
		e := newLakeEnv(t, src, false)
		o := e.opts()
		o.Lake.TargetFileSize = 1
		e.sync(t, o)
		require.Len(t, replayLog(t, e.dest).files, e.sourceFileCount(t, 0), "a source file already reaches the target")
	})
}

// readAddTags returns the tags of the add action of path in the log.
func readAddTags(t *testing.T, dest, path string) map[string]string {
	for _, line := range commitLines(t, dest) {
		var a struct {
			Add *struct {
				Path string            `json:"path"`
				Tags map[string]string `json:"tags"`
			} `json:"add"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &a))
		if a.Add != nil && a.Add.Path == path {
			return a.Add.Tags
		}
	}
	t.Fatalf("no add of %s", path)
	return nil
}

func TestSyncDeltaDryRunWritesNothing(t *testing.T) {
	e := newLakeEnv(t, lakeSource(t, "kernel-cdf/cdf-table"), false)
	o := e.opts()
	o.DryRun = true
	res := e.sync(t, o)
	require.True(t, res.DryRun)
	require.Equal(t, "snapshot", res.Action)
	require.Contains(t, res.Text(), "dry run: would write the table at version 0")
	_, err := os.Stat(e.dest)
	require.True(t, os.IsNotExist(err), "nothing written")

	e.sync(t, e.opts())
	v, _ := e.src.advance(t)
	before := replayLog(t, e.dest)
	res = e.sync(t, o)
	require.Equal(t, "changes", res.Action)
	require.Equal(t, v, res.ToVersion)
	require.Contains(t, res.Text(), "dry run: would apply the changes of versions 1 to 1")
	after := replayLog(t, e.dest)
	require.Equal(t, before.version, after.version)
	require.Equal(t, before.files, after.files)
}

// countProgress adds up what a run reports.
type countProgress struct {
	started, finished int
	rows, bytes       int64
	files             int
}

func (p *countProgress) Start(int64, int64) { p.started++ }
func (p *countProgress) Add(rows, bytes int64, files int) {
	p.rows, p.bytes, p.files = p.rows+rows, p.bytes+bytes, p.files+files
}
func (p *countProgress) Finish() { p.finished++ }

func TestSyncDeltaReportsProgress(t *testing.T) {
	e := newLakeEnv(t, lakeSource(t, "kernel-cdf/cdf-table"), false)
	for {
		p := &countProgress{}
		o := e.opts()
		o.Progress = p
		res := e.sync(t, o)
		if res.Lake.Added > 0 {
			require.Equal(t, 1, p.started)
			require.Equal(t, 1, p.finished)
		}
		require.Equal(t, res.Rows, p.rows)
		require.Equal(t, res.Bytes, p.bytes)
		require.Equal(t, res.Lake.Added, p.files)
		if _, ok := e.src.advance(t); !ok {
			break
		}
	}
}
