package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServeCommand(t *testing.T) {
	t.Setenv("DELTASHARE_CONFIG_DIR", t.TempDir())
	root := repoRoot(t)
	profile := filepath.Join(t.TempDir(), "client.share")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() {
		done <- runCtx(t, ctx, "", "serve", "--addr", "127.0.0.1:0", "--log-level", "error",
			"--table", "demo.sales.orders="+filepath.Join(root, "testdata/demo/sales/orders"),
			"--table", "demo.sales.customers="+filepath.Join(root, "testdata/demo/sales/customers"),
			"--no-history", "--profile-out", profile)
	}()
	require.Eventually(t, func() bool { _, err := os.Stat(profile); return err == nil }, 10*time.Second, 20*time.Millisecond)

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

	r := run(t, "", "tables", "-p", profile)
	require.Equal(t, 0, r.Code, r.Err)
	assert.Contains(t, r.Out, "demo.sales.customers")
	// --no-history: time travel and the change data feed are refused by the server.
	r = run(t, "", "export", "-p", profile, "demo.sales.orders", "--version", "0", "-o", "-")
	assert.Equal(t, exitError, r.Code)
	r = run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", "-", "--limit", "2", "-q")
	assert.Equal(t, 0, r.Code, r.Err)

	cancel() // as SIGINT does
	select {
	case res := <-done:
		assert.Equal(t, 0, res.Code, res.Err)
		assert.Contains(t, res.Out, "Delta Sharing endpoint: "+p.Endpoint)
		assert.NotContains(t, res.Out+res.Err, p.BearerToken, "the generated token is only in the profile file")
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop after cancellation")
	}
}

func TestServeCommandErrors(t *testing.T) {
	root := repoRoot(t)
	table := "demo.sales.orders=" + filepath.Join(root, "testdata/demo/sales/orders")
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"serve"}, "nothing to serve"},
		{[]string{"serve", "--table", table}, "no bearer token"},
		{[]string{"serve", "--table", "nodots=/tmp", "--token", "x"}, "share.schema.table=PATH"},
		{[]string{"serve", "--table", table, "--token", "t0123456789abcdef", "--log-level", "loud"}, "--log-level"},
		{[]string{"serve", "extra-arg"}, "no arguments"},
	} {
		r := run(t, "", tc.args...)
		assert.Equal(t, exitUsage, r.Code, "%v: %s", tc.args, r.Err)
		assert.Contains(t, r.Err, tc.msg, "%v", tc.args)
	}
	// A table path that is not a Delta table: a clear configuration error.
	r := run(t, "", "serve", "--addr", "127.0.0.1:0", "--table", "a.b.c="+t.TempDir(), "--token", "t0123456789abcdef")
	assert.NotEqual(t, 0, r.Code)
	assert.Contains(t, r.Err, "_delta_log")
}
