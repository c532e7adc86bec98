package export

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidName(t *testing.T) {
	for _, ok := range []string{"a", "a/b.csv", "region=EMEA/part-00000.csv", "-", ".hidden", "a..b"} {
		assert.NoError(t, ValidName(ok), ok)
	}
	for _, bad := range []string{"", ".", "..", "../x", "a/../b", "/abs", "a//b", "a/", "./a", `a\b`, "a\x00b"} {
		assert.Error(t, ValidName(bad), bad)
	}
}

func TestLocalSinkCommit(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := NewLocalSink(dir)
	o, err := s.Create(ctx, "sub/x.csv")
	require.NoError(t, err)
	_, err = o.Write([]byte("hello\n"))
	require.NoError(t, err)

	files := listFiles(t, dir)
	require.Len(t, files, 1)
	assert.True(t, strings.HasPrefix(files[0], "sub/.x.csv"+TempMarker), files[0])
	ok, err := s.Exists(ctx, "sub/x.csv")
	require.NoError(t, err)
	assert.False(t, ok, "nothing under the final name before Commit")

	require.NoError(t, o.Commit())
	assert.Equal(t, []string{"sub/x.csv"}, listFiles(t, dir))
	assert.Equal(t, "hello\n", readFile(t, filepath.Join(dir, "sub", "x.csv")))
	ok, err = s.Exists(ctx, "sub/x.csv")
	require.NoError(t, err)
	assert.True(t, ok)

	// The mode is DefaultFileMode under the umask: compare with a file made the same way.
	ref := filepath.Join(t.TempDir(), "ref")
	f, err := os.OpenFile(ref, os.O_CREATE|os.O_WRONLY, DefaultFileMode)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	want, err := os.Stat(ref)
	require.NoError(t, err)
	got, err := os.Stat(filepath.Join(dir, "sub", "x.csv"))
	require.NoError(t, err)
	assert.Equal(t, want.Mode().Perm(), got.Mode().Perm())

	_, err = o.Write([]byte("more"))
	assert.Error(t, err, "write after commit")
	assert.NoError(t, o.Abort(), "abort after commit does nothing")
	assert.Equal(t, "hello\n", readFile(t, filepath.Join(dir, "sub", "x.csv")))
	assert.Error(t, o.Commit(), "second commit")
}

func TestLocalSinkFileMode(t *testing.T) {
	dir := t.TempDir()
	s := &LocalSink{Dir: dir, FileMode: 0o600}
	o, err := s.Create(context.Background(), "x")
	require.NoError(t, err)
	require.NoError(t, o.Commit())
	fi, err := os.Stat(filepath.Join(dir, "x"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

func TestLocalSinkReplaces(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "x.csv"), "old")
	s := NewLocalSink(dir)
	o, err := s.Create(context.Background(), "x.csv")
	require.NoError(t, err)
	_, err = o.Write([]byte("new"))
	require.NoError(t, err)
	assert.Equal(t, "old", readFile(t, filepath.Join(dir, "x.csv")))
	require.NoError(t, o.Commit())
	assert.Equal(t, "new", readFile(t, filepath.Join(dir, "x.csv")))
}

func TestLocalSinkAbort(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "new")
	s := NewLocalSink(root)
	a, err := s.Create(ctx, "a=1/b=2/x.csv")
	require.NoError(t, err)
	b, err := s.Create(ctx, "a=1/y.csv")
	require.NoError(t, err)
	_, err = a.Write([]byte("data"))
	require.NoError(t, err)
	require.NoError(t, a.Abort())
	require.NoError(t, a.Abort(), "idempotent")
	assert.Len(t, listFiles(t, root), 1, "b's temp file stays")
	_, err = a.Write([]byte("x"))
	assert.Error(t, err)
	require.NoError(t, b.Abort())
	_, err = os.Stat(root)
	assert.True(t, os.IsNotExist(err), "directories the sink created are removed when left empty")

	// A directory that existed before is kept.
	pre := t.TempDir()
	s = NewLocalSink(pre)
	c, err := s.Create(ctx, "c.csv")
	require.NoError(t, err)
	require.NoError(t, c.Abort())
	_, err = os.Stat(pre)
	assert.NoError(t, err)
}

func TestLocalSinkListRemove(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, n := range []string{"b.csv", "a.csv", "r=1/p.csv", "r=1/s=2/q.csv", "rx/z.csv"} {
		writeFile(t, filepath.Join(dir, filepath.FromSlash(n)), n)
	}
	s := NewLocalSink(dir)
	names, err := s.List(ctx, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"a.csv", "b.csv", "r=1/p.csv", "r=1/s=2/q.csv", "rx/z.csv"}, names)
	names, err = s.List(ctx, "r=1/")
	require.NoError(t, err)
	assert.Equal(t, []string{"r=1/p.csv", "r=1/s=2/q.csv"}, names)
	names, err = s.List(ctx, "missing/")
	require.NoError(t, err)
	assert.Empty(t, names)
	names, err = NewLocalSink(filepath.Join(dir, "nope")).List(ctx, "")
	require.NoError(t, err)
	assert.Empty(t, names)

	require.NoError(t, s.Remove(ctx, "r=1/s=2/q.csv"))
	require.NoError(t, s.Remove(ctx, "r=1/s=2/q.csv"), "removing a missing file is fine")
	_, err = os.Stat(filepath.Join(dir, "r=1", "s=2"))
	assert.True(t, os.IsNotExist(err), "emptied directory removed")
	_, err = os.Stat(filepath.Join(dir, "r=1"))
	assert.NoError(t, err, "non-empty directory kept")
	_, err = os.Stat(dir)
	assert.NoError(t, err, "the root is never removed")

	for _, bad := range []string{"../x", "/etc/passwd"} {
		_, err := s.Create(ctx, bad)
		assert.Error(t, err)
		assert.Error(t, s.Remove(ctx, bad))
		_, err = s.Exists(ctx, bad)
		assert.Error(t, err)
	}
}

