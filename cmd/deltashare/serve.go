package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/deltashare/deltashare/sharing/server"
	"github.com/urfave/cli/v2"
)

func init() { commandSet = append(commandSet, serveCommand) }

// serveOptions are the options of `deltashare serve`.
type serveOptions struct {
	ConfigFile    string
	Addr          string
	Tokens        []string
	TokenEnv      string
	Tables        []string
	NoHistory     bool
	ProfileOut    string
	Activation    bool
	Activations   int
	ActivationTTL time.Duration
	URLTTL        time.Duration
	Prefix        string
	PublicURL     string
	LogLevel      string
	LogFormat     string
	// MaxConnections caps the open client connections; 0 keeps the config file's (default
	// server.DefaultMaxConnections).
	MaxConnections int
	Output         string // text or json: how the endpoint, profile file and links are printed
}

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:     "serve",
		Usage:    "serve local Delta tables over the Delta Sharing protocol",
		Category: "serve",
		Description: `Serves Delta tables from local directories to Delta Sharing clients (this tool, the Python
connector, Spark, Power BI...). Give tables with --table share.schema.table=PATH (repeatable) or a
YAML --config file (shares, schemas, tables, tokens); see README "Serving tables".

Clients authenticate with a bearer token: --token, --token-env VAR, tokens in the config file, or,
with none of these, a random token written to --profile-out FILE (a ready profile file, 0600).
--activation mints one-time activation links, as Databricks open sharing does.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "YAML server configuration file"},
			&cli.StringFlag{Name: "addr", Usage: "listen address (default 127.0.0.1:8080; 127.0.0.1:0 for a free port, printed on start; :PORT to listen on every interface)"},
			&cli.StringSliceFlag{Name: "token", Usage: "bearer token clients must send (repeatable; prefer --token-env: command lines are visible to other users)"},
			&cli.StringFlag{Name: "token-env", Usage: "read the bearer token from this environment variable"},
			&cli.StringSliceFlag{Name: "table", Aliases: []string{"t"}, Usage: "share.schema.table=PATH of a local Delta table (repeatable)"},
			&cli.BoolFlag{Name: "no-history", Usage: "do not share the history (time travel, change data feed) of --table tables (shared by default)"},
			&cli.StringFlag{Name: "profile-out", Usage: "write a ready profile file for clients here (0600)"},
			&cli.BoolFlag{Name: "activation", Usage: "mint one-time activation links (printed) for recipients"},
			&cli.IntFlag{Name: "activations", Value: 1, Usage: "how many activation links to mint with --activation"},
			&cli.DurationFlag{Name: "activation-ttl", Value: 30 * 24 * time.Hour, Usage: "lifetime of activated tokens"},
			&cli.DurationFlag{Name: "url-ttl", Usage: "lifetime of signed file URLs", DefaultText: "1h"},
			&cli.StringFlag{Name: "prefix", Usage: "URL path prefix of the protocol endpoints (default /delta-sharing)"},
			&cli.StringFlag{Name: "public-url", Usage: "scheme://host[:port] clients reach the server at (behind a proxy)"},
			&cli.IntFlag{Name: "max-connections", Usage: "client connections served at once (idle keep-alive ones included); more wait until one closes", DefaultText: strconv.Itoa(server.DefaultMaxConnections)},
			&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug, info, warn or error"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "text or json"},
			outputFlag,
		},
		Action: action(parseServeOptions, runServe),
	}
}

func parseServeOptions(c *cli.Context) (serveOptions, error) {
	if c.NArg() > 0 {
		return serveOptions{}, usageError(fmt.Errorf("serve takes no arguments (got %q): give tables with --table share.schema.table=PATH", c.Args().First()))
	}
	mode, err := outputMode(c)
	if err != nil {
		return serveOptions{}, err
	}
	o := serveOptions{
		Output: mode, ConfigFile: c.String("config"), Addr: c.String("addr"), Tokens: c.StringSlice("token"),
		TokenEnv: c.String("token-env"), Tables: c.StringSlice("table"), NoHistory: c.Bool("no-history"),
		ProfileOut: c.String("profile-out"), Activation: c.Bool("activation"), Activations: c.Int("activations"),
		ActivationTTL: c.Duration("activation-ttl"), URLTTL: c.Duration("url-ttl"), Prefix: c.String("prefix"),
		PublicURL: c.String("public-url"), LogLevel: c.String("log-level"), LogFormat: c.String("log-format"),
		MaxConnections: c.Int("max-connections"),
	}
	if c.IsSet("max-connections") && o.MaxConnections < 1 {
		return o, usageError(fmt.Errorf("--max-connections must be at least 1 (got %d)", o.MaxConnections))
	}
	_, err = newLogger(io.Discard, o.LogLevel, o.LogFormat) // --log-level and --log-format are valid
	return o, err
}

// configOptions give the server library the process environment (tokens' valueEnv).
var configOptions = server.ConfigOptions{LookupEnv: os.LookupEnv}

// serverConfig builds the server configuration from a config file and flags. What is wrong in
// a --table flag is reported first, naming the flag: a malformed one before the file is read,
// the problems of its table (a missing location) before those of the file.
func serverConfig(o serveOptions) (server.Config, error) {
	flags := make([]server.TableFlag, 0, len(o.Tables))
	for _, t := range o.Tables {
		f, err := server.ParseTableFlag(t)
		if err != nil {
			return server.Config{}, usageError(fmt.Errorf("--table %w", err))
		}
		flags = append(flags, f)
	}
	var cfg server.Config
	if o.ConfigFile != "" {
		var err error
		if cfg, err = server.LoadConfig(o.ConfigFile, configOptions); err != nil {
			if ferr := tableFlagProblems(flags, o.Tables); ferr != nil {
				return cfg, errors.Join(ferr, err)
			}
			return cfg, err
		}
	}
	for _, f := range flags {
		cfg.AddTable(f)
		if o.NoHistory {
			noHistory(&cfg, f)
		}
	}
	if len(cfg.Shares) == 0 {
		return cfg, usageError(errors.New("nothing to serve: give --table share.schema.table=PATH or --config FILE"))
	}
	for _, tok := range o.Tokens {
		cfg.Tokens = append(cfg.Tokens, server.Token{Value: tok})
	}
	if o.TokenEnv != "" {
		cfg.Tokens = append(cfg.Tokens, server.Token{Name: o.TokenEnv, ValueEnv: o.TokenEnv})
	}
	if o.Addr != "" {
		cfg.Addr = o.Addr
	}
	if o.URLTTL != 0 {
		cfg.URLTTL = o.URLTTL
	}
	if o.MaxConnections > 0 {
		cfg.MaxConnections = o.MaxConnections
	}
	if o.Prefix != "" {
		cfg.Prefix = o.Prefix
	}
	if o.PublicURL != "" {
		cfg.PublicURL = o.PublicURL
	}
	if o.Activation {
		cfg.Activation = true
	}
	return cfg, nil
}

// tableFlagProblems validates the tables of the --table flags alone (parsed into flags from
// values) and returns their problems, each naming its flag; nil when they have none.
func tableFlagProblems(flags []server.TableFlag, values []string) error {
	if len(flags) == 0 {
		return nil
	}
	var only server.Config
	for _, f := range flags {
		only.AddTable(f)
	}
	var ce *server.ConfigError
	if !errors.As(nameTableFlags(only.ValidateWith(configOptions), only, values), &ce) {
		return nil
	}
	var mine []server.ConfigProblem
	for _, p := range ce.Problems {
		if strings.HasPrefix(p.Path, "--table ") {
			mine = append(mine, p)
		}
	}
	if len(mine) == 0 {
		return nil
	}
	return &server.ConfigError{Problems: mine}
}

// noHistory stops sharing the history (time travel, change data feed) of a --table table.
func noHistory(cfg *server.Config, f server.TableFlag) {
	for i := range cfg.Shares {
		if !strings.EqualFold(cfg.Shares[i].Name, f.Share) {
			continue
		}
		for j := range cfg.Shares[i].Schemas {
			if !strings.EqualFold(cfg.Shares[i].Schemas[j].Name, f.Schema) {
				continue
			}
			tables := cfg.Shares[i].Schemas[j].Tables
			for k := range tables {
				if strings.EqualFold(tables[k].Name, f.Table) {
					off := false
					tables[k].HistoryShared = &off
				}
			}
		}
	}
}

// newLogger builds the structured logger for --log-level and --log-format.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError(fmt.Errorf("unknown --log-level %q: use debug, info, warn or error", level))
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usageError(fmt.Errorf("unknown --log-format %q: use text or json", format))
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// runServe serves until ctx is cancelled (SIGINT, SIGTERM); the server's log goes to stderr.
func runServe(ctx context.Context, o serveOptions, d *deps) error {
	st := d.IO
	cfg, err := serverConfig(o)
	if err != nil {
		return err
	}
	generated := ""
	if len(cfg.Tokens) == 0 && !cfg.NoAuth {
		if o.ProfileOut == "" && !cfg.Activation {
			return usageError(errors.New("no bearer token: pass --token-env VAR (or --token), put tokens in --config, or pass --profile-out FILE to get a generated token in a ready profile file"))
		}
		if o.ProfileOut != "" {
			if generated, err = randomToken(); err != nil {
				return err
			}
			cfg.Tokens = append(cfg.Tokens, server.Token{Name: "generated", Value: generated})
		}
	}
	logger, err := newLogger(st.Err, o.LogLevel, o.LogFormat)
	if err != nil {
		return err
	}
	if err := cfg.ValidateWith(configOptions); err != nil {
		return nameTableFlags(err, cfg, o.Tables)
	}
	srv, err := server.New(cfg, server.WithLogger(logger))
	if err != nil {
		return nameTableFlags(err, cfg, o.Tables)
	}
	ln, err := srv.Listen("")
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("%w: another program listens there: pass --addr 127.0.0.1:0 for a free port (the endpoint printed on start says which), or --addr HOST:PORT", err)
		}
		return err
	}
	started := serveJSON{Endpoint: srv.Endpoint(), ActivationLinks: []string{}}
	if o.Output != "json" {
		fmt.Fprintf(st.Out, "Delta Sharing endpoint: %s\n", srv.Endpoint())
	}
	if o.ProfileOut != "" {
		tok := generated
		if tok == "" && len(cfg.Tokens) > 0 {
			tok = srv.Config().Tokens[0].Value
		}
		if tok != "" {
			if err := srv.WriteProfile(o.ProfileOut, tok); err != nil {
				ln.Close()
				return err
			}
			started.ProfileFile = o.ProfileOut
			if o.Output != "json" {
				fmt.Fprintf(st.Out, "profile file: %s (use it with -p %s)\n", o.ProfileOut, o.ProfileOut)
			}
		}
	}
	if cfg.Activation {
		for i := 0; i < max(o.Activations, 1); i++ {
			link, err := srv.NewActivation(ctx, o.ActivationTTL)
			if err != nil {
				ln.Close()
				return err
			}
			// The link is a one-time credential the operator asked for: printing it is the point.
			started.ActivationLinks = append(started.ActivationLinks, link)
			if o.Output != "json" {
				fmt.Fprintf(st.Out, "activation link: %s\n", link)
			}
		}
	}
	if o.Output == "json" {
		if err := writeJSON(st.Out, started); err != nil {
			ln.Close()
			return err
		}
	}
	return srv.Serve(ctx, ln)
}

// serveJSON is what `serve --output json` prints once the server listens.
type serveJSON struct {
	Endpoint        string   `json:"endpoint"`
	ProfileFile     string   `json:"profileFile,omitempty"`
	ActivationLinks []string `json:"activationLinks"`
}

// nameTableFlags makes the problems of a configuration error that concern a table given with
// --table name that flag as written (--table a.b.c=/data/c) instead of the configuration path
// the flag became (shares[0].schemas[0].tables[0].location), which the user never wrote.
func nameTableFlags(err error, cfg server.Config, flags []string) error {
	var ce *server.ConfigError
	if !errors.As(err, &ce) {
		return err
	}
	paths := map[string]string{}
	for _, v := range flags {
		f, perr := server.ParseTableFlag(v)
		if perr != nil {
			continue
		}
		// The flag's table is the last one of that name and location in its schema.
		for i, sh := range cfg.Shares {
			if !strings.EqualFold(sh.Name, f.Share) {
				continue
			}
			for j, sc := range sh.Schemas {
				if !strings.EqualFold(sc.Name, f.Schema) {
					continue
				}
				for k, tc := range sc.Tables {
					if strings.EqualFold(tc.Name, f.Table) && tc.Location == f.Location {
						paths[fmt.Sprintf("shares[%d].schemas[%d].tables[%d]", i, j, k)] = "--table " + v
					}
				}
			}
		}
	}
	for i, p := range ce.Problems {
		for path, flag := range paths {
			if p.Path == path || strings.HasPrefix(p.Path, path+".") {
				ce.Problems[i].Path = flag
			}
		}
	}
	return err
}
