package faultproxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Rule is one fault. A request matches when Method (if set) equals its method and Path (if
// set) matches its escaped path. The first matching rule that still has uses left applies:
// after Skip matching requests pass untouched, the next Times requests get the fault (Times 0:
// every later request). A rule sets one kind of fault; when several fields are set they
// combine in the order Stall, Status, then the body faults on the forwarded response.
type Rule struct {
	Name   string         // for messages and counters
	Method string         // "" matches every method
	Path   *regexp.Regexp // nil matches every path
	Skip   int            // matching requests let through before the fault applies
	Times  int            // requests the fault applies to; 0 means no bound

	// Stall waits this long before answering (or until the client goes away); with
	// StallAfterBytes >= 0 the stall happens after that many body bytes were sent instead.
	Stall           time.Duration
	StallAfterBytes int64

	// Status answers with this HTTP status and a protocol error body instead of forwarding;
	// RetryAfter, when set, is sent as the Retry-After header.
	Status     int
	RetryAfter string

	// ResetAfterBytes >= 0 forwards the response but resets the TCP connection (RST) after
	// that many body bytes.
	ResetAfterBytes int64
	// TruncateAfterBytes >= 0 forwards only that many body bytes and ends the response
	// cleanly (without Content-Length, so the client sees a short body and no transport error).
	TruncateAfterBytes int64
	// CorruptAt >= 0 flips the bits of CorruptLen bytes (default 1) from this body offset.
	CorruptAt  int64
	CorruptLen int64
	// Rewrite, when set, replaces the whole forwarded body (Content-Length is adjusted).
	Rewrite func(body []byte) []byte

	seen atomic.Int64 // matching requests
	hits atomic.Int64 // requests the fault was applied to
}

// NewRule returns a rule matching method and the path pattern (a regular expression; "" every
// path) with every byte-offset fault disabled. Set the fault's fields before adding it.
func NewRule(name, method, pathPattern string) *Rule {
	r := &Rule{Name: name, Method: method, StallAfterBytes: -1, ResetAfterBytes: -1, TruncateAfterBytes: -1, CorruptAt: -1}
	if pathPattern != "" {
		r.Path = regexp.MustCompile(pathPattern)
	}
	return r
}

// Hits is how many requests the rule's fault was applied to.
func (r *Rule) Hits() int64 { return r.hits.Load() }

// Seen is how many requests matched the rule (its Skip ones included).
func (r *Rule) Seen() int64 { return r.seen.Load() }

func (r *Rule) matches(req *http.Request) bool {
	if r.Method != "" && r.Method != req.Method {
		return false
	}
	return r.Path == nil || r.Path.MatchString(req.URL.EscapedPath())
}

// claim counts a matching request and reports whether the fault applies to it.
func (r *Rule) claim() bool {
	n := r.seen.Add(1)
	if n <= int64(r.Skip) {
		return false
	}
	if r.Times > 0 && n > int64(r.Skip+r.Times) {
		return false
	}
	r.hits.Add(1)
	return true
}

// Proxy is a fault-injecting reverse proxy on loopback.
type Proxy struct {
	// URL is the proxy's base URL (http://127.0.0.1:port).
	URL string

	target *url.URL
	srv    *httptest.Server
	tr     *http.Transport

	mu       sync.Mutex
	rules    []*Rule
	requests atomic.Int64
	faults   atomic.Int64
	inflight atomic.Int64
	closed   chan struct{}
	once     sync.Once
}

// New starts a proxy forwarding to target (scheme://host:port). Close it when done.
func New(target string) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("faultproxy: target %q is not scheme://host:port", target)
	}
	p := &Proxy{target: u, tr: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}, closed: make(chan struct{})}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	p.URL = p.srv.URL
	return p, nil
}

// Close stops the proxy, cutting connections in flight.
func (p *Proxy) Close() {
	p.once.Do(func() { close(p.closed) })
	p.srv.CloseClientConnections()
	p.srv.Close()
	p.tr.CloseIdleConnections()
}

// Add appends rules (checked in the order added) and returns the first, for its counters.
func (p *Proxy) Add(rules ...*Rule) *Rule {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, rules...)
	if len(rules) == 0 {
		return nil
	}
	return rules[0]
}

// Clear removes every rule.
func (p *Proxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = nil
}

// Requests is how many requests the proxy received.
func (p *Proxy) Requests() int64 { return p.requests.Load() }

// Faults is how many requests got a fault.
func (p *Proxy) Faults() int64 { return p.faults.Load() }

