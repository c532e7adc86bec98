package server

// Slow and hostile requests on the real listener: bodies trickled a byte at a time, the
// connection cap, huge names, doubled slashes. See docs/reliability.md.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hangGuard bounds how long a test waits for the server before it reports a hang: a failure
// when the server never answers or never closes, not a measure of speed.
const hangGuard = 30 * time.Second

// slowRequest opens a connection to the server of api, sends the headers of a POST to path with
// a body of Content-Length 1000 (with the bearer token, if any) and the body's first byte only.
func slowRequest(t *testing.T, api, path, token string) net.Conn {
	t.Helper()
	u, err := url.Parse(api)
	require.NoError(t, err)
	c, err := net.Dial("tcp", u.Host)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n", u.Path+path, u.Host)
	if token != "" {
		fmt.Fprintf(&b, "Authorization: Bearer %s\r\n", token)
	}
	b.WriteString("\r\n{")
	_, err = io.WriteString(c, b.String())
	require.NoError(t, err)
	return c
}

// answer reads the response on c and then reads on until the server closes the connection;
// it returns the status and the error code of the body. A close counts whether it arrives as
// FIN (EOF) or as RST (connection reset): a server that closes a socket with unread request
// bytes in its receive buffer (the trickled body) resets it, depending on timing.
func answer(c net.Conn) (status int, code string, closed bool, err error) {
	_ = c.SetReadDeadline(time.Now().Add(hangGuard))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return 0, "", false, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if i := strings.Index(string(body), `"errorCode":"`); i >= 0 {
		code, _, _ = strings.Cut(string(body[i+len(`"errorCode":"`):]), `"`)
	}
	_, rerr := br.ReadByte()
	return resp.StatusCode, code, rerr == io.EOF || errors.Is(rerr, syscall.ECONNRESET), nil
}

