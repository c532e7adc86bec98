package main

// End-to-end runs through the whole app (flag parsing, the command, main's exit code): what the
// command-level tests cannot see. Help text is golden (testdata/help; go test -run
// TestHelpText -update rewrites it).

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/help")

func TestInterspersedFlags(t *testing.T) {
	app := newApp()
	for _, tc := range []struct{ in, want []string }{
		{[]string{"ds", "metadata", "a.b.c", "-p", "x", "--output", "json"}, []string{"ds", "metadata", "-p", "x", "--output", "json", "a.b.c"}},
		{[]string{"ds", "files", "a.b.c", "--where=x = 1", "--version", "3"}, []string{"ds", "files", "--where=x = 1", "--version", "3", "a.b.c"}},
		{[]string{"ds", "shares", "--", "-p"}, []string{"ds", "shares", "--", "-p"}},
		{[]string{"ds", "version", "-", "-p", "f"}, []string{"ds", "version", "-p", "f", "-"}},
		{[]string{"ds", "nosuch", "x", "-p", "f"}, []string{"ds", "nosuch", "x", "-p", "f"}},
		{[]string{"ds", "creds", "import", "n", "f", "--overwrite", "-q"}, []string{"ds", "creds", "import", "--overwrite", "-q", "n", "f"}},
	} {
		assert.Equal(t, tc.want, interspersed(app, tc.in), "%v", tc.in)
	}
}

// TestAppEndToEnd runs commands through the app: the credential from the environment, from
// standard input and from the TABLE argument, flags after arguments, and the exit codes main
// gives the errors (2 usage, 1 error, 4 credential).
func TestAppEndToEnd(t *testing.T) {
	credEnv(t)
	profile, _ := demoServer(t)

	// The profile from the environment and from stdin.
	t.Setenv("DELTASHARE_PROFILE", profile)
	r := run(t, "", "shares")
	require.Equal(t, 0, r.Code, r.Err)
	assert.Contains(t, r.Out, "demo")
	t.Setenv("DELTASHARE_PROFILE", "")
	data, err := os.ReadFile(profile)
	require.NoError(t, err)
	r = run(t, string(data), "shares", "-p", "-")
	require.Equal(t, 0, r.Code, r.Err)
	assert.Contains(t, r.Out, "demo")

	// The Python-compatible PROFILE#table form, names in any case, flags after the table.
	r = run(t, "", "version", profile+"#DEMO.sales.ORDERS", "--output", "json")
	require.Equal(t, 0, r.Code, r.Err)
	var v struct{ Version int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Out), &v))
	assert.Equal(t, int64(2), v.Version)

	// Exit codes.
	r = run(t, "", "shares")
	assert.Equal(t, exitUsage, r.Code)
	assert.Contains(t, r.Err, "deltashare activate")
	r = run(t, "", "tables", "-p", profile, "--bogus")
	assert.Equal(t, exitUsage, r.Code)
	assert.Contains(t, r.Err, "bogus")
	r = run(t, "", "schemas", "-p", profile, "nope")
	assert.Equal(t, exitError, r.Code)
	assert.Contains(t, r.Err, "404")
	bad := filepath.Join(t.TempDir(), "bad.share")
	require.NoError(t, os.WriteFile(bad, []byte(strings.Replace(string(data), demoToken, "wrong-token-secret-value", 1)), 0o600))
	r = run(t, "", "tables", "-p", bad)
	assert.Equal(t, exitAuth, r.Code)
	assert.NotContains(t, r.Err+r.Out, "wrong-token-secret-value")
}

// helpCommands are the commands whose help is golden: every command.
var helpCommands = [][]string{
	{}, {"shares"}, {"schemas"}, {"tables"}, {"version"}, {"metadata"}, {"files"},
	{"creds"}, {"creds", "list"}, {"creds", "show"}, {"creds", "import"}, {"creds", "export"}, {"creds", "remove"}, {"creds", "default"},
	{"activate"}, {"check"}, {"serve"},
	{"export"}, {"changes"}, {"sync"}, {"demo"}, {"completion"},
	{"pat"}, {"pat", "create"}, {"pat", "list"}, {"pat", "revoke"}, {"pat", "rotate"},
	{"recipient"}, {"recipient", "create"}, {"recipient", "show"}, {"recipient", "rotate"}, {"recipient", "list"}, {"recipient", "delete"},
	{"sp"}, {"sp", "list"}, {"sp", "show"}, {"sp", "grant-tokens"}, {"sp", "delete"},
}

// TestHelpText: the help of every command is what testdata/help says; a change in what users
// see is a reviewed diff (go test -run TestHelpText -update).
func TestHelpText(t *testing.T) {
	credEnv(t)
	for _, path := range helpCommands {
		name := strings.Join(append([]string{"deltashare"}, path...), "_")
		t.Run(name, func(t *testing.T) {
			r := run(t, "", append(path, "--help")...)
			require.Equal(t, 0, r.Code, r.Err)
			golden := filepath.Join("testdata", "help", name+".txt")
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(r.Out), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test -run TestHelpText -update")
			assert.Equal(t, string(want), r.Out)
		})
	}
	r := run(t, "", "--version")
	require.Equal(t, 0, r.Code, r.Err)
	assert.Equal(t, "deltashare version "+version+"\n", r.Out)
}

// TestHelpShowsOneDefault: no flag in any command's help states two defaults (a placeholder in
// its usage and urfave/cli's zero value after it, "(default: number of CPUs) (default: 0)"),
// nor a sentinel as its default ("(default: -1)" for "latest").
func TestHelpShowsOneDefault(t *testing.T) {
	credEnv(t)
	defaults := regexp.MustCompile(`\(default\b`)
	var walk func(path []string, cmds []*cli.Command)
	walk = func(path []string, cmds []*cli.Command) {
		r := run(t, "", append(path, "--help")...)
		require.Equal(t, 0, r.Code, "%q: %s", path, r.Err)
		for _, line := range strings.Split(r.Out, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "-") {
				assert.LessOrEqual(t, len(defaults.FindAllString(line, -1)), 1, "deltashare %s: %s", strings.Join(path, " "), strings.TrimSpace(line))
				assert.NotContains(t, line, "(default: -1)", "deltashare %s", strings.Join(path, " "))
			}
		}
		for _, c := range cmds {
			walk(append(append([]string{}, path...), c.Name), c.Subcommands)
		}
	}
	walk(nil, newApp().Commands)
}
