package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func skipOnWindows(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("POSIX file modes and symlinks")
	}
}

// entries lists the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	info, err := os.Stat(path)
	require.NoError(t, err)
	return info.Mode().Perm()
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func TestWriteReplacesAndCreates(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	require.NoError(t, WriteFile(p, []byte("first"), 0o600))
	assert.Equal(t, "first", read(t, p))
	require.NoError(t, WriteFile(p, []byte("second, longer"), 0o600))
	assert.Equal(t, "second, longer", read(t, p))
	require.NoError(t, WriteFile(p, nil, 0o600))
	assert.Equal(t, "", read(t, p))
	assert.Equal(t, []string{"f"}, entries(t, dir))
}

func TestWriteFollowsSymlink(t *testing.T) {
	skipOnWindows(t)
	dir := t.TempDir()
	realDir := filepath.Join(dir, "real")
	require.NoError(t, os.Mkdir(realDir, 0o700))
	target := filepath.Join(realDir, "cfg")
	require.NoError(t, os.WriteFile(target, []byte("old"), 0o600))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(filepath.Join("real", "cfg"), link)) // relative link
	chain := filepath.Join(dir, "chain")
	require.NoError(t, os.Symlink(link, chain))

	require.NoError(t, WriteFile(link, []byte("new"), 0o600))
	info, err := os.Lstat(link)
	require.NoError(t, err)
	assert.NotZero(t, info.Mode()&fs.ModeSymlink, "the link is kept")
	assert.Equal(t, "new", read(t, target), "its target is replaced")

	require.NoError(t, WriteFile(chain, []byte("newer"), 0o600))
	assert.Equal(t, "newer", read(t, target), "links to links are followed to the end")
	assert.Equal(t, []string{"cfg"}, entries(t, realDir), "the temporary file was beside the target")
	assert.ElementsMatch(t, []string{"chain", "link", "real"}, entries(t, dir))

	dangling := filepath.Join(dir, "dangling")
	require.NoError(t, os.Symlink(filepath.Join(dir, "nowhere", "x"), dangling))
	err = WriteFile(dangling, []byte("secret"), 0o600)
	require.Error(t, err)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.Contains(t, err.Error(), dangling)
	_, err = os.Stat(filepath.Join(dir, "nowhere"))
	assert.ErrorIs(t, err, fs.ErrNotExist, "nothing is created where a dangling link points")
}

func TestWriteNoReplace(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	require.NoError(t, Write(p, []byte("mine"), Options{NoReplace: true}))
	assert.Equal(t, "mine", read(t, p))
	assert.Equal(t, DefaultPerm, mode(t, p))

	err := Write(p, []byte("theirs"), Options{NoReplace: true})
	require.ErrorIs(t, err, fs.ErrExist)
	assert.Contains(t, err.Error(), p)
	assert.Equal(t, "mine", read(t, p), "an existing file is left alone")

	if runtime.GOOS != "windows" {
		for _, target := range []string{p, filepath.Join(dir, "nowhere")} {
			link := filepath.Join(dir, "link-"+filepath.Base(target))
			require.NoError(t, os.Symlink(target, link))
			assert.ErrorIs(t, Write(link, []byte("theirs"), Options{NoReplace: true}), fs.ErrExist, "a symlink counts as existing")
		}
		assert.Equal(t, "mine", read(t, p))
		_, err = os.Stat(filepath.Join(dir, "nowhere"))
		assert.ErrorIs(t, err, fs.ErrNotExist)
	}

	// Someone else creates the file between the check and the link.
	q := filepath.Join(dir, "raced")
	err = Write(q, []byte("mine"), Options{NoReplace: true, Fault: func(step, path string) error {
		if step == "rename" {
			return os.WriteFile(path, []byte("theirs"), 0o600)
		}
		return nil
	}})
	require.ErrorIs(t, err, fs.ErrExist)
	assert.Equal(t, "theirs", read(t, q))
	for _, n := range entries(t, dir) {
		assert.NotContains(t, n, ".tmp-")
	}
}

// TestWriteFaultsLeaveOldContent: whatever step fails, the destination keeps its old content
// (or stays absent) and no temporary file is left.
func TestWriteFaultsLeaveOldContent(t *testing.T) {
	for _, step := range []string{"create", "write", "fsync", "rename"} {
		for _, exists := range []bool{true, false} {
			name := step + "/new"
			if exists {
				name = step + "/existing"
			}
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				p := filepath.Join(dir, "f")
				if exists {
					require.NoError(t, os.WriteFile(p, []byte("old content"), 0o600))
				}
				injected := errors.New("injected " + step + " failure")
				var steps []string
				err := Write(p, []byte("new"), Options{Fault: func(st, path string) error {
					assert.Equal(t, p, path, "the fault hook gets the path as given")
					steps = append(steps, st)
					if st == step {
						return injected
					}
					return nil
				}})
				require.ErrorIs(t, err, injected)
				assert.Contains(t, err.Error(), p)
				assert.Equal(t, step, steps[len(steps)-1])
				if exists {
					assert.Equal(t, "old content", read(t, p), "never half-replaced")
					assert.Equal(t, []string{"f"}, entries(t, dir))
				} else {
					assert.Empty(t, entries(t, dir), "no temporary or partial file left")
				}
			})
		}
	}
}

