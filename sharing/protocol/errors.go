package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/deltashare/deltashare/internal/hint"
	"github.com/deltashare/deltashare/internal/redact"
)

// Sentinel errors. An [*APIError] unwraps to the one matching its HTTP status, so callers test
// with errors.Is(err, sharing.ErrNotFound) and the like.
var (
	// ErrUnauthorized: the server rejected the credential (HTTP 401).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: the credential is valid but may not read this object (HTTP 403).
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound: the share, schema or table does not exist or is not shared (HTTP 404).
	ErrNotFound = errors.New("not found")
	// ErrBadRequest: the server found the request malformed (HTTP 400).
	ErrBadRequest = errors.New("bad request")
	// ErrRateLimited: the server asks the client to slow down (HTTP 429).
	ErrRateLimited = errors.New("rate limited")
	// ErrServer: the server failed (HTTP 5xx).
	ErrServer = errors.New("server error")
	// ErrTokenExpired: the profile's bearer token expired; no request was sent.
	ErrTokenExpired = errors.New("token expired")
	// ErrInvalidProfile: a profile could not be read or is not a supported profile.
	ErrInvalidProfile = errors.New("invalid profile")
	// ErrTruncated: a response ended early (the server promised an EndStreamAction and did not
	// send one, or the connection broke mid-stream).
	ErrTruncated = errors.New("response truncated")
	// ErrInvalidRead: the options of a table read are wrong (an unknown column, a --where that
	// does not parse or does not fit the table's schema); nothing was read.
	ErrInvalidRead = errors.New("invalid read options")
	// ErrProtocol: the server's response does not follow the Delta Sharing protocol.
	ErrProtocol = errors.New("protocol violation")
)

// APIError is an error answer of a Delta Sharing server: the HTTP status and the protocol's
// error body ({"errorCode": ..., "message": ...}; "error_code" is accepted too). It is also used
// for a failed OAuth token request (Method POST, URL the token endpoint) and for an
// EndStreamAction carrying an errorMessage (Code "STREAM_ERROR").
//
// Its text never holds credentials or the query string of a URL.
type APIError struct {
	Status  int    // HTTP status code; 0 when unknown (an in-stream error without a code)
	Code    string // the server's errorCode, e.g. RESOURCE_DOES_NOT_EXIST
	Message string // the server's message, with URL query strings removed
	Method  string // HTTP method of the request
	URL     string // request URL without its query string
	// RetryAfter is the delay the server asked for in a Retry-After header (0 when absent).
	RetryAfter time.Duration
}

// Error describes the failure and says what to do next.
func (e *APIError) Error() string {
	var b strings.Builder
	if e.Method != "" || e.URL != "" {
		b.WriteString(strings.TrimSpace(e.Method + " " + e.URL))
		b.WriteString(": ")
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, "%d %s", e.Status, http.StatusText(e.Status))
	} else {
		b.WriteString("server error")
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " (%s)", e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if advice := e.Hint(); advice != "" {
		b.WriteString("; ")
		b.WriteString(hint.Render(advice, nil))
	}
	return b.String()
}

// Hint is what to do next for the status ("" when there is nothing to say), operations named
// {LikeThis} (see internal/hint).
func (e *APIError) Hint() string {
	switch {
	case e.Status == http.StatusUnauthorized:
		return "the credential was rejected or has expired: " + newCredentialAdvice
	case e.Status == http.StatusForbidden:
		return "the credential may not read this object: ask the data provider to grant access"
	case e.Status == http.StatusNotFound:
		return "check the share, schema and table names ({Client.ListAllTables} shows what the credential can read)"
	case e.Status == http.StatusBadRequest:
		return "the server rejected the request parameters: check versions, timestamps and options"
	case e.Status == http.StatusTooManyRequests:
		return "the server is rate limiting requests: wait and try again"
	case e.Status >= 500:
		return "the server failed: try again later, and contact the data provider if it persists"
	}
	return ""
}

