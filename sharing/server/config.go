package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/deltashare/deltashare/internal/hint"
)

// Defaults applied by [Config.Validate].
const (
	DefaultAddr            = "127.0.0.1:8080"
	DefaultPrefix          = "/delta-sharing"
	DefaultURLTTL          = time.Hour
	DefaultShutdownTimeout = 10 * time.Second
	// DefaultMaxConnections is how many client connections Serve holds open at once; more wait
	// until one closes.
	DefaultMaxConnections = 1024
	// DefaultBodyTimeout bounds the reading of a request body.
	DefaultBodyTimeout = 30 * time.Second
	// MaxURLTTL bounds the lifetime of a signed file URL.
	MaxURLTTL = 7 * 24 * time.Hour
	// ConfigVersion is the newest config file version this package reads.
	ConfigVersion = 1
	maxNameLen    = 255
)

// Config is the server configuration: what is shared and who may read it. Load it from YAML
// with [LoadConfig] or build it with [ParseTableFlag] and [Config.AddTable], then call
// [Config.ValidateWith] ([New] calls [Config.Validate]). The YAML keys are the yaml tags below;
// unknown keys are errors.
//
//	version: 1
//	addr: 127.0.0.1:8080
//	publicURL: https://sharing.example.com   # optional; default http://{addr}
//	prefix: /delta-sharing
//	urlTTL: 1h
//	maxConnections: 1024                # connections served at once
//	bodyTimeout: 30s                    # a request body must arrive within this
//	tokens:
//	  - name: alice
//	    valueEnv: ALICE_TOKEN        # or value: ..., or valueFile: path
//	    expires: 2027-01-01T00:00:00Z
//	    shares: [sales]              # optional; default every share
//	shares:
//	  - name: sales
//	    schemas:
//	      - name: crm
//	        tables:
//	          - name: accounts
//	            location: ./tables/accounts   # relative to the config file
//	            historyShared: false          # default true: time travel and change data feed
type Config struct {
	// Version of the file format; 0 means ConfigVersion.
	Version int `yaml:"version"`
	// Addr is the listen address (host:port); default DefaultAddr (loopback only).
	Addr string `yaml:"addr"`
	// PublicURL is the scheme://host[:port] recipients reach the server at (behind a proxy, or
	// when listening on every interface). Empty: http:// and the listener's address.
	PublicURL string `yaml:"publicURL"`
	// Prefix of the protocol endpoints; default DefaultPrefix. "/" serves them at the root.
	Prefix string `yaml:"prefix"`
	// URLTTL is the lifetime of signed file URLs; default DefaultURLTTL, at most MaxURLTTL.
	URLTTL time.Duration `yaml:"urlTTL"`
	// ShutdownTimeout bounds the graceful shutdown: in-flight requests still running after it
	// (a slow download) are cut. Default DefaultShutdownTimeout.
	ShutdownTimeout time.Duration `yaml:"shutdownTimeout"`
	// MaxConnections caps the client connections Serve holds open at once (idle keep-alive ones
	// included); further connections wait until one closes. Default DefaultMaxConnections.
	MaxConnections int `yaml:"maxConnections"`
	// BodyTimeout bounds the reading of a request body (read only after the bearer token was
	// accepted): a body not received within it is answered 408 and the connection closed.
	// Default DefaultBodyTimeout.
	BodyTimeout time.Duration `yaml:"bodyTimeout"`
	// SigningKeyFile holds the key (at least 32 bytes) signing file URLs and page tokens, so they
	// survive a restart. Empty: a random key per server start.
	SigningKeyFile string `yaml:"signingKeyFile"`
	// NoAuth serves the protocol endpoints without a bearer token. It must be asked for
	// explicitly, is refused together with Tokens, and Listen refuses it on a non-loopback
	// address.
	NoAuth bool `yaml:"noAuth"`
	// Activation enables one-time activation links ([Server.NewActivation]) and their public
	// endpoints. With it, the server may start without static tokens.
	Activation bool `yaml:"activation"`
	// Tokens are the bearer tokens accepted on the protocol endpoints.
	Tokens []Token `yaml:"tokens"`
	// Shares is what is shared.
	Shares []Share `yaml:"shares"`
}

