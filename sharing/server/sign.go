package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// MinSigningKeyLen is the shortest accepted signing key.
const MinSigningKeyLen = 32

// Signer signs and verifies file URLs: an HMAC-SHA256 over the table id, the file path
// relative to the table root, and the expiry (Unix seconds). Safe for concurrent use.
type Signer struct {
	key []byte
}

// NewSigner returns a Signer with a copy of key (at least MinSigningKeyLen bytes).
func NewSigner(key []byte) (*Signer, error) {
	if len(key) < MinSigningKeyLen {
		return nil, errors.New("signing key is too short: use at least 32 random bytes")
	}
	return &Signer{key: append([]byte(nil), key...)}, nil
}

// String never shows the key.
func (s *Signer) String() string { return "server.Signer(key redacted)" }

func (s *Signer) mac(tableID, relPath string, expires int64) []byte {
	m := hmac.New(sha256.New, s.key)
	var n [8]byte
	for _, part := range []string{"deltashare-file-url-v1", tableID, relPath} {
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		m.Write(n[:])
		m.Write([]byte(part))
	}
	binary.BigEndian.PutUint64(n[:], uint64(expires))
	m.Write(n[:])
	return m.Sum(nil)
}

// Sign returns the hex signature of (tableID, relPath, expires truncated to the second).
func (s *Signer) Sign(tableID, relPath string, expires time.Time) string {
	return hex.EncodeToString(s.mac(tableID, relPath, expires.Unix()))
}

// Verify reports whether sig is the signature of (tableID, relPath, expires), comparing in
// constant time. It does not check the expiry against the clock.
func (s *Signer) Verify(tableID, relPath string, expires time.Time, sig string) bool {
	got, err := hex.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	return hmac.Equal(got, s.mac(tableID, relPath, expires.Unix()))
}

// deriveKey derives a purpose-specific key from the master signing key.
func deriveKey(master []byte, purpose string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("deltashare/server/" + purpose))
	return m.Sum(nil)
}

// pageTokens makes and checks the opaque page tokens of the listing endpoints: the offset of
// the next item and an HMAC binding it to the listing (kind, share, schema), so a token can be
// neither forged nor used on another listing.
type pageTokens struct{ key []byte }

func (p pageTokens) mac(listing string, offset int) []byte {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(listing))
	m.Write([]byte{0})
	m.Write([]byte(strconv.Itoa(offset)))
	return m.Sum(nil)[:16]
}

func (p pageTokens) make(listing string, offset int) string {
	return strconv.Itoa(offset) + "." + base64.RawURLEncoding.EncodeToString(p.mac(listing, offset))
}

// parse returns the offset of a page token made for listing.
func (p pageTokens) parse(listing, token string) (int, bool) {
	off, sig, ok := strings.Cut(token, ".")
	if !ok || len(off) > 9 {
		return 0, false
	}
	n, err := strconv.Atoi(off)
	if err != nil || n < 0 || strconv.Itoa(n) != off {
		return 0, false
	}
	got, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil {
		return 0, false
	}
	return n, hmac.Equal(got, p.mac(listing, n))
}
