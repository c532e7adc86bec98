package deltalog

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const minimalMeta = `{"metaData":{"id":"x","format":{"provider":"parquet"},"schemaString":"{\"type\":\"struct\",\"fields\":[{\"name\":\"a\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}}]}","partitionColumns":[],"configuration":{}}}`
const minimalProto = `{"protocol":{"minReaderVersion":1,"minWriterVersion":2}}`

func TestAbsPath(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "table")
	outside := filepath.Join(base, "secret")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "x=a b"), 0o755))
	require.NoError(t, os.MkdirAll(outside, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(outside, "f.parquet"), []byte("x"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "x=a b", "p.parquet"), []byte("x"), 0o644))
	require.NoError(t, os.Symlink(outside, filepath.Join(root, "link")))
	require.NoError(t, os.Symlink(filepath.Join(outside, "gone"), filepath.Join(root, "dangling")))
	require.NoError(t, os.Symlink(filepath.Join(root, "x=a b"), filepath.Join(root, "inner")))
	writeCommit(t, root, 0, minimalProto, minimalMeta)
	tbl := mustOpen(t, root)
	realRoot, err := filepath.EvalSymlinks(root)
	require.NoError(t, err)
	_ = realRoot

	for _, tc := range []struct {
		in   string
		want string // relative to root; "" means refused
	}{
		{"x=a%20b/p.parquet", "x=a b/p.parquet"},
		{"x=a b/p.parquet", "x=a b/p.parquet"},
		{"part-0.parquet", "part-0.parquet"}, // need not exist
		{"inner/p.parquet", "inner/p.parquet"},
		{"file://" + filepath.ToSlash(filepath.Join(root, "x=a b", "p.parquet")), "x=a b/p.parquet"},
		{filepath.Join(root, "part-0.parquet"), "part-0.parquet"},
		{"../secret/f.parquet", ""},
		{"x=a b/../../secret/f.parquet", ""},
		{"%2e%2e/secret/f.parquet", ""},
		{"%2E%2E%2Fsecret%2Ff.parquet", ""},
		{filepath.Join(outside, "f.parquet"), ""},
		{"file://" + filepath.ToSlash(filepath.Join(outside, "f.parquet")), ""},
		{"file://otherhost/x.parquet", ""},
		{"s3://bucket/x.parquet", ""},
		{"link/f.parquet", ""},
		{"link/new.parquet", ""},
		{"dangling", ""},
		{"bad%zzescape", ""},
		{"", ""},
	} {
		got, err := tbl.AbsPath(tc.in)
		if tc.want == "" {
			assert.Error(t, err, "%q should be refused, got %q", tc.in, got)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, filepath.Join(root, filepath.FromSlash(tc.want)), got, tc.in)
	}
}

// A table opened through a symbolic link resolves its files inside wherever the link leads
// (now: it may be re-pointed while served), and refuses links inside it that lead out.
func TestAbsPathRootThroughLink(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "table")
	other := filepath.Join(base, "other")
	outside := filepath.Join(base, "secret")
	for _, d := range []string{root, other, outside} {
		require.NoError(t, os.MkdirAll(filepath.Join(d, "p=1"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(d, "p=1", "f.parquet"), []byte("x"), 0o644))
	}
	require.NoError(t, os.Symlink(filepath.Join(outside, "p=1"), filepath.Join(other, "p=2")))
	alias := filepath.Join(base, "alias")
	require.NoError(t, os.Symlink(root, alias))
	writeCommit(t, root, 0, minimalProto, minimalMeta)
	tbl := mustOpen(t, alias)

	got, err := tbl.AbsPath("p=1/f.parquet")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(alias, "p=1", "f.parquet"), got)
	_, err = tbl.AbsPath("p=2/f.parquet")
	require.NoError(t, err, "need not exist")

	require.NoError(t, os.Remove(alias))
	require.NoError(t, os.Symlink(other, alias))
	got, err = tbl.AbsPath("p=1/f.parquet")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(alias, "p=1", "f.parquet"), got)
	_, err = tbl.AbsPath("p=2/f.parquet")
	assert.ErrorContains(t, err, "symbolic link", "a link in the new target leading out of it")
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	_, err := Open(ctx, filepath.Join(dir, "missing"))
	assert.True(t, errors.Is(err, ErrNotDeltaTable), "%v", err)
	assert.Contains(t, err.Error(), "does not exist")

	_, err = Open(ctx, dir)
	assert.True(t, errors.Is(err, ErrNotDeltaTable), "%v", err)
	assert.Contains(t, err.Error(), "no _delta_log")

	require.NoError(t, os.Mkdir(filepath.Join(dir, "_delta_log"), 0o755))
	_, err = Open(ctx, dir)
	assert.True(t, errors.Is(err, ErrNotDeltaTable), "%v", err)

	writeCommit(t, dir, 0, minimalProto, minimalMeta)
	tbl, err := Open(ctx, dir)
	require.NoError(t, err)
	_, err = tbl.Snapshot(ctx, 5)
	assert.True(t, errors.Is(err, ErrVersionNotFound), "%v", err)
	assert.Contains(t, err.Error(), "latest version is 0")

	// Through OpenStorage with a sub-directory.
	s, err := NewDirStorage(filepath.Dir(dir))
	require.NoError(t, err)
	tbl, err = OpenStorage(ctx, s, filepath.Base(dir))
	require.NoError(t, err)
	snap, err := tbl.Snapshot(ctx, -1)
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, snap.Schema.FieldNames())
	_, err = OpenStorage(ctx, s, "../x")
	assert.Error(t, err)
}

