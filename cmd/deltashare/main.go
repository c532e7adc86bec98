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

// memoryPerColumn is what the soft memory limit grows by for every column an export to Parquet
// writes: the writer holds each column's state (its page, levels and dictionary of the row
// group) beside what the reader holds, and such an export's live heap was measured to grow by
// about that much a column (about 70 MB at 11 columns, 150 to 190 MB at 1,000). With a limit
// only just above the live heap the collector runs without pause: a 1,000-column export to
// Parquet spent half its CPU collecting under the plain 200 MiB. Text formats keep no state
// per column and stay under the plain limit.
const memoryPerColumn = 96 << 10

// memoryLimitTuned is set when tuneGC applied defaultMemoryLimit (GOMEMLIMIT unset): only then
// does fitMemoryLimit change it.
var memoryLimitTuned bool

// tuneGC applies defaultGCPercent and defaultMemoryLimit unless the environment sets GOGC or
// GOMEMLIMIT.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	memoryLimitTuned = os.Getenv("GOMEMLIMIT") == ""
	if memoryLimitTuned {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}

// memoryLimitFor is the soft memory limit of an export to Parquet of cols columns.
func memoryLimitFor(cols int) int64 {
	return defaultMemoryLimit + int64(max(cols, 0))*memoryPerColumn
}

// fitMemoryLimit sets the soft memory limit for an export to Parquet of cols columns, unless
// GOMEMLIMIT set it (or tuneGC did not run: tests).
func fitMemoryLimit(cols int) {
	if memoryLimitTuned {
		debug.SetMemoryLimit(memoryLimitFor(cols))
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
