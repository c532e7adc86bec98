package databricks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/databricks/databricks-sdk-go/apierr"
	"github.com/databricks/databricks-sdk-go/config"

	"github.com/deltashare/deltashare/internal/hint"
	"github.com/deltashare/deltashare/internal/operr"
	"github.com/deltashare/deltashare/tokenmgr/secret"
)

// Sentinels that errors from this package unwrap to (test with errors.Is).
var (
	// ErrNoWorkspaceCredentials: no usable Databricks authentication was configured.
	ErrNoWorkspaceCredentials = errors.New("no Databricks credentials configured")
	// ErrNoWorkspaceHost: no workspace host was configured.
	ErrNoWorkspaceHost = errors.New("no Databricks workspace host configured")
	// ErrWorkspaceAuth: Databricks rejected the credentials (HTTP 401).
	ErrWorkspaceAuth = errors.New("databricks rejected the credentials")
	// ErrWorkspacePermission: the credentials are valid but lack permission (HTTP 403).
	ErrWorkspacePermission = errors.New("permission denied by Databricks")
	// ErrWorkspaceNotFound: the token, recipient or principal does not exist (HTTP 404).
	ErrWorkspaceNotFound = errors.New("not found in the Databricks workspace")
	// ErrWorkspaceConflict: the object already exists (HTTP 409).
	ErrWorkspaceConflict = errors.New("already exists in the Databricks workspace")
	// ErrOldTokenUnknown: rotation could not tell which token the target holds.
	ErrOldTokenUnknown = errors.New("cannot tell which token to rotate")
	// ErrRotationFailed: a PAT rotation failed (see the message for what was rolled back).
	ErrRotationFailed = errors.New("token rotation failed")
)

// WorkspaceError is the error type of this package: a workspace call, its configuration, or a
// token rotation failed. Its message says what failed and what to do next; it never contains a
// secret. It unwraps to a sentinel (Kind), to context errors, and
// for workspace calls to the SDK error (whose message is already redacted in Error()). Advice
// that names options or operations (named {LikeThis}) is carried by an error in the chain with
// a Hint() string method. Op (what was being done, e.g. "create token") and Kind (the sentinel
// it matches, may be nil) are fields of the embedded base.
type WorkspaceError struct {
	operr.Base
	// StatusCode is the HTTP status the service answered with (0 if none).
	StatusCode int
	// ErrorCode is the service's error code, e.g. RESOURCE_DOES_NOT_EXIST ("" if none).
	ErrorCode string
}

// newError builds a WorkspaceError with a fixed message.
func newError(op string, kind error, msg string, cause error) *WorkspaceError {
	return &WorkspaceError{Base: operr.New(op, kind, msg, cause)}
}

// newHintedError builds a WorkspaceError whose message is msg followed by advice (see
// hint.WithAdvice).
func newHintedError(op string, kind error, msg, advice string, cause error) *WorkspaceError {
	return &WorkspaceError{Base: operr.WithAdvice(op, kind, msg, advice, cause)}
}

// newChoiceError builds a WorkspaceError for a choice that cannot be made: msg followed by
// advice (as newHintedError), then the candidates, one a line.
func newChoiceError[T fmt.Stringer](op string, kind error, msg, advice string, candidates []T) *WorkspaceError {
	text, chain := hint.WithAdvice(msg, advice, nil)
	var b strings.Builder
	b.WriteString(text)
	b.WriteString(":")
	for _, c := range candidates {
		b.WriteString("\n  ")
		b.WriteString(c.String())
	}
	return &WorkspaceError{Base: operr.New(op, kind, b.String(), chain)}
}

// noCredentialsHint tells the user how to configure Databricks authentication (the SDK reads
// these variables and the config file).
const noCredentialsHint = "set DATABRICKS_HOST and DATABRICKS_TOKEN, or pass {WorkspaceOptions.Profile} NAME " +
	"to use a profile from ~/.databrickscfg (another file: DATABRICKS_CONFIG_FILE), or set " +
	"DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET for OAuth machine-to-machine, or " +
	"ARM_CLIENT_ID, ARM_CLIENT_SECRET and ARM_TENANT_ID for an Azure service principal"