// Share is a configured share.
type Share struct {
	Name string `yaml:"name"`
	// ID is the share's stable id; default derived from the name (a UUID-shaped hash).
	ID      string   `yaml:"id"`
	Schemas []Schema `yaml:"schemas"`
}

// Schema is a configured schema of a share.
type Schema struct {
	Name   string        `yaml:"name"`
	Tables []TableConfig `yaml:"tables"`
}

// TableConfig is a configured table.
type TableConfig struct {
	Name string `yaml:"name"`
	// Location is the table root: a local directory containing _delta_log, as a path or a
	// file:// URL. Relative paths in a config file are relative to the file's directory.
	// Validate makes it an absolute, clean path.
	Location string `yaml:"location"`
	// ID is the table's stable id, used in signed file URLs; default derived from the share,
	// schema and table names (a UUID-shaped hash). Letters, digits, '.', '_' and '-' only.
	ID string `yaml:"id"`
	// HistoryShared shares the table's history: time travel (version and timestamp queries),
	// startingVersion queries and the change data feed. Unset (nil) means shared: unlike the
	// reference server, which shares no history unless told to, deltashare serves local tables
	// whose owner runs the server, so history is on unless set to false.
	HistoryShared *bool `yaml:"historyShared"`
	// StartVersion is the first version whose history is shared: earlier versions cannot be
	// queried by version, timestamp, startingVersion or change data feed.
	StartVersion int64 `yaml:"startVersion"`
}

// SharesHistory reports whether the table's history is shared (HistoryShared, default true).
func (tc TableConfig) SharesHistory() bool { return tc.HistoryShared == nil || *tc.HistoryShared }

// Token is a bearer token accepted by the server. Exactly one of Value, ValueEnv and ValueFile
// gives the secret; validation reads ValueEnv (through [ConfigOptions].LookupEnv) or ValueFile
// into Value and clears them.
// Its String, GoString and LogValue never show the secret.
type Token struct {
	// Name identifies the token in logs (never the value); default "token-N".
	Name      string `yaml:"name"`
	Value     string `yaml:"value"`
	ValueEnv  string `yaml:"valueEnv"`
	ValueFile string `yaml:"valueFile"`
	// Expires, if set, is when the token stops being accepted.
	Expires *time.Time `yaml:"expires"`
	// Shares restricts the token to these shares; empty means every share.
	Shares []string `yaml:"shares"`
}

// String describes the token without its secret.
func (t Token) String() string {
	s := "token " + strconv.Quote(t.Name)
	if t.Expires != nil {
		s += " expiring " + t.Expires.UTC().Format(time.RFC3339)
	}
	return s + " (value redacted)"
}

// GoString is String, so %#v never shows the secret either.
func (t Token) GoString() string { return t.String() }

// LogValue logs String, never the secret.
func (t Token) LogValue() slog.Value { return slog.StringValue(t.String()) }

// MarshalJSON encodes the token with its value redacted, so a JSON log of a Config shows no
// secret.
func (t Token) MarshalJSON() ([]byte, error) {
	type redacted struct {
		Name    string     `json:"name"`
		Value   string     `json:"value"`
		Expires *time.Time `json:"expires,omitempty"`
		Shares  []string   `json:"shares,omitempty"`
	}
	return json.Marshal(redacted{Name: t.Name, Value: "REDACTED", Expires: t.Expires, Shares: t.Shares})
}

// Format prints String for every verb, so no fmt verb shows the secret.
func (t Token) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, t.String()) }

// ConfigError lists every problem found in a configuration.
type ConfigError struct {
	// File is the config file, if the configuration came from one.
	File     string
	Problems []ConfigProblem
}

