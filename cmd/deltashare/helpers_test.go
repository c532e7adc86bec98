package main

// Helpers of the command tests: parsing a command line into a command's options (parseArgs),
// deps for run functions (testDeps) and calling a run function as main would (call), and our
// server over the demo tables (demoEnv).

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/internal/sharingtest"
	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/server"
	"github.com/deltashare/deltashare/tokenmgr"
	"github.com/deltashare/deltashare/tokenmgr/databricks"
)

// parseLine runs a command line (the command path first: "creds", "list", "--output", "json")
// through the app's flag parsing, flags after arguments included, with parse in place of the
// command's Action. It returns the options parse made and the error of the parse or of the
// flag parsing before it, with its exit code.
func parseLine[O any](t *testing.T, parse func(*cli.Context) (O, error), args ...string) (O, int, error) {
	t.Helper()
	app := newApp()
	app.Writer, app.ErrWriter = io.Discard, io.Discard
	cmds := app.Commands
	var cmd *cli.Command
	for _, a := range args {
		next := findCommand(cmds, a)
		if next == nil {
			break
		}
		cmd, cmds = next, next.Subcommands
	}
	require.NotNil(t, cmd, "no command in %q", args)
	var o O
	cmd.Action = func(c *cli.Context) error {
		var err error
		o, err = parse(c)
		return err
	}
	err := app.RunContext(t.Context(), interspersed(app, append([]string{"deltashare"}, args...)))
	return o, exitCode(t.Context(), err), err
}

// parseCase is a case of a parse test: a command line (and environment), and the options it
// gives or the exit code and message of its error.
type parseCase[O any] struct {
	name string
	args []string
	env  map[string]string
	want O
	code int    // the error's exit code; 0: no error
	msg  string // in the error's text
}

// testParse runs parse on every case, with DELTASHARE_PROFILE and DELTASHARE_CONFIG_DIR
// cleared unless the case sets them.
func testParse[O any](t *testing.T, parse func(*cli.Context) (O, error), cases []parseCase[O]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("DELTASHARE_PROFILE", "")
			t.Setenv("DELTASHARE_CONFIG_DIR", "")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			got, code, err := parseLine(t, parse, tc.args...)
			if tc.code == 0 {
				require.NoError(t, err, "%q", tc.args)
				assert.Equal(t, tc.want, got, "%q", tc.args)
				return
			}
			require.Error(t, err, "%q", tc.args)
			assert.Equal(t, tc.code, code, "%q: %v", tc.args, err)
			assert.Contains(t, errorText(err), tc.msg, "%q", tc.args)
		})
	}
}

// tableAtMistakes are the parse cases every command reading one table at a version or time
// (parseTableAt) refuses the same way: both --version and --timestamp, no TABLE, a TABLE of two
// parts.
func tableAtMistakes[O any](cmd string) []parseCase[O] {
	return []parseCase[O]{
		{name: "version and timestamp", args: []string{cmd, "-p", "x", "demo.sales.orders", "--version", "1", "--timestamp", "x"}, code: exitUsage, msg: "not both"},
		{name: "no table", args: []string{cmd, "-p", "x"}, code: exitUsage, msg: cmd + " needs one argument"},
		{name: "bad table", args: []string{cmd, "-p", "x", "a.b"}, code: exitUsage, msg: "share.schema.table"},
	}
}

// testDeps are deps for calling run functions: a credential store in storeDir, credential
// references resolved through it as on the command line (a stored name, a profile file, -,
// env:VAR, profile JSON), workspaces reached with the Databricks SDK's configuration from the
// environment (see workspaceEnv). call gives each run its own streams.
func testDeps(t *testing.T, storeDir string) *deps {
	t.Helper()
	d := &deps{IO: &streams{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard}, Now: time.Now, Workspace: databricks.NewWorkspace}
	d.Store = func() (*tokenmgr.Store, error) { return tokenmgr.OpenStore(storeDir) }
	d.Client = func(ref string) (*sharing.Client, error) {
		store, err := d.Store()
		if err != nil {
			return nil, err
		}
		p, err := store.ResolveProfile(ref, sharing.LoadProfileOptions{Stdin: d.IO.In, LookupEnv: os.LookupEnv})
		if err != nil {
			return nil, err
		}
		c, err := sharing.NewClient(p)
		if err == nil {
			t.Cleanup(c.HTTPClient().CloseIdleConnections)
		}
		return c, err
	}
	return d
}

// call runs run(ctx, o, d) with buffers for d's streams (stdin reads stdin) and returns what it
// printed and its exit code; the error is on Err, as main prints it.
func call[O any](t *testing.T, d *deps, stdin string, run func(context.Context, O, *deps) error, o O) result {
	t.Helper()
	return callCtx(t, t.Context(), d, stdin, run, o)
}

// callWith is call of run with o and no stdin, for tables of cases running different commands.
func callWith[O any](d *deps, run func(context.Context, O, *deps) error, o O) func(t *testing.T) result {
	return func(t *testing.T) result { return call(t, d, "", run, o) }
}

func callCtx[O any](t *testing.T, ctx context.Context, d *deps, stdin string, run func(context.Context, O, *deps) error, o O) result {
	t.Helper()
	var out, errb bytes.Buffer
	d.IO = &streams{In: strings.NewReader(stdin), Out: &out, Err: &errb}
	err := run(ctx, o, d)
	if err != nil {
		errb.WriteString("deltashare: " + errorText(err) + "\n")
	}
	return result{out.String(), errb.String(), exitCode(ctx, err)}
}

// demoEnv serves the demo tables (demo.sales.orders, demo.sales.customers) with our server and
// the bearer token demoToken; mutate changes the configuration.
func demoEnv(t *testing.T, mutate ...func(*server.Config)) *sharingtest.Env {
	t.Helper()
	return sharingtest.Start(t, sharingtest.Options{Tables: sharingtest.Demo(t), Token: demoToken, Config: func(c *server.Config) {
		for _, m := range mutate {
			m(c)
		}
	}})
}

// demoDeps serves the demo tables (demoEnv) and returns a profile file for them and deps with a
// fresh credential store: the opening of the tests that run an explore command.
func demoDeps(t *testing.T) (profile string, d *deps) {
	t.Helper()
	return demoEnv(t).ProfileFile(t), testDeps(t, storeDir(t))
}

// storeDir is a fresh credential store directory.
func storeDir(t *testing.T) string { return filepath.Join(t.TempDir(), "config") }

// noDatabricksEnv clears the environment variables the Databricks commands' parse functions
// read (the workspace tests isolate the SDK with fakeworkspace.IsolateEnv).
func noDatabricksEnv(t *testing.T) {
	for _, k := range []string{"DATABRICKS_HOST", "DATABRICKS_CONFIG_PROFILE", "DATABRICKS_CONFIG_FILE"} {
		t.Setenv(k, "")
	}
}
