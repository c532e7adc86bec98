// Command gen regenerates the demo Delta tables committed under testdata/demo:
//
//	go run ./sharing/server/demo/gen -o testdata/demo
//
// It writes into a temporary directory beside the output, then replaces the output with it, so
// an interrupted run leaves the previous tables in place.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/deltashare/deltashare/sharing/server/demo"
)

func main() {
	out := flag.String("o", "testdata/demo", "output directory (replaced)")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	out = filepath.Clean(out)
	parent := filepath.Dir(out)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, ".demo-gen-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := demo.Generate(tmp); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		return err
	}
	fmt.Printf("wrote %d demo tables to %s\n", len(demo.Tables), out)
	return nil
}
