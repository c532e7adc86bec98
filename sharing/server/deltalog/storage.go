package deltalog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// FileInfo describes one entry of a Storage listing.
type FileInfo struct {
	Name    string // base name within the listed directory
	Size    int64
	ModTime time.Time
	IsDir   bool
}

// File is an open storage object: random access (Parquet footers, row groups) plus its size.
type File interface {
	io.ReaderAt
	io.Closer
	Size() int64
}

// Storage is where a table's files live. Names are slash-separated and relative to the storage
// root ("" is the root itself); implementations must refuse names that escape the root. A
// missing directory or file is reported with an error that wraps fs.ErrNotExist.
type Storage interface {
	// List returns the entries directly inside dir, in any order.
	List(ctx context.Context, dir string) ([]FileInfo, error)
	// Open opens the file name for reading.
	Open(ctx context.Context, name string) (File, error)
}

// LocalStorage is a Storage whose objects are files on this machine.
type LocalStorage interface {
	Storage
	// LocalPath returns the operating-system path of name, which must stay inside the root.
	LocalPath(name string) (string, error)
}

// DirStorage is a Storage over a local directory.
type DirStorage struct {
	root string // absolute, cleaned
}

var (
	_ LocalStorage = (*DirStorage)(nil)
	_ StatStorage  = (*DirStorage)(nil)
)

// NewDirStorage returns a Storage rooted at the local directory dir.
func NewDirStorage(dir string) (*DirStorage, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("deltalog: cannot resolve %q: %w", dir, err)
	}
	return &DirStorage{root: filepath.Clean(abs)}, nil
}

// Root returns the absolute local directory the storage serves.
func (d *DirStorage) Root() string { return d.root }

// LocalPath maps a relative slash-separated name to a local path inside the root. It is lexical
// only: Table.AbsPath adds the symlink check.
func (d *DirStorage) LocalPath(name string) (string, error) {
	if strings.ContainsRune(name, 0) {
		return "", fmt.Errorf("deltalog: path %q contains a NUL byte", name)
	}
	if path.IsAbs(filepath.ToSlash(name)) || filepath.IsAbs(name) {
		return "", fmt.Errorf("deltalog: path %q must be relative to the table root", name)
	}
	if hasDotDot(name) {
		return "", fmt.Errorf("deltalog: path %q escapes the table root", name)
	}
	clean := path.Clean("/" + filepath.ToSlash(name))
	return filepath.Join(d.root, filepath.FromSlash(clean)), nil
}

func hasDotDot(name string) bool {
	for _, part := range strings.FieldsFunc(filepath.ToSlash(name), func(r rune) bool { return r == '/' }) {
		if part == ".." {
			return true
		}
	}
	return false
}

// openPath is the local path of name for an operation under ctx: an error once ctx is done.
func (d *DirStorage) openPath(ctx context.Context, name string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return d.LocalPath(name)
}

// List implements Storage.
func (d *DirStorage) List(ctx context.Context, dir string) ([]FileInfo, error) {
	p, err := d.openPath(ctx, dir)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, err
	}
	out := make([]FileInfo, 0, len(entries))
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed while listing
			}
			return nil, err
		}
		out = append(out, FileInfo{Name: e.Name(), Size: info.Size(), ModTime: info.ModTime(), IsDir: info.IsDir()})
	}
	return out, nil
}

// Stat implements StatStorage.
func (d *DirStorage) Stat(ctx context.Context, name string) (FileInfo, error) {
	p, err := d.openPath(ctx, name)
	if err != nil {
		return FileInfo{}, err
	}
	st, err := os.Stat(p)
	if err != nil {
		return FileInfo{}, err
	}
	return FileInfo{Name: st.Name(), Size: st.Size(), ModTime: st.ModTime(), IsDir: st.IsDir()}, nil
}

// Open implements Storage.
func (d *DirStorage) Open(ctx context.Context, name string) (File, error) {
	p, err := d.openPath(ctx, name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("deltalog: %s is a directory, not a file", p)
	}
	return &osFile{File: f, size: st.Size()}, nil
}

type osFile struct {
	*os.File
	size int64
}

func (f *osFile) Size() int64 { return f.size }
