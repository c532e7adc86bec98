// Command deltashare gets data out of Delta Sharing: it activates and stores credentials, lists
// what a credential can reach, and exports shared tables to CSV, JSON or Parquet files.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

var version = "dev"

func main() {
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