// ConfigProblem is one problem: where (a path like shares[0].schemas[1].name, and the line in
// the file when known), what is wrong and, when there is something to say, what to do about it.
type ConfigProblem struct {
	Path    string
	Line    int
	Message string
	// Advice is what to do next, options named {LikeThis} (see [ConfigError.Hints]); "" for none.
	Advice string
	keys   []any // path elements: string keys and int indexes
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File + ": ")
	}
	b.WriteString("invalid server configuration")
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		if p.Line > 0 {
			fmt.Fprintf(&b, "line %d: ", p.Line)
		}
		if p.Path != "" {
			b.WriteString(p.Path + ": ")
		}
		b.WriteString(p.Message)
		if p.Advice != "" {
			b.WriteString(": " + hint.Render(p.Advice, nil))
		}
	}
	return b.String()
}

// Hints returns the advice of the problems that have some, options in braces ({Config.NoAuth}):
// Error words them for a library user, and a command line tool can word them as its flags.
func (e *ConfigError) Hints() []string {
	var hs []string
	for _, p := range e.Problems {
		if p.Advice != "" {
			hs = append(hs, p.Advice)
		}
	}
	return hs
}

type problems struct{ list []ConfigProblem }

func (ps *problems) add(keys []any, format string, args ...any) {
	ps.addAdvice(keys, "", format, args...)
}

// addAdvice adds a problem with advice (options in braces).
func (ps *problems) addAdvice(keys []any, advice, format string, args ...any) {
	k := append([]any(nil), keys...)
	ps.list = append(ps.list, ConfigProblem{Path: keyPath(k), Message: fmt.Sprintf(format, args...), Advice: advice, keys: k})
}

func keyPath(keys []any) string {
	var b strings.Builder
	for _, k := range keys {
		switch k := k.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", k)
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(k)
		}
	}
	return b.String()
}

func with(keys []any, more ...any) []any {
	return append(append([]any(nil), keys...), more...)
}

// ConfigOptions is what validating a configuration may use besides the configuration itself.
type ConfigOptions struct {
	// LookupEnv looks up the environment variable a token's ValueEnv names. This package reads
	// no environment itself: pass os.LookupEnv for the process environment. Nil makes a ValueEnv
	// token a configuration problem.
	LookupEnv func(name string) (string, bool)
}

// LoadConfig reads, decodes strictly (unknown keys are errors) and validates a YAML config
// file with opts. Relative table locations and token files are resolved against the file's
// directory. Errors name the file and the line of each problem.
func LoadConfig(path string, opts ConfigOptions) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read server config: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return Config{}, fmt.Errorf("read server config: %w", err)
	}
	return ParseConfig(data, path, filepath.Dir(abs), opts)
}

var unknownFieldRE = regexp.MustCompile(`field (\S+) not found in type server\.(\w+)`)

// ParseConfig decodes and validates YAML config data with opts. name labels errors (usually the
// file name); baseDir resolves relative locations and token files ("" means the working
// directory).
func ParseConfig(data []byte, name, baseDir string, opts ConfigOptions) (Config, error) {
	var cfg Config
	if len(bytes.TrimSpace(data)) == 0 {
		return cfg, hint.New(fmt.Errorf("%s: the server config is empty", name), "add shares and tokens (see {server.Config})")
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		msg := unknownFieldRE.ReplaceAllStringFunc(err.Error(), func(m string) string {
			sub := unknownFieldRE.FindStringSubmatch(m)
			return fmt.Sprintf("unknown key %q in %s", sub[1], typeLabel(sub[2]))
		})
		msg = strings.TrimPrefix(msg, "yaml: ")
		return Config{}, fmt.Errorf("%s: cannot decode the server config: %s", name, msg)
	}
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root) // decoded above, so this cannot fail
	err := cfg.validate(baseDir, opts)
	var ce *ConfigError
	if errors.As(err, &ce) {
		ce.File = name
		for i := range ce.Problems {
			ce.Problems[i].Line = lineOf(&root, ce.Problems[i].keys)
		}
	}
	return cfg, err
}

func typeLabel(goType string) string {
	switch goType {
	case "Config":
		return "the top level"
	case "TableConfig":
		return "a table"
	default:
		return "a " + strings.ToLower(goType)
	}
}

