package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deltashare/deltashare/internal/concurrenttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseServeOptions(t *testing.T) {
	defaults := serveOptions{Activations: 1, ActivationTTL: 30 * 24 * time.Hour, LogLevel: "info", LogFormat: "text", Output: "text"}
	every := serveOptions{ConfigFile: "c.yaml", Addr: ":9", Tokens: []string{"t1", "t2"}, TokenEnv: "TOK", Tables: []string{"a.b.c=/x", "a.b.d=/y"},
		NoHistory: true, ProfileOut: "p.share", Activation: true, Activations: 3, ActivationTTL: time.Hour, URLTTL: time.Minute,
		Prefix: "/ds", PublicURL: "https://h", LogLevel: "debug", LogFormat: "json", MaxConnections: 50, Output: "json"}
	testParse(t, parseServeOptions, []parseCase[serveOptions]{
		{name: "defaults", args: []string{"serve"}, want: defaults},
		{name: "every flag", args: []string{"serve", "-c", "c.yaml", "--addr", ":9", "--token", "t1", "--token", "t2", "--token-env", "TOK",
			"--table", "a.b.c=/x", "--table", "a.b.d=/y", "--no-history", "--profile-out", "p.share", "--activation", "--activations", "3",
			"--activation-ttl", "1h", "--url-ttl", "1m", "--prefix", "/ds", "--public-url", "https://h", "--log-level", "debug", "--log-format", "json", "--max-connections", "50", "--output", "json"}, want: every},
		{name: "no connections", args: []string{"serve", "--max-connections", "0"}, code: exitUsage, msg: "--max-connections must be at least 1"},
		{name: "an argument", args: []string{"serve", "extra-arg"}, code: exitUsage, msg: "no arguments"},
		{name: "bad log level", args: []string{"serve", "--log-level", "loud"}, code: exitUsage, msg: "--log-level"},
		{name: "bad log format", args: []string{"serve", "--log-format", "xml"}, code: exitUsage, msg: "--log-format"},
		{name: "bad duration", args: []string{"serve", "--url-ttl", "soon"}, code: exitUsage, msg: "url-ttl"},
	})
}

func TestServeCommand(t *testing.T) {
	root := repoRoot(t)
	profile, stop := serveDemo(t, serveOptions{LogLevel: "error", LogFormat: "text",
		Tables: []string{
			"demo.sales.orders=" + filepath.Join(root, "testdata/demo/sales/orders"),
			"demo.sales.customers=" + filepath.Join(root, "testdata/demo/sales/customers"),
		},
		NoHistory: true, Activations: 1})

	st, err := os.Stat(profile)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	var p struct {
		Endpoint, BearerToken string
	}
	data, err := os.ReadFile(profile)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &p))
	assert.GreaterOrEqual(t, len(p.BearerToken), 32, "a generated random token")

	r := call(t, testDeps(t, storeDir(t)), "", runTables, tablesOptions{Profile: profile, Output: "text"})
	require.Equal(t, 0, r.Code, r.Err)
	assert.Contains(t, r.Out, "demo.sales.customers")
	// --no-history: time travel and the change data feed are refused by the server.
	r = run(t, "", "export", "-p", profile, "demo.sales.orders", "--version", "0", "-o", "-")
	assert.Equal(t, exitError, r.Code)
	r = run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", "-", "--limit", "2", "-q")
	assert.Equal(t, 0, r.Code, r.Err)

	res := stop()
	assert.Equal(t, 0, res.Code, res.Err)
	assert.Contains(t, res.Out, "Delta Sharing endpoint: "+p.Endpoint)
	assert.Contains(t, res.Out, "profile file: "+profile)
	assert.NotContains(t, res.Out+res.Err, p.BearerToken, "the generated token is only in the profile file")
}

