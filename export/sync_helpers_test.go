package export

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/formats"
	"github.com/deltashare/deltashare/internal/sharingtest"
)

// Helpers of the Sync tests: options, a clock, a sink that fails or "dies", and readers of
// the destination.

const (
	testTable    = "share.schema.people"
	testEndpoint = "https://sharing.example.com/delta-sharing"
)

// t0 is the time of the tests' first runs.
var t0 = time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)

// newClock is a settable clock for SyncOptions.Now, reading t0.
func newClock() *sharingtest.Clock { return sharingtest.NewClock(t0) }

// syncOpts returns the options of a sync of testTable in format f on clock c.
func syncOpts(f formats.Format, c *sharingtest.Clock) SyncOptions {
	return SyncOptions{Table: testTable, Endpoint: testEndpoint, Format: formats.Options{Format: f}, Now: c.Now}
}

// syncedOnce returns the fake people table at version latest synced once into a new folder
// dest in format f, and the options of the run.
func syncedOnce(t *testing.T, latest int64, cdf bool, f formats.Format) (ft *fakeTable, dest string, opts SyncOptions) {
	t.Helper()
	ft, dest, opts = peopleTable(t, latest, cdf), t.TempDir(), syncOpts(f, newClock())
	doSync(t, ft, NewLocalSink(dest), opts)
	return ft, dest, opts
}

// doSync runs Sync and requires it to succeed.
func doSync(t *testing.T, ft *fakeTable, sink Sink, opts SyncOptions) *SyncResult {
	t.Helper()
	res, err := Sync(context.Background(), ft, sink, opts)
	require.NoError(t, err)
	require.NotNil(t, res)
	require.True(t, ft.allReleased(), "Sync releases every source it opens")
	return res
}

// entry is a file (or directory) of a destination: its content and modification time.
type entry struct {
	dir     bool
	content string
	mod     time.Time
}

// treeOf records every entry under dir (nil when dir does not exist), to show that a run wrote
// nothing: same names, same content, same modification times.
func treeOf(t testing.TB, dir string) map[string]entry {
	t.Helper()
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return nil
	}
	out := map[string]entry{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		e := entry{dir: d.IsDir(), mod: info.ModTime()}
		if !d.IsDir() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			e.content = string(b)
		}
		out[filepath.ToSlash(rel)] = e
		return nil
	}))
	return out
}

// contents returns the files under dir with their content (no times): to compare two
// destinations.
func contents(t testing.TB, dir string) map[string]string {
	out := map[string]string{}
	for name, e := range treeOf(t, dir) {
		if !e.dir {
			out[name] = e.content
		}
	}
	return out
}

// stateOf reads the state file name under dir, both as State and as a raw JSON object.
func stateOf(t testing.TB, dir, name string) (*State, map[string]any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	require.NoError(t, err)
	var st State
	require.NoError(t, json.Unmarshal(b, &st))
	var raw map[string]any
	require.NoError(t, json.Unmarshal(b, &raw))
	return &st, raw
}

// recorded returns every file the state records, sorted.
func recorded(st *State) []string {
	var out []string
	for _, r := range st.Runs {
		out = append(out, r.Files...)
	}
	sort.Strings(out)
	return out
}

// locations turns names into the paths of a local sink.
func locations(dir string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = filepath.Join(dir, filepath.FromSlash(n))
	}
	return out
}

// rowsOf reads back the files names of dir (format f) and returns their rows.
func rowsOf(t testing.TB, dir string, f formats.Format, names []string) []map[string]string {
	t.Helper()
	var rows []map[string]string
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(n)))
		require.NoError(t, err)
		_, r := decodeRows(t, string(f), b)
		rows = append(rows, r...)
	}
	return rows
}

// under returns the names that start with prefix.
func under(names []string, prefix string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}

func fileSizes(t testing.TB, dir string, names []string) int64 {
	var n int64
	for _, name := range names {
		fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(name)))
		require.NoError(t, err)
		n += fi.Size()
	}
	return n
}

