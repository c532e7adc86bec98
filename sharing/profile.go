package sharing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/deltashare/deltashare/internal/hint"
	"github.com/deltashare/deltashare/internal/redact"
	"github.com/deltashare/deltashare/sharing/protocol"
)

// Profile types of shareCredentialsVersion 2 that this package supports.
const (
	ProfileTypeBearerToken            = "bearer_token"
	ProfileTypeOAuthClientCredentials = "oauth_client_credentials"
	// ProfileTypeBasic is HTTP basic authentication (username and password), sent only over
	// HTTPS or to a loopback host.
	ProfileTypeBasic = "basic"
	// ProfileTypeOAuthJWTBearer is the OAuth JWT bearer grant (RFC 7523): an assertion signed
	// with a private key is exchanged at the token endpoint for an access token.
	ProfileTypeOAuthJWTBearer = "oauth_jwt_bearer_private_key_jwt"
)

// DefaultJWTAlgorithm is the signing algorithm of a JWT bearer profile that names none.
const DefaultJWTAlgorithm = "RS256"

// MaxProfileSize bounds the size of a profile read by [LoadProfile] and [ParseProfile].
const MaxProfileSize = 1 << 20

// Profile is a recipient's credential for one Delta Sharing server: the profile file of format
// version 1 (endpoint and bearer token) or 2 (type bearer_token; type oauth_client_credentials
// with a token endpoint, client id and secret; type basic with a username and password; type
// oauth_jwt_bearer_private_key_jwt with an "auth" object naming a token endpoint, issuer, client
// id, audience and a private key file), read as the Python connector reads them.
//
// String, GoString, Format and LogValue never show the bearer token, the client secret or the
// password (the private key is never read into a Profile: only its file's path is kept).
// MarshalJSON writes the profile file format, secrets included: it is how a credential is stored.
type Profile struct {
	// ShareCredentialsVersion is 1 or 2.
	ShareCredentialsVersion int
	// Type is ProfileTypeBearerToken (always, for version 1) or
	// ProfileTypeOAuthClientCredentials.
	Type string
	// Endpoint is the sharing server's URL prefix, without a trailing slash.
	Endpoint string

	// BearerToken and ExpirationTime (zero when the token does not expire) for bearer_token.
	BearerToken    string
	ExpirationTime time.Time

	// TokenEndpoint, ClientID, ClientSecret and Scope (space separated, optional) for
	// oauth_client_credentials.
	TokenEndpoint string
	ClientID      string
	ClientSecret  string
	Scope         string

	// Username and Password for basic.
	Username string
	Password string

	// For oauth_jwt_bearer_private_key_jwt, besides TokenEndpoint, ClientID and Scope (all from
	// the "auth" object): Issuer (the assertion's "aud": the authorization server), Audience
	// (sent as the "resource" claim), and the signing key: PrivateKeyFile (a PEM file),
	// KeyID (the "kid" header, optional) and Algorithm (RS256, RS384, RS512, PS256, PS384,
	// PS512, ES256, ES384 or ES512; default RS256).
	Issuer         string
	Audience       string
	PrivateKeyFile string
	KeyID          string
	Algorithm      string
}

// profileFile is the JSON shape of a profile file.
type profileFile struct {
	ShareCredentialsVersion json.RawMessage `json:"shareCredentialsVersion"`
	Type                    *string         `json:"type"`
	Endpoint                *string         `json:"endpoint"`
	BearerToken             *string         `json:"bearerToken"`
	ExpirationTime          *string         `json:"expirationTime"`
	TokenEndpoint           *string         `json:"tokenEndpoint"`
	ClientID                *string         `json:"clientId"`
	ClientSecret            *string         `json:"clientSecret"`
	Scope                   *string         `json:"scope"`
	Username                *string         `json:"username"`
	Password                *string         `json:"password"`
	Auth                    *authFile       `json:"auth"`
}

