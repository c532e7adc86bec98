package main

// The CLI under faults: exports through a fault-injecting proxy (transient faults survived with
// byte-identical output, permanent ones ending with the right exit code and nothing written),
// and Ctrl-C / SIGTERM on the real binary. See docs/reliability.md.

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/internal/faultproxy"
	"github.com/deltashare/deltashare/sharing/server"
)

const faultTestToken = "fault-token-0123456789abcdef"

// faultDemoServer serves the demo tables behind a fault proxy: the profile's endpoint and the
// signed file URLs both point at the proxy.
func faultDemoServer(t *testing.T) (profile string, proxy *faultproxy.Proxy) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	proxy, err = faultproxy.New("http://" + ln.Addr().String())
	require.NoError(t, err)
	t.Cleanup(proxy.Close)
	root := repoRoot(t)
	cfg := server.Config{Addr: "127.0.0.1:0", PublicURL: proxy.URL, ShutdownTimeout: time.Second,
		Tokens: []server.Token{{Name: "test", Value: faultTestToken}}}
	for _, name := range []string{"orders", "customers"} {
		f, err := server.ParseTableFlag("demo.sales." + name + "=" + filepath.Join(root, "testdata/demo/sales", name))
		require.NoError(t, err)
		cfg.AddTable(f)
	}
	srv, err := server.New(cfg, server.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		proxy.Close()
		cancel()
		<-done
	})
	profile = filepath.Join(t.TempDir(), "fault.share")
	require.NoError(t, srv.WriteProfile(profile, faultTestToken))
	return profile, proxy
}

func faultRule(name, method, path string, set func(*faultproxy.Rule)) *faultproxy.Rule {
	r := faultproxy.NewRule(name, method, path)
	set(r)
	return r
}

// TestExportSurvivesTransientFaults: with transient faults on the way, export and changes
// finish with exit 0 and write exactly what a clean run writes.
func TestExportSurvivesTransientFaults(t *testing.T) {
	t.Setenv("DELTASHARE_CONFIG_DIR", t.TempDir())
	profile, proxy := faultDemoServer(t)
	cleanDir := t.TempDir()
	for _, args := range [][]string{
		{"export", "-p", profile, "demo.sales.orders", "-o", filepath.Join(cleanDir, "orders.csv")},
		{"changes", "-p", profile, "demo.sales.customers", "--starting-version", "0", "-o", filepath.Join(cleanDir, "changes.ndjson")},
	} {
		r := run(t, "", args...)
		require.Equal(t, 0, r.Code, r.Err)
	}
	for _, tc := range []struct {
		name  string
		rules []*faultproxy.Rule
	}{
		{"429 Retry-After and a 5xx burst", []*faultproxy.Rule{
			faultRule("429", "", `/(query|changes)$`, func(r *faultproxy.Rule) { r.Status, r.RetryAfter, r.Times = 429, "1", 1 }),
			faultRule("502", "GET", `^/files/`, func(r *faultproxy.Rule) { r.Status, r.Times = 502, 1 }),
			faultRule("503", "GET", `^/files/`, func(r *faultproxy.Rule) { r.Status, r.Times = 503, 1 })}},
		{"resets mid-NDJSON and mid-Parquet", []*faultproxy.Rule{
			faultRule("rst-ndjson", "", `/(query|changes)$`, func(r *faultproxy.Rule) { r.ResetAfterBytes, r.Times = 600, 1 }),
			faultRule("rst-parquet", "GET", `^/files/`, func(r *faultproxy.Rule) { r.ResetAfterBytes, r.Times = 2000, 2 })}},
		{"truncated Parquet and cut NDJSON", []*faultproxy.Rule{
			faultRule("cut-ndjson", "", `/(query|changes)$`, func(r *faultproxy.Rule) { r.TruncateAfterBytes, r.Times = 1234, 1 }),
			faultRule("cut-parquet", "GET", `^/files/`, func(r *faultproxy.Rule) { r.TruncateAfterBytes, r.Times = 300, 2 })}},
		{"file URLs expire during the export", []*faultproxy.Rule{
			faultRule("403", "GET", `^/files/`, func(r *faultproxy.Rule) { r.Status, r.Skip, r.Times = 403, 4, 1 })}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, out := range []struct {
				args []string
				file string
			}{
				{[]string{"export", "-p", profile, "demo.sales.orders"}, "orders.csv"},
				{[]string{"changes", "-p", profile, "demo.sales.customers", "--starting-version", "0"}, "changes.ndjson"},
			} {
				proxy.Clear()
				proxy.Add(tc.rules...)
				r := run(t, "", append(out.args, "-o", filepath.Join(dir, out.file))...)
				require.Equal(t, 0, r.Code, r.Err)
				want, err := os.ReadFile(filepath.Join(cleanDir, out.file))
				require.NoError(t, err)
				got, err := os.ReadFile(filepath.Join(dir, out.file))
				require.NoError(t, err)
				assert.Equal(t, string(want), string(got), "byte-identical to a clean run")
			}
			for _, r := range tc.rules {
				assert.Positive(t, r.Hits(), "fault %s applied", r.Name)
			}
			assert.ElementsMatch(t, []string{"orders.csv", "changes.ndjson"}, listDir(t, dir), "no temporary files left")
		})
	}
}

