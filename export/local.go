package export

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/deltashare/deltashare/internal/atomicfile"
)

// Default permissions of what a LocalSink creates, before the process umask (as every tool
// that creates files does): files are readable by everyone, writable by the owner.
const (
	DefaultFileMode fs.FileMode = 0o644
	DefaultDirMode  fs.FileMode = 0o755
)

// TempMarker is part of every temporary file name: an object "dir/name" is written to
// "dir/.name" + TempMarker + random hex until it is committed. The leading dot hides it from
// Spark, Hive and most readers; the marker lets people (and Run) recognise leftovers of a run
// that was killed before it could clean up.
const TempMarker = ".deltashare-tmp-"

// LocalSink writes objects as files under the directory Dir.
//
// Create writes to a temporary file beside the destination (same directory, so the rename is
// atomic): "<dir>/.<name>.deltashare-tmp-<random>", created exclusively with FileMode. Missing
// directories are created with DirMode; directories the sink created are removed again when the
// objects in them are aborted and leave them empty. Commit flushes the file to disk (fsync),
// renames it to its final name (replacing an existing file atomically) and fsyncs the
// directory, so a crash leaves either the old file or the whole new one. Remove deletes a file
// and then every directory between it and Dir that it leaves empty, as an object store (which
// has no directories) would; Dir itself (and its parents) only when this sink created it, so
// that a run that fails before writing anything (a sync whose lock is its only file) leaves no
// empty destination behind.
//
// A LocalSink is safe for concurrent use.
type LocalSink struct {
	Dir      string      // root directory; created when needed
	FileMode fs.FileMode // permissions of new files; 0 means DefaultFileMode
	DirMode  fs.FileMode // permissions of new directories; 0 means DefaultDirMode

	mu      sync.Mutex
	created map[string]bool // directories this sink created (OS paths)
}

var (
	_ Sink    = (*LocalSink)(nil)
	_ Locator = (*LocalSink)(nil)
)

// NewLocalSink returns a sink that writes under dir with the default modes.
func NewLocalSink(dir string) *LocalSink {
	return &LocalSink{Dir: dir}
}

func (s *LocalSink) path(name string) string {
	return filepath.Join(s.Dir, filepath.FromSlash(name))
}

// Location returns the file path of name.
func (s *LocalSink) Location(name string) string { return s.path(name) }

// Create starts the temporary file for name.
func (s *LocalSink) Create(ctx context.Context, name string) (Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := ValidName(name); err != nil {
		return nil, err
	}
	final := s.path(name)
	dir := filepath.Dir(final)
	if err := s.mkdirAll(dir); err != nil {
		if nf := (*notFolderError)(nil); errors.As(err, &nf) {
			return nil, err
		}
		return nil, fmt.Errorf("create directory for %s: %w: check that the output location is writable, or choose another output", final, err)
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:]) // crypto/rand.Read never fails
	tmp := filepath.Join(dir, "."+filepath.Base(final)+TempMarker+hex.EncodeToString(rnd[:]))
	mode := s.FileMode
	if mode == 0 {
		mode = DefaultFileMode
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		s.removeEmptyCreated(dir)
		return nil, fmt.Errorf("create %s: %w: check that the directory is writable, or choose another output", final, err)
	}
	return &localObject{sink: s, f: f, tmp: tmp, final: final}, nil
}

// notFolderError: a folder of the output exists as a file. It unwraps to ENOTDIR.
type notFolderError struct{ path string }

func (e *notFolderError) Error() string {
	return e.path + " is a file, not a folder: choose another output (an existing folder, or a new name)"
}

func (e *notFolderError) Unwrap() error { return syscall.ENOTDIR }

// fileInPath returns a *notFolderError for the nearest part of dir (dir itself or a parent)
// that exists as a file, or nil.
func fileInPath(dir string) error {
	for d := dir; ; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil {
			if !fi.IsDir() {
				return &notFolderError{d}
			}
			return nil
		}
		if filepath.Dir(d) == d {
			return nil
		}
	}
}

