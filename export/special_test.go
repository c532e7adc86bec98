//go:build unix

package export

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/formats"
)

// TestExportIntoFIFO: a FIFO is written as a stream, with or without Overwrite: the reader gets
// the whole CSV, and the FIFO is still a FIFO afterwards (not replaced by a regular file), with
// no temporary file beside it.
func TestExportIntoFIFO(t *testing.T) {
	recs := makeRecords(t, memory.DefaultAllocator, 0, []int{3, 2}, nil)
	defer releaseAll(recs)
	var want bytes.Buffer
	_, err := Run(context.Background(), newSource(recs), NewStreamSink(&want), Options{Output: "-", Format: formats.Options{Format: formats.CSV}})
	require.NoError(t, err)

	for _, overwrite := range []bool{false, true} {
		dir := t.TempDir()
		fifo := filepath.Join(dir, "pipe")
		require.NoError(t, syscall.Mkfifo(fifo, 0o600))
		got := make(chan []byte, 1)
		go func() {
			f, err := os.Open(fifo) // blocks until the writer opens
			if err != nil {
				got <- nil
				return
			}
			defer f.Close()
			b, _ := io.ReadAll(f)
			got <- b
		}()
		sink, base, err := OpenSink(fifo)
		require.NoError(t, err)
		require.Equal(t, "-", base)
		sum, err := Run(context.Background(), newSource(recs), sink, Options{Output: base, Format: formats.Options{Format: formats.CSV}, Overwrite: overwrite})
		require.NoError(t, err)
		require.NoError(t, sink.(io.Closer).Close())
		assert.Equal(t, want.String(), string(<-got))
		assert.EqualValues(t, 5, sum.Rows)
		assert.Equal(t, []string{fifo}, sum.Outputs)
		fi, err := os.Lstat(fifo)
		require.NoError(t, err)
		assert.NotZero(t, fi.Mode()&fs.ModeNamedPipe, "still a FIFO")
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Len(t, entries, 1, "no temporary file")
	}
}

// TestOpenSinkSpecialFiles: character devices are streams (never replaced), links to regular
// files resolve to their target, and sockets and dangling links are refused.
func TestOpenSinkSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.csv")
	require.NoError(t, os.WriteFile(target, []byte("old"), 0o600))
	require.NoError(t, os.Symlink(target, filepath.Join(dir, "link.csv")))
	require.NoError(t, os.Symlink("/dev/null", filepath.Join(dir, "null.csv")))
	require.NoError(t, os.Symlink(filepath.Join(dir, "nothing"), filepath.Join(dir, "dangling.csv")))
	sock := filepath.Join(dir, "s.sock")
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	defer l.Close()

	for _, out := range []string{"/dev/null", filepath.Join(dir, "null.csv")} {
		sink, base, err := OpenSink(out)
		require.NoError(t, err, out)
		assert.Equal(t, "-", base)
		require.IsType(t, &FileStreamSink{}, sink)
		assert.Equal(t, out, sink.(*FileStreamSink).Location("x"))
		recs := makeRecords(t, memory.DefaultAllocator, 0, []int{4}, nil)
		sum, err := Run(context.Background(), newSource(recs), sink, Options{Output: base, Format: formats.Options{Format: formats.CSV}, Overwrite: true})
		releaseAll(recs)
		require.NoError(t, err)
		assert.EqualValues(t, 4, sum.Rows)
		require.NoError(t, sink.(io.Closer).Close())
	}
	fi, err := os.Lstat("/dev/null")
	require.NoError(t, err)
	assert.NotZero(t, fi.Mode()&fs.ModeCharDevice, "/dev/null is still a device")

	sink, base, err := OpenSink(filepath.Join(dir, "link.csv"))
	require.NoError(t, err)
	assert.Equal(t, "real.csv", base, "the link's target is the output")
	assert.Equal(t, dir, sink.(*LocalSink).Dir)

	sink, base, err = OpenSink("/dev/stdout")
	require.NoError(t, err)
	assert.Equal(t, "-", base)
	assert.Same(t, os.Stdout, sink.(*StreamSink).W)

	for out, msg := range map[string]string{sock: "is a socket", filepath.Join(dir, "dangling.csv"): "symbolic link to nothing"} {
		_, _, err := OpenSink(out)
		require.ErrorIs(t, err, ErrSpecialFile, out)
		assert.ErrorContains(t, err, msg)
	}
}