// serveDemo runs serve with o on a loopback port, with an empty credential store, until it has
// written the profile file it returns; stop stops it as SIGINT does and returns what it printed
// and its exit code.
func serveDemo(t *testing.T, o serveOptions) (profile string, stop func() result) {
	t.Helper()
	credEnv(t)
	o.Addr, o.ProfileOut = "127.0.0.1:0", filepath.Join(t.TempDir(), "client.share")
	d := testDeps(t, storeDir(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() { done <- callCtx(t, ctx, d, "", runServe, o) }()
	require.Eventually(t, func() bool { _, err := os.Stat(o.ProfileOut); return err == nil }, 10*time.Second, 20*time.Millisecond)
	return o.ProfileOut, func() result {
		cancel()
		select {
		case res := <-done:
			return res
		case <-time.After(15 * time.Second):
			t.Fatal("serve did not stop after cancellation")
			return result{}
		}
	}
}

// TestServeActivation: --activation mints the links asked for, printed on stdout before the
// server serves.
func TestServeActivation(t *testing.T) {
	root := repoRoot(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out concurrenttest.Buffer
	d := testDeps(t, storeDir(t))
	d.IO = &streams{In: strings.NewReader(""), Out: &out, Err: io.Discard}
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, serveOptions{Addr: "127.0.0.1:0", LogLevel: "error",
			Tables:     []string{"demo.sales.orders=" + filepath.Join(root, "testdata/demo/sales/orders")},
			Activation: true, Activations: 2, ActivationTTL: time.Hour}, d)
	}()
	require.Eventually(t, func() bool { return strings.Count(out.String(), "activation link: ") == 2 }, 10*time.Second, 10*time.Millisecond, out.String())
	assert.Regexp(t, `(?m)^activation link: http://127\.0\.0\.1:\d+/delta_sharing/retrieve_config\.html\?\S+$`, out.String())
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop after cancellation")
	}
}

// TestServeTableFlagErrorsFirst: with a --config file, what is wrong in a --table flag is
// reported first, naming the flag as written: a malformed flag before the file is read (a usage
// error), a flag's missing location before (and besides) the file's own problems.
func TestServeTableFlagErrorsFirst(t *testing.T) {
	credEnv(t)
	dir := t.TempDir()
	orders := filepath.Join(repoRoot(t), "testdata/demo/sales/orders")
	write := func(name, location string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte("shares:\n  - name: s\n    schemas:\n      - name: sc\n        tables:\n          - name: t\n            location: "+
			location+"\ntokens:\n  - name: a\n    value: tok-0123456789abcdef\n"), 0o600))
		return p
	}
	bad, good := write("bad.yaml", filepath.Join(dir, "no-such-table")), write("good.yaml", orders)
	missing := "a.b.c=" + filepath.Join(dir, "no-such-flag-table")
	serve := func(config string, tables ...string) result {
		args := []string{"serve", "--addr", "127.0.0.1:0", "--config", config}
		for _, tb := range tables {
			args = append(args, "--table", tb)
		}
		return run(t, "", args...)
	}

	r := serve(bad, "nodots=/x")
	assert.Equal(t, exitUsage, r.Code, r.Err)
	assert.Contains(t, r.Err, `--table "nodots=/x": expected share.schema.table=PATH`)
	assert.NotContains(t, r.Err, "bad.yaml", "the malformed flag first")

	r = serve(bad, missing)
	assert.Equal(t, exitError, r.Code, r.Err)
	flagAt, fileAt := strings.Index(r.Err, "--table "+missing+": "), strings.Index(r.Err, "bad.yaml: invalid server configuration")
	require.GreaterOrEqual(t, flagAt, 0, "the flag is named: %s", r.Err)
	require.GreaterOrEqual(t, fileAt, 0, "the file's problem is still reported: %s", r.Err)
	assert.Less(t, flagAt, fileAt, "the flag first: %s", r.Err)
	assert.Equal(t, 1, strings.Count(r.Err, "no-such-table"), "the file's problem once: %s", r.Err)

	r = serve(good, missing)
	assert.Equal(t, exitError, r.Code, r.Err)
	assert.Contains(t, r.Err, "--table "+missing+": ")
	assert.NotContains(t, r.Err, "good.yaml")

	r = serve(bad, "a.b.c="+orders)
	assert.Equal(t, exitError, r.Code, r.Err)
	assert.Contains(t, r.Err, "bad.yaml: invalid server configuration")
	assert.NotContains(t, r.Err, "--table", "a good flag is not blamed: %s", r.Err)
}