// authFile is the "auth" object of a JWT bearer profile.
type authFile struct {
	TokenEndpoint *string `json:"tokenEndpoint"`
	Issuer        *string `json:"issuer"`
	ClientID      *string `json:"clientId"`
	Audience      *string `json:"audience"`
	Scope         *string `json:"scope"`
	PrivateKey    *struct {
		PrivateKeyFile *string `json:"privateKeyFile"`
		KeyID          *string `json:"keyId"`
		Algorithm      *string `json:"algorithm"`
	} `json:"privateKey"`
}

func profileErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{protocol.ErrInvalidProfile}, args...)...)
}

const supportedProfiles = `supported: shareCredentialsVersion 1, or 2 with type "bearer_token", "oauth_client_credentials", "basic" or "oauth_jwt_bearer_private_key_jwt"`

// ParseProfile parses a profile file's JSON. Errors name the missing or wrong field and never
// include the file's content.
func ParseProfile(data []byte) (*Profile, error) {
	if len(data) > MaxProfileSize {
		return nil, profileErr("the profile is larger than %d bytes", MaxProfileSize)
	}
	data = bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if len(data) == 0 {
		return nil, profileErr("the profile is empty")
	}
	var f profileFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, profileErr("the profile is not a JSON object: %s", protocol.DescribeJSONError(err))
	}
	if len(f.ShareCredentialsVersion) == 0 || string(f.ShareCredentialsVersion) == "null" {
		return nil, profileErr(`field "shareCredentialsVersion" is missing (%s)`, supportedProfiles)
	}
	version, err := parseVersionNumber(f.ShareCredentialsVersion)
	if err != nil {
		return nil, profileErr(`field "shareCredentialsVersion" must be a number (%s)`, supportedProfiles)
	}
	p := &Profile{ShareCredentialsVersion: version}
	switch version {
	case 1:
		p.Type = ProfileTypeBearerToken
		if f.Type != nil && *f.Type != "" && *f.Type != ProfileTypeBearerToken {
			return nil, profileErr(`profile type %q is not supported with shareCredentialsVersion 1 (%s)`, redact.Text(*f.Type, 64), supportedProfiles)
		}
	case 2:
		if f.Type == nil || *f.Type == "" {
			return nil, profileErr(`field "type" is missing; shareCredentialsVersion 2 needs type "bearer_token", "oauth_client_credentials", "basic" or "oauth_jwt_bearer_private_key_jwt"`)
		}
		switch *f.Type {
		case ProfileTypeBearerToken, ProfileTypeOAuthClientCredentials, ProfileTypeBasic, ProfileTypeOAuthJWTBearer:
			p.Type = *f.Type
		default:
			return nil, profileErr(`profile type %q is not supported (%s); ask the data provider for a bearer token or OAuth client credentials profile`, redact.Text(*f.Type, 64), supportedProfiles)
		}
	default:
		return nil, profileErr(`shareCredentialsVersion %d is not supported (%s); upgrade deltashare or ask the data provider for a supported profile`, version, supportedProfiles)
	}

	endpoint, err := requireURL(f.Endpoint, "endpoint")
	if err != nil {
		return nil, err
	}
	p.Endpoint = endpoint

	switch p.Type {
	case ProfileTypeBearerToken:
		if f.BearerToken == nil || strings.TrimSpace(*f.BearerToken) == "" {
			return nil, profileErr(`field "bearerToken" is missing or empty`)
		}
		p.BearerToken = strings.TrimSpace(*f.BearerToken)
		if f.ExpirationTime != nil && strings.TrimSpace(*f.ExpirationTime) != "" {
			t, err := parseExpirationTime(*f.ExpirationTime)
			if err != nil {
				return nil, profileErr(`field "expirationTime" is not an ISO 8601 time such as 2026-01-31T00:00:00Z`)
			}
			p.ExpirationTime = t
		}
	case ProfileTypeOAuthClientCredentials:
		te, err := requireURL(f.TokenEndpoint, "tokenEndpoint")
		if err != nil {
			return nil, err
		}
		p.TokenEndpoint = te
		if f.ClientID == nil || strings.TrimSpace(*f.ClientID) == "" {
			return nil, profileErr(`field "clientId" is missing or empty`)
		}
		p.ClientID = strings.TrimSpace(*f.ClientID)
		if f.ClientSecret == nil || *f.ClientSecret == "" {
			return nil, profileErr(`field "clientSecret" is missing or empty`)
		}
		p.ClientSecret = *f.ClientSecret
		if f.Scope != nil {
			p.Scope = strings.TrimSpace(*f.Scope)
		}
	case ProfileTypeBasic:
		if err := checkBasicEndpoint(p.Endpoint); err != nil {
			return nil, err
		}
		if f.Username == nil || strings.TrimSpace(*f.Username) == "" {
			return nil, profileErr(`field "username" is missing or empty`)
		}
		p.Username = *f.Username
		if f.Password == nil || *f.Password == "" {
			return nil, profileErr(`field "password" is missing or empty`)
		}
		p.Password = *f.Password
	case ProfileTypeOAuthJWTBearer:
		if err := parseJWTAuth(p, f.Auth); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// checkBasicEndpoint refuses to send a password in clear text: basic profiles need an https
// endpoint, or http to a loopback host.
func checkBasicEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return profileErr(`field "endpoint" must be an http or https URL`)
	}
	if u.Scheme == "https" || isLoopbackHost(u.Hostname()) {
		return nil
	}
	return profileErr(`a "basic" profile sends its password with every request, so its "endpoint" must use https (plain http is allowed only for a loopback host)`)
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// jwtAlgorithms are the signing algorithms of JWT bearer profiles.
var jwtAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}

