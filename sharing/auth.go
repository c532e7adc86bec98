package sharing

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/deltashare/deltashare/internal/redact"
	"github.com/deltashare/deltashare/sharing/protocol"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// DefaultTokenRefreshMargin is how long before an OAuth access token's expiry a new one is
// fetched.
const DefaultTokenRefreshMargin = 5 * time.Minute

// bearerSource is the token source of a bearer-token profile: a static token with an expiry,
// refused once expired.
type bearerSource struct {
	token  string
	expiry time.Time
	now    func() time.Time
}

func (s *bearerSource) Token() (*oauth2.Token, error) {
	if !s.expiry.IsZero() && !s.now().Before(s.expiry) {
		return nil, &protocol.ExpiredError{Expiry: s.expiry}
	}
	return &oauth2.Token{AccessToken: s.token, TokenType: "Bearer", Expiry: s.expiry}, nil
}

// oauthSource wraps the client-credentials source to turn token endpoint failures into
// [*APIError]s (retryable or not by status) that never quote the request.
type oauthSource struct {
	src      oauth2.TokenSource
	endpoint string
}

func (s *oauthSource) Token() (*oauth2.Token, error) {
	tok, err := s.src.Token()
	if err == nil {
		return tok, nil
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		ae := &protocol.APIError{
			Status: re.Response.StatusCode, Method: http.MethodPost, URL: redact.URL(s.endpoint),
			Code: redact.Text(re.ErrorCode, 100), Message: redact.Text(re.ErrorDescription, protocol.MaxMessage),
		}
		if ae.Code == "" && ae.Message == "" {
			_, ae.Message = protocol.ParseErrorBody(re.Body)
		}
		if d, ok := protocol.ParseRetryAfter(re.Response.Header.Get("Retry-After"), time.Now()); ok {
			ae.RetryAfter = d
		}
		if ae.Status == http.StatusBadRequest && (ae.Code == "invalid_client" || ae.Code == "unauthorized_client" || ae.Code == "invalid_grant") {
			ae.Status = http.StatusUnauthorized
		}
		return nil, fmt.Errorf("fetching an OAuth access token: %w", ae)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return nil, fmt.Errorf("fetching an OAuth access token from %s: %w", redact.URL(s.endpoint), ue.Err)
	}
	return nil, fmt.Errorf("fetching an OAuth access token from %s: %w", redact.URL(s.endpoint), redact.Err(err))
}

// NewTokenSource returns the credential of p as a token source. Bearer-token profiles give a
// static source carrying the expiry (an expired token is an [*ExpiredError]); OAuth client
// credentials profiles give a source that fetches tokens from the token endpoint with hc
// (http.DefaultClient if nil), caches them, and fetches a new one refreshMargin before expiry
// (DefaultTokenRefreshMargin if 0).
func NewTokenSource(p *Profile, hc *http.Client, refreshMargin time.Duration) (oauth2.TokenSource, error) {
	return newTokenSource(p, hc, refreshMargin, time.Now)
}

func newTokenSource(p *Profile, hc *http.Client, refreshMargin time.Duration, now func() time.Time) (oauth2.TokenSource, error) {
	if p == nil {
		return nil, profileErr("no profile")
	}
	switch p.Type {
	case ProfileTypeBearerToken:
		if p.BearerToken == "" {
			return nil, profileErr(`field "bearerToken" is missing or empty`)
		}
		return &bearerSource{token: p.BearerToken, expiry: p.ExpirationTime, now: now}, nil
	case ProfileTypeOAuthClientCredentials:
		if hc == nil {
			hc = http.DefaultClient
		}
		if refreshMargin <= 0 {
			refreshMargin = DefaultTokenRefreshMargin
		}
		cfg := clientcredentials.Config{
			ClientID:     p.ClientID,
			ClientSecret: p.ClientSecret,
			TokenURL:     p.TokenEndpoint,
			Scopes:       strings.Fields(p.Scope),
			AuthStyle:    oauth2.AuthStyleInHeader,
		}
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
		src := &oauthSource{src: cfg.TokenSource(ctx), endpoint: p.TokenEndpoint}
		return oauth2.ReuseTokenSourceWithExpiry(nil, src, refreshMargin), nil
	case ProfileTypeBasic:
		if err := checkBasicEndpoint(p.Endpoint); err != nil {
			return nil, err
		}
		if p.Username == "" || p.Password == "" {
			return nil, profileErr(`a "basic" profile needs "username" and "password"`)
		}
		creds := base64.StdEncoding.EncodeToString([]byte(p.Username + ":" + p.Password))
		tok := (&oauth2.Token{AccessToken: creds, TokenType: "Basic"}).WithExtra(map[string]any{basicMarker: true})
		return oauth2.StaticTokenSource(tok), nil
	case ProfileTypeOAuthJWTBearer:
		if hc == nil {
			hc = http.DefaultClient
		}
		if refreshMargin <= 0 {
			refreshMargin = DefaultTokenRefreshMargin
		}
		signer, err := loadJWTSigner(p.PrivateKeyFile, p.Algorithm)
		if err != nil {
			return nil, err
		}
		js := &jwtBearerSource{p: p, signer: signer, hc: hc, now: now}
		return oauth2.ReuseTokenSourceWithExpiry(nil, &oauthSource{src: js, endpoint: p.TokenEndpoint}, refreshMargin), nil
	}
	return nil, profileErr("profile type %q is not supported (%s)", p.Type, supportedProfiles)
}

// basicMarker marks the token of a basic profile: its AccessToken is sent as Basic
// credentials, not as a bearer token.
const basicMarker = "deltashare-basic-credentials"

// authTransport adds the Authorization header to requests for the sharing endpoint's host (and
// only those: pre-signed file URLs must go out without it).
type authTransport struct {
	base   http.RoundTripper
	src    oauth2.TokenSource
	scheme string
	host   string
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.EqualFold(req.URL.Host, t.host) || !strings.EqualFold(req.URL.Scheme, t.scheme) {
		return t.base.RoundTrip(req)
	}
	tok, err := t.src.Token()
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	r2 := req.Clone(req.Context())
	if basic, _ := tok.Extra(basicMarker).(bool); basic {
		r2.Header.Set("Authorization", "Basic "+tok.AccessToken)
	} else {
		r2.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	}
	return t.base.RoundTrip(r2)
}
