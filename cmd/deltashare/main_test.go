package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/deltashare/deltashare/sharing/server"
	"github.com/stretchr/testify/require"
)

// runAsMainEnv makes the test binary run main() instead of the tests: the tests that need the
// real process (signals, exit codes of os.Exit) start the test binary itself with it, rather
// than building the command first.
const runAsMainEnv = "DELTASHARE_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runAsMainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// mainCommand is the deltashare command as a process: this test binary running main().
func mainCommand(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), runAsMainEnv+"=1")
	return cmd
}

// result is what a command run printed and its exit code.
type result struct {
	Out, Err string
	Code     int
}

// run runs the CLI in-process with buffers for its streams.
func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runCtx(t, context.Background(), stdin, args...)
}

func runCtx(t *testing.T, ctx context.Context, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	app := newApp()
	app.Metadata = map[string]any{streamsKey: &streams{In: strings.NewReader(stdin), Out: &out, Err: &errb}}
	app.Writer, app.ErrWriter = &out, &errb
	err := app.RunContext(ctx, interspersed(app, append([]string{"deltashare"}, args...)))
	code := exitCode(ctx, err)
	if err != nil && code != exitOK {
		reportError(&errb, err, code, jsonRequested(args)) // as main shows it
	}
	return result{out.String(), errb.String(), code}
}

// repoRoot is the module root.
func repoRoot(t *testing.T) string {
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// demoCommandLine serves the demo tables (demoServer) for tests that run the command line, with
// an empty credential store as --config-dir, and returns the profile file.
func demoCommandLine(t *testing.T) (profile string) {
	t.Helper()
	t.Setenv("DELTASHARE_CONFIG_DIR", t.TempDir())
	profile, _ = demoServer(t)
	return profile
}

// demoServer serves the project's demo tables with our server (internal/sharingtest) and
// returns a profile file for it ("" when mutate leaves no static token) and the server.
func demoServer(t *testing.T, mutate ...func(*server.Config)) (profile string, srv *server.Server) {
	t.Helper()
	env := demoEnv(t, mutate...)
	if env.Token == "" {
		return "", env.Server
	}
	return env.ProfileFile(t), env.Server
}
