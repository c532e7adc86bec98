package protocol

import (
	"strings"
)

// HTTP header names of the protocol.
const (
	HeaderCapabilities = "delta-sharing-capabilities"
	HeaderTableVersion = "Delta-Table-Version"
)

// Capability keys and values of the delta-sharing-capabilities header.
const (
	CapResponseFormat         = "responseformat"
	CapReaderFeatures         = "readerfeatures"
	CapIncludeEndStreamAction = "includeendstreamaction"
)

// Capabilities is what the client announces in the delta-sharing-capabilities header of
// metadata, query and change-data requests.
type Capabilities struct {
	// ResponseFormats lists the accepted response formats in order of preference. With both,
	// the server picks (parquet for plain tables, delta for tables with advanced features).
	// Empty means the header carries no responseformat and only parquet is accepted.
	ResponseFormats []ResponseFormat
	// ReaderFeatures lists the delta reader features the caller can read (lower case), sent
	// when delta is accepted.
	ReaderFeatures []string
	// IncludeEndStreamAction asks the server to end every response with an EndStreamAction,
	// so a truncated response is detected.
	IncludeEndStreamAction bool
}

// DefaultCapabilities accepts both formats (delta first), announces the reader features
// deletionvectors, columnmapping and timestampntz, and asks for EndStreamActions.
func DefaultCapabilities() Capabilities {
	return Capabilities{
		ResponseFormats:        []ResponseFormat{FormatDelta, FormatParquet},
		ReaderFeatures:         []string{"deletionvectors", "columnmapping", "timestampntz"},
		IncludeEndStreamAction: true,
	}
}

// Accepts reports whether responses in format f are acceptable.
func (c Capabilities) Accepts(f ResponseFormat) bool {
	if len(c.ResponseFormats) == 0 {
		return f == FormatParquet
	}
	for _, x := range c.ResponseFormats {
		if strings.EqualFold(string(x), string(f)) {
			return true
		}
	}
	return false
}

// Header returns the header value, e.g.
// "responseformat=delta,parquet;readerfeatures=deletionvectors,columnmapping;includeendstreamaction=true".
func (c Capabilities) Header() string {
	var parts []string
	if len(c.ResponseFormats) > 0 {
		fs := make([]string, len(c.ResponseFormats))
		for i, f := range c.ResponseFormats {
			fs[i] = strings.ToLower(string(f))
		}
		parts = append(parts, CapResponseFormat+"="+strings.Join(fs, ","))
	}
	if c.Accepts(FormatDelta) && len(c.ReaderFeatures) > 0 {
		fs := make([]string, len(c.ReaderFeatures))
		for i, f := range c.ReaderFeatures {
			fs[i] = strings.ToLower(f)
		}
		parts = append(parts, CapReaderFeatures+"="+strings.Join(fs, ","))
	}
	if c.IncludeEndStreamAction {
		parts = append(parts, CapIncludeEndStreamAction+"=true")
	}
	return strings.Join(parts, ";")
}

// ParseCapabilities parses a delta-sharing-capabilities header value into lower-cased keys and
// values: "responseformat=delta;readerfeatures=a,b" gives {"responseformat": ["delta"],
// "readerfeatures": ["a", "b"]}. Servers use it on requests, the client on responses.
func ParseCapabilities(h string) map[string][]string {
	out := map[string][]string{}
	for _, part := range strings.Split(h, ";") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if k == "" {
			continue
		}
		for _, x := range strings.Split(v, ",") {
			if x = strings.ToLower(strings.TrimSpace(x)); x != "" {
				out[k] = append(out[k], x)
			}
		}
	}
	return out
}
