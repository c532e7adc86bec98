package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadConfigGood(t *testing.T) {
	dir := t.TempDir()
	makeTable(t, filepath.Join(dir, "tables", "accounts"))
	makeTable(t, filepath.Join(dir, "abs"))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bob.token"), []byte("bob-secret-token\n"), 0o600))
	env := map[string]string{"ALICE_TOKEN": "alice-secret-token"}
	yml := fmt.Sprintf(`version: 1
addr: 127.0.0.1:9999
publicURL: https://sharing.example.com/
urlTTL: 15m
tokens:
  - name: alice
    valueEnv: ALICE_TOKEN
    expires: 2030-01-02T03:04:05Z
    shares: [Sales.EU]
  - name: bob
    valueFile: bob.token
shares:
  - name: Sales.EU
    schemas:
      - name: crm
        tables:
          - name: accounts
            location: ./tables/accounts
            historyShared: true
          - name: other
            location: file://%s
            id: my-table-id
`, filepath.Join(dir, "abs"))
	path := filepath.Join(dir, "server.yaml")
	require.NoError(t, os.WriteFile(path, []byte(yml), 0o600))

	cfg, err := LoadConfig(path, ConfigOptions{LookupEnv: mapEnv(env)})
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:9999", cfg.Addr)
	assert.Equal(t, "https://sharing.example.com", cfg.PublicURL)
	assert.Equal(t, DefaultPrefix, cfg.Prefix)
	assert.Equal(t, 15*time.Minute, cfg.URLTTL)
	assert.Equal(t, DefaultShutdownTimeout, cfg.ShutdownTimeout)
	require.Len(t, cfg.Tokens, 2)
	assert.Equal(t, "alice-secret-token", cfg.Tokens[0].Value)
	assert.Empty(t, cfg.Tokens[0].ValueEnv)
	assert.Equal(t, time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), cfg.Tokens[0].Expires.UTC())
	assert.Equal(t, "bob-secret-token", cfg.Tokens[1].Value)
	tables := cfg.Shares[0].Schemas[0].Tables
	assert.Equal(t, filepath.Join(dir, "tables", "accounts"), tables[0].Location)
	require.NotNil(t, tables[0].HistoryShared)
	assert.True(t, *tables[0].HistoryShared)
	assert.True(t, tables[1].SharesHistory(), "history is shared unless set to false")
	assert.Equal(t, derivedID("table", "sales.eu", "CRM", "Accounts"), tables[0].ID, "derived ids ignore case")
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, tables[0].ID)
	assert.Equal(t, filepath.Join(dir, "abs"), tables[1].Location)
	assert.Equal(t, "my-table-id", tables[1].ID)
	assert.NotEmpty(t, cfg.Shares[0].ID)

	// Validate is idempotent.
	again := cfg
	require.NoError(t, again.Validate())
	assert.Equal(t, cfg.Tokens[0].Value, again.Tokens[0].Value)
}

