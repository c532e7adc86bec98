package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deltashare/deltashare/internal/exporttest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"
)

// TestExitCodes: every exit code the README documents, from the real process (main and its
// os.Exit) against our real server: 0 ok, 1 error, 2 usage, 3 partial, 4 credential, 5
// credential expiring. 130 (interrupted) is below through a cancelled context, and with real
// signals in TestInterruptRealBinary. Help is 0; an unknown command and an export's output flags
// that do not fit are usage errors (2), never 3 (the code schedulers read as "partial") or 1.
func TestExitCodes(t *testing.T) {
	credEnv(t)
	env := demoEnv(t)
	profile := env.ProfileFile(t)
	data, err := os.ReadFile(profile)
	require.NoError(t, err)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.share")
	require.NoError(t, os.WriteFile(bad, []byte(strings.Replace(string(data), demoToken, "wrong-token-secret-value", 1)), 0o600))
	// The same token, said to expire in two days: within check's default 7-day window.
	expiring := filepath.Join(dir, "expiring.share")
	soon := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	require.NoError(t, os.WriteFile(expiring, []byte(`{"shareCredentialsVersion":1,"endpoint":"`+env.Server.Endpoint()+`","bearerToken":"`+demoToken+`","expirationTime":"`+soon+`"}`), 0o600))
	out := filepath.Join(dir, "out")
	require.NoError(t, os.Mkdir(out, 0o755))

	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string // on stderr
	}{
		{"ok", []string{"shares", "-p", profile}, exitOK, ""},
		{"no arguments: help", nil, exitOK, ""},
		{"help", []string{"help"}, exitOK, ""},
		{"help of a command", []string{"help", "export"}, exitOK, ""},
		{"help of a subcommand", []string{"help", "pat", "create"}, exitOK, ""},
		{"--help", []string{"export", "--help"}, exitOK, ""},
		{"a group alone: its help", []string{"pat"}, exitOK, ""},
		{"version", []string{"version"}, exitOK, ""},

		{"error", []string{"schemas", "-p", profile, "nope"}, exitError, "404"},

		{"unknown command", []string{"nosuch"}, exitUsage, `unknown command "nosuch"`},
		{"unknown subcommand", []string{"pat", "nosuch"}, exitUsage, `unknown command "nosuch"`},
		{"help of an unknown command", []string{"help", "nosuch"}, exitUsage, `no help for "nosuch"`},
		{"unknown flag", []string{"tables", "-p", profile, "--bogus"}, exitUsage, "bogus"},
		{"no credential", []string{"shares"}, exitUsage, "deltashare activate"},
		{"export without -o", []string{"export", "-p", profile, "demo.sales.orders"}, exitUsage, "-o (--out) is required"},
		{"sync without -o", []string{"sync", "-p", profile, "demo.sales.orders"}, exitUsage, "-o (--out) is required"},
		{"--partition-by with a file", []string{"export", "-p", profile, "demo.sales.orders", "-o", filepath.Join(out, "o.csv"), "--partition-by", "region"},
			exitUsage, "partitioning needs a directory output"},
		{"--max-rows-per-file with a file", []string{"export", "-p", profile, "demo.sales.orders", "-o", filepath.Join(out, "o.csv"), "--max-rows-per-file", "10"},
			exitUsage, "a maximum of rows per file needs a directory output"},
		{"--partition-by with standard output", []string{"export", "-p", profile, "demo.sales.orders", "-o", "-", "--partition-by", "region"},
			exitUsage, "partitioning needs a directory output, not standard output"},

		{"partial", []string{"check", "-p", profile, "demo.sales.orders", "demo.sales.nope"}, exitPartial, "1 of 2 tables could not be read"},
		{"credential rejected", []string{"tables", "-p", bad}, exitAuth, ""},
		{"credential expiring", []string{"check", "-p", expiring}, exitExpiring, "warning window"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := mainCommand(t, tc.args...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.code, code, "%q: %s", tc.args, stderr.String())
			assert.Contains(t, stderr.String(), tc.msg)
			assert.NotContains(t, stderr.String(), "wrong-token-secret-value")
		})
	}
	assert.Empty(t, exporttest.Files(t, out), "refused exports write nothing")

	// Interrupted: exit 130 (the context main cancels on SIGINT and SIGTERM).
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := runCtx(t, ctx, "", "export", "-p", profile, "demo.sales.orders", "-o", filepath.Join(out, "o.csv"))
	assert.Equal(t, exitInterrupted, r.Code, r.Err)
	assert.Empty(t, exporttest.Files(t, out))
}

// TestExitCodeOfAPanic: a panic in a command (a bug) exits 1 with an internal-error message,
// not 2 (Go's exit code for a panic, which is the usage code); the panic's text is cut and
// cleaned of URL query strings. Panics while decoding a downloaded file are errors of their own
// (TestExportFaultDamagedPage).
func TestExitCodeOfAPanic(t *testing.T) {
	act := action(func(*cli.Context) (int, error) { return 0, nil }, func(context.Context, int, *deps) error {
		panic("boom at https://storage.example/f.parquet?sig=secret-signature")
	})
	app := &cli.App{Name: "x", Action: act}
	err := app.RunContext(context.Background(), []string{"x"})
	require.Error(t, err)
	assert.Equal(t, exitError, exitCode(context.Background(), err))
	assert.Contains(t, err.Error(), "internal error")
	assert.Contains(t, err.Error(), "boom")
	assert.NotContains(t, err.Error(), "secret-signature")
}
