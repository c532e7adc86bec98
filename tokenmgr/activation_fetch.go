package tokenmgr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/databricks/databricks-sdk-go/apierr"
	"github.com/databricks/databricks-sdk-go/client"
	"github.com/databricks/databricks-sdk-go/config"
	"github.com/databricks/databricks-sdk-go/config/credentials"
	"github.com/databricks/databricks-sdk-go/logger"
	"github.com/databricks/databricks-sdk-go/service/sharing"

	"github.com/deltashare/deltashare/internal/hint"
	"github.com/deltashare/deltashare/internal/operr"
	"github.com/deltashare/deltashare/tokenmgr/secret"
)

// activationPagePath is the path of the activation page in activation links.
const activationPagePath = "/delta_sharing/retrieve_config.html"

// retrievePathPrefix is where the SDK's RetrieveToken fetches the credential.
const retrievePathPrefix = "/api/2.1/unity-catalog/public/data_sharing_activation/"

// maxProfileSize bounds the activation response we accept.
const maxProfileSize = 1 << 20

// activationLinkExample is shown in every malformed-link error.
const activationLinkExample = "expected https://<workspace-host>" + activationPagePath + "?<activation-code>, " +
	"e.g. https://dbc-1234abcd-5678.cloud.databricks.com" + activationPagePath + "?4f2c9a1e0b7d"

// activationCodeRe is what an activation code may contain: it travels as one URL path segment.
var activationCodeRe = regexp.MustCompile(`^[A-Za-z0-9._~=+-]+$`)

// maxCodeLen bounds an activation code.
const maxCodeLen = 1024

// validCode reports whether code can be an activation code.
func validCode(code string) bool {
	return len(code) <= maxCodeLen && activationCodeRe.MatchString(code)
}

// usedMessageRe recognises the service's messages about a link that cannot be used again.
var usedMessageRe = regexp.MustCompile(`(?i)already (been )?(used|downloaded|retrieved|activated|redeemed)|no longer available|one[- ]time`)

// ActivatedCredential is the credential behind an activation link: a Delta Sharing profile.
// The bearer token is [Sensitive]; the raw profile (which contains it) is only available from
// Profile(). String(), every fmt verb and JSON leave both out.
type ActivatedCredential struct {
	ShareCredentialsVersion int
	BearerToken             Sensitive
	Endpoint                string
	// ExpirationTime is the expiry exactly as received ("" when the token never expires).
	ExpirationTime string
	// Expiry is ExpirationTime parsed (zero when absent or unparseable).
	Expiry time.Time

	raw []byte
}

// Profile returns the profile JSON exactly as the service sent it (a copy). It contains the
// bearer token: write it only to a private file.
func (c *ActivatedCredential) Profile() []byte { return bytes.Clone(c.raw) }

// String describes the credential without the bearer token.
func (c ActivatedCredential) String() string {
	s := fmt.Sprintf("Delta Sharing credential v%d for %s", c.ShareCredentialsVersion, c.Endpoint)
	if c.ExpirationTime != "" {
		s += ", expires " + c.ExpirationTime
	} else {
		s += ", no expiry"
	}
	return s
}

// GoString keeps %#v from printing the token.
func (c ActivatedCredential) GoString() string {
	return "tokenmgr.ActivatedCredential{" + c.String() + "}"
}

// Format makes every fmt verb print the redacted description.
func (c ActivatedCredential) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, c.GoString())
		return
	}
	_, _ = io.WriteString(f, c.String())
}

// MarshalJSON writes the credential's metadata, never the token.
func (c ActivatedCredential) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ShareCredentialsVersion int       `json:"shareCredentialsVersion"`
		Endpoint                string    `json:"endpoint"`
		ExpirationTime          string    `json:"expirationTime,omitempty"`
		BearerToken             Sensitive `json:"bearerToken"`
	}{c.ShareCredentialsVersion, c.Endpoint, c.ExpirationTime, c.BearerToken})
}

// invalidLink builds the malformed-link error; it never quotes the input.
func invalidLink(reason string) error {
	return newActivationError("parse activation link", ErrInvalidActivationLink,
		fmt.Sprintf("invalid activation link: %s; %s", reason, activationLinkExample), nil)
}

