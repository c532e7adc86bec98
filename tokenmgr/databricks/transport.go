package databricks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// DefaultTimeout bounds each workspace call, retries included, when WorkspaceOptions.Timeout is
// zero.
const DefaultTimeout = 60 * time.Second

// errUncertainCreate: a request that creates a token got no reliable answer (5xx or a broken
// connection): the token may or may not exist. It is never retried blindly.
var errUncertainCreate = errors.New("no reliable answer to the token creation")

// errGaveUp: a call kept failing with retryable errors until the timeout.
var errGaveUp = errors.New("gave up retrying")

// createKey marks the context of a request that creates a token.
type createKey struct{}

func markCreate(ctx context.Context) context.Context {
	return context.WithValue(ctx, createKey{}, true)
}

// watchTransport sits under the SDK's retries: it says on OnRetry what is being retried once a
// call has been failing for a while, stops the retries at the timeout, and turns a doubtful
// answer to a token creation into errUncertainCreate (which the SDK does not retry).
//
// Its errors must not contain the phrases the SDK retries on ("connection refused",
// "connection reset by peer", "i/o timeout", ...): they end the SDK's retry loop.
type watchTransport struct {
	base    http.RoundTripper
	timeout time.Duration
	notice  time.Duration // first notice after this long; then at most one per notice
	onRetry func(string)
	now     func() time.Time

	mu         sync.Mutex
	failing    map[string]time.Time // call (method and path) -> first failure
	lastNotice time.Time
}

func newWatchTransport(base http.RoundTripper, timeout time.Duration, onRetry func(string)) *watchTransport {
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	notice := min(3*time.Second, timeout/4)
	return &watchTransport{base: base, timeout: timeout, notice: notice, onRetry: onRetry, now: time.Now, failing: map[string]time.Time{}}
}

// retryable is what the SDK retries: throttling, unavailability, gateway timeouts.
func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout
}

func (t *watchTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	key := req.Method + " " + req.URL.Path
	resp, err := t.base.RoundTrip(req)
	creating, _ := req.Context().Value(createKey{}).(bool)
	if creating && (err != nil || resp.StatusCode >= 500) {
		what := "the connection failed before the answer"
		if err == nil {
			what = fmt.Sprintf("HTTP %d", resp.StatusCode)
			drain(resp)
		}
		return nil, fmt.Errorf("%w (%s)", errUncertainCreate, what)
	}
	if err == nil && !retryable(resp.StatusCode) {
		t.mu.Lock()
		delete(t.failing, key)
		delete(t.failing, "reach "+req.URL.Host)
		t.mu.Unlock()
		return resp, nil
	}
	if req.Context().Err() != nil {
		return resp, err
	}
	what := "could not reach the workspace"
	if err == nil {
		what = fmt.Sprintf("HTTP %d", resp.StatusCode)
	} else {
		// An unreachable host stays unreachable for the next call: its clock keeps running.
		key = "reach " + req.URL.Host
	}
	now := t.now()
	t.mu.Lock()
	first, ok := t.failing[key]
	if !ok {
		first, t.failing[key] = now, now
	}
	elapsed := now.Sub(first)
	say := t.onRetry != nil && elapsed >= t.notice && now.Sub(t.lastNotice) >= t.notice
	if say {
		t.lastNotice = now
	}
	if elapsed >= t.timeout && err == nil {
		delete(t.failing, key)
	}
	t.mu.Unlock()
	if elapsed >= t.timeout {
		if err == nil {
			drain(resp)
		}
		return nil, fmt.Errorf("%w: %s %s: %s for %s (the timeout)", errGaveUp, req.Method, req.URL.Path, what, t.timeout)
	}
	if say {
		t.onRetry(fmt.Sprintf("%s %s: %s for %s; retrying until %s have passed", req.Method, req.URL.Path, what, elapsed.Round(time.Second), t.timeout))
	}
	return resp, err
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	_ = resp.Body.Close()
}

// createChecked creates a token with create and never creates two: when the workspace gives no
// reliable answer (5xx, broken connection), it lists the tokens (list) and looks for a new one
// with this comment (and, with mine, created by the caller). One found was created but its value is lost: it is revoked. Then the
// creation is tried once more.
func (w *Workspace) createChecked(ctx context.Context, op, comment string,
	list func(context.Context) ([]TokenInfo, error),
	create func(context.Context) (*CreatedToken, error),
	revoke func(context.Context, string) error,
	mine func(context.Context) (func(TokenInfo) bool, error),
) (*CreatedToken, error) {
	before, err := list(ctx)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, t := range before {
		known[t.ID] = true
	}
	for attempt := 1; ; attempt++ {
		created, err := create(markCreate(ctx))
		if err == nil || !errors.Is(err, errUncertainCreate) {
			return created, err
		}
		after, lerr := list(ctx)
		if lerr != nil {
			return nil, newError(op, nil, fmt.Sprintf("%s: %s, and listing the tokens to check failed too (%s): a token with the comment %q may exist; check with the token list and revoke it",
				op, errUncertainCreate, lerr, comment), err)
		}
		isMine := func(TokenInfo) bool { return true }
		if mine != nil {
			if isMine, lerr = mine(ctx); lerr != nil {
				return nil, newError(op, nil, fmt.Sprintf("%s: %s, and checking for a token created meanwhile failed (%s): a token with the comment %q may exist; check with the token list and revoke it",
					op, errUncertainCreate, lerr, comment), err)
			}
		}
		var orphans []string
		for _, t := range after {
			if !known[t.ID] && t.Comment == comment && isMine(t) {
				orphans = append(orphans, t.ID)
			}
		}
		for _, id := range orphans {
			if rerr := revoke(ctx, id); rerr != nil {
				return nil, newError(op, nil, fmt.Sprintf("%s: the workspace created token %s but its answer was lost, and revoking it failed (%s): revoke it by hand",
					op, id, rerr), err)
			}
		}
		note := "it created nothing"
		if len(orphans) > 0 {
			note = fmt.Sprintf("it had created token(s) %s, whose value was lost: revoked", joinIDs(orphans))
		}
		if attempt == 2 {
			return nil, newError(op, nil, fmt.Sprintf("%s: %s twice (%s); nothing was created: try again later", op, errUncertainCreate, note), err)
		}
		if w.onRetry != nil {
			w.onRetry(fmt.Sprintf("%s: %s; checked by comment: %s; trying once more", op, err, note))
		}
	}
}

func joinIDs(ids []string) string {
	out := ""
	for i, id := range ids {
		if i > 0 {
			out += ", "
		}
		out += id
	}
	return out
}
