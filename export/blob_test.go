package export

import (
	"context"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/formats"
)

// fakeS3 runs an in-memory S3-compatible server on loopback with bucket "lake" and returns it
// with the query string that points s3blob at it (static test credentials from the environment).
func fakeS3(t *testing.T) (*s3mem.Backend, string) {
	backend := s3mem.New()
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	require.NoError(t, backend.CreateBucket("lake"))
	t.Setenv("AWS_ACCESS_KEY_ID", "test-access-key")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret-key")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return backend, "?endpoint=" + srv.URL + "&use_path_style=true&region=us-east-1&disable_https=true"
}

// fakeS3Sink opens a BlobSink on s3://lake/<path> of a new fake S3 server (fakeS3), closed when
// the test ends; base is what OpenBlobSink returns.
func fakeS3Sink(t *testing.T, path string) (backend *s3mem.Backend, sink *BlobSink, base string) {
	t.Helper()
	backend, q := fakeS3(t)
	sink, base, err := OpenBlobSink(context.Background(), "s3://lake/"+path+q)
	require.NoError(t, err)
	t.Cleanup(func() { sink.Close() })
	return backend, sink, base
}

func s3Keys(t *testing.T, b *s3mem.Backend) []string {
	res, err := b.ListBucket("lake", &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
	require.NoError(t, err)
	var keys []string
	for _, c := range res.Contents {
		keys = append(keys, c.Key)
	}
	sort.Strings(keys)
	return keys
}

func s3Read(t *testing.T, b *s3mem.Backend, key string) string {
	obj, err := b.GetObject("lake", key, nil)
	require.NoError(t, err)
	defer obj.Contents.Close()
	data, err := io.ReadAll(obj.Contents)
	require.NoError(t, err)
	return string(data)
}

func TestBlobSinkObjects(t *testing.T) {
	ctx := context.Background()
	backend, sink, base := fakeS3Sink(t, "out/")
	assert.Equal(t, "", base)
	assert.Equal(t, "s3://lake/out/a/b.csv", sink.Location("a/b.csv"))

	// Nothing is visible under the final name before Commit.
	o, err := sink.Create(ctx, "a/b.csv")
	require.NoError(t, err)
	_, err = o.Write([]byte("x,y\n"))
	require.NoError(t, err)
	require.NoError(t, o.(io.Closer).Close())
	ok, err := sink.Exists(ctx, "a/b.csv")
	require.NoError(t, err)
	assert.False(t, ok)
	names, err := sink.List(ctx, "")
	require.NoError(t, err)
	assert.Empty(t, names, "temporary objects are not listed")
	require.NoError(t, o.Commit())
	assert.Equal(t, []string{"out/a/b.csv"}, s3Keys(t, backend), "the temporary object is deleted")
	assert.Equal(t, "x,y\n", s3Read(t, backend, "out/a/b.csv"))
	data, err := sink.ReadObject(ctx, "a/b.csv")
	require.NoError(t, err)
	assert.Equal(t, "x,y\n", string(data))
	_, err = sink.ReadObject(ctx, "missing")
	assert.ErrorIs(t, err, os.ErrNotExist)

	// Aborted uploads, before or after the upload finished, leave nothing.
	o1, err := sink.Create(ctx, "c.csv")
	require.NoError(t, err)
	_, _ = o1.Write([]byte("1"))
	require.NoError(t, o1.Abort())
	o2, err := sink.Create(ctx, "d.csv")
	require.NoError(t, err)
	_, _ = o2.Write([]byte("2"))
	require.NoError(t, o2.(io.Closer).Close())
	require.NoError(t, o2.Abort())
	assert.Equal(t, []string{"out/a/b.csv"}, s3Keys(t, backend))

	// Exclusive creation.
	created, err := sink.CreateExclusive(ctx, "lock", []byte("me"))
	require.NoError(t, err)
	assert.True(t, created)
	require.NoError(t, sink.Remove(ctx, "lock"))
	require.NoError(t, sink.Remove(ctx, "lock"), "removing a missing object is not an error")
	names, err = sink.List(ctx, "a/")
	require.NoError(t, err)
	assert.Equal(t, []string{"a/b.csv"}, names)
}

func TestBlobSinkLock(t *testing.T) {
	ctx := context.Background()
	_, sink, _ := fakeS3Sink(t, "dest/")
	clock := func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	l, err := acquireLock(ctx, sink, "_deltashare_state.lock", "t", time.Hour, clock)
	require.NoError(t, err)
	_, err = acquireLock(ctx, sink, "_deltashare_state.lock", "t", time.Hour, clock)
	require.ErrorIs(t, err, ErrLocked)
	require.NoError(t, l.check(ctx), "the second attempt did not replace the lock")
	require.NoError(t, l.release(ctx))
	ok, err := sink.Exists(ctx, "_deltashare_state.lock")
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestOpenBlobSinkNames(t *testing.T) {
	ctx := context.Background()
	_, q := fakeS3(t)
	dir := t.TempDir()
	tests := []struct {
		url, prefix, base, display string
	}{
		{"s3://lake" + q, "", "", "s3://lake"},
		{"s3://lake/x/y/" + q, "x/y/", "", "s3://lake/x/y"},
		{"s3://lake/x/out.csv" + q, "x/", "out.csv", "s3://lake/x"},
		{"file://" + dir + "/sub/", "", "", "file://" + dir + "/sub"},
		{"file://" + dir + "/f.csv", "", "f.csv", "file://" + dir},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			s, base, err := OpenBlobSink(ctx, tc.url)
			require.NoError(t, err)
			defer s.Close()
			assert.Equal(t, tc.prefix, s.Prefix)
			assert.Equal(t, tc.base, base)
			assert.Equal(t, tc.display, s.Base)
		})
	}
	_, _, err := OpenBlobSink(ctx, "s3:///x/"+q)
	assert.ErrorContains(t, err, "names no bucket")
	assert.True(t, IsBlobURL("gs://b/x"))
	assert.False(t, IsBlobURL("/tmp/x"))
}

func TestRunToBlobSinkIsAtomic(t *testing.T) {
	ctx := context.Background()
	backend, q := fakeS3(t)
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	recs := makeRecords(t, mem, 0, []int{10, 10, 10}, nil)
	defer releaseAll(recs)

	// A source that fails after two records leaves no object at all.
	sink, base, err := OpenSink("s3://lake/t/" + q)
	require.NoError(t, err)
	defer sink.(io.Closer).Close()
	src := withFiles(newSource(recs), []int{0, 1, 2})
	src.failAfter = 2
	_, err = Run(ctx, src, sink, Options{Output: base, Format: formats.Options{Format: formats.CSV}})
	require.Error(t, err)
	assert.Empty(t, s3Keys(t, backend))

	// A good run: one part per input file, complete.
	sum, err := Run(ctx, withFiles(newSource(recs), []int{0, 1, 2}), sink, Options{Output: base, Format: formats.Options{Format: formats.CSV}})
	require.NoError(t, err)
	assert.Equal(t, int64(30), sum.Rows)
	assert.Equal(t, []string{"s3://lake/t/part-00000.csv", "s3://lake/t/part-00001.csv", "s3://lake/t/part-00002.csv"}, sum.Outputs)
	assert.Equal(t, []string{"t/part-00000.csv", "t/part-00001.csv", "t/part-00002.csv"}, s3Keys(t, backend))
	assert.Len(t, strings.Split(strings.TrimSpace(s3Read(t, backend, "t/part-00001.csv")), "\n"), 11)
}