// ParseActivationLink splits an activation link
// https://HOST/delta_sharing/retrieve_config.html?CODE into the workspace host
// ("https://HOST", port kept) and the activation code. Plain http is accepted only for
// loopback hosts (local tests). Errors match ErrInvalidActivationLink and never quote the link.
func ParseActivationLink(link string) (host, code string, err error) {
	link = strings.TrimSpace(link)
	if link == "" {
		return "", "", invalidLink("the link is empty")
	}
	if !strings.Contains(link, "://") {
		return "", "", invalidLink("this is not a URL (for a bare activation code, also give the workspace host)")
	}
	u, perr := url.Parse(link)
	if perr != nil || u.Host == "" {
		return "", "", invalidLink("the link is not a valid URL")
	}
	host, herr := checkHostURL(u)
	if herr != nil {
		return "", "", herr
	}
	if !strings.HasSuffix(u.Path, activationPagePath) {
		return "", "", invalidLink("the path must end in " + activationPagePath)
	}
	code = u.RawQuery
	if code == "" {
		return "", "", invalidLink("the activation code after '?' is missing")
	}
	if !validCode(code) {
		return "", "", invalidLink("the activation code after '?' contains unexpected characters")
	}
	return host, code, nil
}

// ParseActivationInput accepts either a full activation link (host may be empty; if given it
// must match the link's) or a bare activation code together with the workspace host.
func ParseActivationInput(linkOrCode, host string) (string, string, error) {
	linkOrCode = strings.TrimSpace(linkOrCode)
	if strings.Contains(linkOrCode, "://") {
		h, code, err := ParseActivationLink(linkOrCode)
		if err != nil {
			return "", "", err
		}
		if host != "" {
			nh, err := NormalizeActivationHost(host)
			if err != nil {
				return "", "", err
			}
			if !strings.EqualFold(nh, h) {
				return "", "", invalidLink("the link's host " + h + " differs from the given host " + nh)
			}
		}
		return h, code, nil
	}
	if linkOrCode == "" {
		return "", "", invalidLink("the link is empty")
	}
	if !validCode(linkOrCode) {
		return "", "", invalidLink("the activation code contains unexpected characters")
	}
	if strings.TrimSpace(host) == "" {
		msg, chain := hint.WithAdvice("invalid activation link: ", "a bare activation code needs the workspace host ({Host} https://...)", nil)
		return "", "", newActivationError("parse activation link", ErrInvalidActivationLink, msg+"; "+activationLinkExample, chain)
	}
	h, err := NormalizeActivationHost(host)
	if err != nil {
		return "", "", err
	}
	return h, linkOrCode, nil
}

// NormalizeActivationHost turns "HOST", "https://HOST" or "https://HOST/anything" into
// "https://HOST" (http is kept only for loopback hosts).
func NormalizeActivationHost(host string) (string, error) {
	host = strings.TrimSpace(host)
	if host == "" {
		return "", invalidLink("the workspace host is empty")
	}
	if !strings.Contains(host, "://") {
		host = "https://" + host
	}
	u, err := url.Parse(host)
	if err != nil || u.Host == "" {
		return "", invalidLink("the workspace host is not a valid URL")
	}
	return checkHostURL(u)
}

func checkHostURL(u *url.URL) (string, error) {
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return "", invalidLink("the link must use https")
		}
	default:
		return "", invalidLink("the link must use https")
	}
	if u.User != nil {
		return "", invalidLink("the link must not contain user information")
	}
	return strings.ToLower(u.Scheme) + "://" + u.Host, nil
}

