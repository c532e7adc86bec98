package main

import (
	"github.com/urfave/cli/v2"
)

func newApp() *cli.App {
	return &cli.App{
		Name:                 "deltashare",
		Usage:                "get data out of Delta Sharing",
		Version:              version,
		EnableBashCompletion: true,
		HideHelpCommand:      true,
		Commands:             commands(),
		ExitErrHandler:       func(*cli.Context, error) {}, // main decides the exit code
	}
}

// commands lists every subcommand; each file of this package adds its own.
func commands() []*cli.Command {
	var out []*cli.Command
	for _, c := range commandSet {
		out = append(out, c())
	}
	return out
}

var commandSet []func() *cli.Command