func TestLoadConfigBad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	makeTable(t, good)
	notDelta := filepath.Join(dir, "plain")
	require.NoError(t, os.MkdirAll(notDelta, 0o755))

	tables := func(body string) string {
		return "tokens:\n  - value: a-good-token-1\nshares:\n  - name: s\n    schemas:\n      - name: sc\n        tables:\n" + body
	}
	tbl := func(name, loc string) string {
		return fmt.Sprintf("          - name: %s\n            location: %s\n", name, loc)
	}
	tests := []struct {
		name string
		yml  string
		want []string
	}{
		{"unknown key", tables("          - name: t\n            locaton: " + good + "\n"), []string{"line 9", `unknown key "locaton" in a table`}},
		{"unknown top key", "tokenz: []\n", []string{"line 1", `unknown key "tokenz" in the top level`}},
		{"wrong type", "urlTTL: [1]\n", []string{"line 1", "cannot decode"}},
		{"empty", "\n", []string{"the server config is empty: add shares and tokens (see server.Config)"}},
		{"space in name", tables(tbl("'bad name'", good)), []string{"line 8", "contains a space"}},
		{"dot in table", tables(tbl("a.b", good)), []string{"line 8", "contains '.'"}},
		{"slash in table", tables(tbl("a/b", good)), []string{"line 8", "contains '/'"}},
		{"too long", tables(tbl(strings.Repeat("x", 256), good)), []string{"line 8", "256 characters"}},
		{"duplicate table case-insensitive", tables(tbl("T", good) + tbl("t", good)), []string{"line 10", "duplicates tables[0]"}},
		{"missing location", tables("          - name: t\n"), []string{"line 8", "location is missing"}},
		{"location missing dir", tables(tbl("t", filepath.Join(dir, "nope"))), []string{"line 9", "does not exist"}},
		{"not a delta table", tables(tbl("t", notDelta)), []string{"line 9", "no _delta_log"}},
		{"s3 location", tables(tbl("t", "s3://bucket/t")), []string{"line 9", "only local directories"}},
		{"bad table id", tables(tbl("t", good) + "            id: ../x\n"), []string{"line 10", "table id"}},
		{"no tokens", "shares:\n  - name: s\n", []string{"line 1", "no bearer token configured: add Config.Tokens, or set Config.NoAuth to serve loopback without authentication"}},
		{"no shares", "tokens:\n  - value: a-good-token-1\n", []string{"no shares configured: add shares to the config, or tables with Config.AddTable"}},
		{"version too new", "version: 2\ntokens:\n  - value: a-good-token-1\nshares:\n  - name: s\n", []string{"line 1", "upgrade"}},
		{"bad ttl", "urlTTL: 30d\n", []string{"line 1"}},
		{"ttl too long", "urlTTL: 1000h\ntokens:\n  - value: a-good-token-1\nshares:\n  - name: s\n", []string{"line 1", "urlTTL"}},
		{"duplicate share", "tokens:\n  - value: a-good-token-1\nshares:\n  - name: S\n  - name: s\n", []string{"line 5", "duplicates shares[0]"}},
		{"token env unset", "tokens:\n  - valueEnv: DELTASHARE_TEST_UNSET_VAR\nshares:\n  - name: s\n", []string{"line 2", "DELTASHARE_TEST_UNSET_VAR is not set"}},
		{"token env empty", "tokens:\n  - valueEnv: EMPTY\nshares:\n  - name: s\n", []string{"line 2", "EMPTY is not set or empty"}},
		{"token two sources", "tokens:\n  - value: abcdefgh\n    valueEnv: X\nshares:\n  - name: s\n", []string{"line 2", "exactly one of"}},
		{"duplicate token", "tokens:\n  - value: same-secret-value\n  - value: same-secret-value\nshares:\n  - name: s\n", []string{"line 3", "same value"}},
		{"token space", "tokens:\n  - value: 'has space'\nshares:\n  - name: s\n", []string{"line 2", "spaces"}},
		{"token unknown share", "tokens:\n  - value: a-good-token-1\n    shares: [nope]\nshares:\n  - name: s\n", []string{"line 3", `share "nope"`}},
		{"noAuth with tokens", "noAuth: true\ntokens:\n  - value: a-good-token-1\nshares:\n  - name: s\n", []string{"line 1", "choose one"}},
		{"bad prefix", "prefix: 'no-slash'\ntokens:\n  - value: a-good-token-1\nshares:\n  - name: s\n", []string{"line 1", "prefix"}},
		{"bad public url", "publicURL: ftp://x\ntokens:\n  - value: a-good-token-1\nshares:\n  - name: s\n", []string{"line 1", "publicURL"}},
		{"duplicate key", "addr: a\naddr: b\n", []string{"line 2", "already defined"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "server.yaml")
			require.NoError(t, os.WriteFile(path, []byte(tc.yml), 0o600))
			_, err := LoadConfig(path, ConfigOptions{LookupEnv: mapEnv(map[string]string{"EMPTY": " "})})
			require.Error(t, err)
			assert.Contains(t, err.Error(), path)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "--", "library errors name no flags")
			assert.NotContains(t, err.Error(), "deltashare serve")
			for _, secret := range []string{"a-good-token-1", "same-secret-value", "abcdefgh", "has space"} {
				assert.NotContains(t, err.Error(), secret, "errors never show token values")
			}
		})
	}
}

