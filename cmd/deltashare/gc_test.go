package main

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTuneGC(t *testing.T) {
	for _, tc := range []struct {
		name, gogc, memlimit string
		percent              int
		limit                int64
	}{
		{"defaults when unset", "", "", defaultGCPercent, defaultMemoryLimit},
		{"GOGC from the environment wins", "300", "", 137, defaultMemoryLimit},
		{"GOMEMLIMIT from the environment wins", "", "1GiB", defaultGCPercent, 1 << 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GOGC", tc.gogc)
			t.Setenv("GOMEMLIMIT", tc.memlimit)
			// markers: tuneGC must replace them or leave them
			prevPercent := debug.SetGCPercent(137)
			defer debug.SetGCPercent(prevPercent)
			prevLimit := debug.SetMemoryLimit(1 << 40)
			defer debug.SetMemoryLimit(prevLimit)
			tuneGC()
			assert.Equal(t, tc.percent, debug.SetGCPercent(137))
			assert.Equal(t, tc.limit, debug.SetMemoryLimit(math.MaxInt64))
		})
	}
}
