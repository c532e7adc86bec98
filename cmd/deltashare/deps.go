package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/internal/redact"
	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/tokenmgr"
	"github.com/deltashare/deltashare/tokenmgr/databricks"
)

// A command is an options struct plus a run function (cli/cli's pkg/cmd): its urfave Action
// only parses the flags and arguments into options (parseXxxOptions, which reads nothing but
// the command line) and calls runXxx(ctx, opts, deps). Tests call the parse functions on
// argument lists and the run functions with buffers, our real server and the fake workspace.

// deps are what a run function takes from outside besides its options: the streams, the clock,
// and how to reach the services it talks to. The command line builds them with depsFrom.
type deps struct {
	IO  *streams
	Now func() time.Time
	// Client returns a protocol client for a credential reference: a stored credential's name,
	// a profile file, - (standard input), env:VAR, or the profile JSON itself.
	Client func(ref string) (*sharing.Client, error)
	// Store opens the credential store.
	Store func() (*tokenmgr.Store, error)
	// Workspace connects to a Databricks workspace.
	Workspace func(ctx context.Context, o databricks.WorkspaceOptions) (*databricks.Workspace, error)
}

// depsFrom builds the deps of the command line: the app's streams, the real clock, the
// credential store of --config-dir (where credential names are resolved), and the Databricks
// SDK's unified authentication.
func depsFrom(c *cli.Context) *deps {
	return &deps{
		IO:  ioFrom(c),
		Now: time.Now,
		Client: func(ref string) (*sharing.Client, error) {
			p, err := profileResolver(c, ref)
			if err != nil {
				return nil, err
			}
			return sharing.NewClient(p)
		},
		Store:     func() (*tokenmgr.Store, error) { return openStore(c) },
		Workspace: databricks.NewWorkspace,
	}
}

// action is the Action of a command: parse maps the flags and arguments to options, run does
// the work with the command line's deps.
func action[O any](parse func(*cli.Context) (O, error), run func(context.Context, O, *deps) error) cli.ActionFunc {
	return func(c *cli.Context) (err error) {
		// A panic is a bug, not a usage error: without this the process would exit 2 (Go's code
		// for a panic), the usage code. Deferred clean-ups (temporary files, locks) have run by
		// the time it is recovered here.
		defer func() {
			if v := recover(); v != nil {
				err = withCode(exitError, fmt.Errorf("internal error (a bug in deltashare; please report it): %s", redact.Text(fmt.Sprint(v), 500)))
			}
		}()
		o, err := parse(c)
		if err != nil {
			return err
		}
		return run(c.Context, o, depsFrom(c))
	}
}

// showAnswer is the run step of the commands that ask the server one thing and print the
// answer: it connects with the credential ref, asks, and prints the answer as JSON for
// --output json (asJSON maps it to its JSON shape), else for people (text).
func showAnswer[T any](d *deps, ref, output string, ask func(*sharing.Client) (T, error), asJSON func(T) any, text func(io.Writer, T) error) error {
	cl, err := d.Client(ref)
	if err != nil {
		return err
	}
	v, err := ask(cl)
	if err != nil {
		return err
	}
	return printResult(d, output, asJSON(v), func(w io.Writer) error { return text(w, v) })
}
