package server

// Load and abuse: many concurrent clients against the real server on loopback, with leak and
// memory checks; request header and body bounds. See docs/reliability.md.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deltashare/deltashare/sharing/protocol"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/sharing"
)

// loadDuration is how long TestConcurrentClients runs: DELTASHARE_LOAD_DURATION (a Go
// duration; make test-faults sets 30s), default 2s.
func loadDuration(t *testing.T) time.Duration {
	if v := os.Getenv("DELTASHARE_LOAD_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		require.NoError(t, err, "DELTASHARE_LOAD_DURATION")
		return d
	}
	return 2 * time.Second
}

func openFDs(t *testing.T) int {
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(es)
}

func heapInuse() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestConcurrentClients: 50 clients list, query, read changes and download data files at once
// for a bounded time. Every request succeeds (no retries allowed); afterwards no goroutine and
// no file descriptor is left over, and the heap stayed bounded.
func TestConcurrentClients(t *testing.T) {
	const clients = 50
	dur := loadDuration(t)
	runtime.GC()
	g0, fd0, h0 := runtime.NumGoroutine(), openFDs(t), heapInuse()
	var peak atomic.Uint64
	var requests, bytesRead atomic.Int64
	// Registered first, so it runs last: after the server stopped.
	t.Cleanup(func() {
		assert.Eventually(t, func() bool { return runtime.NumGoroutine() <= g0+2 }, 10*time.Second, 50*time.Millisecond,
			"goroutines: %d before, %d after", g0, runtime.NumGoroutine())
		assert.Eventually(t, func() bool { return openFDs(t) <= fd0+2 }, 10*time.Second, 50*time.Millisecond,
			"file descriptors: %d before, %d after", fd0, openFDs(t))
		runtime.GC()
		h1 := heapInuse()
		t.Logf("load: %d clients for %s: %d requests (%.0f/s), %d MB downloaded; heap in use %d MB before, peak %d MB, %d MB after; goroutines %d/%d, fds %d/%d",
			clients, dur, requests.Load(), float64(requests.Load())/dur.Seconds(), bytesRead.Load()>>20,
			h0>>20, peak.Load()>>20, h1>>20, g0, runtime.NumGoroutine(), fd0, openFDs(t))
		assert.Less(t, peak.Load(), h0+512<<20, "peak heap")
		assert.Less(t, h1, h0+64<<20, "heap after the load")
	})
	env := startTables(t, map[string]string{"orders": demoDir(t, "orders"), "customers": demoDir(t, "customers")}, nil)

	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		for {
			if h := heapInuse(); h > peak.Load() {
				peak.Store(h)
			}
			select {
			case <-tk.C:
			case <-stopSampling:
				return
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		c := env.newClient(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.HTTPClient().CloseIdleConnections()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for ctx.Err() == nil {
				if err := loadStep(ctx, c, rng, &requests, &bytesRead); err != nil && ctx.Err() == nil {
					errs <- fmt.Errorf("client %d: %w", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stopSampling)
	<-sampled
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Greater(t, requests.Load(), int64(clients), "every client got through")
}

// loadStep is one unit of a client's work: a listing, a query or a change data read, then a
// download of one of the data files it returned.
func loadStep(ctx context.Context, c *sharing.Client, rng *rand.Rand, requests, bytesRead *atomic.Int64) error {
	var res *sharing.QueryResult
	var err error
	switch rng.IntN(4) {
	case 0:
		_, err = c.ListShares(ctx)
		requests.Add(1)
		if err == nil {
			_, err = c.ListAllTables(ctx, tShare)
			requests.Add(1)
		}
		return err
	case 1, 2:
		res, err = c.Query(ctx, tbl("orders"), protocol.QueryRequest{})
	case 3:
		sv := int64(0)
		res, err = c.Changes(ctx, tbl("customers"), protocol.ChangesRequest{StartingVersion: &sv})
	}
	requests.Add(1)
	if err != nil {
		return err
	}
	if len(res.Files) == 0 {
		return fmt.Errorf("no files")
	}
	f := res.Files[rng.IntN(len(res.Files))]
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL, nil)
	if err != nil {
		return err
	}
	resp, err := c.HTTPClient().Do(req)
	requests.Add(1)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	bytesRead.Add(n)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || n != f.Size {
		return fmt.Errorf("download of %s: status %d, %d of %d bytes", f.ID, resp.StatusCode, n, f.Size)
	}
	return nil
}

// TestRequestBounds: oversized headers get 431 and oversized bodies 413 (with or without a
// Content-Length), malformed bodies 400 with an errorCode, on the real listener.
func TestRequestBounds(t *testing.T) {
	env := startTables(t, map[string]string{"orders": demoDir(t, "orders")}, nil)
	q := env.tableURL("orders", "/query")
	send := func(body io.Reader, length int64, hdr map[string]string) (int, string) {
		req, err := http.NewRequest(http.MethodPost, q, body)
		require.NoError(t, err)
		req.ContentLength = length
		req.Header.Set("Authorization", "Bearer "+testToken)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, _ := send(strings.NewReader("{}"), 2, map[string]string{"X-Big": strings.Repeat("a", 200<<10)})
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, code)

	big := `{"predicateHints":["` + strings.Repeat("x", MaxBodyBytes) + `"]}`
	code, body := send(strings.NewReader(big), int64(len(big)), nil)
	assert.Equal(t, http.StatusRequestEntityTooLarge, code)
	assert.Contains(t, body, "errorCode")
	code, body = send(io.MultiReader(strings.NewReader(big)), -1, nil) // chunked: no Content-Length
	assert.Equal(t, http.StatusRequestEntityTooLarge, code)
	assert.Contains(t, body, "errorCode")

	for _, bad := range []string{`{`, `nope`, `{"version": "one"}`, `{"limitHint": -1}`, `{} {}`, "\x00\xff"} {
		code, body = send(bytes.NewReader([]byte(bad)), int64(len(bad)), nil)
		assert.Equal(t, http.StatusBadRequest, code, "%q: %s", bad, body)
		assert.Contains(t, body, `"errorCode"`, bad)
	}
}