// TestExportPermanentFaults: a fault that does not go away ends the export with a clear
// error naming the failed file, the documented exit code, and nothing under a final name.
func TestExportPermanentFaults(t *testing.T) {
	t.Setenv("DELTASHARE_CONFIG_DIR", t.TempDir())
	profile, proxy := faultDemoServer(t)
	for _, tc := range []struct {
		name   string
		rules  []*faultproxy.Rule
		code   int
		msg    []string
		output string
	}{
		{"file removed (404)", []*faultproxy.Rule{
			faultRule("404", "GET", `^/files/`, func(r *faultproxy.Rule) { r.Status, r.Skip = 404, 3 })},
			exitError, []string{"data file", "404", "read the table again"}, "orders.csv"},
		{"corrupt Parquet", []*faultproxy.Rule{
			faultRule("flip", "GET", `^/files/`, func(r *faultproxy.Rule) {
				r.Skip = 5
				r.Rewrite = func(b []byte) []byte { b[len(b)-2] ^= 0xFF; return b }
			})},
			exitError, []string{"data file", "not a readable parquet file"}, "lake/"},
		{"malformed NDJSON", []*faultproxy.Rule{
			faultRule("bad", "POST", `/query$`, func(r *faultproxy.Rule) {
				r.Rewrite = func(b []byte) []byte { return []byte(strings.Replace(string(b), `{"file":`, `{"file":{]`, 1)) }
			})},
			exitError, []string{"malformed", "line"}, "orders.parquet"},
		{"token revoked mid-export", []*faultproxy.Rule{
			faultRule("revoked", "POST", `/query$`, func(r *faultproxy.Rule) { r.Status, r.Skip = 401, 1 }),
			faultRule("expired", "GET", `^/files/`, func(r *faultproxy.Rule) { r.Status, r.Skip = 403, 6 })},
			exitAuth, []string{"data file", "401", "credential"}, "orders.ndjson"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxy.Clear()
			proxy.Add(tc.rules...)
			dir := t.TempDir()
			out := filepath.Join(dir, tc.output)
			if strings.HasSuffix(tc.output, "/") {
				out += "/"
			}
			args := []string{"export", "-p", profile, "demo.sales.orders", "-o", out, "--parallel", "2"}
			if strings.HasSuffix(tc.output, "/") {
				args = append(args, "--format", "parquet", "--max-rows-per-file", "100")
			}
			r := run(t, "", args...)
			assert.Equal(t, tc.code, r.Code, r.Err)
			for _, m := range tc.msg {
				assert.Contains(t, strings.ToLower(r.Err), m)
			}
			assert.NotContains(t, r.Err, faultTestToken)
			assert.NotContains(t, r.Err, "sig=")
			assert.Empty(t, dirEntries(t, dir), "nothing left behind, not even a directory")
		})
	}
}

// TestExportUnwritableDestination: an output whose parent is a regular file, and a full disk
// (/dev/full as the output), fail clearly and leave nothing behind.
func TestExportUnwritableDestination(t *testing.T) {
	t.Setenv("DELTASHARE_CONFIG_DIR", t.TempDir())
	profile, _ := demoServer(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "plain")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o600))
	for _, out := range []string{filepath.Join(file, "out.csv"), filepath.Join(file, "lake") + "/"} {
		r := run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", out)
		assert.NotEqual(t, 0, r.Code)
		assert.Contains(t, r.Err, "plain", "the error names the path")
		assert.Equal(t, []string{"plain"}, listDir(t, dir))
	}
}