func TestParseTableFlag(t *testing.T) {
	tests := []struct {
		in      string
		want    TableFlag
		wantErr string
	}{
		{in: "s.sc.t=/data/t", want: TableFlag{"s", "sc", "t", "/data/t"}},
		{in: "my.share.sc.t=rel/p=x", want: TableFlag{"my.share", "sc", "t", "rel/p=x"}},
		{in: "sc.t=/p", wantErr: "expected share.schema.table=PATH"},
		{in: "s.sc.t", wantErr: "expected share.schema.table=PATH"},
		{in: "s.sc.t=", wantErr: "expected share.schema.table=PATH"},
		{in: ".sc.t=/p", wantErr: "share name is missing"},
		{in: "s..t=/p", wantErr: "schema name is missing"},
		{in: "s.sc.t x=/p", wantErr: "contains a space"},
		{in: "s/x.sc.t=/p", wantErr: "contains '/'"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseTableFlag(tc.in)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.True(t, strings.HasPrefix(err.Error(), strconv.Quote(tc.in)+": "), "the error starts with the value: %v", err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestConfigFromFlags(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a", "b", "c"} {
		makeTable(t, filepath.Join(dir, n))
	}
	var cfg Config
	for _, flag := range []string{"s.x.a=" + filepath.Join(dir, "a"), "S.X.b=" + filepath.Join(dir, "b"), "s.y.c=" + filepath.Join(dir, "c")} {
		f, err := ParseTableFlag(flag)
		require.NoError(t, err)
		cfg.AddTable(f)
	}
	t.Setenv("SERVE_TOKEN", "from-env-token")
	cfg.Tokens = append(cfg.Tokens, Token{ValueEnv: "SERVE_TOKEN"})
	// Validate has no environment: the process's SERVE_TOKEN is not read.
	noEnv := cfg
	noEnv.Tokens = append([]Token(nil), cfg.Tokens...)
	err := noEnv.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `tokens[0].valueEnv: token "token-1": no environment to read SERVE_TOKEN from (ConfigOptions.LookupEnv is not set)`)
	require.NoError(t, cfg.ValidateWith(ConfigOptions{LookupEnv: mapEnv(map[string]string{"SERVE_TOKEN": "from-env-token"})}))
	require.Len(t, cfg.Shares, 1, "share names merge case-insensitively")
	require.Len(t, cfg.Shares[0].Schemas, 2)
	assert.Len(t, cfg.Shares[0].Schemas[0].Tables, 2)
	assert.Equal(t, "from-env-token", cfg.Tokens[0].Value)
	assert.Equal(t, "token-1", cfg.Tokens[0].Name)

	// A duplicate table from flags is reported.
	f, _ := ParseTableFlag("s.x.A=" + filepath.Join(dir, "a"))
	cfg.AddTable(f)
	err = cfg.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "shares[0].schemas[0].tables[2].name")
}

// mapEnv is an environment for ConfigOptions.LookupEnv.
func mapEnv(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) { v, ok := env[name]; return v, ok }
}

// Config problems carry advice in Go names: Error words it for a library user, Hints returns it
// for a command line tool to word as its flags.
func TestConfigErrorAdvice(t *testing.T) {
	_, err := ParseConfig([]byte("version: 1\n"), "server.yaml", t.TempDir(), ConfigOptions{})
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, []string{
		"add shares to the config, or tables with {Config.AddTable}",
		"add {Config.Tokens}, or set {Config.NoAuth} to serve loopback without authentication",
	}, ce.Hints())
	require.Len(t, ce.Problems, 2)
	assert.Equal(t, ConfigProblem{Path: "shares", Line: 1, Message: "no shares configured",
		Advice: "add shares to the config, or tables with {Config.AddTable}", keys: []any{"shares"}}, ce.Problems[0])
	assert.Equal(t, "server.yaml: invalid server configuration\n"+
		"  line 1: shares: no shares configured: add shares to the config, or tables with Config.AddTable\n"+
		"  line 1: tokens: no bearer token configured: add Config.Tokens, or set Config.NoAuth to serve loopback without authentication", err.Error())

	_, err = ParseConfig([]byte(" \n"), "server.yaml", "", ConfigOptions{})
	var h interface{ Hint() string }
	require.ErrorAs(t, err, &h)
	assert.Equal(t, "add shares and tokens (see {server.Config})", h.Hint())
	assert.Equal(t, "server.yaml: the server config is empty: add shares and tokens (see server.Config)", err.Error())

	// Problems without advice are listed as they are.
	_, err = ParseConfig([]byte("urlTTL: 1000h\nnoAuth: true\nshares:\n  - name: s\n"), "server.yaml", "", ConfigOptions{})
	require.ErrorAs(t, err, &ce)
	assert.Empty(t, ce.Hints())
}

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"a", "Sales_2024", "ünïcödé", strings.Repeat("é", 255)} {
		assert.NoError(t, ValidateName(ok, false), ok)
	}
	assert.NoError(t, ValidateName("share.with.dots", true))
	for _, bad := range []string{"", "a b", "a/b", "a\x00", "a\x1f", "a\x7f", "a.b", strings.Repeat("x", 256), "\xff"} {
		assert.Error(t, ValidateName(bad, false), "%q", bad)
	}
}

func TestTokenNeverPrinted(t *testing.T) {
	exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg := Config{Tokens: []Token{{Name: "alice", Value: "super-secret-value", Expires: &exp}}}
	var jsonLog, textLog bytes.Buffer
	slog.New(slog.NewJSONHandler(&jsonLog, nil)).Info("cfg", "cfg", cfg, "token", cfg.Tokens[0])
	slog.New(slog.NewTextHandler(&textLog, nil)).Info("cfg", "cfg", cfg, "token", cfg.Tokens[0])
	js, err := json.Marshal(cfg)
	require.NoError(t, err)
	for _, s := range []string{
		fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%s", cfg.Tokens[0]),
		fmt.Sprintf("%q", cfg.Tokens[0]), jsonLog.String(), textLog.String(), string(js),
	} {
		assert.NotContains(t, s, "super-secret-value")
		assert.Contains(t, s, "alice")
	}
}
