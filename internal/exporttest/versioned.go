package exporttest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// CopyTree copies a directory, keeping file modification times (commit timestamps of tables
// without in-commit timestamps come from them).
func CopyTree(t testing.TB, src, dst string) {
	t.Helper()
	require.NoError(t, filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(target, b, 0o644); err != nil {
			return err
		}
		return os.Chtimes(target, info.ModTime(), info.ModTime())
	}))
}

// Versioned is a copy of a Delta table whose later commits are hidden and brought back, so
// that a server sees the table grow between sync runs. Serve Dir.
type Versioned struct {
	// Dir is the table root (holding _delta_log) to serve.
	Dir    string
	t      testing.TB
	hidden string
}

// NewVersioned copies the table src into a temporary directory of the test and hides its
// commits after version upTo.
func NewVersioned(t testing.TB, src string, upTo int64) *Versioned {
	t.Helper()
	vt := &Versioned{Dir: filepath.Join(t.TempDir(), "table"), t: t, hidden: t.TempDir()}
	CopyTree(t, src, vt.Dir)
	ents, err := os.ReadDir(filepath.Join(vt.Dir, "_delta_log"))
	require.NoError(t, err)
	for _, e := range ents {
		var v int64
		if _, err := fmt.Sscanf(e.Name(), "%020d.json", &v); err == nil && v > upTo {
			require.NoError(t, os.Rename(filepath.Join(vt.Dir, "_delta_log", e.Name()), filepath.Join(vt.hidden, e.Name())))
		}
	}
	return vt
}

// Publish brings back the commits up to version upTo.
func (vt *Versioned) Publish(upTo int64) {
	vt.t.Helper()
	ents, err := os.ReadDir(vt.hidden)
	require.NoError(vt.t, err)
	for _, e := range ents {
		var v int64
		if _, err := fmt.Sscanf(e.Name(), "%020d.json", &v); err == nil && v <= upTo {
			require.NoError(vt.t, os.Rename(filepath.Join(vt.hidden, e.Name()), filepath.Join(vt.Dir, "_delta_log", e.Name())))
		}
	}
}
