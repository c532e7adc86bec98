package main

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTuneGC(t *testing.T) {
	for _, tc := range []struct {
		name, gogc string
		want       int
	}{
		{"default when GOGC is unset", "", defaultGCPercent},
		{"GOGC from the environment wins", "200", 137},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GOGC", tc.gogc)
			prev := debug.SetGCPercent(137) // a marker: tuneGC must replace it or leave it
			defer debug.SetGCPercent(prev)
			tuneGC()
			assert.Equal(t, tc.want, debug.SetGCPercent(137))
		})
	}
}
