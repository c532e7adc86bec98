package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// Error codes of the protocol's error body {"errorCode": ..., "message": ...}. The first five are
// the ones the reference server sends; the others name the statuses it does not use.
const (
	CodeInvalidParameterValue = "INVALID_PARAMETER_VALUE"  // 400
	CodeMalformedRequest      = "MALFORMED_REQUEST"        // 400
	CodeUnsupportedOperation  = "UNSUPPORTED_OPERATION"    // 400
	CodeResourceDoesNotExist  = "RESOURCE_DOES_NOT_EXIST"  // 404
	CodeInternalError         = "INTERNAL_ERROR"           // 500
	CodeUnauthenticated       = "UNAUTHENTICATED"          // 401
	CodePermissionDenied      = "PERMISSION_DENIED"        // 403
	CodeEndpointNotFound      = "ENDPOINT_NOT_FOUND"       // 404 for an unknown path
	CodeMethodNotAllowed      = "METHOD_NOT_ALLOWED"       // 405
	CodeRequestTimeout        = "REQUEST_TIMEOUT"          // 408
	CodeRequestTooLarge       = "REQUEST_ENTITY_TOO_LARGE" // 413
	CodeNotImplemented        = "NOT_IMPLEMENTED"          // 501
)

// Error is a protocol error: an HTTP status, an error code and a message safe to show to the
// client. Handlers return or write it; any other error becomes a 500 INTERNAL_ERROR whose
// details are logged but never sent.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"errorCode"`
	Message string `json:"message"`
	// cause, when set, is logged at error level by WriteError and never sent.
	cause error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

// Errorf builds a protocol error with a formatted message.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Common protocol errors.
func errInvalidParam(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, CodeInvalidParameterValue, format, args...)
}

func errNotFound(format string, args ...any) *Error {
	return Errorf(http.StatusNotFound, CodeResourceDoesNotExist, format, args...)
}

func errForbidden(format string, args ...any) *Error {
	return Errorf(http.StatusForbidden, CodePermissionDenied, format, args...)
}

// maxBodyError is the 413 sent for a request body over the limit.
func maxBodyError(limit int64) *Error {
	return Errorf(http.StatusRequestEntityTooLarge, CodeRequestTooLarge,
		"request body is larger than %d bytes", limit)
}

// WriteError writes err as a protocol error body. A *Error is sent as is; an
// *http.MaxBytesError becomes 413; anything else becomes 500 INTERNAL_ERROR with an empty
// message (the details go to logger, if not nil, never to the client).
func WriteError(w http.ResponseWriter, logger *slog.Logger, err error) {
	var pe *Error
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &pe):
		if pe.cause != nil && logger != nil {
			logger.Error("cannot serve the request", "status", pe.Status, "err", pe.cause)
		}
	case errors.As(err, &mbe):
		pe = maxBodyError(mbe.Limit)
	default:
		if logger != nil {
			logger.Error("internal error", "err", err)
		}
		pe = &Error{Status: http.StatusInternalServerError, Code: CodeInternalError,
			Message: "internal server error; see the server log"}
	}
	if len(pe.Message) > maxMessageLen {
		// Never echo a huge name back (a name is cut where it is quoted; this is the backstop).
		cp := *pe
		cp.Message = cut(cp.Message, maxMessageLen)
		pe = &cp
	}
	writeJSON(w, pe.Status, pe)
}

// maxMessageLen bounds the message of an error body.
const maxMessageLen = 2048

// maxQuotedName bounds a name (from the request) quoted in an error message.
const maxQuotedName = 128

// writeJSON writes v as a JSON body with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil { // only our own types are marshalled: a bug
		status = http.StatusInternalServerError
		body = []byte(`{"errorCode":"INTERNAL_ERROR","message":"internal server error; see the server log"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// databricksError is the error body of the Databricks REST API (used by the activation
// endpoints): {"error_code": ..., "message": ...}.
type databricksError struct {
	Code    string `json:"error_code"`
	Message string `json:"message"`
}

func writeDatabricksError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, databricksError{Code: code, Message: msg})
}