func TestWriteMissingDirectory(t *testing.T) {
	p := filepath.Join(t.TempDir(), "missing", "f")
	err := WriteFile(p, []byte("new"), 0o600)
	require.ErrorIs(t, err, fs.ErrNotExist)
	var pe *fs.PathError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, p, pe.Path, "the error names the destination, not the temporary file")
	assert.NotContains(t, err.Error(), ".tmp-")
}

func TestWriteUnwritableDirectory(t *testing.T) {
	skipOnWindows(t)
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions; TestWriteFaultsLeaveOldContent covers failures")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(p, []byte("old"), 0o600))
	require.NoError(t, os.Chmod(dir, 0o500))
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	err := WriteFile(p, []byte("new"), 0o600)
	require.ErrorIs(t, err, fs.ErrPermission)
	assert.Equal(t, "write "+p+": permission denied", err.Error(), "the message names the destination, not the temporary file")
	assert.Equal(t, "old", read(t, p))
	assert.Equal(t, []string{"f"}, entries(t, dir))
}

func TestWriteDirectorySyncFailure(t *testing.T) {
	injected := errors.New("injected syncdir failure")
	fault := func(st, _ string) error {
		if st == "syncdir" {
			return injected
		}
		return nil
	}

	t.Run("replace: in place but not durable", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "f")
		require.NoError(t, os.WriteFile(p, []byte("old"), 0o600))
		err := Write(p, []byte("new"), Options{Fault: fault})
		require.ErrorIs(t, err, ErrNotDurable)
		assert.ErrorIs(t, err, injected)
		assert.Equal(t, "new", read(t, p))
		assert.Equal(t, []string{"f"}, entries(t, dir))
	})
	t.Run("no replace: taken back", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "f")
		err := Write(p, []byte("new"), Options{NoReplace: true, Fault: fault})
		require.ErrorIs(t, err, injected)
		assert.NotErrorIs(t, err, ErrNotDurable)
		assert.Empty(t, entries(t, dir), "a caller told error can rely on nothing being created")
	})
}

func TestWriteSecret(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "token")
	require.NoError(t, WriteSecret(p, []byte("dapi-secret\n")))
	assert.Equal(t, "dapi-secret\n", read(t, p))
	if runtime.GOOS != "windows" {
		assert.Equal(t, fs.FileMode(0o600), mode(t, p))
	}

	err := WriteSecret(p, []byte("other"))
	require.ErrorIs(t, err, fs.ErrExist)
	assert.Contains(t, err.Error(), p)
	assert.Equal(t, "dapi-secret\n", read(t, p), "an existing file is never replaced nor removed")

	err = WriteSecret(filepath.Join(dir, "missing", "token"), []byte("x"))
	require.ErrorIs(t, err, fs.ErrNotExist)
	assert.Equal(t, []string{"token"}, entries(t, dir))
}

func TestWriteSecretRefusesSymlinks(t *testing.T) {
	skipOnWindows(t)
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	require.NoError(t, os.WriteFile(target, []byte("keep"), 0o644))
	for _, to := range []string{target, filepath.Join(dir, "nowhere")} {
		link := filepath.Join(dir, "link-"+filepath.Base(to))
		require.NoError(t, os.Symlink(to, link))
		require.ErrorIs(t, WriteSecret(link, []byte("secret")), fs.ErrExist)
		_, err := os.Lstat(link)
		require.NoError(t, err, "the link is left alone")
	}
	assert.Equal(t, "keep", read(t, target))
	_, err := os.Stat(filepath.Join(dir, "nowhere"))
	assert.ErrorIs(t, err, fs.ErrNotExist, "nothing is created through a dangling link")
}

func TestWriteSecretRemovesPartialFile(t *testing.T) {
	for _, step := range []string{"chmod", "write", "fsync", "syncdir"} {
		t.Run(step, func(t *testing.T) {
			injected := errors.New("injected " + step + " failure")
			secretFault = func(st string) error {
				if st == step {
					return injected
				}
				return nil
			}
			t.Cleanup(func() { secretFault = nil })
			dir := t.TempDir()
			p := filepath.Join(dir, "token")
			err := WriteSecret(p, []byte("dapi-secret"))
			require.ErrorIs(t, err, injected)
			assert.True(t, strings.HasPrefix(err.Error(), "write "+p+": "), err.Error())
			assert.Empty(t, entries(t, dir), "the partial file is removed")
		})
	}
}
