package deltalog

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// AbsPath resolves a path from the log (an add, remove or cdc path, or a deletion vector path)
// to a local path inside the table root. Relative paths are URI-decoded as the Delta protocol
// requires ("x=a%20b/part-0.parquet" names the directory "x=a b"); "file:" URIs and plain
// absolute paths are accepted when they point inside the root. Anything that escapes the root
// lexically ("../x", "%2e%2e/x") or through a symbolic link is refused, as are other URI schemes.
// It needs local storage (Open or a LocalStorage).
func (t *Table) AbsPath(p string) (string, error) {
	if t.localRoot == "" {
		return "", fmt.Errorf("deltalog: the table's storage is not local; cannot resolve %q to a local path", p)
	}
	if p == "" {
		return "", fmt.Errorf("deltalog: empty path")
	}
	var local string
	if u, err := url.Parse(p); err == nil && u.Scheme != "" && len(u.Scheme) > 1 {
		if !strings.EqualFold(u.Scheme, "file") {
			return "", fmt.Errorf("deltalog: path %q uses scheme %q; only relative paths and file: URIs are served from a local table", p, u.Scheme)
		}
		if u.Host != "" && u.Host != "localhost" {
			return "", fmt.Errorf("deltalog: file URI %q names host %q; only local files are served", p, u.Host)
		}
		local = filepath.FromSlash(u.Path)
	} else {
		dec, err := url.PathUnescape(p)
		if err != nil {
			return "", fmt.Errorf("deltalog: path %q is not valid URI escaping: %w", p, err)
		}
		local = filepath.FromSlash(dec)
	}
	if strings.ContainsRune(local, 0) {
		return "", fmt.Errorf("deltalog: path %q contains a NUL byte", p)
	}
	if !filepath.IsAbs(local) {
		for _, part := range strings.Split(filepath.ToSlash(local), "/") {
			if part == ".." {
				return "", fmt.Errorf("deltalog: path %q escapes the table root", p)
			}
		}
		local = filepath.Join(t.localRoot, local)
	}
	local = filepath.Clean(local)
	if !within(t.localRoot, local) {
		return "", fmt.Errorf("deltalog: path %q is outside the table root", p)
	}
	if rel, err := filepath.Rel(t.localRoot, local); err == nil && noLinksBelow(t.localRoot, rel) {
		return local, nil
	}
	// Follow symbolic links (of the deepest existing ancestor when the file does not exist yet)
	// and check again against the real root.
	realRoot, err := filepath.EvalSymlinks(t.localRoot)
	if err != nil {
		return "", fmt.Errorf("deltalog: resolving the table root: %w", err)
	}
	existing, rest := local, ""
	for {
		real, err := filepath.EvalSymlinks(existing)
		if err == nil {
			if !within(realRoot, filepath.Join(real, rest)) {
				return "", fmt.Errorf("deltalog: path %q leads outside the table root through a symbolic link", p)
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("deltalog: resolving %q: %w", p, err)
		}
		if _, lerr := os.Lstat(existing); lerr == nil {
			return "", fmt.Errorf("deltalog: path %q goes through a dangling symbolic link", p)
		}
		parent := filepath.Dir(existing)
		if parent == existing {
			break
		}
		rest = filepath.Join(filepath.Base(existing), rest)
		existing = parent
	}
	return local, nil
}

// noLinksBelow reports whether every element of the relative path rel exists under root and
// none is a symbolic link: the path is then inside wherever root leads, checked with one Lstat
// an element below the root instead of resolving every element from the file system's root
// twice (a query of 20,000 files spent half its time so). Anything else takes the full
// resolution.
func noLinksBelow(root, rel string) bool {
	if rel == "." {
		return true
	}
	p := root
	for _, part := range strings.Split(rel, string(os.PathSeparator)) {
		p = filepath.Join(p, part)
		fi, err := os.Lstat(p)
		if err != nil || fi.Mode()&fs.ModeSymlink != 0 {
			return false
		}
	}
	return true
}

// within reports whether p is root or inside it (both cleaned, absolute).
func within(root, p string) bool {
	if p == root {
		return true
	}
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return false
	}
	return rel != ".." && !strings.HasPrefix(rel, ".."+string(os.PathSeparator)) && !filepath.IsAbs(rel)
}