// InFlight is how many requests are being served now.
func (p *Proxy) InFlight() int64 { return p.inflight.Load() }

func (p *Proxy) rule(r *http.Request) *Rule {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, rl := range p.rules {
		if rl.matches(r) && rl.claim() {
			return rl
		}
	}
	return nil
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	p.requests.Add(1)
	p.inflight.Add(1)
	defer p.inflight.Add(-1)
	// Read the request body first: the server notices a client that went away (and cancels
	// r.Context(), which ends stalls) only once the body was read.
	reqBody, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	rl := p.rule(r)
	if rl != nil {
		p.faults.Add(1)
	}
	if rl != nil && rl.Stall > 0 && rl.StallAfterBytes < 0 {
		if !p.sleep(r, rl.Stall) {
			return
		}
	}
	if rl != nil && rl.Status != 0 {
		if rl.RetryAfter != "" {
			w.Header().Set("Retry-After", rl.RetryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rl.Status)
		msg, _ := json.Marshal("fault " + rl.Name + " injected by the test proxy")
		fmt.Fprintf(w, `{"errorCode":"INJECTED_FAULT","message":%s}`, msg)
		return
	}
	resp, err := p.forward(r, reqBody)
	if err != nil {
		http.Error(w, "faultproxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	if rl == nil || !rl.touchesBody() {
		copyHeader(w.Header(), resp.Header)
		w.WriteHeader(resp.StatusCode)
		flushCopy(w, resp.Body)
		return
	}
	p.faultBody(w, r, rl, resp)
}

func (rl *Rule) touchesBody() bool {
	return rl.StallAfterBytes >= 0 || rl.ResetAfterBytes >= 0 || rl.TruncateAfterBytes >= 0 || rl.CorruptAt >= 0 || rl.Rewrite != nil
}

func (p *Proxy) forward(r *http.Request, body []byte) (*http.Response, error) {
	u := *p.target
	u.Path = r.URL.Path
	u.RawPath = r.URL.RawPath
	u.RawQuery = r.URL.RawQuery
	var rd io.Reader
	if len(body) > 0 {
		rd = bytes.NewReader(body)
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	copyHeader(out.Header, r.Header)
	out.Host = r.Host // keep the Host the client used
	return p.tr.RoundTrip(out)
}

// faultBody forwards resp with the rule's body fault.
func (p *Proxy) faultBody(w http.ResponseWriter, r *http.Request, rl *Rule, resp *http.Response) {
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if rl.Rewrite != nil {
		body = rl.Rewrite(bytes.Clone(body))
	}
	if rl.CorruptAt >= 0 {
		n := max(rl.CorruptLen, 1)
		for i := rl.CorruptAt; i < rl.CorruptAt+n && i < int64(len(body)); i++ {
			body[i] ^= 0xFF
		}
	}
	copyHeader(w.Header(), resp.Header)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if rl.TruncateAfterBytes >= 0 && rl.TruncateAfterBytes < int64(len(body)) {
		w.Header().Del("Content-Length")
		body = body[:rl.TruncateAfterBytes]
	}
	w.WriteHeader(resp.StatusCode)
	switch {
	case rl.ResetAfterBytes >= 0:
		n := min(rl.ResetAfterBytes, int64(len(body)))
		_, _ = w.Write(body[:n])
		reset(w)
		return
	case rl.StallAfterBytes >= 0:
		n := min(rl.StallAfterBytes, int64(len(body)))
		_, _ = w.Write(body[:n])
		http.NewResponseController(w).Flush()
		stall := rl.Stall
		if stall <= 0 {
			stall = time.Hour
		}
		if !p.sleep(r, stall) {
			return
		}
		body = body[n:]
	}
	_, _ = w.Write(body)
}

// reset sends what was written and resets the connection (TCP RST), like a crashed peer.
func reset(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	conn, buf, err := rc.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = buf.Flush()
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// sleep waits d, or until the client goes away or the proxy is closed (then false).
func (p *Proxy) sleep(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-p.closed:
		return false
	}
}

func flushCopy(w http.ResponseWriter, r io.Reader) {
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			_ = rc.Flush()
		}
		if err != nil {
			if err != io.EOF {
				panic(http.ErrAbortHandler)
			}
			return
		}
	}
}

var hopHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Transfer-Encoding": true,
	"Te": true, "Trailer": true, "Upgrade": true,
}

func copyHeader(dst, src http.Header) {
	for k, vs := range src {
		if hopHeaders[http.CanonicalHeaderKey(k)] {
			continue
		}
		dst[k] = append([]string(nil), vs...)
	}
}
