package faultproxy

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func start(t *testing.T) *Proxy {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10")
		io.WriteString(w, "0123456789")
	}))
	t.Cleanup(up.Close)
	p, err := New(up.URL)
	require.NoError(t, err)
	t.Cleanup(p.Close)
	return p
}

func get(t *testing.T, u string, timeout time.Duration) (int, http.Header, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	require.NoError(t, err)
	resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b), err
}

func TestRules(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rule    func() *Rule
		status  int
		body    string
		wantErr bool
	}{
		{"pass", func() *Rule { return NewRule("none", "POST", "") }, 200, "0123456789", false},
		{"status", func() *Rule {
			r := NewRule("503", "GET", "^/f")
			r.Status, r.RetryAfter = 503, "1"
			return r
		}, 503, "INJECTED_FAULT", false},
		{"reset", func() *Rule { r := NewRule("rst", "", ""); r.ResetAfterBytes = 4; return r }, 200, "0123", true},
		{"truncate", func() *Rule { r := NewRule("cut", "", ""); r.TruncateAfterBytes = 3; return r }, 200, "012", false},
		{"corrupt", func() *Rule { r := NewRule("flip", "", ""); r.CorruptAt = 0; return r }, 200, "\xcf123456789", false},
		{"rewrite", func() *Rule {
			r := NewRule("rw", "", "")
			r.Rewrite = func(b []byte) []byte { return []byte(strings.ToUpper("ab" + string(b))) }
			return r
		}, 200, "AB0123456789", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := start(t)
			rl := p.Add(tc.rule())
			code, h, body, err := get(t, p.URL+"/f", 5*time.Second)
			if tc.wantErr {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tc.status, code)
			}
			assert.Contains(t, body, tc.body)
			if tc.status == 503 {
				assert.Equal(t, "1", h.Get("Retry-After"))
			}
			if tc.name != "pass" {
				assert.Equal(t, int64(1), rl.Seen())
			}
		})
	}
}

func TestSkipTimesAndStall(t *testing.T) {
	p := start(t)
	r := NewRule("burst", "", "")
	r.Status, r.Skip, r.Times = 500, 1, 2
	p.Add(r)
	var codes []int
	for range 4 {
		code, _, _, err := get(t, p.URL+"/x", 5*time.Second)
		require.NoError(t, err)
		codes = append(codes, code)
	}
	assert.Equal(t, []int{200, 500, 500, 200}, codes)
	assert.Equal(t, int64(2), r.Hits())
	assert.Equal(t, int64(4), p.Requests())
	assert.Equal(t, int64(2), p.Faults())

	p.Clear()
	s := NewRule("stall", "", "")
	s.Stall, s.StallAfterBytes = time.Hour, 2
	p.Add(s)
	start := time.Now()
	_, _, body, err := get(t, p.URL+"/x", 300*time.Millisecond)
	require.Error(t, err)
	assert.Equal(t, "01", body)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Eventually(t, func() bool { return p.InFlight() == 0 }, 5*time.Second, 10*time.Millisecond, "a stalled request ends when its client goes away")
}

func TestNewRejectsBadTarget(t *testing.T) {
	_, err := New("not a url")
	assert.Error(t, err)
}
