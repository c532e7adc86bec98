package main

import (
	"bytes"
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/deltashare/deltashare/internal/sharingtest"
	"github.com/deltashare/deltashare/sharing/server"
	"github.com/stretchr/testify/require"
)

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
		errb.WriteString("deltashare: " + err.Error() + "\n")
	}
	return result{out.String(), errb.String(), code}
}

// repoRoot is the module root.
func repoRoot(t *testing.T) string {
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	return filepath.Join(filepath.Dir(file), "..", "..")
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

// startServer serves cfg with our server (internal/sharingtest: on loopback until the test
// ends, logs discarded) and writes a profile file for token.
func startServer(t *testing.T, cfg server.Config, token string, opts ...server.Option) (profile string, srv *server.Server) {
	t.Helper()
	env := sharingtest.Start(t, sharingtest.Options{Token: token, ServerOptions: opts, Config: func(c *server.Config) {
		publicURL := c.PublicURL
		*c = cfg
		if c.PublicURL == "" {
			c.PublicURL = publicURL
		}
	}})
	return env.ProfileFile(t), env.Server
}
