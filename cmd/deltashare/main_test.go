package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

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
	if err != nil {
		errb.WriteString("deltashare: " + errorText(err) + "\n") // as main shows it
	}
	return result{out.String(), errb.String(), code}
}

// repoRoot is the module root.
func repoRoot(t *testing.T) string {
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// demoServer serves the project's demo tables on loopback and returns a profile file for it.
func demoServer(t *testing.T, mutate ...func(*server.Config)) (profile string, srv *server.Server) {
	t.Helper()
	root := repoRoot(t)
	cfg := server.Config{Addr: "127.0.0.1:0", Tokens: []server.Token{{Name: "test", Value: "test-token-0123456789abcdef"}}}
	for _, spec := range []struct{ flag string }{
		{"demo.sales.orders=" + filepath.Join(root, "testdata/demo/sales/orders")},
		{"demo.sales.customers=" + filepath.Join(root, "testdata/demo/sales/customers")},
	} {
		f, err := server.ParseTableFlag(spec.flag)
		require.NoError(t, err)
		cfg.AddTable(f)
	}
	for _, m := range mutate {
		m(&cfg)
	}
	profile, srv = startServer(t, cfg, "test-token-0123456789abcdef")
	return profile, srv
}

// startServer serves cfg on loopback until the test ends (logs discarded) and writes a profile
// file for token.
func startServer(t *testing.T, cfg server.Config, token string, opts ...server.Option) (profile string, srv *server.Server) {
	t.Helper()
	if cfg.ShutdownTimeout == 0 {
		// No graceful wait at the end of a test: http.Server.Shutdown would wait up to 5 seconds
		// for a connection a client dialled but never used (a download cancelled early).
		cfg.ShutdownTimeout = 100 * time.Millisecond
	}
	opts = append([]server.Option{server.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}, opts...)
	srv, err := server.New(cfg, opts...)
	require.NoError(t, err)
	ln, err := srv.Listen("")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("server did not stop")
		}
	})
	profile = filepath.Join(t.TempDir(), "test.share")
	require.NoError(t, srv.WriteProfile(profile, token))
	return profile, srv
}
