// Command deltashare gets data out of Delta Sharing: it activates and stores credentials, lists
// what a credential can reach, and exports shared tables to CSV, JSON or Parquet files.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

var version = "dev"

// The garbage collector's settings when the environment does not set them. An export allocates
// Arrow buffers fast and keeps few of them, and its live heap is bounded (a few batches per file
// being read, one row group being written) whatever the table's size. A soft memory limit bounds
// the heap, and so the process's peak memory, for every table; below it, collecting only at 400%
// heap growth spends far less CPU on collections than Go's default of 100%: an export of
// thousands of small files keeps a live heap of a few tens of megabytes and allocates gigabytes
// (per-file decoder buffers), so it collected every few milliseconds at 200% (see
// docs/performance.md). GOGC and GOMEMLIMIT override them.
const (
	defaultGCPercent   = 400
	defaultMemoryLimit = 200 << 20
)

// tuneGC applies defaultGCPercent and defaultMemoryLimit unless the environment sets GOGC or
// GOMEMLIMIT.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}

func main() {
	tuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	app := newApp()
	err := app.RunContext(ctx, interspersed(app, os.Args))
	stop()
	code := exitCode(ctx, err)
	if err != nil && code != exitOK {
		reportError(os.Stderr, err, code, jsonRequested(os.Args[1:]))
	}
	os.Exit(code)
}
