package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
)

// DefaultPerm is the mode of files written with a zero [Options.Perm].
const DefaultPerm fs.FileMode = 0o600

// ErrNotDurable is matched by a [Write] error when the destination was replaced but its
// directory could not be synced: the new content is in place but the rename may not survive a
// crash. (With NoReplace the new file is removed instead, and the error does not match.)
var ErrNotDurable = errors.New("the file was replaced, but its directory could not be synced")

// Options configures [Write].
type Options struct {
	// Perm is the mode the file gets, exactly (the umask does not apply); 0 means
	// [DefaultPerm]. To keep an existing file's mode, pass it here.
	Perm fs.FileMode
	// NoReplace makes Write fail with an error matching fs.ErrExist when path exists (a
	// symlink, even a dangling one, counts). The new file is put in place with a hard link,
	// which fails if another writer got there first; on file systems without hard links the
	// check is made just before a rename.
	NoReplace bool
	// Fault, when set (tests), runs before each step — "create", "write", "fsync", "rename",
	// "syncdir" — with path as given to Write; an error makes that step fail.
	Fault func(step, path string) error
}

// WriteFile replaces path (following a symlink) atomically with data and mode perm: it is
// Write with Options{Perm: perm}.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return Write(path, data, Options{Perm: perm})
}

// Write puts data at path atomically: it writes a temporary file in the destination's
// directory (mode 0600 while it is written, then opts.Perm), fsyncs it, renames it over the
// destination and fsyncs the directory. Readers see the old content or the new, never a mix;
// on any error the temporary file is removed and the destination keeps its old content.
//
// A destination that is a symlink is followed, as the editors and the Databricks CLI do: the
// link's target is replaced and the link is kept. A dangling symlink is an error (nothing is
// created at the place it points to). With opts.NoReplace an existing path, symlinks
// included, is refused and left alone.
//
// If only the final directory sync fails, the error matches [ErrNotDurable] (the file was
// replaced); with NoReplace the new file is removed again, so that a caller told "error" can
// rely on nothing having been created.
func Write(path string, data []byte, opts Options) (err error) {
	perm := opts.Perm
	if perm == 0 {
		perm = DefaultPerm
	}
	step := func(name string) error {
		if opts.Fault != nil {
			return opts.Fault(name, path)
		}
		return nil
	}
	fail := func(err error) error { return pathError(path, err) }

	dest := path
	if opts.NoReplace {
		if _, err := os.Lstat(path); err == nil {
			return fail(fs.ErrExist)
		}
	} else if info, lerr := os.Lstat(path); lerr == nil && info.Mode()&fs.ModeSymlink != 0 {
		real, err := filepath.EvalSymlinks(path)
		if err != nil {
			return fail(err)
		}
		dest = real
	}
	dir := filepath.Dir(dest)

	if err := step("create"); err != nil {
		return fail(err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(dest)+".tmp-*")
	if err != nil {
		return fail(err)
	}
	tmp := f.Name()
	closed, placed := false, false
	defer func() {
		if err != nil && !placed {
			if !closed {
				_ = f.Close()
			}
			_ = os.Remove(tmp)
		}
	}()
	if err = f.Chmod(perm); err != nil {
		return fail(err)
	}
	if err = step("write"); err != nil {
		return fail(err)
	}
	if _, err = f.Write(data); err != nil {
		return fail(err)
	}
	if err = step("fsync"); err != nil {
		return fail(err)
	}
	if err = f.Sync(); err != nil {
		return fail(err)
	}
	closed = true
	if err = f.Close(); err != nil {
		return fail(err)
	}
	if err = step("rename"); err != nil {
		return fail(err)
	}
	if opts.NoReplace {
		err = os.Link(tmp, dest)
		switch {
		case err == nil:
			_ = os.Remove(tmp)
		case errors.Is(err, fs.ErrExist):
			return fail(fs.ErrExist)
		default:
			// No hard links on this file system: check, then rename.
			if _, serr := os.Lstat(dest); serr == nil {
				err = fs.ErrExist
				return fail(err)
			}
			if err = os.Rename(tmp, dest); err != nil {
				return fail(err)
			}
		}
	} else if err = os.Rename(tmp, dest); err != nil {
		return fail(err)
	}
	placed = true // the temporary file is gone: a failure below must not remove its name

	serr := step("syncdir")
	if serr == nil {
		serr = SyncDir(dir)
	}
	if serr == nil {
		return nil
	}
	if opts.NoReplace {
		// The new file may not survive a crash: take it back so the caller can retry or keep
		// the data elsewhere.
		_ = os.Remove(dest)
		return pathError(path, serr)
	}
	return pathError(path, &notDurableError{err: unwrapPath(serr)})
}

// notDurableError is a directory sync failure after the destination was replaced.
type notDurableError struct{ err error }

func (e *notDurableError) Error() string {
	return ErrNotDurable.Error() + " (" + e.err.Error() + ")"
}

func (e *notDurableError) Unwrap() []error { return []error{ErrNotDurable, e.err} }

// WriteSecret creates path, which must not exist, with mode 0600 (exactly, whatever the
// umask), writes data and fsyncs the file and its directory. An existing path — a symlink
// too, even a dangling one — is refused with an error matching fs.ErrExist and left alone. On
// any other error the partial file is removed, so that nothing is left that looks like the
// secret but is not.
//
// Use it for a secret that exists in one copy only (a token shown once, a recovery file):
// unlike [Write] it creates the file in place, so a crash can leave a partial file, but the
// name is claimed before the secret is written and no temporary file ever holds it.
func WriteSecret(path string, data []byte) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return pathError(path, err)
	}
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				_ = f.Close()
			}
			_ = os.Remove(path)
		}
	}()
	if err = secretStep("chmod"); err == nil {
		err = f.Chmod(0o600)
	}
	if err != nil {
		return pathError(path, err)
	}
	if err = secretStep("write"); err == nil {
		_, err = f.Write(data)
	}
	if err != nil {
		return pathError(path, err)
	}
	if err = secretStep("fsync"); err == nil {
		err = f.Sync()
	}
	if err != nil {
		return pathError(path, err)
	}
	closed = true
	if err = f.Close(); err != nil {
		return pathError(path, err)
	}
	if err = secretStep("syncdir"); err == nil {
		err = SyncDir(filepath.Dir(path))
	}
	if err != nil {
		return pathError(path, err)
	}
	return nil
}

// secretFault, when set (tests of this package), runs before each step of WriteSecret.
var secretFault func(step string) error

func secretStep(name string) error {
	if secretFault != nil {
		return secretFault(name)
	}
	return nil
}

// SyncDir fsyncs a directory so that a rename or a new file in it is durable. Platforms and
// file systems that cannot sync directories (Windows; EINVAL, ENOTSUP) are not an error.
func SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}

// pathError names the destination in err, dropping the inner path (often the temporary
// file's), so that messages say which file could not be written.
func pathError(path string, err error) error {
	return &fs.PathError{Op: "write", Path: path, Err: unwrapPath(err)}
}

// unwrapPath strips an *fs.PathError, *os.LinkError or *os.SyscallError down to its cause
// (only at the top: an error that wraps one keeps its own text).
func unwrapPath(err error) error {
	switch e := err.(type) {
	case *fs.PathError:
		return e.Err
	case *os.LinkError:
		return e.Err
	case *os.SyscallError:
		return e.Err
	}
	return err
}