// mkdirAll creates dir and its missing parents, remembering which ones it created; a part of
// the path that exists as a file is a *notFolderError.
func (s *LocalSink) mkdirAll(dir string) error {
	var missing []string
	for d := dir; ; {
		if fi, err := os.Stat(d); err == nil {
			if !fi.IsDir() {
				return &notFolderError{d}
			}
			break
		} else if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return err // (ENOTDIR: a part above is a file, found further up)
		}
		missing = append(missing, d)
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	if len(missing) == 0 {
		return nil
	}
	mode := s.DirMode
	if mode == 0 {
		mode = DefaultDirMode
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.created == nil {
		s.created = map[string]bool{}
	}
	for i := len(missing) - 1; i >= 0; i-- {
		err := os.Mkdir(missing[i], mode)
		if err == nil {
			s.created[missing[i]] = true
		} else if !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	return nil
}

// removeEmptyCreated removes dir and its parents while they are empty and were created by
// this sink.
func (s *LocalSink) removeEmptyCreated(dir string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for d := dir; s.created[d]; d = filepath.Dir(d) {
		if os.Remove(d) != nil {
			return
		}
		delete(s.created, d)
	}
}

// Exists reports whether anything exists at name.
func (s *LocalSink) Exists(ctx context.Context, name string) (bool, error) {
	if err := ValidName(name); err != nil {
		return false, err
	}
	_, err := os.Lstat(s.path(name))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		return false, nil // (a parent that is not a directory: Create reports it)
	}
	return false, fmt.Errorf("check %s: %w", s.path(name), err)
}

// List returns the names of the regular files under Dir whose names start with prefix. It does
// not follow symbolic links to directories.
func (s *LocalSink) List(ctx context.Context, prefix string) ([]string, error) {
	// Walk only the directory part of the prefix.
	start := ""
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		start = prefix[:i]
	}
	if start != "" {
		if err := ValidName(start); err != nil {
			return nil, err
		}
	}
	root := s.path(start)
	var names []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)) {
				return fs.SkipDir
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(s.Dir, p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		if strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.SkipDir) {
		return nil, fmt.Errorf("list %s: %w", root, err)
	}
	sort.Strings(names)
	return names, nil
}

// Remove deletes the file name, then the directories it leaves empty up to (not including) Dir,
// then Dir and its parents when this sink created them and they are left empty.
func (s *LocalSink) Remove(ctx context.Context, name string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	if err := os.Remove(s.path(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", s.path(name), err)
	}
	for d := path.Dir(name); d != "."; d = path.Dir(d) {
		if os.Remove(s.path(d)) != nil {
			return nil
		}
	}
	s.removeEmptyCreated(s.path("."))
	return nil
}

// localObject is a temporary file that Commit renames to its final name.
type localObject struct {
	sink  *LocalSink
	f     *os.File // nil once closed
	tmp   string
	final string
	objectLife
	// written counts the bytes written; flushed is where writeback was last started (see
	// startWriteback).
	written, flushed int64
}

// writebackStep is how much written data starts its writeback to disk while the export goes on,
// so that the fsync of Close, which makes the file durable before it is renamed into place,
// finds little left to write.
const writebackStep = 8 << 20

func (o *localObject) Write(p []byte) (int, error) {
	if o.f == nil {
		return 0, o.writeErr()
	}
	n, err := o.f.Write(p)
	o.written += int64(n)
	if o.written-o.flushed >= writebackStep {
		startWriteback(o.f, o.flushed, o.written-o.flushed)
		o.flushed = o.written
	}
	return n, err
}

// Close flushes the file to disk and closes it without making it visible; Run calls it when a
// part is finished so that finished parts hold no file handle. Commit calls it when needed.
func (o *localObject) Close() error {
	return o.closeOnce(func() error {
		if o.f == nil {
			return nil
		}
		err := o.f.Sync()
		if cerr := o.f.Close(); err == nil {
			err = cerr
		}
		o.f = nil
		if err != nil {
			return fmt.Errorf("write %s: %w", o.final, err)
		}
		return nil
	})
}

func (o *localObject) Commit() error {
	return o.commitOnce(o.Close, func() error {
		if err := os.Rename(o.tmp, o.final); err != nil {
			return fmt.Errorf("rename %s to its final name: %w", o.final, err)
		}
		o.committed = true
		if err := atomicfile.SyncDir(filepath.Dir(o.final)); err != nil {
			return fmt.Errorf("sync directory of %s: %w", o.final, err)
		}
		return nil
	})
}

func (o *localObject) Abort() error {
	return o.abortOnce(func() error {
		if o.f != nil {
			_ = o.f.Close()
			o.f = nil
		}
		o.closed = true
		err := os.Remove(o.tmp)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove temporary file %s: %w", o.tmp, err)
		}
		o.sink.removeEmptyCreated(filepath.Dir(o.final))
		return nil
	})
}
