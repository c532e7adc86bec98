package main

// The CLI under faults: exports through a fault-injecting proxy (permanent faults ending with the
// right exit code and nothing written), and Ctrl-C / SIGTERM on the real process. See
// docs/reliability.md; how exports survive transient faults is tested in package export.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/internal/exporttest"
	"github.com/deltashare/deltashare/internal/faultproxy"
	"github.com/deltashare/deltashare/internal/sharingtest"
)

const faultTestToken = "fault-token-0123456789abcdef"

// faultDemoServer serves the demo tables with our server (internal/sharingtest) behind a fault
// proxy: the profile's endpoint and the signed file URLs both point at the proxy.
func faultDemoServer(t *testing.T) (profile string, proxy *faultproxy.Proxy) {
	t.Helper()
	env := sharingtest.Start(t, sharingtest.Options{Tables: sharingtest.Demo(t), Token: faultTestToken, Faults: true})
	return env.ProfileFile(t), env.Proxy
}

func faultRule(name, method, path string, set func(*faultproxy.Rule)) *faultproxy.Rule {
	r := faultproxy.NewRule(name, method, path)
	set(r)
	return r
}

// TestExportPermanentFaults: a fault that does not go away ends the export with the documented
// exit code (1; 4 for a credential rejected mid-export), the error on stderr without secrets,
// and nothing written. The errors themselves, for more faults, and transient faults survived
// with byte-identical output, are tested in package export (sharedtable_faults_test.go).
func TestExportPermanentFaults(t *testing.T) {
	t.Setenv("DELTASHARE_CONFIG_DIR", t.TempDir())
	profile, proxy := faultDemoServer(t)
	for _, tc := range []struct {
		name  string
		rules []*faultproxy.Rule
		code  int
		msg   []string
	}{
		{"file removed (404)", []*faultproxy.Rule{
			faultRule("404", "GET", `^/files/`, func(r *faultproxy.Rule) { r.Status, r.Skip = 404, 3 })},
			exitError, []string{"data file", "404"}},
		{"token revoked mid-export", []*faultproxy.Rule{
			faultRule("revoked", "POST", `/query$`, func(r *faultproxy.Rule) { r.Status, r.Skip = 401, 1 }),
			faultRule("expired", "GET", `^/files/`, func(r *faultproxy.Rule) { r.Status, r.Skip = 403, 6 })},
			exitAuth, []string{"data file", "401", "credential"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxy.Clear()
			proxy.Add(tc.rules...)
			dir := t.TempDir()
			r := run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", filepath.Join(dir, "orders.csv"), "--parallel", "2")
			assert.Equal(t, tc.code, r.Code, r.Err)
			for _, m := range tc.msg {
				assert.Contains(t, strings.ToLower(r.Err), m)
			}
			assert.Empty(t, r.Out)
			assert.NotContains(t, r.Err, faultTestToken)
			assert.NotContains(t, r.Err, "sig=")
			assert.Empty(t, exporttest.DirEntries(t, dir), "nothing left behind")
		})
	}
}

// TestExportUnwritableDestination: an output whose parent is a regular file, and a full disk
// (/dev/full as the output), fail clearly and leave nothing behind.
func TestExportUnwritableDestination(t *testing.T) {
	profile := demoCommandLine(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "plain")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o600))
	for _, out := range []string{filepath.Join(file, "out.csv"), filepath.Join(file, "lake") + "/"} {
		r := run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", out)
		assert.NotEqual(t, 0, r.Code)
		assert.Contains(t, r.Err, "plain", "the error names the path")
		assert.Equal(t, []string{"plain"}, exporttest.Files(t, dir))
	}
}

// TestInterruptRealBinary: SIGINT or SIGTERM during an export or a changes export (downloads
// stalled by the proxy) ends the real process (main, with its signal handling) with exit 130 and
// "interrupted" (not Go's "context canceled") on stderr, no
// output file, no temporary file (in the destination or the temp dir), and the credential store
// untouched. An interrupted sync is tested in package export (TestSyncCancelledMidRun).
func TestInterruptRealBinary(t *testing.T) {
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
		{"export SIGINT, JSON", syscall.SIGINT, []string{"export", "demo.sales.orders", "--output", "json"}, "o.csv"},
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
			cmd := mainCommand(t, append(tc.args, "-p", profile, "-o", out, "--parallel", "2")...)
			cmd.Env = append(cmd.Env, "TMPDIR="+tmp, "DELTASHARE_CONFIG_DIR="+conf, "HOME="+conf)
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
			if slices.Contains(tc.args, "json") {
				var e errorJSON
				require.NoError(t, json.Unmarshal([]byte(stderr.String()), &e), stderr.String())
				assert.Equal(t, "INTERRUPTED", e.Code)
				assert.Equal(t, exitInterrupted, e.ExitCode)
				assert.Regexp(t, `^interrupted: .*no files written$`, e.Error)
			} else {
				assert.Contains(t, stderr.String(), "deltashare: interrupted")
			}
			assert.NotContains(t, stderr.String(), "context canceled")
			assert.Empty(t, exporttest.DirEntries(t, dir), "no output or temporary file, no directory")
			assert.Empty(t, exporttest.Files(t, tmp), "no spilled temporary file")
			assert.Equal(t, []string{"marker"}, exporttest.Files(t, conf), "state untouched")
		})
	}
}

// TestExportFaultDamagedPage: a served data file with one flipped byte inside a compressed page
// (snappy, zstd, gzip; dictionary or data page; same size) used to panic the process (exit 2,
// temporary files left, and under sync the lock left for its whole lifetime). Now export and
// sync exit 1 with a message naming the table, the file and the column, and leave no temporary
// file and no lock; a failed first sync leaves no destination folder at all.
func TestExportFaultDamagedPage(t *testing.T) {
	t.Setenv("DELTASHARE_CONFIG_DIR", t.TempDir())
	for _, codec := range []compress.Compression{compress.Codecs.Snappy, compress.Codecs.Zstd, compress.Codecs.Gzip} {
		for _, dict := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s dict=%v", codec, dict), func(t *testing.T) {
				tbl := sharingtest.CompressedTable(t, codec)
				sharingtest.DamagePage(t, filepath.Join(tbl, sharingtest.CompressedTableFile), "city", dict)
				env := sharingtest.Start(t, sharingtest.Options{Tables: map[string]string{"s.d.damaged": tbl}, Token: faultTestToken})
				profile := env.ProfileFile(t)

				dir := t.TempDir()
				r := run(t, "", "export", "-p", profile, "s.d.damaged", "-o", filepath.Join(dir, "out.csv"))
				assert.Equal(t, exitError, r.Code, r.Err)
				for _, m := range []string{"s.d.damaged", "data file", "column city", "damaged"} {
					assert.Contains(t, r.Err, m)
				}
				assert.NotContains(t, r.Err, "panic")
				assert.Empty(t, exporttest.DirEntries(t, dir), "no output, no temporary file")

				dest := filepath.Join(t.TempDir(), "lake")
				for range 2 { // the second run is not refused by a lock the first left
					r = run(t, "", "sync", "-p", profile, "s.d.damaged", "-o", dest, "--format", "parquet")
					assert.Equal(t, exitError, r.Code, r.Err)
					assert.Contains(t, r.Err, "column city")
					assert.NotContains(t, r.Err, "lock")
				}
				// Not even the folder: the failed first run created it (TestSyncOfMissingTableLeavesNoDestination).
				assert.NoDirExists(t, dest, "no lock, temporary file, data or folder left behind")
			})
		}
	}
}
