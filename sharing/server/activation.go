package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/deltashare/deltashare/internal/hint"
)

// Activation endpoints, as Databricks open sharing serves them.
const (
	activationInfoPath = "/api/2.1/unity-catalog/public/data_sharing_activation_info/"
	activationPath     = "/api/2.1/unity-catalog/public/data_sharing_activation/"
	activationPagePath = "/delta_sharing/retrieve_config.html"
	// DefaultActivationTTL is the token lifetime of an activation minted with ttl 0.
	DefaultActivationTTL = 7 * 24 * time.Hour
)

// ErrActivationDisabled is returned (wrapped, with advice) by NewActivation when
// Config.Activation is off.
var ErrActivationDisabled = errors.New("activation links are disabled")

// activation is a minted, not yet expired activation. The code is kept only as a digest; the
// token is dropped once downloaded.
type activation struct {
	token     string
	tokenName string
	expires   time.Time
	used      bool
}

type activationStore struct {
	mu   sync.Mutex
	byID map[[sha256.Size]byte]*activation
}

// ActivationOption adjusts NewActivation.
type ActivationOption func(*activationOptions)

type activationOptions struct {
	name   string
	shares []string
}

// ActivationName names the minted token in logs (default "activation-" and a short hash of the
// code).
func ActivationName(name string) ActivationOption {
	return func(o *activationOptions) { o.name = name }
}

// ActivationShares restricts the minted token to these shares (default every share).
func ActivationShares(shares ...string) ActivationOption {
	return func(o *activationOptions) { o.shares = append(o.shares, shares...) }
}

// randomString returns n random bytes (crypto/rand) as unpadded base64url.
func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// codeTag is a short, non-reversible tag of a secret for logs.
func codeTag(code string) string {
	d := sha256.Sum256([]byte(code))
	return hex.EncodeToString(d[:4])
}

// NewActivation mints a one-time activation link, {base}/delta_sharing/retrieve_config.html?{code},
// as Databricks open sharing does: a random 256-bit code and a fresh random bearer token that
// expires after ttl (0 means DefaultActivationTTL). The token is accepted on the protocol
// endpoints from now on; the credential holding it can be downloaded once from the activation
// endpoint until the token expires. The base URL must be known (Config.PublicURL, or after
// Listen or Serve).
func (s *Server) NewActivation(ctx context.Context, ttl time.Duration, opts ...ActivationOption) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if !s.cfg.Activation {
		return "", hint.New(ErrActivationDisabled, "set activation: true in the server config (or use {Config.Activation})")
	}
	if ttl < 0 {
		return "", errors.New("activation token lifetime must not be negative")
	}
	if ttl == 0 {
		ttl = DefaultActivationTTL
	}
	base := s.BaseURL()
	if base == "" {
		return "", errors.New("the server's URL is not known yet: set publicURL, or mint activations after Listen")
	}
	var o activationOptions
	for _, opt := range opts {
		opt(&o)
	}
	code, err := randomString(32)
	if err != nil {
		return "", err
	}
	token, err := randomString(32)
	if err != nil {
		return "", err
	}
	if o.name == "" {
		o.name = "activation-" + codeTag(code)
	}
	expires := s.now().Add(ttl).Truncate(time.Second)
	if err := s.AddToken(Token{Name: o.name, Value: token, Expires: &expires, Shares: o.shares}); err != nil {
		return "", err
	}
	s.acts.mu.Lock()
	s.acts.byID[sha256.Sum256([]byte(code))] = &activation{token: token, tokenName: o.name, expires: expires}
	s.acts.mu.Unlock()
	s.log.Info("activation link minted", "code", codeTag(code), "token", o.name, "expires", expires.UTC().Format(time.RFC3339))
	return base + activationPagePath + "?" + code, nil
}

// retrieveTokenResponse is the credential, in the shape of the Databricks SDK's
// sharing.RetrieveTokenResponse (which is a Delta Sharing profile file).
type retrieveTokenResponse struct {
	ShareCredentialsVersion int    `json:"shareCredentialsVersion"`
	BearerToken             string `json:"bearerToken"`
	Endpoint                string `json:"endpoint"`
	ExpirationTime          string `json:"expirationTime,omitempty"`
}

// findActivation returns the activation of a code, or writes the Databricks-shaped error:
// unknown or expired → 404 RESOURCE_DOES_NOT_EXIST; already downloaded → 404
// RESOURCE_DOES_NOT_EXIST saying so (the credential is no longer there to fetch). Must be
// called with s.acts.mu held.
func (s *Server) findActivation(w http.ResponseWriter, code string) *activation {
	a := s.acts.byID[sha256.Sum256([]byte(code))]
	switch {
	case a == nil:
		writeDatabricksError(w, http.StatusNotFound, CodeResourceDoesNotExist,
			"activation link not found: check that the whole link was copied, or ask the data provider for a new one")
	case a.used:
		writeDatabricksError(w, http.StatusNotFound, CodeResourceDoesNotExist,
			"activation link has already been used: the credential can be downloaded only once; use the credential file you saved, or ask the data provider for a new link")
	case !s.now().Before(a.expires):
		writeDatabricksError(w, http.StatusNotFound, CodeResourceDoesNotExist,
			"activation link expired at "+a.expires.UTC().Format(time.RFC3339)+": ask the data provider for a new link")
	default:
		return a
	}
	return nil
}

// handleActivationInfo serves GET .../data_sharing_activation_info/{code}: 200 {} while the
// credential can still be downloaded.
func (s *Server) handleActivationInfo(w http.ResponseWriter, r *http.Request) {
	code := strings.TrimPrefix(r.URL.Path, activationInfoPath)
	s.acts.mu.Lock()
	a := s.findActivation(w, code)
	s.acts.mu.Unlock()
	if a != nil {
		writeJSON(w, http.StatusOK, struct{}{})
	}
}

// handleActivation serves GET .../data_sharing_activation/{code}: the credential, once.
func (s *Server) handleActivation(w http.ResponseWriter, r *http.Request) {
	code := strings.TrimPrefix(r.URL.Path, activationPath)
	s.acts.mu.Lock()
	a := s.findActivation(w, code)
	var resp retrieveTokenResponse
	if a != nil {
		resp = retrieveTokenResponse{ShareCredentialsVersion: 1, BearerToken: a.token, Endpoint: s.Endpoint(),
			ExpirationTime: a.expires.UTC().Format(time.RFC3339)}
		a.used, a.token = true, ""
	}
	s.acts.mu.Unlock()
	if a == nil {
		return
	}
	s.log.Info("activation link used", "code", codeTag(code), "token", a.tokenName)
	writeJSON(w, http.StatusOK, resp)
}

const activationPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>Delta Sharing activation</title></head>
<body>
<h1>Delta Sharing activation</h1>
<p>This link gives you a credential to read the data shared with you. Download it once with
the command line, and keep the file it writes safe:</p>
<pre>deltashare activate 'PASTE-THIS-PAGE-ADDRESS-HERE'</pre>
<p>The credential can be downloaded only once.</p>
</body></html>
`

// handleActivationPage serves the page the activation link points to. It never echoes the code.
func (s *Server) handleActivationPage(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write([]byte(activationPage))
}
