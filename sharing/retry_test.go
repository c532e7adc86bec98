package sharing

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/deltashare/deltashare/internal/watchdog"
	"github.com/deltashare/deltashare/sharing/protocol"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIsRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"429", &protocol.APIError{Status: 429}, true},
		{"500", &protocol.APIError{Status: 500}, true},
		{"502", &protocol.APIError{Status: 502}, true},
		{"503 wrapped", fmt.Errorf("x: %w", &protocol.APIError{Status: 503}), true},
		{"501", &protocol.APIError{Status: 501}, false},
		{"400", &protocol.APIError{Status: 400}, false},
		{"401", &protocol.APIError{Status: 401}, false},
		{"403", &protocol.APIError{Status: 403}, false},
		{"404", &protocol.APIError{Status: 404}, false},
		{"stream error without status", &protocol.APIError{Code: "STREAM_ERROR"}, false},
		{"connection reset", &url.Error{Op: "Get", URL: "u", Err: &net.OpError{Op: "read", Err: syscall.ECONNRESET}}, true},
		{"connection refused", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, true},
		{"EOF", fmt.Errorf("reading: %w", io.EOF), true},
		{"unexpected EOF", io.ErrUnexpectedEOF, true},
		{"truncated", fmt.Errorf("x: %w", protocol.ErrTruncated), true},
		{"idle timeout", fmt.Errorf("x: %w", watchdog.ErrIdle), true},
		{"deadline", context.DeadlineExceeded, true},
		{"canceled", fmt.Errorf("x: %w", context.Canceled), false},
		{"expired token", &protocol.ExpiredError{}, false},
		{"invalid profile", protocol.ErrInvalidProfile, false},
		{"unknown authority", &url.Error{Err: x509.UnknownAuthorityError{}}, false},
		{"dns not found", &net.DNSError{Err: "no such host", IsNotFound: true}, false},
		{"dns timeout", &net.DNSError{Err: "timeout", IsTimeout: true}, true},
		{"plain error", errors.New("something"), false},
		{"protocol", protocol.ErrProtocol, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, IsRetryable(tc.err))
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"3", 3 * time.Second, true},
		{"0", 0, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"99999999", 24 * time.Hour, true},
	}
	for _, tc := range tests {
		d, ok := protocol.ParseRetryAfter(tc.in, now)
		assert.Equal(t, tc.ok, ok, tc.in)
		assert.Equal(t, tc.want, d, tc.in)
	}
}

// fakeClock is a clock advanced by the fake sleep.
type fakeClock struct {
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) policy(p RetryPolicy) RetryPolicy {
	p.Now = func() time.Time { return c.now }
	p.Sleep = func(ctx context.Context, d time.Duration) error {
		c.sleeps = append(c.sleeps, d)
		c.now = c.now.Add(d)
		return ctx.Err()
	}
	p.Jitter = func(d time.Duration) time.Duration { return d } // the ceiling, to check it
	return p
}

func TestRetryPolicyDo(t *testing.T) {
	tests := []struct {
		name       string
		policy     RetryPolicy
		errs       []error // returned by successive attempts; nil = success
		wantTries  int
		wantErr    bool
		wantSleeps []time.Duration
	}{
		{
			name: "succeeds after 503 burst", policy: RetryPolicy{},
			errs:      []error{&protocol.APIError{Status: 503}, &protocol.APIError{Status: 503}, nil},
			wantTries: 3, wantSleeps: []time.Duration{500 * time.Millisecond, time.Second},
		},
		{
			name: "gives up after max tries", policy: RetryPolicy{MaxTries: 3},
			errs:      []error{&protocol.APIError{Status: 500}, &protocol.APIError{Status: 500}, &protocol.APIError{Status: 500}, nil},
			wantTries: 3, wantErr: true, wantSleeps: []time.Duration{500 * time.Millisecond, time.Second},
		},
		{
			name: "no retry on 404", policy: RetryPolicy{},
			errs:      []error{&protocol.APIError{Status: 404}, nil},
			wantTries: 1, wantErr: true,
		},
		{
			name: "retry-after honoured and capped", policy: RetryPolicy{MaxRetryAfter: 10 * time.Second},
			errs:      []error{&protocol.APIError{Status: 429, RetryAfter: 3 * time.Second}, &protocol.APIError{Status: 429, RetryAfter: time.Hour}, nil},
			wantTries: 3, wantSleeps: []time.Duration{3 * time.Second, 10 * time.Second},
		},
		{
			name: "total time bound", policy: RetryPolicy{MaxElapsed: 19 * time.Second, MaxTries: 100, BaseDelay: 4 * time.Second, MaxDelay: 8 * time.Second},
			errs:      []error{io.EOF, io.EOF, io.EOF, io.EOF, io.EOF, nil},
			wantTries: 3, wantErr: true, wantSleeps: []time.Duration{4 * time.Second, 8 * time.Second},
		},
		{
			name: "backoff capped", policy: RetryPolicy{MaxTries: 6, BaseDelay: time.Second, MaxDelay: 3 * time.Second},
			errs:      []error{io.EOF, io.EOF, io.EOF, io.EOF, nil},
			wantTries: 5, wantSleeps: []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{now: time.Unix(1000, 0)}
			p := clock.policy(tc.policy)
			tries := 0
			err := p.Do(context.Background(), func(attempt int) error {
				tries++
				assert.Equal(t, tries, attempt)
				return tc.errs[attempt-1]
			})
			assert.Equal(t, tc.wantTries, tries)
			if tc.wantErr {
				assert.Error(t, err)
			} else {
				assert.NoError(t, err)
			}
			assert.Equal(t, tc.wantSleeps, clock.sleeps)
		})
	}
}

func TestRetryStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	clock := &fakeClock{now: time.Unix(0, 0)}
	p := clock.policy(RetryPolicy{})
	tries := 0
	err := p.Do(ctx, func(int) error {
		tries++
		cancel()
		return &protocol.APIError{Status: 503}
	})
	assert.Equal(t, 1, tries)
	assert.Error(t, err)
}

func TestFullJitterRange(t *testing.T) {
	for range 100 {
		d := fullJitter(time.Second)
		require.GreaterOrEqual(t, d, time.Duration(0))
		require.LessOrEqual(t, d, time.Second)
	}
	assert.Equal(t, time.Duration(0), fullJitter(0))
}
