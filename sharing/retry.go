package sharing

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/deltashare/deltashare/internal/watchdog"
	"github.com/deltashare/deltashare/sharing/protocol"
)

// RetryPolicy bounds and paces retries of failed requests. The zero value of a field means its
// default (see [DefaultRetryPolicy]); set MaxTries to 1 to disable retries.
type RetryPolicy struct {
	// MaxTries is the number of attempts in all, the first included (default 5).
	MaxTries int
	// MaxElapsed bounds the total time spent on one request, its waits included (default 2m).
	// No retry starts whose wait would end past it.
	MaxElapsed time.Duration
	// BaseDelay is the backoff before the first retry (default 500ms); it doubles per retry.
	BaseDelay time.Duration
	// MaxDelay caps one backoff wait (default 30s).
	MaxDelay time.Duration
	// MaxRetryAfter caps a server's Retry-After request (default 60s).
	MaxRetryAfter time.Duration

	// Sleep waits d or until ctx ends (default: a timer). Tests inject a fake.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now returns the current time (default time.Now). Tests inject a fake clock.
	Now func() time.Time
	// Jitter returns a uniformly random duration in [0, d] (default math/rand/v2).
	Jitter func(d time.Duration) time.Duration
}

// DefaultRetryPolicy returns the defaults: 5 tries, 2 minutes in all, full-jitter exponential
// backoff from 500ms capped at 30s, Retry-After honoured up to 60s.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		MaxTries:      5,
		MaxElapsed:    2 * time.Minute,
		BaseDelay:     500 * time.Millisecond,
		MaxDelay:      30 * time.Second,
		MaxRetryAfter: 60 * time.Second,
		Sleep:         sleepContext,
		Now:           time.Now,
		Jitter:        fullJitter,
	}
}

// withDefaults fills the zero fields.
func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetryPolicy()
	if p.MaxTries <= 0 {
		p.MaxTries = d.MaxTries
	}
	if p.MaxElapsed <= 0 {
		p.MaxElapsed = d.MaxElapsed
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = d.BaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = d.MaxDelay
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = d.MaxRetryAfter
	}
	if p.Sleep == nil {
		p.Sleep = d.Sleep
	}
	if p.Now == nil {
		p.Now = d.Now
	}
	if p.Jitter == nil {
		p.Jitter = d.Jitter
	}
	return p
}

func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func fullJitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(d) + 1))
}

// Backoff returns the wait before retry number retry (1 for the first retry): a random
// duration in [0, min(MaxDelay, BaseDelay·2^(retry-1))] ("full jitter").
func (p RetryPolicy) Backoff(retry int) time.Duration {
	p = p.withDefaults()
	ceiling := p.BaseDelay
	for i := 1; i < retry && ceiling < p.MaxDelay; i++ {
		ceiling *= 2
	}
	if ceiling > p.MaxDelay {
		ceiling = p.MaxDelay
	}
	return p.Jitter(ceiling)
}

// Do runs fn until it succeeds, fails with an error [IsRetryable] rejects, ctx ends, or the
// policy's bounds on tries and total time are reached; it returns fn's last error. The attempt
// number (1-based) is passed to fn. A Retry-After carried by an [*APIError] sets the wait
// (capped by MaxRetryAfter) instead of the backoff.
func (p RetryPolicy) Do(ctx context.Context, fn func(attempt int) error) error {
	return p.DoWith(ctx, fn, IsRetryable, nil)
}

// DoWith is Do with the retry decision and a notification before each wait given by the caller
// (onRetry may be nil). The table reader uses it for downloads, whose errors it classifies itself.
func (p RetryPolicy) DoWith(ctx context.Context, fn func(attempt int) error, retryable func(error) bool, onRetry func(attempt int, wait time.Duration, err error)) error {
	p = p.withDefaults()
	start := p.Now()
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := fn(attempt)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || !retryable(err) || attempt >= p.MaxTries {
			return err
		}
		wait := p.Backoff(attempt)
		var ae *protocol.APIError
		var ra retryAfterer
		if errors.As(err, &ae) && ae.RetryAfter > 0 {
			wait = min(ae.RetryAfter, p.MaxRetryAfter)
		} else if errors.As(err, &ra) && ra.RetryAfterDelay() > 0 {
			wait = min(ra.RetryAfterDelay(), p.MaxRetryAfter)
		}
		if p.Now().Add(wait).Sub(start) > p.MaxElapsed {
			return err
		}
		if onRetry != nil {
			onRetry(attempt, wait, err)
		}
		if serr := p.Sleep(ctx, wait); serr != nil {
			return err
		}
	}
}

// retryAfterer is an error carrying a server's Retry-After (a refused download); the table
// reader's download errors implement it.
type retryAfterer interface{ RetryAfterDelay() time.Duration }

// IsRetryable is the one place that decides whether a failed request may be sent again:
// HTTP 429 and 5xx answers other than 501, broken or refused connections, unexpected EOFs,
// timeouts, and truncated responses. Cancellation by the caller, TLS certificate failures,
// 4xx answers and expired tokens are not retried.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, protocol.ErrTokenExpired) || errors.Is(err, protocol.ErrInvalidProfile) {
		return false
	}
	var ae *protocol.APIError
	if errors.As(err, &ae) {
		return RetryableStatus(ae.Status)
	}
	if errors.Is(err, protocol.ErrTruncated) {
		return true
	}
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var certInvalid x509.CertificateInvalidError
	if errors.As(err, &certErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) || errors.As(err, &certInvalid) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, watchdog.ErrIdle) {
		return true
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ETIMEDOUT) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.IsTimeout || dnsErr.IsTemporary
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"connection reset", "server closed idle connection", "broken pipe", "http2: server sent GOAWAY", "stream error", "unexpected EOF"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// RetryableStatus reports whether an HTTP status is worth retrying: 429 and the 5xx statuses
// except 501 (the server does not implement the request; asking again will not change that).
func RetryableStatus(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500 && status < 600 && status != http.StatusNotImplemented
}
