package concurrenttest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestClock(t *testing.T) {
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	c := NewClock(at)
	assert.Equal(t, at, c.Now())
	c.Add(time.Minute)
	assert.Equal(t, at.Add(time.Minute), c.Now())
	now := NewClock(time.Time{}).Now()
	assert.False(t, now.IsZero())
	assert.Equal(t, now, now.Truncate(time.Second), "the current time to the second")
}

// Lines written from several goroutines while the buffer is read all arrive whole (run with
// -race).
func TestBufferConcurrentWrites(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				fmt.Fprintf(&b, "g%d-%d\n", g, i)
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	assert.Contains(t, b.String(), "g3-49\n")
	assert.Len(t, b.String(), 4*(5*10+6*40))
}
