// Package concurrenttest holds test doubles safe for concurrent use, for tests whose code under
// test runs goroutines (servers, workers): a settable clock and a log buffer.
package concurrenttest

import (
	"bytes"
	"sync"
	"time"
)

// Clock is a settable clock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock reading t (the current time, to the second, when t is zero).
func NewClock(t time.Time) *Clock {
	if t.IsZero() {
		t = time.Now().Truncate(time.Second)
	}
	return &Clock{t: t}
}

// Now is the clock's reading.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Buffer is a bytes.Buffer to write (a log, say) and read at the same time.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