// mapError turns an SDK error into a *WorkspaceError with a clear message. Every secret in
// secrets is scrubbed from the message. Nil stays nil; a *WorkspaceError passes through.
func mapError(op string, err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	var we *WorkspaceError
	if errors.As(err, &we) {
		return err
	}
	e := &WorkspaceError{}
	var apiErr *apierr.APIError
	server := ""
	if errors.As(err, &apiErr) {
		e.StatusCode = apiErr.StatusCode
		e.ErrorCode = apiErr.ErrorCode
		server = strings.TrimSpace(secret.Redact(apiErr.Message, secrets...))
	}
	detail := secret.Redact(err.Error(), secrets...)
	if server != "" {
		detail = server
	}
	status := ""
	if e.StatusCode != 0 {
		status = fmt.Sprintf("HTTP %d", e.StatusCode)
		if e.ErrorCode != "" && e.ErrorCode != fmt.Sprint(e.StatusCode) {
			status += " " + e.ErrorCode
		}
	}
	oauthCode, oauthRejected := oauthRejection(err, secrets)
	switch {
	case oauthRejected:
		e.Base = operr.New(op, ErrWorkspaceAuth, fmt.Sprintf("%s: the OAuth token endpoint rejected the service principal's client secret (%s): the secret is wrong, expired or deleted; create a new OAuth secret for it and set it (DATABRICKS_CLIENT_SECRET or ARM_CLIENT_SECRET, or client_secret / azure_client_secret in the profile)", op, oauthCode), err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		e.Base = operr.New(op, nil, fmt.Sprintf("%s: %s", op, detail), err)
	case errors.Is(err, config.ErrCannotConfigureDefault):
		e.Base = operr.WithAdvice(op, ErrNoWorkspaceCredentials, op+": no Databricks credentials found: ", noCredentialsHint, err)
	case errors.Is(err, config.ErrNoHostConfigured), strings.Contains(err.Error(), "host is required"):
		e.Base = operr.WithAdvice(op, ErrNoWorkspaceHost, op+": no Databricks workspace host configured: ",
			"set DATABRICKS_HOST, pass {WorkspaceOptions.Host}, or add host = https://... to the profile", err)
	case errors.Is(err, apierr.ErrUnauthenticated):
		e.Base = operr.New(op, ErrWorkspaceAuth, fmt.Sprintf("%s: Databricks rejected the credentials (%s: %s): the token is invalid, expired or revoked; create a new token or fix the profile, then try again", op, status, detail), err)
	case errors.Is(err, apierr.ErrPermissionDenied):
		e.Base = operr.New(op, ErrWorkspacePermission, fmt.Sprintf("%s: permission denied (%s: %s): the credentials are valid but lack permission for this operation; ask a workspace admin (token management and tokens on behalf of service principals need admin rights; recipients need the CREATE_RECIPIENT privilege or ownership)", op, status, detail), err)
	case errors.Is(err, apierr.ErrNotFound):
		e.Base = operr.New(op, ErrWorkspaceNotFound, fmt.Sprintf("%s: not found (%s: %s)", op, status, detail), err)
	case errors.Is(err, apierr.ErrResourceConflict):
		e.Base = operr.New(op, ErrWorkspaceConflict, fmt.Sprintf("%s: already exists (%s: %s)", op, status, detail), err)
	case e.StatusCode == 429 || e.StatusCode == 503 || e.StatusCode == 504:
		e.Base = operr.WithAdvice(op, nil, fmt.Sprintf("%s: %s: %s: still failing when the time for retries ran out (the workspace is throttling or unavailable); ", op, status, detail),
			"try again later, or allow more time with {WorkspaceOptions.Timeout}", err)
	case errors.Is(err, errGaveUp):
		if i := strings.Index(detail, errGaveUp.Error()+": "); i >= 0 {
			detail = detail[i+len(errGaveUp.Error())+2:]
		}
		e.Base = operr.WithAdvice(op, nil, fmt.Sprintf("%s: gave up: %s; ", op, detail),
			"check the workspace URL and your network, try again later, or allow more time with {WorkspaceOptions.Timeout}", err)
	case isUnreachable(err):
		e.Base = operr.WithAdvice(op, nil, fmt.Sprintf("%s: could not reach the workspace (%s); ", op, detail),
			"check the workspace URL and your network, or allow more time with {WorkspaceOptions.Timeout}", err)
	case status != "":
		e.Base = operr.New(op, nil, fmt.Sprintf("%s: %s: %s", op, status, detail), err)
	default:
		e.Base = operr.New(op, nil, fmt.Sprintf("%s: %s", op, detail), err)
	}
	return e
}

// oauthRejection recognises an OAuth token endpoint's refusal of the client credentials
// (Databricks OAuth or Entra ID: invalid_client, unauthorized_client, invalid_grant). The SDK
// passes the endpoint's JSON answer on as the error text; code is its error and description.
func oauthRejection(err error, secrets []string) (code string, ok bool) {
	text := err.Error()
	if !strings.Contains(text, "token") {
		return "", false
	}
	i := strings.Index(text, `{"error"`)
	if i < 0 {
		// The Entra ID path of the SDK keeps only the description: ...oauth2/token": DESC.
		const tail = `/oauth2/token": `
		j := strings.Index(text, tail)
		if j < 0 {
			return "", false
		}
		return oauthDescription(text[j+len(tail):], secrets), true
	}
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.NewDecoder(strings.NewReader(text[i:])).Decode(&body) != nil {
		return "", false
	}
	switch body.Error {
	case "invalid_client", "unauthorized_client", "invalid_grant":
	default:
		return "", false
	}
	code = body.Error
	if d := oauthDescription(body.Description, secrets); d != "" {
		code += ": " + d
	}
	return code, true
}

// oauthDescription is an OAuth endpoint's error description fit to show: secrets removed,
// trimmed, at most 200 bytes.
func oauthDescription(d string, secrets []string) string {
	d = strings.TrimSpace(secret.Redact(d, secrets...))
	if len(d) > 200 {
		d = d[:200] + "..."
	}
	return d
}

// isUnreachable reports a connection that could not be made (refused, no such host, timeout).
func isUnreachable(err error) bool {
	var opErr *net.OpError
	var dnsErr *net.DNSError
	return errors.As(err, &opErr) || errors.As(err, &dnsErr)
}
