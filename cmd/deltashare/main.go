// Command deltashare gets data out of Delta Sharing: it activates and stores credentials, lists
// what a credential can reach, and exports shared tables to CSV, JSON or Parquet files.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

var version = "dev"

// defaultGCPercent is the garbage collector's target when GOGC is not set. Exports allocate
// Arrow buffers fast and hold few pointers, so collecting at 50% heap growth (instead of Go's
// 100%) costs little CPU and keeps the peak memory of an export about a third lower (see
// docs/performance.md).
const defaultGCPercent = 50

// tuneGC applies defaultGCPercent unless the environment sets GOGC.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
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
		fmt.Fprintln(os.Stderr, "deltashare:", err)
	}
	os.Exit(code)
}