// writeLock writes a lock object as another run would.
func writeLock(t testing.TB, dir, name string, expires time.Time) string {
	t.Helper()
	b, err := json.Marshal(lockInfo{Owner: "someone-else", Host: "elsewhere", PID: 1, Table: testTable,
		Since: expires.Add(-time.Hour), Expires: expires})
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	return string(b)
}

// faultSink wraps a sink to make a sync run fail: at the failPart-th commit of a part file, or
// at the commit of the state. With kill, the failure stands for the process dying: from then on
// every operation fails, so nothing is cleaned up (the committed files, temporary files and the
// lock stay). Without kill only the one commit fails (a run that gets an error).
type faultSink struct {
	Sink          // a LocalSink or BlobSink
	failPart  int // 1-based; 0: none
	failState bool
	kill      bool

	mu    sync.Mutex
	parts int
	dead  bool
}

var (
	_ ObjectReader     = (*faultSink)(nil)
	_ ExclusiveCreator = (*faultSink)(nil)
	_ Locator          = (*faultSink)(nil)
)

func (s *faultSink) isDead() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dead
}

func (s *faultSink) Location(name string) string { return location(s.Sink, name) }

func (s *faultSink) ReadObject(ctx context.Context, name string) ([]byte, error) {
	if s.isDead() {
		return nil, errInjected
	}
	return s.Sink.(ObjectReader).ReadObject(ctx, name)
}

func (s *faultSink) CreateExclusive(ctx context.Context, name string, data []byte) (bool, error) {
	if s.isDead() {
		return false, errInjected
	}
	return s.Sink.(ExclusiveCreator).CreateExclusive(ctx, name, data)
}

func (s *faultSink) Create(ctx context.Context, name string) (Object, error) {
	if s.isDead() {
		return nil, errInjected
	}
	o, err := s.Sink.Create(ctx, name)
	if err != nil {
		return nil, err
	}
	return &faultObject{Object: o, s: s, name: name}, nil
}

func (s *faultSink) List(ctx context.Context, prefix string) ([]string, error) {
	if s.isDead() {
		return nil, errInjected
	}
	return s.Sink.List(ctx, prefix)
}

func (s *faultSink) Exists(ctx context.Context, name string) (bool, error) {
	if s.isDead() {
		return false, errInjected
	}
	return s.Sink.Exists(ctx, name)
}

func (s *faultSink) Remove(ctx context.Context, name string) error {
	if s.isDead() {
		return errInjected
	}
	return s.Sink.Remove(ctx, name)
}

type faultObject struct {
	Object
	s    *faultSink
	name string
}

func (o *faultObject) Close() error {
	if c, ok := o.Object.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

func (o *faultObject) Commit() error {
	s := o.s
	s.mu.Lock()
	fail := s.dead
	isPartFile := strings.HasPrefix(o.name, "snapshot/") || strings.HasPrefix(o.name, "changes/")
	isState := strings.HasPrefix(path.Base(o.name), "_deltashare_state") && strings.HasSuffix(o.name, ".json")
	if isPartFile {
		s.parts++
		fail = fail || s.parts == s.failPart
	}
	fail = fail || isState && s.failState
	if fail && s.kill {
		s.dead = true
	}
	s.mu.Unlock()
	if fail {
		return errInjected
	}
	return o.Object.Commit()
}

func (o *faultObject) Abort() error {
	if o.s.isDead() {
		return errInjected
	}
	return o.Object.Abort()
}

// plainSink hides the ExclusiveCreator of a sink: the lock is then taken by "look, then write"
// (a store without conditional writes).
type plainSink struct {
	Sink
	local *LocalSink
}

func newPlainSink(dir string) plainSink {
	l := NewLocalSink(dir)
	return plainSink{Sink: l, local: l}
}

func (s plainSink) ReadObject(ctx context.Context, name string) ([]byte, error) {
	return s.local.ReadObject(ctx, name)
}

func (s plainSink) Location(name string) string { return s.local.Location(name) }

// tempsUnder lists the temporary files under dir.
func tempsUnder(t testing.TB, dir string) []string {
	var out []string
	for name := range treeOf(t, dir) {
		if strings.Contains(name, TempMarker) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