// parseJWTAuth reads the "auth" object of a JWT bearer profile into p.
func parseJWTAuth(p *Profile, a *authFile) error {
	if a == nil {
		return profileErr(`field "auth" is missing: type "oauth_jwt_bearer_private_key_jwt" needs an "auth" object with tokenEndpoint, issuer, clientId, audience and privateKey`)
	}
	te, err := requireURL(a.TokenEndpoint, "auth.tokenEndpoint")
	if err != nil {
		return err
	}
	p.TokenEndpoint = te
	required := func(v *string, field string) (string, error) {
		if v == nil || strings.TrimSpace(*v) == "" {
			return "", profileErr("field %q is missing or empty", field)
		}
		return strings.TrimSpace(*v), nil
	}
	if p.Issuer, err = required(a.Issuer, "auth.issuer"); err != nil {
		return err
	}
	if p.ClientID, err = required(a.ClientID, "auth.clientId"); err != nil {
		return err
	}
	if p.Audience, err = required(a.Audience, "auth.audience"); err != nil {
		return err
	}
	if a.Scope != nil {
		p.Scope = strings.TrimSpace(*a.Scope)
	}
	if a.PrivateKey == nil {
		return profileErr(`field "auth.privateKey" is missing: it needs "privateKeyFile" (a PEM file), and optionally "keyId" and "algorithm"`)
	}
	if p.PrivateKeyFile, err = required(a.PrivateKey.PrivateKeyFile, "auth.privateKey.privateKeyFile"); err != nil {
		return err
	}
	if a.PrivateKey.KeyID != nil {
		p.KeyID = strings.TrimSpace(*a.PrivateKey.KeyID)
	}
	p.Algorithm = DefaultJWTAlgorithm
	if a.PrivateKey.Algorithm != nil && strings.TrimSpace(*a.PrivateKey.Algorithm) != "" {
		alg := strings.ToUpper(strings.TrimSpace(*a.PrivateKey.Algorithm))
		if !slices.Contains(jwtAlgorithms, alg) {
			return profileErr("field %q: algorithm %q is not supported (use one of %s)", "auth.privateKey.algorithm", redact.Text(alg, 16), strings.Join(jwtAlgorithms, ", "))
		}
		p.Algorithm = alg
	}
	return nil
}

