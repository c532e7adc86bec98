//go:build unix

package atomicfile

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteModes(t *testing.T) {
	old := syscall.Umask(0o077)
	t.Cleanup(func() { syscall.Umask(old) })
	dir := t.TempDir()

	p := filepath.Join(dir, "default")
	require.NoError(t, Write(p, []byte("a"), Options{}))
	assert.Equal(t, DefaultPerm, mode(t, p), "zero Perm gives 0600")

	p = filepath.Join(dir, "wide")
	require.NoError(t, WriteFile(p, []byte("a"), 0o644))
	assert.Equal(t, fs.FileMode(0o644), mode(t, p), "the mode is set exactly, whatever the umask")

	// Replacing a file gives it the mode asked for: a caller keeps the old mode by passing it.
	require.NoError(t, os.Chmod(p, 0o640))
	require.NoError(t, WriteFile(p, []byte("b"), mode(t, p)))
	assert.Equal(t, fs.FileMode(0o640), mode(t, p))
	assert.Equal(t, "b", read(t, p))
	require.NoError(t, WriteFile(p, []byte("c"), 0o600))
	assert.Equal(t, fs.FileMode(0o600), mode(t, p), "a secret written over a readable file becomes private")
	assert.Equal(t, []string{"default", "wide"}, entries(t, dir), "no temporary file left")
}

func TestWriteSecretUmask(t *testing.T) {
	old := syscall.Umask(0o777)
	t.Cleanup(func() { syscall.Umask(old) })
	p := filepath.Join(t.TempDir(), "token")
	require.NoError(t, WriteSecret(p, []byte("x")))
	syscall.Umask(old)
	assert.Equal(t, fs.FileMode(0o600), mode(t, p), "0600 exactly, even under a umask that removes everything")
}