// lineOf finds the line of the deepest node of root along keys.
func lineOf(root *yaml.Node, keys []any) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, k := range keys {
		var next *yaml.Node
		switch k := k.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == k {
						next = n.Content[i+1]
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && k < len(n.Content) {
				next = n.Content[k]
			}
		}
		if next == nil {
			return line
		}
		n, line = next, next.Line
	}
	return line
}

// Validate is [Config.ValidateWith] without an environment: a token still given by ValueEnv is
// a problem.
func (c *Config) Validate() error { return c.validate("", ConfigOptions{}) }

// ValidateWith checks the configuration and completes it: it fills in defaults, derives missing
// ids, makes table locations absolute, and reads tokens given by ValueEnv (through
// opts.LookupEnv) or ValueFile into Value. It is idempotent. The error is a *ConfigError listing
// every problem.
func (c *Config) ValidateWith(opts ConfigOptions) error { return c.validate("", opts) }

func (c *Config) validate(baseDir string, opts ConfigOptions) error {
	var ps problems
	if c.Version == 0 {
		c.Version = ConfigVersion
	}
	if c.Version < 0 || c.Version > ConfigVersion {
		ps.add([]any{"version"}, "version %d is not supported: this release reads version %d and below; upgrade deltashare", c.Version, ConfigVersion)
	}
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	c.validatePrefix(&ps)
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.RawQuery != "" || u.Fragment != "" || u.User != nil || (u.Path != "" && u.Path != "/") {
			ps.add([]any{"publicURL"}, "must be http(s)://host[:port] without path, query or user info")
		} else {
			c.PublicURL = u.Scheme + "://" + u.Host
		}
	}
	if c.URLTTL == 0 {
		c.URLTTL = DefaultURLTTL
	}
	if c.URLTTL < time.Second || c.URLTTL > MaxURLTTL {
		ps.add([]any{"urlTTL"}, "must be between 1s and %s", MaxURLTTL)
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.ShutdownTimeout < 0 {
		ps.add([]any{"shutdownTimeout"}, "must not be negative")
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.MaxConnections < 0 {
		ps.add([]any{"maxConnections"}, "must be at least 1")
	}
	if c.BodyTimeout == 0 {
		c.BodyTimeout = DefaultBodyTimeout
	}
	if c.BodyTimeout < 0 {
		ps.add([]any{"bodyTimeout"}, "must not be negative")
	}
	if c.SigningKeyFile != "" && baseDir != "" && !filepath.IsAbs(c.SigningKeyFile) {
		c.SigningKeyFile = filepath.Join(baseDir, c.SigningKeyFile)
	}
	c.validateShares(&ps, baseDir)
	c.validateTokens(&ps, baseDir, opts)
	if len(ps.list) > 0 {
		return &ConfigError{Problems: ps.list}
	}
	return nil
}

func (c *Config) validatePrefix(ps *problems) {
	p := c.Prefix
	if p == "" {
		p = DefaultPrefix
	}
	p = strings.TrimRight(p, "/")
	if p != "" && (!strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?#%\\ \t\r\n") ||
		strings.Contains(p, "//") || strings.Contains(p, "/./") || strings.Contains(p, "/../") ||
		strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/..") ||
		p == "/files" || strings.HasPrefix(p, "/files/") || p == "/api" || strings.HasPrefix(p, "/api/")) {
		ps.add([]any{"prefix"}, "%q is not a usable path prefix: use something like %s", c.Prefix, DefaultPrefix)
		return
	}
	if p == "" {
		p = "/"
	}
	c.Prefix = p
}

// normPrefix is the prefix to prepend to routes: "" for the root.
func normPrefix(p string) string {
	if p == "/" {
		return ""
	}
	return p
}

func (c *Config) validateShares(ps *problems, baseDir string) {
	if len(c.Shares) == 0 {
		ps.addAdvice([]any{"shares"}, "add shares to the config, or tables with {Config.AddTable}", "no shares configured")
	}
	shareNames := map[string]int{}
	shareIDs := map[string]int{}
	tableIDs := map[string]string{}
	for i := range c.Shares {
		sh := &c.Shares[i]
		k := []any{"shares", i}
		if err := ValidateName(sh.Name, true); err != nil {
			ps.add(with(k, "name"), "share %v", err)
		} else if j, dup := shareNames[foldName(sh.Name)]; dup {
			ps.add(with(k, "name"), "share %q duplicates shares[%d] (names are case-insensitive)", sh.Name, j)
		} else {
			shareNames[foldName(sh.Name)] = i
		}
		if sh.ID == "" {
			sh.ID = derivedID("share", sh.Name)
		}
		if err := validateID(sh.ID); err != nil {
			ps.add(with(k, "id"), "share id %v", err)
		} else if j, dup := shareIDs[sh.ID]; dup {
			ps.add(with(k, "id"), "share id %q duplicates the id of shares[%d]", sh.ID, j)
		} else {
			shareIDs[sh.ID] = i
		}
		schemaNames := map[string]int{}
		for j := range sh.Schemas {
			sc := &sh.Schemas[j]
			k := with(k, "schemas", j)
			if err := ValidateName(sc.Name, false); err != nil {
				ps.add(with(k, "name"), "schema %v", err)
			} else if o, dup := schemaNames[foldName(sc.Name)]; dup {
				ps.add(with(k, "name"), "schema %q duplicates schemas[%d] of share %q (names are case-insensitive)", sc.Name, o, sh.Name)
			} else {
				schemaNames[foldName(sc.Name)] = j
			}
			tableNames := map[string]int{}
			for t := range sc.Tables {
				tc := &sc.Tables[t]
				k := with(k, "tables", t)
				full := sh.Name + "." + sc.Name + "." + tc.Name
				if err := ValidateName(tc.Name, false); err != nil {
					ps.add(with(k, "name"), "table %v", err)
				} else if o, dup := tableNames[foldName(tc.Name)]; dup {
					ps.add(with(k, "name"), "table %q duplicates tables[%d] of %s.%s (names are case-insensitive)", tc.Name, o, sh.Name, sc.Name)
				} else {
					tableNames[foldName(tc.Name)] = t
				}
				if tc.ID == "" {
					tc.ID = derivedID("table", sh.Name, sc.Name, tc.Name)
				}
				if err := validateID(tc.ID); err != nil {
					ps.add(with(k, "id"), "table id %v", err)
				} else if other, dup := tableIDs[tc.ID]; dup {
					ps.add(with(k, "id"), "table id %q of %s is already the id of %s: ids must be unique", tc.ID, full, other)
				} else {
					tableIDs[tc.ID] = full
				}
				if tc.StartVersion < 0 {
					ps.add(with(k, "startVersion"), "must not be negative")
				}
				loc, err := resolveLocation(tc.Location, baseDir)
				if err != nil {
					ps.add(with(k, "location"), "table %s: %v", full, err)
				} else {
					tc.Location = loc
				}
			}
		}
	}
}

func (c *Config) validateTokens(ps *problems, baseDir string, opts ConfigOptions) {
	if c.NoAuth && len(c.Tokens) > 0 {
		ps.add([]any{"noAuth"}, "noAuth is set but tokens are configured too: choose one")
	}
	if !c.NoAuth && len(c.Tokens) == 0 && !c.Activation {
		ps.addAdvice([]any{"tokens"}, "add {Config.Tokens}, or set {Config.NoAuth} to serve loopback without authentication", "no bearer token configured")
	}
	names := map[string]int{}
	values := map[[32]byte]int{}
	for i := range c.Tokens {
		tk := &c.Tokens[i]
		k := []any{"tokens", i}
		if tk.Name == "" {
			tk.Name = fmt.Sprintf("token-%d", i+1)
		}
		if j, dup := names[tk.Name]; dup {
			ps.add(with(k, "name"), "token name %q is also the name of tokens[%d]", tk.Name, j)
		}
		names[tk.Name] = i
		sources := 0
		for _, s := range []string{tk.Value, tk.ValueEnv, tk.ValueFile} {
			if s != "" {
				sources++
			}
		}
		if sources != 1 {
			ps.add(k, "token %q needs exactly one of value, valueEnv and valueFile", tk.Name)
			continue
		}
		switch {
		case tk.ValueEnv != "":
			if opts.LookupEnv == nil {
				ps.add(with(k, "valueEnv"), "token %q: no environment to read %s from (ConfigOptions.LookupEnv is not set)", tk.Name, tk.ValueEnv)
				continue
			}
			v, ok := opts.LookupEnv(tk.ValueEnv)
			if !ok || strings.TrimSpace(v) == "" {
				ps.add(with(k, "valueEnv"), "token %q: environment variable %s is not set or empty", tk.Name, tk.ValueEnv)
				continue
			}
			tk.Value, tk.ValueEnv = strings.TrimSpace(v), ""
		case tk.ValueFile != "":
			p := tk.ValueFile
			if baseDir != "" && !filepath.IsAbs(p) {
				p = filepath.Join(baseDir, p)
			}
			data, err := os.ReadFile(p)
			if err != nil {
				ps.add(with(k, "valueFile"), "token %q: cannot read the token file: %v", tk.Name, err)
				continue
			}
			tk.Value, tk.ValueFile = strings.TrimSpace(string(data)), ""
		}
		if err := validateTokenValue(tk.Value); err != nil {
			ps.add(k, "token %q: %v", tk.Name, err)
			continue
		}
		d := sha256.Sum256([]byte(tk.Value))
		if j, dup := values[d]; dup {
			ps.add(k, "token %q has the same value as tokens[%d]", tk.Name, j)
		}
		values[d] = i
		for j, s := range tk.Shares {
			found := false
			for _, sh := range c.Shares {
				if foldName(sh.Name) == foldName(s) {
					found = true
				}
			}
			if !found {
				ps.add(with(k, "shares", j), "token %q names share %q, which is not configured", tk.Name, s)
			}
		}
	}
}

// validateTokenValue checks a bearer token can travel in an Authorization header. The message
// never contains the value.
func validateTokenValue(v string) error {
	if v == "" {
		return errors.New("the token is empty")
	}
	if len(v) > 4096 {
		return errors.New("the token is longer than 4096 bytes")
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] >= 0x7f {
			return errors.New("the token contains spaces, control or non-ASCII characters")
		}
	}
	return nil
}

