package protocol

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fakeResponse(status int, body string, header http.Header) *http.Response {
	u, _ := url.Parse("https://h/api/shares/s/schemas/x/tables/t/query?pageToken=must-not-leak")
	if header == nil {
		header = http.Header{}
	}
	return &http.Response{
		StatusCode: status, Header: header, Body: io.NopCloser(strings.NewReader(body)),
		Request: &http.Request{Method: http.MethodPost, URL: u},
	}
}

func TestAPIErrorParsing(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		status   int
		body     string
		header   http.Header
		sentinel error
		code     string
		message  string
		hint     string
	}{
		{name: "errorCode", status: 404, body: `{"errorCode":"RESOURCE_DOES_NOT_EXIST","message":"Table x does not exist"}`,
			sentinel: ErrNotFound, code: "RESOURCE_DOES_NOT_EXIST", message: "Table x does not exist", hint: "check the share, schema and table names"},
		{name: "error_code", status: 403, body: `{"error_code":"PERMISSION_DENIED","message":"no"}`,
			sentinel: ErrForbidden, code: "PERMISSION_DENIED", message: "no", hint: "ask the data provider"},
		{name: "401", status: 401, body: `{"errorCode":"UNAUTHENTICATED","message":"bad token"}`,
			sentinel: ErrUnauthorized, code: "UNAUTHENTICATED", hint: "get a new credential"},
		{name: "400", status: 400, body: `{"errorCode":"INVALID_PARAMETER_VALUE","message":"bad version"}`,
			sentinel: ErrBadRequest, code: "INVALID_PARAMETER_VALUE", hint: "check versions"},
		{name: "429 retry-after", status: 429, body: ``, header: http.Header{"Retry-After": {"7"}}, sentinel: ErrRateLimited, hint: "wait and try again"},
		{name: "500 html", status: 502, body: "<html>\n<body>Bad gateway, see https://proxy/x?token=must-not-leak</body></html>",
			sentinel: ErrServer, message: "Bad gateway", hint: "try again later"},
		{name: "message with signed url", status: 500, body: `{"errorCode":"INTERNAL","message":"failed to sign https://bucket/f.parquet?X-Amz-Signature=must-not-leak now"}`,
			sentinel: ErrServer, code: "INTERNAL", message: "https://bucket/f.parquet?REDACTED now"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := NewAPIError(fakeResponse(tc.status, tc.body, tc.header), now)
			var err error = e
			assert.ErrorIs(t, err, tc.sentinel)
			assert.Equal(t, tc.status, e.Status)
			assert.Equal(t, tc.code, e.Code)
			assert.Contains(t, e.Message, tc.message)
			assert.Contains(t, err.Error(), tc.hint)
			assert.Contains(t, err.Error(), "POST https://h/api/shares/s/schemas/x/tables/t/query")
			assert.NotContains(t, err.Error(), "must-not-leak")
			assert.NotContains(t, err.Error(), "pageToken")
			var ae *APIError
			require.True(t, errors.As(err, &ae))
		})
	}
	e := NewAPIError(fakeResponse(429, "", http.Header{"Retry-After": {"7"}}), now)
	assert.Equal(t, 7*time.Second, e.RetryAfter)
}

// Advice names library operations in braces; Error words them for a library user, and the CLI
// renders them as its commands.
func TestErrorAdvice(t *testing.T) {
	var h interface{ Hint() string }
	e401 := error(&APIError{Status: http.StatusUnauthorized})
	require.True(t, errors.As(e401, &h))
	assert.Contains(t, h.Hint(), "(run {tokenmgr.Activate} with a new activation link")
	assert.Contains(t, e401.Error(), "get a new credential (run tokenmgr.Activate with a new activation link, or ask the data provider for a new token)")

	e404 := error(&APIError{Status: http.StatusNotFound})
	require.True(t, errors.As(e404, &h))
	assert.Equal(t, "check the share, schema and table names ({Client.ListAllTables} shows what the credential can read)", h.Hint())
	assert.Contains(t, e404.Error(), "(Client.ListAllTables shows what the credential can read)")

	assert.Empty(t, (&APIError{Status: http.StatusConflict}).Hint())

	exp := error(&ExpiredError{Expiry: time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)})
	require.True(t, errors.As(exp, &h))
	assert.Equal(t, "get a new credential (run {tokenmgr.Activate} with a new activation link, or ask the data provider for a new token)", h.Hint())
	assert.Equal(t, "the bearer token expired at 2026-01-31T00:00:00Z: get a new credential (run tokenmgr.Activate with a new activation link, or ask the data provider for a new token)", exp.Error())
	for _, err := range []error{e401, e404, exp} {
		assert.NotContains(t, err.Error(), "deltashare ")
	}
}

func TestErrorBodyJSON(t *testing.T) {
	var b ErrorBody
	require.NoError(t, b.UnmarshalJSON([]byte(`{"error_code":"X","message":"m"}`)))
	assert.Equal(t, ErrorBody{ErrorCode: "X", Message: "m"}, b)
	require.NoError(t, b.UnmarshalJSON([]byte(`{"errorCode":"Y"}`)))
	assert.Equal(t, ErrorBody{ErrorCode: "Y"}, b)
}