func parseVersionNumber(raw json.RawMessage) (int, error) {
	s := string(raw)
	if len(s) >= 2 && s[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, err
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f != float64(int(f)) || f < 0 || f > 1e6 {
		return 0, errors.New("not an integer")
	}
	return int(f), nil
}

func requireURL(v *string, field string) (string, error) {
	if v == nil || strings.TrimSpace(*v) == "" {
		return "", profileErr("field %q is missing or empty", field)
	}
	s := strings.TrimRight(strings.TrimSpace(*v), "/")
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", profileErr("field %q must be an http or https URL", field)
	}
	if u.User != nil {
		return "", profileErr("field %q must not contain user information", field)
	}
	return s, nil
}

// parseExpirationTime accepts the ISO 8601 forms profile files use: RFC 3339 with or without
// fractional seconds, and without a zone (read as UTC).
func parseExpirationTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	layouts := []string{
		time.RFC3339Nano,
		"2006-01-02T15:04:05.999999999Z0700",
		"2006-01-02T15:04:05.999999999",
		"2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05.999999999",
		"2006-01-02",
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("unrecognized time")
}

// LoadProfileOptions say where [LoadProfileWith] may read a profile from besides files.
type LoadProfileOptions struct {
	// Stdin is read for the reference "-"; nil makes "-" an error.
	Stdin io.Reader
	// LookupEnv looks up the variable of an "env:NAME" reference. This package reads no
	// environment itself: pass os.LookupEnv for the process environment. Nil makes "env:NAME"
	// an error.
	LookupEnv func(name string) (string, bool)
}

// LoadProfile is [LoadProfileWith] reading "-" from stdin, without an environment: "env:NAME"
// references are an error.
func LoadProfile(ref string, stdin io.Reader) (*Profile, error) {
	return LoadProfileWith(ref, LoadProfileOptions{Stdin: stdin})
}

// LoadProfileWith reads a profile from ref: "-" reads opts.Stdin, "env:NAME" reads the JSON held
// by the environment variable NAME (through opts.LookupEnv), text starting with "{" is the JSON
// itself, and anything else is a file path. At most MaxProfileSize bytes are read. Relative file
// paths inside a profile file are resolved against its directory ([Profile.ResolveFiles]).
func LoadProfileWith(ref string, opts LoadProfileOptions) (*Profile, error) {
	stdin := opts.Stdin
	trimmed := strings.TrimSpace(ref)
	var (
		data    []byte
		source  string
		fileDir string // the directory of a profile file
		err     error
	)
	switch {
	case trimmed == "":
		return nil, profileErr("no profile given: pass a profile file path, -, env:NAME or the profile JSON")
	case trimmed == "-":
		source = "standard input"
		if stdin == nil {
			return nil, profileErr("no standard input to read the profile from")
		}
		data, err = readBounded(stdin)
	case strings.HasPrefix(trimmed, "env:"):
		name := strings.TrimPrefix(trimmed, "env:")
		source = "environment variable " + name
		if name == "" {
			return nil, profileErr(`"env:" needs a variable name, e.g. env:DELTA_SHARING_PROFILE`)
		}
		if opts.LookupEnv == nil {
			return nil, profileErr("%s: no environment to read it from (LoadProfileOptions.LookupEnv is not set)", ref)
		}
		v, ok := opts.LookupEnv(name)
		if !ok || strings.TrimSpace(v) == "" {
			return nil, profileErr("environment variable %s is not set or empty", name)
		}
		data = []byte(v)
	case strings.HasPrefix(trimmed, "{"):
		source = "the given profile JSON"
		data = []byte(trimmed)
	default:
		source, fileDir = "profile file "+ref, filepath.Dir(ref)
		var f *os.File
		f, err = os.Open(ref)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, hint.New(profileErr("profile file %s does not exist", ref),
					"check the path, or give the name of a stored credential ({tokenmgr.Store.List})")
			}
			return nil, profileErr("cannot open profile file %s: %v", ref, err)
		}
		defer f.Close()
		data, err = readBounded(f)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", source, err)
	}
	p, err := ParseProfile(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if fileDir != "" {
		p.ResolveFiles(fileDir)
	}
	return p, nil
}

