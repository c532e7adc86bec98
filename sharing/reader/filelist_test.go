package reader

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func listOf(t *testing.T, changes bool, files ...protocol.File) (*fileList, error) {
	t.Helper()
	dir := t.TempDir()
	l, err := newFileList(dir, changes, nil, nil)
	require.NoError(t, err)
	t.Cleanup(func() {
		l.close()
		left, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Empty(t, left, "the file list's temporary file is removed")
	})
	for _, f := range files {
		require.NoError(t, l.add(f))
	}
	return l, l.seal()
}

func TestFileListRoundTrip(t *testing.T) {
	v, ts, exp := int64(7), int64(1700000000000), int64(1800000000000)
	off := int32(1)
	files := []protocol.File{
		{Kind: protocol.FileAdd, ID: "a", URL: "https://x/a?sig=1", PartitionValues: map[string]string{"region": "Europe", "empty": ""},
			Size: 10, Stats: `{"numRecords":3}`, Version: &v, Timestamp: &ts, ExpirationTimestamp: &exp,
			DeletionVector:       &delta.DeletionVector{StorageType: "u", PathOrInlineDV: "ab", Offset: &off, SizeInBytes: 3, Cardinality: 1},
			DeletionVectorFileID: "dv", ModificationTime: 5, DataChange: true, Tags: map[string]string{"k": "v"}},
		{Kind: protocol.FileAdd, ID: "b", URL: "https://x/b", Size: 20},
	}
	l, err := listOf(t, false, files...)
	require.NoError(t, err)
	require.Equal(t, 2, l.len())
	for i, want := range files {
		got, err := l.get(i)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	assert.Equal(t, int64(30), l.bytes)
	assert.Equal(t, int64(-1), l.rows, "a file without statistics makes the row total unknown")
	require.NotNil(t, l.firstVersion)
	assert.Equal(t, v, *l.firstVersion)

	// A query started over drops what the first attempt added.
	require.NoError(t, l.reset())
	require.NoError(t, l.add(files[1]))
	require.NoError(t, l.seal())
	require.Equal(t, 1, l.len())
	got, err := l.get(0)
	require.NoError(t, err)
	assert.Equal(t, files[1], got)
}

func TestFileListTwice(t *testing.T) {
	v1, v2 := int64(1), int64(2)
	_, err := listOf(t, false, protocol.File{ID: "a"}, protocol.File{ID: "b"}, protocol.File{ID: "a"})
	require.Error(t, err)
	assert.True(t, errors.Is(err, protocol.ErrProtocol), "%v", err)
	assert.Contains(t, err.Error(), "lists file a twice")
	// In a change read a file id may come back in another version.
	_, err = listOf(t, true, protocol.File{Kind: protocol.FileAdd, ID: "a", Version: &v1}, protocol.File{Kind: protocol.FileAdd, ID: "a", Version: &v2})
	require.NoError(t, err)
}

// A URL refresh keeps the new URLs of the files not read yet only, and finds files by key.
func TestFileListReplacePending(t *testing.T) {
	var files []protocol.File
	for i := range 100 {
		files = append(files, protocol.File{ID: fmt.Sprintf("f%d", i), URL: "old", Size: int64(i)})
	}
	l, err := listOf(t, false, files...)
	require.NoError(t, err)
	require.NoError(t, l.replace(40, func(fn func(string, protocol.File) error) error {
		for i := len(files) - 1; i >= 0; i-- { // another order than the first response
			f := files[i]
			f.URL = "new"
			if err := fn(f.ID, f); err != nil {
				return err
			}
		}
		return fn("unknown", protocol.File{ID: "unknown", URL: "new"})
	}))
	for i := range files {
		got, err := l.get(i)
		require.NoError(t, err)
		want := "new"
		if i < 40 {
			want = "old"
		}
		assert.Equal(t, want, got.URL, "file %d", i)
		assert.Equal(t, files[i].ID, got.ID)
		j, _, err := l.index(files[i].ID)
		require.NoError(t, err)
		assert.Equal(t, i, j)
	}
	j, _, err := l.index("unknown")
	require.NoError(t, err)
	assert.Equal(t, -1, j)
}

// Without a temporary directory to write to, the list is kept in memory and works the same.
func TestFileListInMemory(t *testing.T) {
	var logs strings.Builder
	l, err := newFileList(filepath.Join(t.TempDir(), "missing"), false, nil, slog.New(slog.NewTextHandler(&logs, nil)))
	require.NoError(t, err)
	defer l.close()
	assert.IsType(t, &memBacking{}, l.f)
	assert.Contains(t, logs.String(), "keeping it in memory")
	files := []protocol.File{{ID: "a", URL: "old", Size: 1}, {ID: "b", URL: "old", Size: 2}}
	for _, f := range files {
		require.NoError(t, l.add(f))
	}
	require.NoError(t, l.seal())
	require.NoError(t, l.replace(1, func(fn func(string, protocol.File) error) error {
		for _, f := range files {
			f.URL = "new"
			if err := fn(f.ID, f); err != nil {
				return err
			}
		}
		return nil
	}))
	for i, want := range []string{"old", "new"} {
		got, err := l.get(i)
		require.NoError(t, err)
		assert.Equal(t, files[i].ID, got.ID)
		assert.Equal(t, want, got.URL)
	}
	l.close()
	_, err = l.get(0)
	assert.ErrorContains(t, err, "released")
}