// ValidateName checks an object name against the protocol's Names rules: 1 to 255
// characters, valid UTF-8, no space, '/', ASCII control characters or DEL, and, unless
// dotAllowed (shares), no '.'.
func ValidateName(name string, dotAllowed bool) error {
	if name == "" {
		return errors.New("name is missing")
	}
	if !utf8.ValidString(name) {
		return errors.New("name is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(name); n > maxNameLen {
		return fmt.Errorf("name is %d characters long; at most %d are allowed", n, maxNameLen)
	}
	for _, r := range name {
		switch {
		case r == ' ':
			return fmt.Errorf("name %q contains a space", name)
		case r == '/':
			return fmt.Errorf("name %q contains '/'", name)
		case r < 0x20 || r == 0x7f:
			return fmt.Errorf("name %q contains a control character", name)
		case r == '.' && !dotAllowed:
			return fmt.Errorf("name %q contains '.', which schema and table names may not", name)
		}
	}
	return nil
}

// foldName is the case-insensitive key of a name.
func foldName(s string) string { return strings.ToLower(s) }

var idRE = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$`)

func validateID(id string) error {
	if !idRE.MatchString(id) {
		return fmt.Errorf("%q must be 1 to 255 letters, digits, '.', '_' or '-' and not start with '.'", id)
	}
	return nil
}

// derivedID is a stable UUID-shaped id (version 5 layout) hashed from the lowercased names.
func derivedID(kind string, names ...string) string {
	h := sha256.New()
	h.Write([]byte("deltashare/server/" + kind))
	for _, n := range names {
		h.Write([]byte{0})
		h.Write([]byte(foldName(n)))
	}
	b := h.Sum(nil)[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// resolveLocation turns a table location into an absolute, clean local path and checks it is
// a Delta table directory.
func resolveLocation(loc, baseDir string) (string, error) {
	if loc == "" {
		return "", errors.New("location is missing: give the table's root directory (the one containing _delta_log)")
	}
	p := loc
	if i := strings.Index(loc, "://"); i > 0 {
		u, err := url.Parse(loc)
		if err != nil {
			return "", fmt.Errorf("location %q is not a valid URL: %v", loc, err)
		}
		if u.Scheme != "file" {
			return "", fmt.Errorf("location %q: only local directories (a path or file:// URL) are supported", loc)
		}
		if u.Host != "" && u.Host != "localhost" {
			return "", fmt.Errorf("location %q: a file:// URL must not name a host", loc)
		}
		p = u.Path
	}
	if !filepath.IsAbs(p) {
		if baseDir != "" {
			p = filepath.Join(baseDir, p)
		} else {
			abs, err := filepath.Abs(p)
			if err != nil {
				return "", err
			}
			p = abs
		}
	}
	p = filepath.Clean(p)
	fi, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("location %s does not exist: fix the path or create the table", p)
		}
		return "", fmt.Errorf("location %s: %v", p, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("location %s is not a directory: give the table's root directory", p)
	}
	lfi, err := os.Stat(filepath.Join(p, "_delta_log"))
	if err != nil || !lfi.IsDir() {
		return "", fmt.Errorf("location %s is not a Delta table: it has no _delta_log directory", p)
	}
	return p, nil
}

// TableFlag is a table given as share.schema.table=PATH (as the serve command's --table flag
// takes it).
type TableFlag struct {
	Share, Schema, Table, Location string
}

// ParseTableFlag parses "share.schema.table=PATH". Schema and table names cannot contain '.',
// so the last two dots of the name split it; the share name may contain dots. The name ends at
// the first '='. Errors start with s quoted; the caller says where s came from.
func ParseTableFlag(s string) (TableFlag, error) {
	name, loc, ok := strings.Cut(s, "=")
	if !ok || loc == "" {
		return TableFlag{}, fmt.Errorf("%q: expected share.schema.table=PATH", s)
	}
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return TableFlag{}, fmt.Errorf("%q: expected share.schema.table=PATH", s)
	}
	j := strings.LastIndexByte(name[:i], '.')
	if j < 0 {
		return TableFlag{}, fmt.Errorf("%q: expected share.schema.table=PATH", s)
	}
	f := TableFlag{Share: name[:j], Schema: name[j+1 : i], Table: name[i+1:], Location: loc}
	if err := ValidateName(f.Share, true); err != nil {
		return TableFlag{}, fmt.Errorf("%q: share %v", s, err)
	}
	if err := ValidateName(f.Schema, false); err != nil {
		return TableFlag{}, fmt.Errorf("%q: schema %v", s, err)
	}
	if err := ValidateName(f.Table, false); err != nil {
		return TableFlag{}, fmt.Errorf("%q: table %v", s, err)
	}
	return f, nil
}

// AddTable adds a table to the configuration, creating its share and schema (matched
// case-insensitively) when needed. A duplicate table is reported by Validate.
func (c *Config) AddTable(f TableFlag) {
	sh := findOrAppend(&c.Shares, f.Share, func(s *Share) string { return s.Name }, Share{Name: f.Share})
	sc := findOrAppend(&sh.Schemas, f.Schema, func(s *Schema) string { return s.Name }, Schema{Name: f.Schema})
	sc.Tables = append(sc.Tables, TableConfig{Name: f.Table, Location: f.Location})
}

// findOrAppend returns the last element of *list whose name matches name case-insensitively,
// appending added when none does.
func findOrAppend[T any](list *[]T, name string, nameOf func(*T) string, added T) *T {
	var found *T
	for i := range *list {
		if foldName(nameOf(&(*list)[i])) == foldName(name) {
			found = &(*list)[i]
		}
	}
	if found == nil {
		*list = append(*list, added)
		found = &(*list)[len(*list)-1]
	}
	return found
}
