// Package heaptest measures the Go heap a piece of work takes, for tests that bound memory
// without timing anything. Only tests import it.
package heaptest

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Heap is what Measure saw: the heap in use before the work (after a collection) and the
// largest heap in use sampled while it ran.
type Heap struct {
	Before, Peak uint64
}

// Growth is the peak above the heap in use before the work.
func (h Heap) Growth() uint64 {
	if h.Peak < h.Before {
		return 0
	}
	return h.Peak - h.Before
}

// Measure runs f while sampling the heap in use every 2 ms and returns what it saw and f's
// error.
func Measure(f func() error) (Heap, error) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h := Heap{Before: ms.HeapInuse}
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	err := f()
	close(stop)
	wg.Wait()
	h.Peak = peak.Load()
	return h, err
}