// peakRSS is the process's peak resident set size in bytes (Linux; 0 elsewhere).
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// TestSlowBodyFaults: bodies trickled a byte at a time. Without a valid token the request is
// answered 401 before its body is read and the connection closed at once (200 of them at
// once); with one, a body not received within bodyTimeout is answered 408 and the connection
// closed; and at most maxConnections connections are open at once, the others waiting to be
// accepted and then served.
func TestSlowBodyFaults(t *testing.T) {
	const unauth, capN, extra = 200, 8, 4
	cases := 0
	query := "/shares/" + tShare + "/schemas/" + tSchema + "/tables/orders/query"

	t.Run("unauthenticated", func(t *testing.T) {
		env := startTables(t, map[string]string{"orders": demoDir(t, "orders")}, func(c *Config) { c.BodyTimeout = time.Hour })
		conns := make([]net.Conn, unauth)
		for i := range conns {
			tok := ""
			if i%2 == 1 {
				tok = "wrong-token-wrong-token-wrong-token"
			}
			conns[i] = slowRequest(t, env.api, query, tok)
		}
		var wg sync.WaitGroup
		var ok atomic.Int64
		for _, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status, code, closed, err := answer(c)
				if assert.NoError(t, err) && assert.Equal(t, http.StatusUnauthorized, status) &&
					assert.Equal(t, CodeUnauthenticated, code) && assert.True(t, closed, "the connection is closed, the body not waited for") {
					ok.Add(1)
				}
			}()
		}
		wg.Wait()
		assert.Equal(t, int64(unauth), ok.Load())
		cases += unauth
	})

	t.Run("authenticated, body too slow", func(t *testing.T) {
		env := startTables(t, map[string]string{"orders": demoDir(t, "orders")}, func(c *Config) { c.BodyTimeout = 300 * time.Millisecond })
		c := slowRequest(t, env.api, query, testToken)
		stop := make(chan struct{})
		defer close(stop)
		go func() { // one more byte now and then, never the whole body
			for {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
					if _, err := c.Write([]byte(" ")); err != nil {
						return
					}
				}
			}
		}()
		status, code, closed, err := answer(c)
		require.NoError(t, err)
		assert.Equal(t, http.StatusRequestTimeout, status)
		assert.Equal(t, CodeRequestTimeout, code)
		assert.True(t, closed)
		assert.Contains(t, env.logs.String(), "status=408")
		cases++
	})

	t.Run("connection cap", func(t *testing.T) {
		env := startTables(t, map[string]string{"orders": demoDir(t, "orders")}, func(c *Config) {
			c.MaxConnections, c.BodyTimeout = capN, time.Hour
		})
		var held []net.Conn
		for range capN {
			held = append(held, slowRequest(t, env.api, query, testToken))
		}
		env.srv.mu.Lock()
		ll := env.srv.conns
		env.srv.mu.Unlock()
		require.Eventually(t, func() bool { return ll.active.Load() == capN }, hangGuard, 5*time.Millisecond)
		// More slow clients and one ordinary request: they wait to be accepted.
		for range extra {
			held = append(held, slowRequest(t, env.api, query, testToken))
		}
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		got := make(chan int, 1)
		go func() {
			req, _ := http.NewRequest(http.MethodGet, env.api+"/shares", nil)
			req.Header.Set("Authorization", "Bearer "+testToken)
			resp, err := client.Do(req)
			if err != nil {
				got <- 0
				return
			}
			resp.Body.Close()
			got <- resp.StatusCode
		}()
		// The held clients give up: the waiting ones are served.
		for _, c := range held {
			c.Close()
		}
		select {
		case status := <-got:
			assert.Equal(t, http.StatusOK, status)
		case <-time.After(hangGuard):
			t.Fatal("the waiting request was never served")
		}
		assert.LessOrEqual(t, ll.peak.Load(), int64(capN), "never more than maxConnections open")
		assert.Contains(t, env.logs.String(), "connection limit reached")
		cases += capN + extra + 1
		t.Logf("slow body: %d cases; %d connections held at a cap of %d (peak %d open), %d waiting; peak RSS %d MB",
			cases, capN, capN, ll.peak.Load(), extra+1, peakRSS()>>20)
	})
}

// TestRequestBoundsHostilePaths: a 404 for a 60 kB name does not echo it back; a path with
// doubled slashes (a client that built it from an endpoint ending in "/") is served as the path
// with single slashes, not redirected (a redirected POST is not followed).
func TestRequestBoundsHostilePaths(t *testing.T) {
	env := startTables(t, map[string]string{"orders": demoDir(t, "orders")}, nil)
	long := strings.Repeat("n", 60<<10)
	for _, p := range []string{"/shares/" + long, "/shares/" + tShare + "/schemas/" + long + "/tables",
		"/shares/" + tShare + "/schemas/" + tSchema + "/tables/" + long + "/version"} {
		r := do(t, "GET", env.api+p, testToken, nil)
		assert.Equal(t, http.StatusNotFound, r.status)
		assert.Equal(t, CodeResourceDoesNotExist, r.json(t)["errorCode"])
		assert.Less(t, len(r.body), 1024, "the name is not echoed whole")
	}

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base, prefix, _ := strings.Cut(strings.TrimPrefix(env.api, "http://"), "/")
	for _, tc := range []struct{ method, url, body string }{
		{"GET", env.api + "//shares", ""},
		{"GET", "http://" + base + "//" + prefix + "/shares/" + tShare + "//schemas", ""},
		{"GET", env.api + "//shares/" + tShare + "/schemas/" + tSchema + "/tables/orders/version", ""},
		{"POST", env.api + "//shares/" + tShare + "/schemas/" + tSchema + "/tables/orders/query", "{}"},
	} {
		req, err := http.NewRequestWithContext(context.Background(), tc.method, tc.url, strings.NewReader(tc.body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := noRedirect.Do(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, "%s %s: %s", tc.method, tc.url, b)
	}
}
