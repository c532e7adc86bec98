package reader

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deltashare/deltashare/internal/heaptest"
	"github.com/deltashare/deltashare/internal/sharingtest"
	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/protocol"
)

// manyFiles is a sharing server on loopback whose table has n files: the query answers with
// the protocol and metadata of a real table and n file actions, each a copy of one of its real
// file actions under its own id and URL; every URL serves that one real file's bytes.
type manyFiles struct {
	*httptest.Server
	n       int
	proto   protocol.ProtocolAction
	meta    protocol.MetadataAction
	file    protocol.File
	body    []byte
	queries atomic.Int64
	conns   atomic.Int64 // connections accepted

	delay       time.Duration // before a file's body
	inFlight    atomic.Int64  // file GETs being answered
	maxInFlight atomic.Int64
	mu          sync.Mutex
	got         map[string]bool // files asked for
}

func newManyFiles(t testing.TB, n int) *manyFiles {
	t.Helper()
	env := sharingtest.Start(t, sharingtest.Options{Tables: sharingtest.Demo(t)})
	c := client(t, env)
	res, err := c.Query(context.Background(), env.Table("demo.sales.orders"), protocol.QueryRequest{})
	if err != nil {
		t.Fatal(err)
	}
	m := &manyFiles{n: n, proto: *res.Protocol, meta: *res.Metadata, file: res.Files[0]}
	resp, err := http.Get(m.file.URL)
	if err != nil {
		t.Fatal(err)
	}
	m.body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("downloading a file of the demo table: %d %v", resp.StatusCode, err)
	}
	m.Server = httptest.NewUnstartedServer(http.HandlerFunc(m.serve))
	m.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			m.conns.Add(1)
		}
	}
	m.Start()
	t.Cleanup(m.Close)
	return m
}

func (m *manyFiles) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/f/") {
		n := m.inFlight.Add(1)
		ended := false
		end := func() {
			if !ended {
				ended = true
				m.inFlight.Add(-1)
			}
		}
		defer end()
		for {
			most := m.maxInFlight.Load()
			if n <= most || m.maxInFlight.CompareAndSwap(most, n) {
				break
			}
		}
		m.mu.Lock()
		if m.got == nil {
			m.got = map[string]bool{}
		}
		m.got[strings.TrimPrefix(r.URL.Path, "/f/")] = true
		m.mu.Unlock()
		time.Sleep(m.delay)
		w.Header().Set("Content-Length", fmt.Sprint(len(m.body)))
		// The download counts as over before its last byte is sent: the client cannot have
		// finished it (and started another) before.
		_, _ = w.Write(m.body[:len(m.body)-1])
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		end()
		_, _ = w.Write(m.body[len(m.body)-1:])
		return
	}
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/query") {
		http.Error(w, `{"errorCode":"NOT_FOUND","message":"no such path"}`, http.StatusNotFound)
		return
	}
	m.queries.Add(1)
	w.Header().Set("Content-Type", "application/x-ndjson; charset=utf-8")
	w.Header().Set(protocol.HeaderTableVersion, "1")
	w.Header().Set(protocol.HeaderCapabilities, "responseformat=delta")
	enc := protocol.NewEncoder(w, protocol.FormatDelta)
	_ = enc.Protocol(m.proto)
	_ = enc.Metadata(m.meta)
	exp := time.Now().Add(time.Hour).UnixMilli()
	for i := range m.n {
		f := m.file
		f.ID = fmt.Sprintf("file-%08d", i)
		f.URL = m.URL + "/f/" + f.ID + "?X-Amz-Signature=0123456789abcdef0123456789abcdef0123456789abcdef"
		f.ExpirationTimestamp = &exp
		if err := enc.File(f); err != nil {
			return
		}
	}
}

