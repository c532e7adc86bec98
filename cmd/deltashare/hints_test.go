package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/export"
	"github.com/deltashare/deltashare/formats"
	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/deltashare/deltashare/sharing/server"
)

// The CLI words library advice with its flags and commands, wherever the error sits in a chain.
func TestErrorTextNamesFlags(t *testing.T) {
	_, emptyCfg := server.ParseConfig([]byte("\n"), "server.yaml", "", server.ConfigOptions{})
	_, noSharesNoTokens := server.ParseConfig([]byte("version: 1\n"), "server.yaml", "", server.ConfigOptions{})
	_, missingProfile := sharing.LoadProfile(filepath.Join(t.TempDir(), "nope.share"), nil)
	src, err := array.NewRecordReader(arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil), nil)
	require.NoError(t, err)
	defer src.Release()
	_, streamDir := export.Run(context.Background(), src, export.NewStreamSink(nil), export.Options{Output: "out/", Format: formats.Options{Format: formats.CSV}})
	require.Error(t, streamDir)
	for _, tc := range []struct {
		err       error
		cli, hide string
	}{
		{fmt.Errorf("sync: %w", &export.SchemaChangeError{Table: "s.d.t", FromVersion: 1, ToVersion: 2}),
			"nothing was exported. Use --allow-schema-change to export with the new schema", "AllowSchemaChange"},
		{emptyCfg, "server.yaml: the server config is empty: add shares and tokens (see deltashare serve --help)", "server.Config"},
		{noSharesNoTokens, "shares: no shares configured: add shares to the config, or tables with --table share.schema.table=PATH\n" +
			"  line 1: tokens: no bearer token configured: add tokens to the config, or pass --token-env VAR (or --token), or set noAuth: true in the config to serve loopback without authentication", "Config."},
		{&protocol.ExpiredError{Expiry: time.Unix(0, 0)}, "get a new credential (run deltashare activate with a new activation link", "tokenmgr."},
		{fmt.Errorf("list: %w", &protocol.APIError{Status: http.StatusUnauthorized}), "(run deltashare activate with a new activation link", "tokenmgr."},
		{&protocol.APIError{Status: http.StatusNotFound}, "(deltashare tables shows what the credential can read)", "Client."},
		{missingProfile, "does not exist: check the path, or give the name of a stored credential (deltashare creds list)", "tokenmgr."},
		{streamDir, "standard output takes a single file: set -o to -, with neither partitioning nor a directory", "Output"},
	} {
		got := errorText(tc.err)
		assert.Contains(t, got, tc.cli)
		assert.NotContains(t, got, tc.hide)
		assert.NotEqual(t, tc.err.Error(), got, "the library words it otherwise")
	}
	assert.Equal(t, "plain", errorText(errors.New("plain")))
}

// TestCredentialRejectedAdvisedOnce: a credential that our server rejects (unknown token, or one
// that expired on the server) ends with exit 4 and one piece of advice, not the server's and the
// client's one after the other.
func TestCredentialRejectedAdvisedOnce(t *testing.T) {
	t.Setenv("DELTASHARE_CONFIG_DIR", t.TempDir())
	expired := time.Now().Add(-time.Hour)
	env := demoEnv(t, func(c *server.Config) {
		c.Tokens = append(c.Tokens, server.Token{Name: "old", Value: "expired-token-secret-value", Expires: &expired})
	})
	for _, tc := range []struct{ name, token, fact string }{
		{"unknown token", "wrong-token-secret-value", "invalid bearer token"},
		{"expired on the server", "expired-token-secret-value", "expired at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "p.share")
			require.NoError(t, os.WriteFile(p, []byte(fmt.Sprintf(`{"shareCredentialsVersion":1,"endpoint":%q,"bearerToken":%q}`, env.Endpoint, tc.token)), 0o600))
			for _, out := range []string{"text", "json"} {
				r := run(t, "", "shares", "-p", p, "-O", out)
				assert.Equal(t, exitAuth, r.Code, r.Err)
				assert.Contains(t, r.Err, tc.fact, "says what is wrong")
				assert.Contains(t, r.Err, "deltashare activate", "says what to do next")
				msg := r.Err
				if out == "json" {
					var e errorJSON
					require.NoError(t, json.Unmarshal([]byte(r.Err), &e), r.Err)
					msg = e.Error
					assert.Contains(t, msg, e.Hint, "the hint field is the advice of the message")
				}
				assert.Equal(t, 1, strings.Count(msg, "data provider"), "advice given once: %s", msg)
				assert.NotContains(t, msg, "secret-value")
			}
		})
	}
}