func isLoopback(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// noLoader keeps the SDK from reading environment variables or config files.
type noLoader struct{}

func (noLoader) Name() string                   { return "deltashare-explicit" }
func (noLoader) Configure(*config.Config) error { return nil }

// anonymousCredentials is an SDK credentials strategy that sends no credentials and looks
// for none (the activation endpoints are public).
type anonymousCredentials struct{}

func (anonymousCredentials) Name() string { return "anonymous" }

func (anonymousCredentials) Configure(context.Context, *config.Config) (credentials.CredentialsProvider, error) {
	return credentials.CredentialsProviderFn(func(r *http.Request) error {
		r.Header.Del("Authorization")
		return nil
	}), nil
}

// publicTransport strips any Authorization header (belt and braces: the anonymous strategy
// sets none) and keeps the raw body of the credential response.
type publicTransport struct {
	base http.RoundTripper

	mu  sync.Mutex
	raw []byte
	// html is set when a successful answer was an HTML page: some web server, not the
	// activation service, answered.
	html bool
}

func (t *publicTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("Authorization") != "" || req.Header.Get("Cookie") != "" {
		req = req.Clone(req.Context())
		req.Header.Del("Authorization")
		req.Header.Del("Cookie")
	}
	resp, err := t.base.RoundTrip(req)
	if err == nil && resp.StatusCode/100 == 2 && strings.Contains(strings.ToLower(resp.Header.Get("Content-Type")), "html") {
		t.mu.Lock()
		t.html = true
		t.mu.Unlock()
	}
	if err != nil || resp.StatusCode != http.StatusOK || !strings.HasPrefix(req.URL.Path, retrievePathPrefix) {
		return resp, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProfileSize+1))
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if len(body) > maxProfileSize {
		return nil, fmt.Errorf("the activation response is larger than %d bytes", maxProfileSize)
	}
	t.mu.Lock()
	t.raw = body
	t.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// quietLogger drops the SDK's debug output (it would show URLs with the activation code) and
// scrubs the code from warnings and errors.
type quietLogger struct {
	base    logger.Logger
	secrets []string
}

func (l quietLogger) Enabled(ctx context.Context, level logger.Level) bool {
	return level >= logger.LevelWarn && l.base.Enabled(ctx, level)
}
func (quietLogger) Tracef(context.Context, string, ...any) {}
func (quietLogger) Debugf(context.Context, string, ...any) {}
func (quietLogger) Infof(context.Context, string, ...any)  {}
func (l quietLogger) Warnf(ctx context.Context, format string, v ...any) {
	l.base.Warnf(ctx, "%s", secret.Redact(fmt.Sprintf(format, v...), l.secrets...))
}
func (l quietLogger) Errorf(ctx context.Context, format string, v ...any) {
	l.base.Errorf(ctx, "%s", secret.Redact(fmt.Sprintf(format, v...), l.secrets...))
}

// FetchActivation downloads the credential behind an activation code from the workspace at
// host, through the SDK's RecipientActivation API (GetActivationUrlInfo, then RetrieveToken)
// on the public endpoints. No credentials are sent or looked up: no environment variables, no
// ~/.databrickscfg, no metadata service. httpClient may be nil (its Transport and Timeout are
// used when given).
//
// A link can be downloaded once: a used link yields an error matching ErrActivationUsed, an
// expired one ErrActivationExpired, a code the service does not know (a link cut short)
// ErrActivationLinkUnknown, and a host that is not an activation service
// ErrNotActivationEndpoint. Errors keep the service's message but never contain the
// activation code.
func FetchActivation(ctx context.Context, host, code string, httpClient *http.Client) (*ActivatedCredential, error) {
	const op = "fetch the Delta Sharing credential"
	normHost, err := NormalizeActivationHost(host)
	if err != nil {
		return nil, err
	}
	if !validCode(code) {
		return nil, invalidLink("the activation code is empty or contains unexpected characters")
	}
	secrets := []string{code}

	base := http.DefaultTransport
	cfg := &config.Config{
		Host:                normHost,
		Credentials:         anonymousCredentials{},
		Loaders:             []config.Loader{noLoader{}},
		RetryTimeoutSeconds: 60,
		HostMetadataResolver: func(context.Context, string) (*config.HostMetadata, error) {
			return nil, nil // no discovery request: only the two public endpoints are called
		},
	}
	if httpClient != nil {
		if httpClient.Transport != nil {
			base = httpClient.Transport
		}
		if httpClient.Timeout > 0 {
			cfg.HTTPTimeoutSeconds = int(math.Ceil(httpClient.Timeout.Seconds()))
		}
	}
	transport := &publicTransport{base: base}
	cfg.HTTPTransport = transport

	ctx = logger.NewContext(ctx, quietLogger{base: logger.Get(ctx), secrets: secrets})
	c, err := client.New(cfg)
	if err != nil {
		return nil, activationError(op, err, normHost, secrets, stageInfo)
	}
	api := sharing.NewRecipientActivation(c)
	if err := api.GetActivationUrlInfo(ctx, sharing.GetActivationUrlInfoRequest{ActivationUrl: code}); err != nil {
		return nil, activationError(op, err, normHost, secrets, stageInfo)
	}
	resp, err := api.RetrieveToken(ctx, sharing.RetrieveTokenRequest{ActivationUrl: code})
	if err != nil {
		transport.mu.Lock()
		html := transport.html
		transport.mu.Unlock()
		if html {
			return nil, notActivationEndpoint(op, normHost, "it answered with a web page")
		}
		return nil, activationError(op, err, normHost, secrets, stageRetrieve)
	}
	transport.mu.Lock()
	raw := transport.raw
	transport.mu.Unlock()
	return credentialFromResponse(op, raw, resp)
}

// credentialFromResponse checks the profile and keeps its raw bytes.
func credentialFromResponse(op string, raw []byte, resp *sharing.RetrieveTokenResponse) (*ActivatedCredential, error) {
	if len(raw) == 0 || resp == nil {
		return nil, newActivationError(op, nil, op+": the service answered with an empty credential; ask the data provider to issue a new link", nil)
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, newActivationError(op, nil, op+": the service's answer is not a JSON profile; ask the data provider to check the recipient", nil)
	}
	var missing []string
	if resp.BearerToken == "" {
		missing = append(missing, "bearerToken")
	}
	if resp.Endpoint == "" {
		missing = append(missing, "endpoint")
	}
	if len(missing) > 0 {
		return nil, newActivationError(op, nil, fmt.Sprintf("%s: the profile lacks %s; ask the data provider to check the recipient", op, strings.Join(missing, " and ")), nil)
	}
	c := &ActivatedCredential{
		ShareCredentialsVersion: resp.ShareCredentialsVersion,
		BearerToken:             Sensitive(resp.BearerToken),
		Endpoint:                resp.Endpoint,
		ExpirationTime:          resp.ExpirationTime,
		raw:                     bytes.Clone(raw),
	}
	if resp.ExpirationTime != "" {
		if t, err := time.Parse(time.RFC3339Nano, resp.ExpirationTime); err == nil {
			c.Expiry = t.UTC()
		}
	}
	return c, nil
}

// Stages of a download, for [activationError]: the link's info is asked first, then the
// credential is retrieved.
const (
	stageInfo     = "info"
	stageRetrieve = "retrieve"
)

// activationError maps errors of the public endpoints. The SDK's error is not chained: its
// text may carry the request URL, which contains the activation code.
//
// A 4xx is told apart by what the service said and when: a message about a used or expired
// link says so at either stage; an answer without a Databricks error code (an HTML page, another
// JSON shape) means the host is not an activation service; a Databricks "does not exist" at the
// info stage means the code is unknown (incomplete or mistyped link), while at the retrieve
// stage (the info request just succeeded) it means the link was used.
func activationError(op string, err error, host string, secrets []string, stage string) error {
	var apiErr *apierr.APIError
	switch {
	case errors.Is(err, context.Canceled):
		return newActivationError(op, context.Canceled, op+": interrupted", nil)
	case errors.Is(err, context.DeadlineExceeded):
		return newActivationError(op, context.DeadlineExceeded, fmt.Sprintf("%s: %s did not answer in time; try again", op, host), nil)
	case errors.As(err, &apiErr):
		code := databricksErrorCode(apiErr)
		answered := func(kind error, msg string) error {
			return &ActivationError{Base: operr.New(op, kind, msg, nil), StatusCode: apiErr.StatusCode, ErrorCode: code}
		}
		server := serverMessage(apiErr.Message, secrets)
		status := fmt.Sprintf("HTTP %d", apiErr.StatusCode)
		if code != "" {
			status += " " + code
		}
		said := ""
		if server != "" {
			said = fmt.Sprintf(" (%s answered %s: %s)", host, status, server)
		} else {
			said = fmt.Sprintf(" (%s answered %s)", host, status)
		}
		switch kind := classifyActivation(apiErr, code, stage); kind {
		case ErrActivationUsed, ErrActivationExpired:
			return answered(kind, kind.Error()+said)
		case ErrActivationLinkUnknown:
			return answered(kind, kind.Error()+said+": the link is probably incomplete (cut short when copied) or mistyped; "+
				"copy the whole link again (it ends with the full activation code after '?'), or ask the data provider to send it again")
		case ErrNotActivationEndpoint:
			return answered(kind, fmt.Sprintf("%s %s%s: check that the link is the activation link the data provider sent (%s)",
				ErrNotActivationEndpoint.Error(), host, said, activationLinkExample))
		}
		if errors.Is(err, apierr.ErrTooManyRequests) || apiErr.StatusCode >= 500 {
			return answered(nil, fmt.Sprintf("%s: %s answered %s: %s; try again later", op, host, status, server))
		}
		return answered(nil, fmt.Sprintf("%s: %s answered %s: %s; check the link, or ask the data provider for a new one", op, host, status, server))
	}
	var urlErr *url.Error
	switch {
	case errors.As(err, &urlErr):
		return newActivationError(op, nil, fmt.Sprintf("%s: cannot reach %s: %s", op, host, secret.Redact(err.Error(), secrets...)), nil)
	case stage == stageInfo:
		// A 2xx that is not the service's JSON: some other web server answered.
		return notActivationEndpoint(op, host, "its answer is not an activation service's")
	}
	return newActivationError(op, nil, fmt.Sprintf("%s: unexpected answer from %s: %s; check the host, or ask the data provider for a new link", op, host, secret.Redact(err.Error(), secrets...)), nil)
}

// notActivationEndpoint is the error of a host that answered, but not as an activation
// service does.
func notActivationEndpoint(op, host, why string) error {
	return newActivationError(op, ErrNotActivationEndpoint,
		fmt.Sprintf("%s %s (%s): check that the link is the activation link the data provider sent (%s)",
			ErrNotActivationEndpoint.Error(), host, why, activationLinkExample), nil)
}

// serverMessage is the service's message, fit to show: secrets and URL queries removed, one
// line, bounded.
func serverMessage(msg string, secrets []string) string {
	msg = urlQueryStrip.ReplaceAllString(secret.Redact(msg, secrets...), "$1")
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return msg
}

// databricksErrorCode is the Databricks error code of an API error ("" when the answer had
// none: not a Databricks error body).
func databricksErrorCode(apiErr *apierr.APIError) string {
	switch c := strings.TrimSpace(apiErr.ErrorCode); c {
	case "", "<nil>", "UNKNOWN":
		return ""
	default:
		return c
	}
}

// expiredMessageRe recognises the service's messages about an expired link.
var expiredMessageRe = regexp.MustCompile(`(?i)expired|no longer valid`)

// classifyActivation says what a 4xx from the activation service means (nil: none of the
// definite cases). The service's answers are not documented, so the message is read first,
// then the shape of the answer and the stage.
func classifyActivation(apiErr *apierr.APIError, code, stage string) error {
	if apiErr.StatusCode < 400 || apiErr.StatusCode >= 500 || apiErr.StatusCode == http.StatusTooManyRequests {
		return nil
	}
	switch {
	case expiredMessageRe.MatchString(apiErr.Message):
		return ErrActivationExpired
	case usedMessageRe.MatchString(apiErr.Message), code == "INVALID_STATE":
		return ErrActivationUsed
	case code == "":
		// The activation service answers every error with a Databricks error code; and its
		// endpoints are public, so a 401 or 403 without one is some other server too.
		return ErrNotActivationEndpoint
	}
	notFound := apiErr.StatusCode == http.StatusNotFound || apiErr.StatusCode == http.StatusGone || code == "RESOURCE_DOES_NOT_EXIST" || code == "NOT_FOUND"
	if !notFound {
		return nil
	}
	if stage == stageInfo {
		return ErrActivationLinkUnknown
	}
	return ErrActivationUsed
}