func (m *manyFiles) client(t testing.TB) *sharing.Client {
	t.Helper()
	p := &sharing.Profile{ShareCredentialsVersion: 1, Type: sharing.ProfileTypeBearerToken, Endpoint: m.URL + "/delta-sharing", BearerToken: "t"}
	c, err := sharing.NewClient(p, sharingtest.NoRetryWait(), sharingtest.Formats(protocol.FormatDelta),
		sharing.WithLimits(sharing.Limits{MaxResponseBytes: 4 << 30}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.HTTPClient().CloseIdleConnections)
	return c
}

// readFirstFiles opens a read of the table of m and reads the records of its first files.
func readFirstFiles(t testing.TB, m *manyFiles, files int) (heap uint64, count int) {
	t.Helper()
	c := m.client(t)
	h, err := heaptest.Measure(func() error {
		r, err := Open(context.Background(), c, protocol.Table{Share: "s", Schema: "d", Name: "t"}, ReadOptions{Parallel: 2, TempDir: t.TempDir()})
		if err != nil {
			return err
		}
		defer r.Release()
		count = r.FileCount()
		for r.Next() && r.FileIndex() < files {
		}
		return r.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return h.Growth(), count
}

// A read of a table of many files holds its file list on disk, not in memory: the heap it
// takes grows by far less than the query response's size.
func TestManyFilesBoundedHeap(t *testing.T) {
	const n = 100000
	m := newManyFiles(t, n)
	heap, count := readFirstFiles(t, m, 3)
	if count != n {
		t.Fatalf("the read covers %d files, want %d", count, n)
	}
	t.Logf("%d files: peak heap %d MB above the baseline", n, heap>>20)
	if bound := uint64(60 << 20); heap > bound {
		t.Errorf("a read of %d files took %d MB of heap; want at most %d MB", n, heap>>20, bound>>20)
	}
}

var manyFilesFlag = flag.Int("manyfiles", 0, "run TestManyFilesFigure with a table of this many files")

// TestManyFilesFigure measures the heap of a read of a table of -manyfiles files (skipped
// without the flag): go test ./sharing/reader -run TestManyFilesFigure -manyfiles 1000000 -v
func TestManyFilesFigure(t *testing.T) {
	if *manyFilesFlag <= 0 {
		t.Skip("give -manyfiles N")
	}
	m := newManyFiles(t, *manyFilesFlag)
	start := time.Now()
	heap, count := readFirstFiles(t, m, 3)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	hwm := "unknown"
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "VmHWM:") {
				hwm = strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:"))
			}
		}
	}
	t.Logf("%d files: peak heap %d MB above the baseline, process heap system %d MB, peak RSS of the test process %s (fake server included), %s",
		count, heap>>20, ms.HeapSys>>20, hwm, time.Since(start).Round(time.Millisecond))
}

// readEveryFile reads the table of m with parallel files at once and checks that records of
// every file came.
func readEveryFile(t *testing.T, m *manyFiles, parallel int) {
	t.Helper()
	r, err := Open(context.Background(), m.client(t), protocol.Table{Share: "s", Schema: "d", Name: "t"}, ReadOptions{Parallel: parallel, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	files := map[int]bool{}
	for r.Next() {
		files[r.FileIndex()] = true
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if len(files) != m.n {
		t.Fatalf("records of %d files, want %d", len(files), m.n)
	}
}

// A read of many files keeps its connections to the host serving them: with --parallel 8 it
// opens about 8, not one for most files (Go's transport kept 2 idle connections a host).
func TestManyFilesReuseConnections(t *testing.T) {
	const n, parallel = 200, 8
	m := newManyFiles(t, n)
	readEveryFile(t, m, parallel)
	if got, most := m.conns.Load(), int64(parallel+2); got > most {
		t.Errorf("%d files read %d at once over %d connections; want at most %d", n, parallel, got, most)
	}
}

// asked reports whether the file of id was asked for.
func (m *manyFiles) asked(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.got[id]
}

// A file is downloaded while the ones before it are decoded and handed out: with --parallel 1
// the next file's download starts while the consumer still holds the first file's record; and
// never more than Parallel files download at once.
func TestDownloadsOverlapDecoding(t *testing.T) {
	t.Run("next file fetched while the first is held", func(t *testing.T) {
		m := newManyFiles(t, 3)
		r, err := Open(context.Background(), m.client(t), protocol.Table{Share: "s", Schema: "d", Name: "t"}, ReadOptions{Parallel: 1, TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Release()
		if !r.Next() || r.FileIndex() != 0 {
			t.Fatalf("no record of the first file: %v", r.Err())
		}
		// A liveness wait, not a timing: the download needs no further step of the consumer.
		for deadline := time.Now().Add(20 * time.Second); !m.asked("file-00000001"); {
			if time.Now().After(deadline) {
				t.Fatal("the second file was not downloaded while the first one's record was held")
			}
			time.Sleep(5 * time.Millisecond)
		}
		if m.asked("file-00000002") {
			t.Error("with --parallel 1, a third file was downloaded before the first was consumed")
		}
		for r.Next() {
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("at most Parallel downloads at once", func(t *testing.T) {
		m := newManyFiles(t, 40)
		m.delay = 10 * time.Millisecond
		readEveryFile(t, m, 2)
		if got := m.maxInFlight.Load(); got > 2 {
			t.Errorf("%d files downloading at once with --parallel 2", got)
		}
	})
}
