package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// TableHandlerFunc serves one table endpoint for a resolved table. The server has already
// authenticated the caller, checked the share is visible to it, matched the share, schema and
// table names case-insensitively (404 RESOURCE_DOES_NOT_EXIST otherwise) and bounded the
// request body. Path values other than the names (such as "queryId") are in r.PathValue.
// Handlers write errors with [Server.Error], decode bodies with [DecodeJSONBody], read the
// delta-sharing-capabilities header with [ParseCapabilities], and hand out file URLs made by
// [Server.SignURL].
type TableHandlerFunc func(w http.ResponseWriter, r *http.Request, t *Table)

// TableEndpoints are the table endpoints of the protocol, plugged in with
// [WithTableEndpoints]. A nil field answers 501 NOT_IMPLEMENTED.
type TableEndpoints struct {
	// Version serves GET .../tables/{table}/version and the deprecated HEAD .../tables/{table}.
	Version TableHandlerFunc
	// Metadata serves GET .../tables/{table}/metadata.
	Metadata TableHandlerFunc
	// Query serves POST .../tables/{table}/query.
	Query TableHandlerFunc
	// Changes serves GET .../tables/{table}/changes.
	Changes TableHandlerFunc
	// QueryStatus serves POST .../tables/{table}/queries/{queryId} (asynchronous queries).
	QueryStatus TableHandlerFunc
	// TemporaryCredentials serves POST .../tables/{table}/temporary-table-credentials.
	TemporaryCredentials TableHandlerFunc
}

// tableRoute adapts a TableHandlerFunc: resolve the table, then call it (or the 501 stub).
func (s *Server) tableRoute(h TableHandlerFunc, what string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, err := s.findTable(r)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		if h == nil {
			// TODO(table endpoints): served once the Delta log reader (sharing/server/deltalog)
			// and the client's wire types land; plug them in with WithTableEndpoints.
			s.Error(w, r, Errorf(http.StatusNotImplemented, CodeNotImplemented,
				"%s is not implemented by this server yet", what))
			return
		}
		h(w, r, t)
	}
}

// Error writes err as a protocol error body (see [WriteError]); internal errors are logged
// with the request's method and path, and sent without details.
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	WriteError(w, s.log.With("method", r.Method, "path", logPath(r)), err)
}

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 1 << 20

// DecodeJSONBody decodes the request body as one JSON value into v. Unknown fields are
// accepted (newer clients send more). A body over MaxBodyBytes gives a 413 *Error, a malformed
// body a 400 MALFORMED_REQUEST *Error; an empty body leaves v unchanged.
func DecodeJSONBody(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("unexpected data after the JSON value")
			var mbe *http.MaxBytesError
			if errors.As(terr, &mbe) {
				err = terr
			}
		}
	}
	var mbe *http.MaxBytesError
	switch {
	case err == nil, errors.Is(err, io.EOF):
		return nil
	case errors.As(err, &mbe):
		return maxBodyError(mbe.Limit)
	default:
		return Errorf(http.StatusBadRequest, CodeMalformedRequest, "the request body is not valid JSON: %v", err)
	}
}

// Capabilities is the parsed delta-sharing-capabilities header: lowercased keys to lowercased
// values, for example "responseformat" → ["delta", "parquet"].
type Capabilities map[string][]string

// CapabilitiesHeader is the name of the capabilities header.
const CapabilitiesHeader = "delta-sharing-capabilities"

// ParseCapabilities parses a header value like
// "responseformat=delta,parquet;readerfeatures=deletionvectors". Keys and values are
// case-insensitive, so both are lowercased; empty parts are skipped.
func ParseCapabilities(header string) Capabilities {
	c := Capabilities{}
	for _, part := range strings.Split(header, ";") {
		k, v, _ := strings.Cut(part, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if k == "" {
			continue
		}
		for _, val := range strings.Split(v, ",") {
			if val = strings.ToLower(strings.TrimSpace(val)); val != "" {
				c[k] = append(c[k], val)
			}
		}
		if _, ok := c[k]; !ok {
			c[k] = nil
		}
	}
	return c
}

// Has reports whether key lists value (both compared case-insensitively).
func (c Capabilities) Has(key, value string) bool {
	for _, v := range c[strings.ToLower(key)] {
		if v == strings.ToLower(value) {
			return true
		}
	}
	return false
}
