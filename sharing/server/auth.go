package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// tokenStore holds the accepted bearer tokens as SHA-256 digests. Lookups compare the digest
// of the presented token with every entry in constant time, so neither the length nor the
// content of a stored token leaks through timing. Safe for concurrent use.
type tokenStore struct {
	mu      sync.RWMutex
	entries []tokenEntry
}

type tokenEntry struct {
	digest  [sha256.Size]byte
	name    string
	expires time.Time       // zero: never
	shares  map[string]bool // folded share names; nil: every share
}

// principal is the authenticated caller, stored in the request context.
type principal struct {
	name    string
	expires time.Time
	shares  map[string]bool
}

func (p *principal) canSee(share string) bool {
	return p == nil || p.shares == nil || p.shares[foldName(share)]
}

type principalKey struct{}

func principalFrom(ctx context.Context) *principal {
	p, _ := ctx.Value(principalKey{}).(*principal)
	return p
}

func (ts *tokenStore) add(t Token) error {
	if err := validateTokenValue(t.Value); err != nil {
		return fmt.Errorf("token %q: %w", t.Name, err)
	}
	e := tokenEntry{digest: sha256.Sum256([]byte(t.Value)), name: t.Name}
	if t.Expires != nil {
		e.expires = *t.Expires
	}
	if len(t.Shares) > 0 {
		e.shares = map[string]bool{}
		for _, s := range t.Shares {
			e.shares[foldName(s)] = true
		}
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, o := range ts.entries {
		if subtle.ConstantTimeCompare(o.digest[:], e.digest[:]) == 1 {
			return fmt.Errorf("token %q: the same token value is already accepted (as %q)", t.Name, o.name)
		}
	}
	ts.entries = append(ts.entries, e)
	return nil
}

// lookup finds the entry of a presented token value; it looks at every entry whatever matches.
func (ts *tokenStore) lookup(value string) (tokenEntry, bool) {
	d := sha256.Sum256([]byte(value))
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	var found tokenEntry
	ok := 0
	for i := range ts.entries {
		m := subtle.ConstantTimeCompare(ts.entries[i].digest[:], d[:])
		if m == 1 {
			found = ts.entries[i]
		}
		ok |= m
	}
	return found, ok == 1
}

// AddToken makes the server accept another bearer token from now on (for example one handed
// out by other means than activation). Safe for concurrent use with serving.
func (s *Server) AddToken(t Token) error {
	if t.Name == "" {
		t.Name = "runtime-token"
	}
	for _, sh := range t.Shares {
		if s.cat.share(sh) == nil {
			return fmt.Errorf("token %q names share %q, which is not configured", t.Name, sh)
		}
	}
	return s.tokens.add(t)
}

// tokenExpiry returns the expiry of a token value if the server knows it.
func (s *Server) tokenExpiry(value string) (time.Time, bool) {
	e, ok := s.tokens.lookup(value)
	return e.expires, ok
}

// unauthenticated answers 401 for a token the server does not accept. msg says what is wrong and
// gives no advice: a client adds its own next step for a 401 (ours names its activate command),
// and advice here too would reach the user twice.
func unauthenticated(w http.ResponseWriter, r *http.Request, desc, msg string) {
	skipBody(w, r)
	w.Header().Set("WWW-Authenticate", `Bearer realm="delta-sharing", error="invalid_token", error_description="`+desc+`"`)
	WriteError(w, nil, Errorf(http.StatusUnauthorized, CodeUnauthenticated, "%s", msg))
}

// authenticate requires a valid bearer token (unless the server runs with NoAuth) and puts
// the caller in the request context. It never logs or echoes the token.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.NoAuth {
			next.ServeHTTP(w, r)
			return
		}
		h := r.Header.Get("Authorization")
		scheme, tok, ok := strings.Cut(h, " ")
		tok = strings.TrimSpace(tok)
		if h == "" || !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="delta-sharing"`)
			skipBody(w, r)
			WriteError(w, nil, Errorf(http.StatusUnauthorized, CodeUnauthenticated,
				"missing bearer token: send the header \"Authorization: Bearer <token>\" with the token of your profile file"))
			return
		}
		e, found := s.tokens.lookup(tok)
		if !found {
			unauthenticated(w, r, "invalid token", "invalid bearer token: the server does not know it")
			return
		}
		if !e.expires.IsZero() && !s.now().Before(e.expires) {
			unauthenticated(w, r, "token expired", fmt.Sprintf("the bearer token expired at %s", e.expires.UTC().Format(time.RFC3339)))
			return
		}
		p := &principal{name: e.name, expires: e.expires, shares: e.shares}
		if rl := requestLogFrom(r.Context()); rl != nil {
			rl.principal = e.name
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}