// Unwrap returns the sentinel matching the status (nil when none does).
func (e *APIError) Unwrap() error { return StatusSentinel(e.Status) }

func StatusSentinel(status int) error {
	switch {
	case status == http.StatusBadRequest:
		return ErrBadRequest
	case status == http.StatusUnauthorized:
		return ErrUnauthorized
	case status == http.StatusForbidden:
		return ErrForbidden
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status >= 500 && status < 600:
		return ErrServer
	}
	return nil
}

// ErrorBody is the protocol's error response body. It decodes both "errorCode" and
// "error_code"; it encodes "errorCode".
type ErrorBody struct {
	ErrorCode string `json:"errorCode"`
	Message   string `json:"message"`
}

// UnmarshalJSON accepts both spellings of the error code.
func (b *ErrorBody) UnmarshalJSON(data []byte) error {
	var raw struct {
		ErrorCode  *string `json:"errorCode"`
		ErrorCode2 *string `json:"error_code"`
		Message    *string `json:"message"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*b = ErrorBody{}
	if raw.ErrorCode != nil {
		b.ErrorCode = *raw.ErrorCode
	} else if raw.ErrorCode2 != nil {
		b.ErrorCode = *raw.ErrorCode2
	}
	if raw.Message != nil {
		b.Message = *raw.Message
	}
	return nil
}

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 64 << 10

// MaxMessage bounds the length of a server message kept in an error.
const MaxMessage = 1000

// NewAPIError builds an APIError from a non-2xx response, reading (a bounded part of) its body.
func NewAPIError(resp *http.Response, now time.Time) *APIError {
	e := &APIError{Status: resp.StatusCode}
	if resp.Request != nil {
		e.Method = resp.Request.Method
		if resp.Request.URL != nil {
			e.URL = redact.URL(resp.Request.URL.String())
		}
	}
	if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
		e.RetryAfter = d
	}
	if resp.Body != nil {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		e.Code, e.Message = ParseErrorBody(data)
	}
	return e
}

// ParseErrorBody extracts the error code and a cleaned message from an error body. Non-JSON
// bodies (an HTML page from a proxy, say) give a short cleaned excerpt as the message.
func ParseErrorBody(data []byte) (code, message string) {
	data = []byte(strings.TrimSpace(string(data)))
	if len(data) == 0 {
		return "", ""
	}
	var body ErrorBody
	if data[0] == '{' && json.Unmarshal(data, &body) == nil {
		return redact.Text(body.ErrorCode, 100), redact.Text(body.Message, MaxMessage)
	}
	return "", redact.Text(string(data), 200)
}

// ExpiredError reports a bearer token whose expirationTime has passed. It unwraps to
// [ErrTokenExpired].
type ExpiredError struct {
	Expiry time.Time
}

func (e *ExpiredError) Error() string {
	return fmt.Sprintf("the bearer token expired at %s: %s", e.Expiry.UTC().Format(time.RFC3339), hint.Render(e.Hint(), nil))
}

// Hint is what to do next, operations named {LikeThis} (see internal/hint).
func (e *ExpiredError) Hint() string { return newCredentialAdvice }

// newCredentialAdvice says how to replace a rejected or expired credential.
const newCredentialAdvice = "get a new credential (run {tokenmgr.Activate} with a new activation link, or ask the data provider for a new token)"

// Unwrap returns ErrTokenExpired.
func (e *ExpiredError) Unwrap() error { return ErrTokenExpired }

// ParseRetryAfter reads a Retry-After header: delay seconds or an HTTP date.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// DescribeJSONError describes a JSON decoding error without quoting the input.
func DescribeJSONError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("field %q has the wrong type (%s where %s is expected)", te.Field, te.Value, te.Type)
		}
		return fmt.Sprintf("wrong JSON type (%s where %s is expected)", te.Value, te.Type)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends early"
	}
	return "invalid JSON"
}