// Vacuumed history: versions older than the earliest checkpoint are refused with a clear error.
func TestVacuumedVersions(t *testing.T) {
	ctx := context.Background()
	tbl := mustOpen(t, realTables(t)["delta-rs/checkpoints_vacuumed"])
	_, err := tbl.Snapshot(ctx, 4)
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrVersionNotFound))
	assert.Contains(t, err.Error(), "earliest readable version is 5")
	s, err := tbl.Snapshot(ctx, 5)
	require.NoError(t, err)
	assert.Equal(t, int64(5), s.Version)
}

// A new commit is seen by the next Snapshot and applied on top of the cached state.
func TestSnapshotSeesNewCommits(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	add := func(p string, n int) string {
		return `{"add":{"path":"` + p + `","partitionValues":{},"size":1,"modificationTime":1,"dataChange":true,"stats":"{\"numRecords\":` + string(rune('0'+n)) + `}"}}`
	}
	writeCommit(t, dir, 0, `{"commitInfo":{"timestamp":1000}}`, minimalProto, minimalMeta, add("a%20b.parquet", 1), add("c.parquet", 2))
	tbl := mustOpen(t, dir)
	s0, err := tbl.Snapshot(ctx, -1)
	require.NoError(t, err)
	require.Len(t, s0.Files, 2)

	// Remove with a differently escaped but equal path; add a file with a deletion vector.
	writeCommit(t, dir, 1, `{"commitInfo":{"timestamp":2000}}`,
		`{"remove":{"path":"a b.parquet","dataChange":true}}`,
		`{"add":{"path":"c.parquet","partitionValues":{},"size":1,"modificationTime":1,"dataChange":true,"deletionVector":{"storageType":"u","pathOrInlineDv":"ab^-aqEH.-t@S}K{vb[*k^","offset":4,"sizeInBytes":40,"cardinality":1}}}`,
		`{"remove":{"path":"c.parquet","dataChange":true}}`)
	s1, err := tbl.Snapshot(ctx, -1)
	require.NoError(t, err)
	assert.Equal(t, int64(1), s1.Version)
	fresh, err := mustOpen(t, dir).Snapshot(ctx, -1)
	require.NoError(t, err)
	assert.Equal(t, fresh.Files, s1.Files)
	// The remove without a deletion vector removes the entry without one (a deletion vector
	// update); the entry with the vector stays. "a b.parquet" matched "a%20b.parquet".
	require.Len(t, s1.Files, 1)
	assert.Equal(t, "c.parquet", s1.Files[0].Path)
	require.NotNil(t, s1.Files[0].DeletionVector)
	again, err := tbl.Snapshot(ctx, 0)
	require.NoError(t, err)
	assert.Len(t, again.Files, 2, "older versions are still readable")

	writeCommit(t, dir, 2, `{"commitInfo":{"timestamp":3000}}`,
		`{"add":{"path":"c.parquet","partitionValues":{},"size":1,"modificationTime":1,"dataChange":true,"deletionVector":{"storageType":"u","pathOrInlineDv":"ab^-aqEH.-t@S}K{vb[*k^","offset":4,"sizeInBytes":40,"cardinality":1}}}`,
		`{"add":{"path":"c.parquet","partitionValues":{},"size":1,"modificationTime":1,"dataChange":true}}`)
	s2, err := tbl.Snapshot(ctx, -1)
	require.NoError(t, err)
	require.Len(t, s2.Files, 2, "the same path with and without a deletion vector are distinct entries")
	assert.Nil(t, s2.Files[0].DeletionVector, "sorted by path, then deletion vector id (none first)")
}
