package server

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/internal/sharedtest"
	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/deltashare/deltashare/sharing/server/demo"
)

// appendCommit commits one append of two rows to w and returns the new file's path.
// idTable creates in dir the id table name (demo.CreateIDTable) with commits commits.
func idTable(t *testing.T, dir, name string, commits int) *demo.Table {
	t.Helper()
	w, err := demo.CreateIDTable(dir, name)
	require.NoError(t, err)
	for i := 0; i < commits; i++ {
		appendCommit(t, w)
	}
	return w
}

func appendCommit(t *testing.T, w *demo.Table) string {
	t.Helper()
	add, err := w.AppendIDs()
	require.NoError(t, err)
	return add.Path
}

// changeVersions returns the versions of the add lines of a changes or startingVersion query
// response.
func changeVersions(t *testing.T, body []byte) []int64 {
	t.Helper()
	var out []int64
	for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
		var m struct {
			Add *struct {
				Version int64 `json:"version"`
			} `json:"add"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		if m.Add != nil {
			out = append(out, m.Add.Version)
		}
	}
	return out
}

// The server's caches of a table's log never hide a new commit from /version, a query of the
// latest version, a startingVersion query or /changes, also when the commit left the
// directory's modification time as it was (two writes within one tick of the file system's
// clock) after the server had cached a listing.
func TestNewCommitSeenThroughCaches(t *testing.T) {
	dir := t.TempDir()
	w := idTable(t, dir, "grow", 3)
	logDir := filepath.Join(dir, "_delta_log")
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	require.NoError(t, os.Chtimes(logDir, old, old))
	env := startTables(t, map[string]string{"grow": dir}, nil)

	check := func(latest int64, files int) {
		t.Helper()
		r := do(t, "GET", env.tableURL("grow", "/version"), testToken, nil)
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		assert.Equal(t, []string{itoa(latest)}, r.header.Values(protocol.HeaderTableVersion))

		res, err := env.client.Query(t.Context(), tbl("grow"), protocol.QueryRequest{})
		require.NoError(t, err)
		assert.Equal(t, latest, res.Version)
		assert.Len(t, res.Files, files)

		r = do(t, "POST", env.tableURL("grow", "/query"), testToken, strings.NewReader(`{"startingVersion":1}`))
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		wantVersions := []int64{}
		for v := int64(1); v <= latest; v++ {
			wantVersions = append(wantVersions, v)
		}
		assert.Equal(t, wantVersions, changeVersions(t, r.body), "startingVersion query")

		r = do(t, "GET", env.tableURL("grow", "/changes?startingVersion=1"), testToken, nil)
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		assert.Equal(t, wantVersions, changeVersions(t, r.body), "changes")
		assert.Equal(t, []string{"1"}, r.header.Values(protocol.HeaderTableVersion))
	}
	check(2, 3)
	check(2, 3) // from the caches

	appendCommit(t, w) // a new directory time
	check(3, 4)

	require.NoError(t, os.Chtimes(logDir, old, old))
	check(3, 4) // the server lists again once, then caches the listing
	appendCommit(t, w)
	require.NoError(t, os.Chtimes(logDir, old, old)) // the same directory time as cached
	check(4, 5)
}

func itoa(v int64) string { b, _ := json.Marshal(v); return string(b) }

// damagedTable copies delta-rs/simple_table_with_checkpoint (checkpoint at version 10) into a
// temporary directory, removes the commits before the checkpoint, as log cleanup does, and
// overwrites bytes of the checkpoint.
func damagedTable(t *testing.T) string {
	t.Helper()
	tables, _ := sharedTables(t)
	src := tables["delta-rs_simple_table_with_checkpoint"]
	require.NotEmpty(t, src)
	dst := sharedtest.CopyAfterCleanup(t, src, 10)
	cp := filepath.Join(dst, "_delta_log", "00000000000000000010.checkpoint.parquet")
	b, err := os.ReadFile(cp)
	require.NoError(t, err)
	for i := len(b) - 200; i < len(b)-8; i++ {
		b[i] ^= 0x5a
	}
	require.NoError(t, os.WriteFile(cp, b, 0o644))
	return dst
}

// A damaged checkpoint (the only way to the table's versions) is the server's problem, not the
// client's: /version, /metadata and queries of the latest version and by version answer 500
// INTERNAL_ERROR saying the table's log is damaged (never 400 with "earliest readable version"),
// and the server logs the cause, naming the checkpoint, at error level.
func TestDamagedCheckpointIsServerError(t *testing.T) {
	// A table whose newest commit has a line that is not JSON (its earlier versions read).
	badCommit := t.TempDir()
	idTable(t, badCommit, "bad", 3)
	f, err := os.OpenFile(filepath.Join(badCommit, "_delta_log", "00000000000000000002.json"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"add":{"path":` + "\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())

	env := startTables(t, map[string]string{"damaged": damagedTable(t), "badcommit": badCommit}, nil)
	for _, rq := range []struct{ table, method, suffix, body string }{
		{"damaged", "GET", "/version", ""},
		{"damaged", "GET", "/metadata", ""},
		{"damaged", "POST", "/query", `{}`},
		{"damaged", "POST", "/query", `{"version":10}`},
		{"damaged", "POST", "/query", `{"startingVersion":10}`},
		{"damaged", "GET", "/changes?startingVersion=10", ""},
		{"badcommit", "GET", "/version", ""},
		{"badcommit", "POST", "/query", `{}`},
		{"badcommit", "GET", "/changes?startingVersion=1", ""},
	} {
		r := do(t, rq.method, env.tableURL(rq.table, rq.suffix), testToken, strings.NewReader(rq.body))
		assert.Equal(t, http.StatusInternalServerError, r.status, "%s %s %s: %s", rq.table, rq.method, rq.suffix, r.body)
		if r.status == http.StatusInternalServerError {
			m := r.json(t)
			assert.Equal(t, CodeInternalError, m["errorCode"])
			assert.Contains(t, m["message"], "Delta log is damaged", "%s %s", rq.method, rq.suffix)
			assert.NotContains(t, m["message"], "earliest readable")
		}
	}
	logs := env.logs.String()
	assert.Contains(t, logs, "level=ERROR")
	assert.Contains(t, logs, "00000000000000000010.checkpoint.parquet", "the cause names the checkpoint")
	assert.Contains(t, logs, "00000000000000000002.json line 3", "the cause names the commit and line")

	// Versions before the damage still read.
	r := do(t, "POST", env.tableURL("badcommit", "/query"), testToken, strings.NewReader(`{"version":1}`))
	assert.Equal(t, http.StatusOK, r.status, "%s", r.body)
}