// TestLocalSinkRemoveDropsTheRootItCreated: removing the last file of a destination that the sink
// created (a sync whose lock was its only file, and the run failed) removes the destination and
// the parents the sink created too; a root that existed before stays (TestLocalSinkListRemove).
func TestLocalSinkRemoveDropsTheRootItCreated(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	root := filepath.Join(base, "a", "b")
	s := NewLocalSink(root)
	created, err := s.CreateExclusive(ctx, "_lock", []byte("x"))
	require.NoError(t, err)
	require.True(t, created)
	o, err := s.Create(ctx, "sub/part.csv")
	require.NoError(t, err)
	require.NoError(t, o.Commit())

	require.NoError(t, s.Remove(ctx, "_lock"))
	_, err = os.Stat(filepath.Join(root, "sub", "part.csv"))
	require.NoError(t, err, "a root with files left is kept")
	require.NoError(t, s.Remove(ctx, "sub/part.csv"))
	ents, err := os.ReadDir(base)
	require.NoError(t, err)
	assert.Empty(t, ents, "the emptied root and the parent the sink created are removed")
}

func TestStreamSink(t *testing.T) {
	ctx := context.Background()
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	s := NewStreamSink(bw)
	o, err := s.Create(ctx, "-")
	require.NoError(t, err)
	_, err = o.Write([]byte("abc"))
	require.NoError(t, err)
	assert.Empty(t, buf.String(), "still buffered")
	require.NoError(t, o.Commit())
	assert.Equal(t, "abc", buf.String(), "Commit flushes")
	_, err = s.Create(ctx, "-")
	assert.ErrorContains(t, err, "single file")
	ok, err := s.Exists(ctx, "-")
	assert.NoError(t, err)
	assert.False(t, ok)
	assert.Error(t, s.Remove(ctx, "-"))
	assert.Equal(t, "-", s.Location("x"))
}

func TestOpenSink(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "existing"), 0o755))
	tests := []struct {
		output   string
		wantDir  string // LocalSink.Dir, "" for a StreamSink
		wantBase string
		wantErr  string
	}{
		{"-", "", "-", ""},
		{dir + "/out.csv", dir, "out.csv", ""},
		{dir + "/new/", dir + "/new", "", ""},
		{dir + "/existing", dir + "/existing", "", ""},
		{dir + "/a/../out.csv", dir, "out.csv", ""},
		{"out.csv", ".", "out.csv", ""},
		{".", ".", "", ""},
		{"", "", "", "no output given"},
		{"ftp://host/path/", "", "", "unknown kind"},
	}
	for _, tc := range tests {
		t.Run(tc.output, func(t *testing.T) {
			sink, base, err := OpenSink(tc.output)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantBase, base)
			if tc.wantDir == "" {
				assert.IsType(t, &StreamSink{}, sink)
				return
			}
			require.IsType(t, &LocalSink{}, sink)
			assert.Equal(t, filepath.Clean(tc.wantDir), sink.(*LocalSink).Dir)
		})
	}
}

// TestLocalSinkOutputIsAFile: an output folder (or a folder above it) that exists as a file is
// refused by name, with what to do next, before anything is written; the file is untouched.
func TestLocalSinkOutputIsAFile(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "afile")
	require.NoError(t, os.WriteFile(file, []byte("x\n"), 0o644))
	for _, dir := range []string{file, filepath.Join(file, "below")} {
		s := NewLocalSink(dir)
		_, err := s.Create(ctx, "part.csv")
		require.Error(t, err)
		assert.Contains(t, err.Error(), file+" is a file, not a folder: choose another output")
		assert.NotContains(t, err.Error(), TempMarker, "no temporary name in the message")
		_, err = s.CreateExclusive(ctx, "_deltashare_state.lock", []byte("{}"))
		require.Error(t, err)
		assert.Contains(t, err.Error(), file+" is a file, not a folder: choose another output")
		_, err = s.ReadObject(ctx, "_deltashare_state.lock")
		require.Error(t, err)
		assert.Contains(t, err.Error(), file+" is a file, not a folder: choose another output")
	}
	got, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, "x\n", string(got))
}

// TestLocalSinkCreateExclusive: a Delta commit's name below folders that do not exist yet is
// created with its folders (any sink wrapper, not only the lake's, may call it); a second
// create of the name is refused and keeps the first content; no temporary file is left.
func TestLocalSinkCreateExclusive(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "table")
	s := NewLocalSink(dir)
	name := "_delta_log/00000000000000000000.json"
	ok, err := s.CreateExclusive(ctx, name, []byte("first\n"))
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = s.CreateExclusive(ctx, name, []byte("second\n"))
	require.NoError(t, err)
	assert.False(t, ok, "the name exists")
	got, err := os.ReadFile(filepath.Join(dir, "_delta_log", "00000000000000000000.json"))
	require.NoError(t, err)
	assert.Equal(t, "first\n", string(got))
	entries, err := os.ReadDir(filepath.Join(dir, "_delta_log"))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left")
}
