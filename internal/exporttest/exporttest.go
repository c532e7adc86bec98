// Package exporttest has one job: the fixtures and the read-back shared by the end-to-end tests
// of export and sync, in package export and in the CLI (cmd/deltashare), so that both check the
// same things the same way. It gives:
//
//   - a Delta table published version by version (NewVersioned, CopyTree), so that a server
//     sees a table grow between sync runs, and a table whose schema changes at version 1
//     (NewPeople, ChangePeopleSchema);
//   - what the demo customers table must yield (ExpectedCustomerIDs, ExpectedCustomerChangeKeys)
//     and the same keys of exported rows (CustomerIDs, ChangeKeysOf);
//   - reading back what a run wrote: the sync state (ReadState, RunFiles, Paths), NDJSON files
//     as objects (NDJSONObjects), files as a multiset of lines (RawLines), the names left in a
//     directory (DirEntries).
//
// The server the tables are served by is internal/sharingtest's. Only tests import this package.
package exporttest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/export"
)

// ReadState reads the sync state file name (such as "_deltashare_state.json") under dest.
func ReadState(t testing.TB, dest, name string) *export.State {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dest, name))
	require.NoError(t, err)
	var st export.State
	require.NoError(t, json.Unmarshal(b, &st))
	return &st
}

// Paths turns files as a state records them (slash-separated, relative to dest) into paths.
func Paths(dest string, files ...string) []string {
	var out []string
	for _, f := range files {
		out = append(out, filepath.Join(dest, filepath.FromSlash(f)))
	}
	return out
}

// RunFiles returns the files the state records for the runs of a kind, as paths under dest.
func RunFiles(st *export.State, dest string, kind export.RunKind) []string {
	var out []string
	for _, r := range st.Runs {
		if r.Kind == kind {
			out = append(out, Paths(dest, r.Files...)...)
		}
	}
	return out
}

// NDJSONObjects decodes NDJSON files (paths) as objects, in order.
func NDJSONObjects(t testing.TB, paths ...string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var m map[string]any
			require.NoError(t, json.Unmarshal(sc.Bytes(), &m), p)
			out = append(out, m)
		}
		require.NoError(t, sc.Err())
	}
	return out
}

// RawLines returns the non-empty lines of files, sorted (a multiset).
func RawLines(t testing.TB, paths ...string) []string {
	t.Helper()
	var out []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			if l != "" {
				out = append(out, l)
			}
		}
	}
	sort.Strings(out)
	return out
}

// DirEntries lists the names in dir, hidden ones and directories included.
func DirEntries(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// Files lists every file under dir, relative to it with forward slashes, sorted.
func Files(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	}))
	sort.Strings(out)
	return out
}

// CSVRecords reads a CSV file's records, header included.
func CSVRecords(t testing.TB, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	return recs
}

// ParquetRows returns the row count a Parquet file's footer gives.
func ParquetRows(t testing.TB, path string) int64 {
	t.Helper()
	r, err := file.OpenParquetFile(path, false)
	require.NoError(t, err)
	defer r.Close()
	return r.NumRows()
}