// builtBinary builds cmd/deltashare into dir.
func builtBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "deltashare")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Join(repoRoot(t), "cmd", "deltashare")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}

// TestInterruptRealBinary: SIGINT or SIGTERM during an export or a changes export (downloads
// stalled by the proxy) ends the real binary with exit 130, no output file, no temporary file
// (in the destination or the temp dir), and the credential store untouched.
func TestInterruptRealBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := builtBinary(t)
	profile, proxy := faultDemoServer(t)
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
		args []string
		out  string
	}{
		{"export SIGINT", syscall.SIGINT, []string{"export", "demo.sales.orders"}, "orders.csv"},
		{"export SIGTERM", syscall.SIGTERM, []string{"export", "demo.sales.orders", "--format", "parquet"}, "lake/"},
		{"changes SIGINT", syscall.SIGINT, []string{"changes", "demo.sales.customers", "--starting-version", "0"}, "changes.ndjson"},
		{"changes SIGTERM", syscall.SIGTERM, []string{"changes", "demo.sales.customers", "--starting-version", "0"}, "c.parquet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxy.Clear()
			stall := proxy.Add(faultRule("stall", "GET", `^/files/`, func(r *faultproxy.Rule) {
				r.Skip, r.StallAfterBytes, r.Stall = 2, 200, time.Hour
			}))
			dir, tmp, conf := t.TempDir(), t.TempDir(), t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(conf, "marker"), []byte("state"), 0o600))
			out := filepath.Join(dir, tc.out)
			if strings.HasSuffix(tc.out, "/") {
				out += "/"
			}
			cmd := exec.Command(bin, append(tc.args, "-p", profile, "-o", out, "--parallel", "2")...)
			cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "DELTASHARE_CONFIG_DIR="+conf, "HOME="+conf)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			require.NoError(t, cmd.Start())
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			require.Eventually(t, func() bool { return stall.Hits() > 0 }, 20*time.Second, 10*time.Millisecond, "a download stalls")
			time.Sleep(50 * time.Millisecond)
			require.NoError(t, cmd.Process.Signal(tc.sig))
			var err error
			select {
			case err = <-exited:
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("the binary did not stop after %v; stderr:\n%s", tc.sig, stderr.String())
			}
			var ee *exec.ExitError
			require.True(t, errors.As(err, &ee), "exit status: %v", err)
			assert.Equal(t, exitInterrupted, ee.ExitCode(), stderr.String())
			assert.Empty(t, dirEntries(t, dir), "no output or temporary file, no directory")
			assert.Empty(t, listDir(t, tmp), "no spilled temporary file")
			assert.Equal(t, []string{"marker"}, listDir(t, conf), "state untouched")
		})
	}

	// sync: an interrupted first run leaves no files, no state and no lock; the next run works.
	t.Run("sync SIGINT", func(t *testing.T) {
		proxy.Clear()
		stall := proxy.Add(faultRule("stall", "GET", `^/files/`, func(r *faultproxy.Rule) {
			r.Skip, r.StallAfterBytes, r.Stall = 2, 200, time.Hour
		}))
		dest, conf := t.TempDir(), t.TempDir()
		cmd := exec.Command(bin, "sync", "demo.sales.orders", "-p", profile, "-o", dest, "--format", "csv", "--parallel", "2")
		cmd.Env = append(os.Environ(), "DELTASHARE_CONFIG_DIR="+conf, "HOME="+conf)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		require.Eventually(t, func() bool { return stall.Hits() > 0 }, 20*time.Second, 10*time.Millisecond, "a download stalls")
		time.Sleep(50 * time.Millisecond)
		require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
		var err error
		select {
		case err = <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("sync did not stop after SIGINT; stderr:\n%s", stderr.String())
		}
		var ee *exec.ExitError
		require.True(t, errors.As(err, &ee), "exit status: %v", err)
		assert.Equal(t, exitInterrupted, ee.ExitCode(), stderr.String())
		assert.Empty(t, listDir(t, dest), "no part, temporary, state or lock file")

		proxy.Clear()
		r := run(t, "", "sync", "demo.sales.orders", "-p", profile, "-o", dest, "--format", "csv", "-q")
		require.Equal(t, 0, r.Code, r.Err)
		assert.Contains(t, listDir(t, dest), "_deltashare_state.json")
	})
}

// dirEntries lists the names in dir, hidden ones and directories included.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}