// ResolveFiles makes the relative file paths of the profile (auth.privateKey.privateKeyFile)
// absolute, relative to dir: the directory of the profile file, so that a profile moved
// together with its key keeps working from any working directory ("" or "." is the working
// directory). [LoadProfileWith] does it for a profile read from a file; a profile from standard
// input, an environment variable or inline JSON keeps paths relative to the working directory.
func (p *Profile) ResolveFiles(dir string) {
	if p.PrivateKeyFile != "" && !filepath.IsAbs(p.PrivateKeyFile) {
		p.PrivateKeyFile = absPath(filepath.Join(dir, p.PrivateKeyFile))
	}
}

// absPath is filepath.Abs, or path itself when the working directory is unknown.
func absPath(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// ResolveProfileFiles returns the profile JSON raw with its relative file paths
// (auth.privateKey.privateKeyFile) made absolute relative to dir, for a copy of the profile
// that is kept in another directory (a credential store); raw itself when it has none. Other
// fields are kept (the JSON is re-encoded when a path changes).
func ResolveProfileFiles(raw []byte, dir string) ([]byte, error) {
	p, err := ParseProfile(raw)
	if err != nil {
		return nil, err
	}
	if p.PrivateKeyFile == "" || filepath.IsAbs(p.PrivateKeyFile) {
		return raw, nil
	}
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, profileErr("the profile is not a JSON object: %s", protocol.DescribeJSONError(err))
	}
	auth, _ := doc["auth"].(map[string]any)
	key, _ := auth["privateKey"].(map[string]any)
	if key == nil {
		return raw, nil // (ParseProfile found the path there)
	}
	p.ResolveFiles(dir)
	key["privateKeyFile"] = p.PrivateKeyFile
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

func readBounded(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxProfileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxProfileSize {
		return nil, profileErr("the profile is larger than %d bytes", MaxProfileSize)
	}
	return data, nil
}

// HasExpiry reports whether the profile's bearer token has an expiration time.
func (p *Profile) HasExpiry() bool { return p != nil && !p.ExpirationTime.IsZero() }

// CheckExpiry returns an [*ExpiredError] (errors.Is ErrTokenExpired) if the profile's bearer
// token has expired at now.
func (p *Profile) CheckExpiry(now time.Time) error {
	if p.HasExpiry() && !now.Before(p.ExpirationTime) {
		return &protocol.ExpiredError{Expiry: p.ExpirationTime}
	}
	return nil
}

// MarshalJSON writes the profile file format, secrets included.
func (p Profile) MarshalJSON() ([]byte, error) {
	type v1 struct {
		ShareCredentialsVersion int    `json:"shareCredentialsVersion"`
		Type                    string `json:"type,omitempty"`
		Endpoint                string `json:"endpoint"`
		BearerToken             string `json:"bearerToken,omitempty"`
		ExpirationTime          string `json:"expirationTime,omitempty"`
		TokenEndpoint           string `json:"tokenEndpoint,omitempty"`
		ClientID                string `json:"clientId,omitempty"`
		ClientSecret            string `json:"clientSecret,omitempty"`
		Scope                   string `json:"scope,omitempty"`
		Username                string `json:"username,omitempty"`
		Password                string `json:"password,omitempty"`
		Auth                    any    `json:"auth,omitempty"`
	}
	out := v1{
		ShareCredentialsVersion: p.ShareCredentialsVersion,
		Endpoint:                p.Endpoint,
		BearerToken:             p.BearerToken,
		TokenEndpoint:           p.TokenEndpoint,
		ClientID:                p.ClientID,
		ClientSecret:            p.ClientSecret,
		Scope:                   p.Scope,
		Username:                p.Username,
		Password:                p.Password,
	}
	if p.Type == ProfileTypeOAuthJWTBearer {
		type key struct {
			PrivateKeyFile string `json:"privateKeyFile"`
			KeyID          string `json:"keyId,omitempty"`
			Algorithm      string `json:"algorithm,omitempty"`
		}
		type auth struct {
			TokenEndpoint string `json:"tokenEndpoint"`
			Issuer        string `json:"issuer"`
			ClientID      string `json:"clientId"`
			Audience      string `json:"audience"`
			Scope         string `json:"scope,omitempty"`
			PrivateKey    key    `json:"privateKey"`
		}
		out.Auth = auth{TokenEndpoint: p.TokenEndpoint, Issuer: p.Issuer, ClientID: p.ClientID, Audience: p.Audience, Scope: p.Scope,
			PrivateKey: key{PrivateKeyFile: p.PrivateKeyFile, KeyID: p.KeyID, Algorithm: p.Algorithm}}
		out.TokenEndpoint, out.ClientID, out.Scope = "", "", ""
	}
	if p.ShareCredentialsVersion != 1 {
		out.Type = p.Type
	}
	if !p.ExpirationTime.IsZero() {
		out.ExpirationTime = p.ExpirationTime.UTC().Format(time.RFC3339Nano)
	}
	return json.Marshal(out)
}

// UnmarshalJSON parses a profile file with the same rules as ParseProfile.
func (p *Profile) UnmarshalJSON(data []byte) error {
	q, err := ParseProfile(data)
	if err != nil {
		return err
	}
	*p = *q
	return nil
}

// String describes the profile without its secrets.
func (p Profile) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Profile{version=%d type=%s endpoint=%s", p.ShareCredentialsVersion, p.Type, redact.URL(p.Endpoint))
	switch p.Type {
	case ProfileTypeOAuthClientCredentials:
		fmt.Fprintf(&b, " tokenEndpoint=%s clientId=%s clientSecret=%s", redact.URL(p.TokenEndpoint), p.ClientID, redacted(p.ClientSecret))
		if p.Scope != "" {
			fmt.Fprintf(&b, " scope=%q", p.Scope)
		}
	case ProfileTypeBasic:
		fmt.Fprintf(&b, " username=%s password=%s", p.Username, redacted(p.Password))
	case ProfileTypeOAuthJWTBearer:
		fmt.Fprintf(&b, " tokenEndpoint=%s issuer=%s clientId=%s audience=%s privateKeyFile=%s keyId=%s algorithm=%s",
			redact.URL(p.TokenEndpoint), p.Issuer, p.ClientID, p.Audience, p.PrivateKeyFile, p.KeyID, p.Algorithm)
		if p.Scope != "" {
			fmt.Fprintf(&b, " scope=%q", p.Scope)
		}
	default:
		fmt.Fprintf(&b, " bearerToken=%s", redacted(p.BearerToken))
		if !p.ExpirationTime.IsZero() {
			fmt.Fprintf(&b, " expirationTime=%s", p.ExpirationTime.UTC().Format(time.RFC3339))
		}
	}
	b.WriteString("}")
	return b.String()
}

// GoString is String, so %#v does not print secrets either.
func (p Profile) GoString() string { return p.String() }

// Format prints String for every verb, so no formatting verb reveals secrets.
func (p Profile) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		fmt.Fprintf(f, "%q", p.String())
	default:
		io.WriteString(f, p.String())
	}
}

// LogValue makes slog show the redacted form.
func (p Profile) LogValue() slog.Value { return slog.StringValue(p.String()) }

func redacted(s string) string {
	if s == "" {
		return "<none>"
	}
	return "<redacted>"
}
