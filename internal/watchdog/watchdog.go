// Package watchdog cancels an HTTP request whose server goes quiet: no response headers, or no
// body bytes, within an idle timeout. The protocol client and the table reader's downloads share it.
package watchdog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/deltashare/deltashare/internal/redact"
)

// Watchdog cancels a request when the server sends nothing for too long: first while waiting for
// the headers, then between reads of the body.
type Watchdog struct {
	mu      sync.Mutex
	t       *time.Timer
	idle    time.Duration
	stopped bool
}

// New starts a watchdog that calls fire when nothing arrives within headerWait, then (after
// BodyStarted) within idle between reads.
func New(headerWait, idle time.Duration, fire func()) *Watchdog {
	return &Watchdog{t: time.AfterFunc(headerWait, fire), idle: idle}
}

// BodyStarted switches to the idle timeout between reads.
func (w *Watchdog) BodyStarted() { w.Reset() }

// Reset restarts the idle timer.
func (w *Watchdog) Reset() {
	w.mu.Lock()
	if !w.stopped {
		w.t.Reset(w.idle)
	}
	w.mu.Unlock()
}

// Stop disarms the watchdog.
func (w *Watchdog) Stop() {
	w.mu.Lock()
	w.stopped = true
	w.t.Stop()
	w.mu.Unlock()
}

// Body is a response body read under a watchdog: each read resets it, a stall or a cut
// connection becomes a descriptive error, and Close stops the watchdog and cancels the request.
type Body struct {
	RC     io.ReadCloser
	WD     *Watchdog
	Ctx    context.Context
	Parent context.Context
	Cancel context.CancelCauseFunc
	What   string
	// Truncated is the error wrapped when the connection closes mid-body (io.ErrUnexpectedEOF).
	Truncated error
}

// Read reads the body, resetting the watchdog; a stall or a cut connection is described.
func (b *Body) Read(p []byte) (int, error) {
	b.WD.Reset()
	n, err := b.RC.Read(p)
	if err != nil && err != io.EOF {
		if b.Parent.Err() == nil && errors.Is(context.Cause(b.Ctx), ErrIdle) {
			return n, fmt.Errorf("%s: the response stalled: %w", b.What, ErrIdle)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return n, fmt.Errorf("%s: the connection closed mid-response: %w (%w)", b.What, b.Truncated, err)
		}
		return n, fmt.Errorf("%s: reading the response: %w", b.What, redact.Err(err))
	}
	return n, err
}

// Close stops the watchdog, closes the body and releases the request's context.
func (b *Body) Close() error {
	b.WD.Stop()
	err := b.RC.Close()
	b.Cancel(nil)
	return err
}

// ErrIdle is the cause given to a request's context when the server sent nothing for the
// client's timeout (no response headers, or no body bytes).
var ErrIdle = &timeoutError{}

type timeoutError struct{}

func (*timeoutError) Error() string {
	return "the server sent nothing within the request timeout"
}

func (*timeoutError) Timeout() bool { return true }

func (*timeoutError) Temporary() bool { return true }
