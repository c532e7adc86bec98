package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
)

// Kinds of table tokens.
const (
	tokQueryPage   = "qp" // next page of a snapshot or startingVersion query
	tokChangesPage = "cp" // next page of a change data feed request
	tokRefresh     = "rt" // refresh token of a snapshot query
)

// tableToken is the content of the opaque page and refresh tokens of the table endpoints. It
// travels as base64url(JSON) "." base64url(HMAC-SHA256[:16]), so it can be neither forged nor
// moved to another table, another request (Params hashes the request's parameters) or another
// kind of token.
type tableToken struct {
	Kind  string `json:"k"`
	Table string `json:"t"`
	// Version pins the snapshot (snapshot queries), the last version (startingVersion queries
	// and change data feed) of the first page.
	Version int64 `json:"v"`
	// Start is the first version of a change data feed request.
	Start  int64  `json:"s,omitempty"`
	Params string `json:"h"`
	// Offset is the index of the next line after the head (page tokens).
	Offset int `json:"o,omitempty"`
	// Expires is the expiry in Unix seconds (refresh tokens).
	Expires int64 `json:"e,omitempty"`
}

type tableTokens struct{ key []byte }

func (k tableTokens) mac(payload string) []byte {
	m := hmac.New(sha256.New, k.key)
	m.Write([]byte(payload))
	return m.Sum(nil)[:16]
}

func (k tableTokens) encode(t tableToken) string {
	b, _ := json.Marshal(t)
	p := base64.RawURLEncoding.EncodeToString(b)
	return p + "." + base64.RawURLEncoding.EncodeToString(k.mac(p))
}

// decode checks the signature and the kind and table of tok.
func (k tableTokens) decode(tok, kind, tableID string) (tableToken, bool) {
	if len(tok) > 4096 {
		return tableToken{}, false
	}
	p, sig, ok := strings.Cut(tok, ".")
	if !ok {
		return tableToken{}, false
	}
	got, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil || !hmac.Equal(got, k.mac(p)) {
		return tableToken{}, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(p)
	if err != nil {
		return tableToken{}, false
	}
	var t tableToken
	if json.Unmarshal(b, &t) != nil || t.Kind != kind || t.Table != tableID || t.Offset < 0 || t.Version < 0 {
		return tableToken{}, false
	}
	return t, true
}

// paramsHash hashes request parameters (any JSON-encodable value) for binding tokens to them.
func paramsHash(v any) string {
	b, _ := json.Marshal(v)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:16])
}
