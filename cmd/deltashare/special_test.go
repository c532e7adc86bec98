//go:build unix

package main

import (
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExportToSpecialFiles: -o on a FIFO and on /dev/null writes into them as streams (with or
// without --overwrite: nothing is replaced); the FIFO stays a FIFO, /dev/null a device. A socket
// is refused even with --overwrite (exit 2), and stays.
func TestExportToSpecialFiles(t *testing.T) {
	profile := demoCommandLine(t)
	want := run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", "-", "-q").Out
	require.NotEmpty(t, want)

	dir := t.TempDir()
	fifo := filepath.Join(dir, "orders.csv")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	for _, overwrite := range []bool{false, true} {
		got := make(chan string, 1)
		go func() {
			f, err := os.Open(fifo)
			if err != nil {
				got <- err.Error()
				return
			}
			defer f.Close()
			b, _ := io.ReadAll(f)
			got <- string(b)
		}()
		args := []string{"export", "-p", profile, "demo.sales.orders", "-o", fifo}
		if overwrite {
			args = append(args, "--overwrite")
		}
		r := run(t, "", args...)
		require.Equal(t, 0, r.Code, r.Err)
		assert.Equal(t, want, <-got)
		assert.Contains(t, r.Out, "exported ")
		fi, err := os.Lstat(fifo)
		require.NoError(t, err)
		assert.NotZero(t, fi.Mode()&fs.ModeNamedPipe, "still a FIFO")
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Len(t, entries, 1, "no temporary file beside it")
	}

	r := run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", "/dev/null", "--overwrite", "--format", "parquet")
	require.Equal(t, 0, r.Code, r.Err)
	fi, err := os.Lstat("/dev/null")
	require.NoError(t, err)
	assert.NotZero(t, fi.Mode()&fs.ModeCharDevice, "/dev/null is still a device")

	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	defer l.Close()
	r = run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", sock, "--overwrite")
	assert.Equal(t, exitUsage, r.Code)
	assert.Contains(t, r.Err, "is a socket")
	fi, err = os.Lstat(sock)
	require.NoError(t, err)
	assert.NotZero(t, fi.Mode()&fs.ModeSocket, "the socket stays")
}
