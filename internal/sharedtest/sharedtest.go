// Package sharedtest locates the third-party test data in ../shared/testdata (real Delta tables
// and Delta Sharing protocol fixtures) for tests in any package of this module, and copies a
// table of it for a test that changes it.
//
// When the folder is missing, tests that need it are skipped with a message, unless the
// environment sets DELTASHARE_REQUIRE_SHARED=1 (as CI does): then they fail. Each skip is also
// recorded in the file DELTASHARE_SHARED_SKIPLOG names, if any: `make test` sets it and prints
// how many tests were skipped and why, so that a run without the data does not look complete.
package sharedtest

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Root returns the absolute path of ../shared/testdata beside the module root, or "" if the
// folder does not exist. DELTASHARE_SHARED_TESTDATA overrides the location.
func Root() string {
	if d := os.Getenv("DELTASHARE_SHARED_TESTDATA"); d != "" {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
		return ""
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	// file is <module>/internal/sharedtest/sharedtest.go
	module := filepath.Dir(filepath.Dir(filepath.Dir(file)))
	d := filepath.Join(filepath.Dir(module), "shared", "testdata")
	if st, err := os.Stat(d); err == nil && st.IsDir() {
		return d
	}
	return ""
}

// SkipLogEnv names the environment variable of the skip log: a file to which every test skipped
// for missing shared data appends a line (its name).
const SkipLogEnv = "DELTASHARE_SHARED_SKIPLOG"

// skip skips tb for missing shared data, recording it in the skip log.
func skip(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if p := os.Getenv(SkipLogEnv); p != "" {
		// One short O_APPEND write a line: the test processes of several packages share the file.
		if f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err == nil {
			_, _ = f.WriteString(tb.Name() + "\n")
			_ = f.Close()
		}
	}
	tb.Skipf(format, args...)
}

// Required reports whether the environment demands the shared data (DELTASHARE_REQUIRE_SHARED=1).
func Required() bool { return os.Getenv("DELTASHARE_REQUIRE_SHARED") == "1" }

// Path returns the path of elem under ../shared/testdata, skipping the test (or failing it when
// the data is required) if the folder or the element is missing.
func Path(tb testing.TB, elem ...string) string {
	tb.Helper()
	root := Root()
	if root == "" {
		if Required() {
			tb.Fatalf("../shared/testdata is missing and DELTASHARE_REQUIRE_SHARED=1")
		}
		skip(tb, "../shared/testdata not found beside the project; skipping (set DELTASHARE_REQUIRE_SHARED=1 to make this an error)")
	}
	p := filepath.Join(append([]string{root}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		if Required() {
			tb.Fatalf("shared test data %s missing: %v", p, err)
		}
		skip(tb, "shared test data %s missing; skipping", p)
	}
	return p
}

// Seeds returns the contents of the files matching glob under ../shared/testdata/dir, as fuzz
// seeds (nothing when the shared data is absent).
func Seeds(dir, glob string) [][]byte {
	root := Root()
	if root == "" {
		return nil
	}
	files, _ := filepath.Glob(filepath.Join(root, dir, glob))
	var out [][]byte
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil {
			out = append(out, b)
		}
	}
	return out
}

// CopyAfterCleanup copies the Delta table at src (shared data, read-only) into a temporary
// directory the test may change, and removes the commits before version there, as log cleanup
// does once version has a checkpoint. It returns the copy's directory.
func CopyAfterCleanup(tb testing.TB, src string, version int64) string {
	tb.Helper()
	dst := tb.TempDir()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		tb.Fatal(err)
	}
	err := filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			err = os.Chmod(p, map[bool]os.FileMode{true: 0o755, false: 0o644}[d.IsDir()])
		}
		return err
	})
	for v := int64(0); v < version && err == nil; v++ {
		err = os.Remove(filepath.Join(dst, "_delta_log", fmt.Sprintf("%020d.json", v)))
	}
	if err != nil {
		tb.Fatal(err)
	}
	return dst
}
