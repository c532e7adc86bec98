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
			defer func(v bool) { memoryLimitTuned = v }(memoryLimitTuned)
			tuneGC()
			assert.Equal(t, tc.percent, debug.SetGCPercent(137))
			assert.Equal(t, tc.limit, debug.SetMemoryLimit(math.MaxInt64))
			// An export's columns raise the default limit, never one GOMEMLIMIT set.
			debug.SetMemoryLimit(tc.limit)
			fitMemoryLimit(1000)
			want := tc.limit
			if tc.memlimit == "" {
				want = memoryLimitFor(1000)
			}
			assert.Equal(t, want, debug.SetMemoryLimit(math.MaxInt64))
		})
	}
}

// The soft memory limit grows with an export's columns: barely for a narrow table, by about a
// hundred MiB for 1,000 columns (whose exports stay under 400 MB).
func TestMemoryLimitForColumns(t *testing.T) {
	assert.Equal(t, int64(defaultMemoryLimit), memoryLimitFor(0))
	assert.Less(t, memoryLimitFor(11)-defaultMemoryLimit, int64(2<<20), "11 columns")
	wide := memoryLimitFor(1000)
	assert.Greater(t, wide, int64(defaultMemoryLimit+64<<20), "1,000 columns")
	assert.Less(t, wide, int64(320<<20), "1,000 columns")

	// Without tuneGC (as in tests, or with GOMEMLIMIT set) the limit is left alone.
	defer func(v bool) { memoryLimitTuned = v }(memoryLimitTuned)
	memoryLimitTuned = false
	prev := debug.SetMemoryLimit(1 << 40)
	defer debug.SetMemoryLimit(prev)
	fitMemoryLimit(1000)
	assert.Equal(t, int64(1<<40), debug.SetMemoryLimit(math.MaxInt64))
}
