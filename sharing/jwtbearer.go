package sharing

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// This file is the token source of oauth_jwt_bearer_private_key_jwt profiles: a JWT assertion
// signed with the profile's private key, exchanged at the token endpoint with the jwt-bearer
// grant (RFC 7523), as the Python connector does it: header alg and kid; claims aud = the
// issuer, iss = sub = the client id, iat, exp = iat + 2 minutes, a random jti, scope and
// resource (the audience) when given.

// jwtGrantType is the OAuth grant type of a JWT bearer assertion.
const jwtGrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// jwtAssertionLifetime is how long a signed assertion is valid.
const jwtAssertionLifetime = 2 * time.Minute

// maxKeyFileSize bounds a private key file.
const maxKeyFileSize = 1 << 20

// jwtSigner signs JWTs with one key and algorithm.
type jwtSigner struct {
	alg  string
	key  crypto.Signer
	hash crypto.Hash
}

// loadJWTSigner reads a PEM private key (PKCS#1, PKCS#8 or SEC 1) for alg. Errors name the
// file, never its content.
func loadJWTSigner(path, alg string) (*jwtSigner, error) {
	if alg == "" {
		alg = DefaultJWTAlgorithm
	}
	fail := func(format string, args ...any) error {
		return profileErr("private key file %s: "+format, append([]any{path}, args...)...)
	}
	info, err := os.Stat(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fail("%v: check privateKeyFile in the profile's auth.privateKey (a relative path is read from the profile file's folder)", err)
	}
	if info.Size() > maxKeyFileSize {
		return nil, fail("larger than %d bytes: not a private key", maxKeyFileSize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fail("cannot read it")
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fail("not a PEM file (expected -----BEGIN PRIVATE KEY-----)")
	}
	var key any
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "ENCRYPTED PRIVATE KEY":
		return nil, fail("the key is encrypted: give an unencrypted key file (readable only by you)")
	default:
		return nil, fail("a PEM block of type %q is not a private key", block.Type)
	}
	if err != nil {
		return nil, fail("the private key cannot be parsed")
	}
	s := &jwtSigner{alg: alg}
	switch alg {
	case "RS256", "PS256", "ES256":
		s.hash = crypto.SHA256
	case "RS384", "PS384", "ES384":
		s.hash = crypto.SHA384
	case "RS512", "PS512", "ES512":
		s.hash = crypto.SHA512
	default:
		return nil, profileErr("JWT algorithm %q is not supported", alg)
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if alg[0] == 'E' {
			return nil, fail("an RSA key cannot sign %s: use RS256 (or RS384, RS512, PS256, ...)", alg)
		}
		s.key = k
	case *ecdsa.PrivateKey:
		if alg[0] != 'E' {
			return nil, fail("an EC key cannot sign %s: use ES256, ES384 or ES512", alg)
		}
		want := map[string]int{"ES256": 256, "ES384": 384, "ES512": 521}[alg]
		if k.Curve.Params().BitSize != want {
			return nil, fail("%s needs a P-%d key", alg, want)
		}
		s.key = k
	default:
		return nil, fail("the key type %T is not supported (use an RSA or EC key)", key)
	}
	return s, nil
}

// sign returns the compact JWS of header and claims.
func (s *jwtSigner) sign(header, claims map[string]any) (string, error) {
	enc := func(v any) (string, error) {
		b, err := json.Marshal(v)
		if err != nil {
			return "", err
		}
		return base64.RawURLEncoding.EncodeToString(b), nil
	}
	h, err := enc(header)
	if err != nil {
		return "", err
	}
	c, err := enc(claims)
	if err != nil {
		return "", err
	}
	input := h + "." + c
	hh := s.hash.New()
	hh.Write([]byte(input))
	digest := hh.Sum(nil)
	var sig []byte
	switch k := s.key.(type) {
	case *rsa.PrivateKey:
		if s.alg[0] == 'P' {
			sig, err = rsa.SignPSS(rand.Reader, k, s.hash, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sig, err = rsa.SignPKCS1v15(rand.Reader, k, s.hash, digest)
		}
	case *ecdsa.PrivateKey:
		var r, ss *big.Int
		r, ss, err = ecdsa.Sign(rand.Reader, k, digest)
		if err == nil {
			size := (k.Curve.Params().BitSize + 7) / 8
			sig = make([]byte, 2*size)
			r.FillBytes(sig[:size])
			ss.FillBytes(sig[size:])
		}
	}
	if err != nil {
		return "", fmt.Errorf("signing the JWT assertion: %w", err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// jwtBearerSource fetches an access token with a freshly signed assertion on every call (the
// caller caches the token).
type jwtBearerSource struct {
	p      *Profile
	signer *jwtSigner
	hc     *http.Client
	now    func() time.Time
}

func (s *jwtBearerSource) Token() (*oauth2.Token, error) {
	now := s.now()
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return nil, err
	}
	header := map[string]any{"alg": s.signer.alg, "typ": "JWT"}
	if s.p.KeyID != "" {
		header["kid"] = s.p.KeyID
	}
	claims := map[string]any{
		"aud": s.p.Issuer,
		"iss": s.p.ClientID,
		"sub": s.p.ClientID,
		"iat": now.Unix(),
		"exp": now.Add(jwtAssertionLifetime).Unix(),
		"jti": base64.RawURLEncoding.EncodeToString(jti),
	}
	if s.p.Scope != "" {
		claims["scope"] = s.p.Scope
	}
	if s.p.Audience != "" {
		claims["resource"] = s.p.Audience
	}
	assertion, err := s.signer.sign(header, claims)
	if err != nil {
		return nil, err
	}
	cfg := clientcredentials.Config{
		TokenURL:       s.p.TokenEndpoint,
		EndpointParams: url.Values{"grant_type": {jwtGrantType}, "assertion": {assertion}},
		AuthStyle:      oauth2.AuthStyleInParams,
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, s.hc)
	return cfg.Token(ctx)
}
