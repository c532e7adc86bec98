//go:build linux

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair: the master side (what a terminal emulator reads) and
// the slave side (what the program writes to, a terminal for it).
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	require.NoError(t, unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0), "unlock the pty")
	n, err := unix.IoctlGetUint32(int(m.Fd()), unix.TIOCGPTN)
	require.NoError(t, err)
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// runOnTerminal runs the real command (main) with stderr, and stdout when stdoutOnTTY, on a
// pseudo-terminal and returns what the terminal received (line ends as the terminal shows them:
// "\r\n" turned back into "\n") and what went to stdout when it is not the terminal.
func runOnTerminal(t *testing.T, stdoutOnTTY bool, args ...string) (screen, stdout string) {
	t.Helper()
	master, slave := openPTY(t)
	cmd := mainCommand(t, args...)
	cmd.Env = append(cmd.Env, "DELTASHARE_CONFIG_DIR="+t.TempDir())
	var out bytes.Buffer
	cmd.Stdin, cmd.Stderr = nil, slave
	if stdoutOnTTY {
		cmd.Stdout = slave
	} else {
		cmd.Stdout = &out
	}
	require.NoError(t, cmd.Start())
	slave.Close() // the child holds it now; the master reads EOF (EIO) once the child exits
	read := make(chan []byte, 1)
	go func() {
		var b bytes.Buffer
		_, _ = io.Copy(&b, master)
		read <- b.Bytes()
	}()
	require.NoError(t, cmd.Wait())
	got := <-read
	return strings.ReplaceAll(string(got), "\r\n", "\n"), out.String()
}

// TestProgressBarOnTerminal: on a terminal, an export to a file draws the progress bar
// (carriage-return redraws with the row and file counts); an export to standard output that is
// the same terminal draws none, so the data on the screen is exactly the CSV, followed by the
// summary on its own line. With standard output piped elsewhere, the bar is drawn again.
func TestProgressBarOnTerminal(t *testing.T) {
	profile, _ := demoServer(t)
	want := run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", "-", "--limit", "5", "-q").Out
	require.Equal(t, 6, strings.Count(want, "\n"), "header and 5 rows")

	t.Run("to a file: bar", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "orders.csv")
		screen, stdout := runOnTerminal(t, false, "export", "-p", profile, "demo.sales.orders", "-o", out)
		assert.Contains(t, screen, "\r", "the bar redraws its line")
		assert.Regexp(t, `\d+ rows, \d+/\d+ files?, `, screen, "the bar counts rows and input files")
		assert.NotContains(t, screen, "0/0 files")
		assert.Contains(t, stdout, "exported ")
	})
	t.Run("to stdout on the terminal: no bar", func(t *testing.T) {
		screen, _ := runOnTerminal(t, true, "export", "-p", profile, "demo.sales.orders", "-o", "-", "--limit", "5")
		assert.NotContains(t, screen, "\r", "no bar redraws")
		data, summary, ok := strings.Cut(screen, "exported ")
		require.True(t, ok, screen)
		assert.Equal(t, want, data, "the screen shows exactly the data")
		assert.True(t, strings.HasPrefix(summary, "5 rows to 1 file "), summary)
	})
	t.Run("to /dev/stderr on the terminal: no bar", func(t *testing.T) {
		screen, stdout := runOnTerminal(t, false, "export", "-p", profile, "demo.sales.orders", "-o", "/dev/stderr", "--limit", "5", "-q")
		assert.Equal(t, want, screen, "the screen shows exactly the data")
		assert.Empty(t, stdout)
	})
	t.Run("to stdout piped: bar on the terminal", func(t *testing.T) {
		screen, stdout := runOnTerminal(t, false, "export", "-p", profile, "demo.sales.orders", "-o", "-", "--limit", "5")
		assert.Equal(t, want, stdout)
		assert.Contains(t, screen, "\r")
		assert.Contains(t, screen, "5 rows, ")
	})
}
