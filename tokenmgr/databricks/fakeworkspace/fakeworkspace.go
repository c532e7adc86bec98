package fakeworkspace

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultUser is the user that AddToken's tokens belong to. It is a workspace admin.
const DefaultUser = "user@example.com"

// Paths served by the fake.
const (
	PathTokenCreate        = "/api/2.0/token/create"
	PathTokenList          = "/api/2.0/token/list"
	PathTokenDelete        = "/api/2.0/token/delete"
	PathTokenManagement    = "/api/2.0/token-management/tokens"
	PathOnBehalfOf         = "/api/2.0/token-management/on-behalf-of/tokens"
	PathMe                 = "/api/2.0/preview/scim/v2/Me"
	PathRecipients         = "/api/2.1/unity-catalog/recipients"
	PathActivationInfo     = "/api/2.1/unity-catalog/public/data_sharing_activation_info/"
	PathActivationRetrieve = "/api/2.1/unity-catalog/public/data_sharing_activation/"
	PathWellKnown          = "/.well-known/databricks-config"
	// ActivationPage is the path of activation links: URL()+ActivationPage+"?"+code.
	ActivationPage = "/delta_sharing/retrieve_config.html"
)

// Request is a request the fake received, with the response it sent.
type Request struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
	// Status and ResponseBody are what the fake answered.
	Status       int
	ResponseBody []byte
}

// Fault makes requests fail. Method "" matches any method; a Path ending in "*" is a prefix.
type Fault struct {
	Method string
	Path   string
	// Status is the HTTP status to answer with.
	Status int
	// Body is the response body; empty gives a Databricks-style JSON error for Status.
	Body string
	// Skip lets this many matching requests through before the fault starts.
	Skip int
	// Times is how many matching requests fail (0 means 1).
	Times int
	// AfterHandling handles the request first (a token is created, ...) and then answers with
	// the fault: an answer lost on the way back.
	AfterHandling bool
}

type principal struct {
	id          int64
	userName    string
	displayName string
	admin       bool
	sp          bool
	active      bool
	// secret is the principal's OAuth secret (oauth-m2m) or Azure client secret ("" if none).
	secret string
}

type token struct {
	id        string
	value     string
	comment   string
	owner     *principal
	createdBy *principal
	created   time.Time
	expiry    time.Time // zero: never
	revoked   bool
	lastUsed  time.Time // zero: never used
}

type recipient struct {
	name      string
	comment   string
	owner     string
	id        string
	authType  string
	created   time.Time
	updated   time.Time
	createdBy string
	tokens    []*recipientToken
}

type recipientToken struct {
	id        string
	code      string
	bearer    string
	created   time.Time
	createdBy string
	expiry    time.Time // zero: never
	used      bool
	recipient *recipient
}

// Workspace is a running fake workspace.
type Workspace struct {
	srv *httptest.Server

	mu                     sync.Mutex
	now                    func() time.Time
	nextUserID             int64
	users                  map[string]*principal
	tokens                 map[string]*token // by ID
	recipients             map[string]*recipient
	codes                  map[string]*recipientToken
	faults                 []*Fault
	requests               []Request
	usedStatus             int
	usedBody               string
	recipientTokenLifetime time.Duration
	metastoreID            string
	// tokenACL is the token permissions list (authorization/tokens), beyond the admins
	// group's CAN_MANAGE.
	tokenACL       []aclEntry
	tokensDisabled bool
	scimPageSize   int
	// bearers are the OAuth access tokens (Databricks M2M and Azure Entra ID) the fake issued.
	bearers map[string]*bearer
}

// New starts a fake workspace that is closed when the test ends. DefaultUser exists and is an
// admin; it has no tokens yet (see AddToken, MintToken).
func New(t testing.TB) *Workspace {
	t.Helper()
	w := &Workspace{
		now:                    time.Now,
		nextUserID:             1000,
		users:                  map[string]*principal{},
		tokens:                 map[string]*token{},
		recipients:             map[string]*recipient{},
		codes:                  map[string]*recipientToken{},
		recipientTokenLifetime: 90 * 24 * time.Hour,
		metastoreID:            "11111111-2222-3333-4444-555555555555",
		scimPageSize:           100,
		bearers:                map[string]*bearer{},
	}
	w.AddUser(DefaultUser, true)
	w.srv = httptest.NewServer(w.handler())
	t.Cleanup(w.srv.Close)
	return w
}

// URL is the workspace host, e.g. http://127.0.0.1:PORT.
func (w *Workspace) URL() string { return w.srv.URL }

// Close stops the server (New already arranges this at the end of the test).
func (w *Workspace) Close() { w.srv.Close() }

// SetClock replaces the fake's clock (creation times, expiry checks).
func (w *Workspace) SetClock(now func() time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.now = now
}

// SetRecipientTokenLifetime sets the lifetime of recipient tokens (0: never expire).
func (w *Workspace) SetRecipientTokenLifetime(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.recipientTokenLifetime = d
}

// SetActivationUsedError sets the answer to retrieving an already used activation link. The
// default is HTTP 404 with error_code RESOURCE_DOES_NOT_EXIST and a message naming the link.
func (w *Workspace) SetActivationUsedError(status int, body string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.usedStatus, w.usedBody = status, body
}

// AddUser adds a user (admin or not) and returns its ID.
func (w *Workspace) AddUser(userName string, admin bool) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.addPrincipal(userName, userName, admin, false).id
}

// AddServicePrincipal adds a service principal (its user name is the application ID) and
// returns its ID.
func (w *Workspace) AddServicePrincipal(applicationID, displayName string) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.addPrincipal(applicationID, displayName, false, true).id
}

func (w *Workspace) addPrincipal(userName, displayName string, admin, sp bool) *principal {
	if p, ok := w.users[userName]; ok {
		p.admin = admin
		return p
	}
	w.nextUserID++
	p := &principal{id: w.nextUserID, userName: userName, displayName: displayName, admin: admin, sp: sp, active: true}
	w.users[userName] = p
	return p
}

// TokenSpec describes a token to add with AddTokenSpec.
type TokenSpec struct {
	// Value is the token; empty mints a random dapi... value.
	Value string
	// Owner is the user name (default DefaultUser; added as a non-admin user if unknown).
	Owner   string
	Comment string
	// Created defaults to now; Lifetime 0 means no expiry.
	Created  time.Time
	Lifetime time.Duration
	// LastUsed is when the token was last used (zero: never).
	LastUsed time.Time
	// CreatedBy is the user name of the creator (default: the owner), e.g. the admin who
	// created a token on behalf of a service principal.
	CreatedBy string
}

// AddToken adds a valid, non-expiring token of DefaultUser and returns its ID.
func (w *Workspace) AddToken(value string) string {
	id, _ := w.AddTokenSpec(TokenSpec{Value: value})
	return id
}

// MintToken creates a token for owner (DefaultUser if empty) and returns its ID and value.
func (w *Workspace) MintToken(owner, comment string, lifetime time.Duration) (id, value string) {
	return w.AddTokenSpec(TokenSpec{Owner: owner, Comment: comment, Lifetime: lifetime})
}

// AddTokenSpec adds a token and returns its ID and value.
func (w *Workspace) AddTokenSpec(spec TokenSpec) (id, value string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	owner := spec.Owner
	if owner == "" {
		owner = DefaultUser
	}
	p := w.users[owner]
	if p == nil {
		p = w.addPrincipal(owner, owner, false, false)
	}
	created := spec.Created
	if created.IsZero() {
		created = w.now()
	}
	by := p
	if spec.CreatedBy != "" {
		if by = w.users[spec.CreatedBy]; by == nil {
			by = w.addPrincipal(spec.CreatedBy, spec.CreatedBy, false, false)
		}
	}
	t := w.newToken(p, by, spec.Comment, created, spec.Lifetime)
	if spec.Value != "" {
		t.value = spec.Value
	}
	t.lastUsed = spec.LastUsed
	return t.id, t.value
}

func (w *Workspace) newToken(owner, createdBy *principal, comment string, created time.Time, lifetime time.Duration) *token {
	t := &token{
		id:        randHex(32),
		value:     "dapi" + randHex(16),
		comment:   comment,
		owner:     owner,
		createdBy: createdBy,
		created:   created.Truncate(time.Millisecond),
	}
	if lifetime > 0 {
		t.expiry = t.created.Add(lifetime)
	}
	w.tokens[t.id] = t
	return t
}

// TokenValid reports whether value is a token the fake accepts now.
func (w *Workspace) TokenValid(value string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.tokenByValue(value) != nil
}

// TokenExists reports whether the token ID exists and is not revoked.
func (w *Workspace) TokenExists(id string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.tokens[id]
	return t != nil && !t.revoked
}

// TokenIDs lists the IDs of owner's live tokens (DefaultUser if empty), sorted.
func (w *Workspace) TokenIDs(owner string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if owner == "" {
		owner = DefaultUser
	}
	var out []string
	for _, t := range w.tokens {
		if !t.revoked && t.owner.userName == owner {
			out = append(out, t.id)
		}
	}
	sort.Strings(out)
	return out
}

// tokenByValue returns the live token with this value, or nil. Callers hold mu.
func (w *Workspace) tokenByValue(value string) *token {
	if value == "" {
		return nil
	}
	for _, t := range w.tokens {
		if t.value == value && !t.revoked && (t.expiry.IsZero() || w.now().Before(t.expiry)) {
			return t
		}
	}
	return nil
}

// AddRecipient creates a TOKEN recipient owned by DefaultUser directly (as if the provider
// had run CREATE RECIPIENT) and returns its activation link.
func (w *Workspace) AddRecipient(name string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.newRecipient(name, "", DefaultUser)
	return w.link(r.tokens[0].code)
}

// ActivationLink returns the link of the recipient's newest token not yet downloaded ("" if
// none).
func (w *Workspace) ActivationLink(name string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.recipients[strings.ToLower(name)]
	if r == nil {
		return ""
	}
	for i := len(r.tokens) - 1; i >= 0; i-- {
		if !r.tokens[i].used {
			return w.link(r.tokens[i].code)
		}
	}
	return ""
}

// RecipientBearerToken returns the bearer token of the recipient's newest token ("" if none).
func (w *Workspace) RecipientBearerToken(name string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.recipients[strings.ToLower(name)]
	if r == nil || len(r.tokens) == 0 {
		return ""
	}
	return r.tokens[len(r.tokens)-1].bearer
}

// SharingEndpoint is the Delta Sharing endpoint handed out in activated profiles.
func (w *Workspace) SharingEndpoint() string {
	return w.URL() + "/api/2.0/delta-sharing/metastores/" + w.metastoreID
}

func (w *Workspace) link(code string) string { return w.URL() + ActivationPage + "?" + code }

func (w *Workspace) newRecipient(name, comment, owner string) *recipient {
	now := w.now().Truncate(time.Millisecond)
	r := &recipient{
		name: name, comment: comment, owner: owner, createdBy: owner,
		id: randUUID(), authType: "TOKEN", created: now, updated: now,
	}
	w.addRecipientToken(r, owner)
	w.recipients[strings.ToLower(name)] = r
	return r
}

func (w *Workspace) addRecipientToken(r *recipient, by string) {
	now := w.now().Truncate(time.Millisecond)
	rt := &recipientToken{
		id: randUUID(), code: randHex(20), bearer: randHex(32),
		created: now, createdBy: by, recipient: r,
	}
	if w.recipientTokenLifetime > 0 {
		rt.expiry = now.Add(w.recipientTokenLifetime)
	}
	r.tokens = append(r.tokens, rt)
	w.codes[rt.code] = rt
}

// InjectFault adds a fault rule; rules are checked in order before authentication.
func (w *Workspace) InjectFault(f Fault) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if f.Times <= 0 {
		f.Times = 1
	}
	w.faults = append(w.faults, &f)
}

// FailNext makes the next n requests to path (any method if method is "") fail with status.
func (w *Workspace) FailNext(method, path string, n, status int) {
	w.InjectFault(Fault{Method: method, Path: path, Status: status, Times: n})
}

// Requests returns every request received so far.
func (w *Workspace) Requests() []Request {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Request(nil), w.requests...)
}

// RequestsTo returns the requests whose path starts with prefix.
func (w *Workspace) RequestsTo(prefix string) []Request {
	var out []Request
	for _, r := range w.Requests() {
		if strings.HasPrefix(r.Path, prefix) {
			out = append(out, r)
		}
	}
	return out
}

// ResetRequests forgets the recorded requests.
func (w *Workspace) ResetRequests() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.requests = nil
}

// IsolateEnv keeps the Databricks SDK away from the host: HOME becomes a fresh temporary
// directory, DATABRICKS_CONFIG_FILE points at a missing file inside it, and every
// DATABRICKS_*, ARM_*, GOOGLE_CREDENTIALS and ACTIONS_ID_TOKEN_* variable is unset for the
// test. It returns the temporary HOME. It cannot be used in parallel tests.
func IsolateEnv(t testing.TB) string {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "DATABRICKS_") || strings.HasPrefix(k, "ARM_") ||
			strings.HasPrefix(k, "ACTIONS_ID_TOKEN_") || k == "GOOGLE_CREDENTIALS" ||
			k == "SYSTEM_ACCESSTOKEN" {
			t.Setenv(k, "")
			if err := os.Unsetenv(k); err != nil {
				t.Fatalf("unset %s: %v", k, err)
			}
		}
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	t.Setenv("DATABRICKS_CONFIG_FILE", filepath.Join(home, "missing.databrickscfg"))
	return home
}

// NewIsolated isolates the environment from the host (IsolateEnv) and starts a fake workspace
// (New). It cannot be used in parallel tests.
func NewIsolated(t testing.TB) *Workspace {
	t.Helper()
	IsolateEnv(t)
	return New(t)
}

// ---- HTTP handling ----

type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

func (w *Workspace) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathWellKnown, w.wellKnown)
	mux.HandleFunc("POST "+PathTokenCreate, w.authed(w.tokenCreate))
	mux.HandleFunc("GET "+PathTokenList, w.authed(w.tokenList))
	mux.HandleFunc("POST "+PathTokenDelete, w.authed(w.tokenDelete))
	mux.HandleFunc("GET "+PathTokenManagement, w.authed(w.admin(w.tmList)))
	mux.HandleFunc("GET "+PathTokenManagement+"/{id}", w.authed(w.admin(w.tmGet)))
	mux.HandleFunc("DELETE "+PathTokenManagement+"/{id}", w.authed(w.admin(w.tmDelete)))
	mux.HandleFunc("POST "+PathOnBehalfOf, w.authed(w.admin(w.oboCreate)))
	mux.HandleFunc("GET "+PathMe, w.authed(w.me))
	w.principalRoutes(mux)
	mux.HandleFunc("POST "+PathRecipients, w.authed(w.recipientCreate))
	mux.HandleFunc("GET "+PathRecipients, w.authed(w.recipientList))
	mux.HandleFunc("GET "+PathRecipients+"/{name}", w.authed(w.recipientGet))
	mux.HandleFunc("DELETE "+PathRecipients+"/{name}", w.authed(w.recipientDelete))
	mux.HandleFunc("POST "+PathRecipients+"/{name}/rotate-token", w.authed(w.recipientRotate))
	mux.HandleFunc("GET "+PathActivationInfo+"{code}", w.activationInfo)
	mux.HandleFunc("GET "+PathActivationRetrieve+"{code}", w.activationRetrieve)
	mux.HandleFunc("/", func(rw http.ResponseWriter, r *http.Request) {
		writeError(rw, http.StatusNotFound, "ENDPOINT_NOT_FOUND", fmt.Sprintf("No API found for '%s %s'", r.Method, r.URL.Path))
	})
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &recorder{ResponseWriter: rw}
		if f := w.takeFault(r); f != nil {
			b := f.Body
			if b == "" {
				b = errorBody(f.Status, codeForStatus(f.Status), "injected fault")
			}
			if f.AfterHandling {
				mux.ServeHTTP(httptest.NewRecorder(), r)
			}
			rec.Header().Set("Content-Type", "application/json")
			rec.WriteHeader(f.Status)
			_, _ = io.WriteString(rec, b)
		} else {
			mux.ServeHTTP(rec, r)
		}
		w.mu.Lock()
		w.requests = append(w.requests, Request{
			Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
			Header: r.Header.Clone(), Body: body,
			Status: rec.status, ResponseBody: rec.body.Bytes(),
		})
		w.mu.Unlock()
	})
}

func (w *Workspace) takeFault(r *http.Request) *Fault {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, f := range w.faults {
		if f.Method != "" && f.Method != r.Method {
			continue
		}
		if p, ok := strings.CutSuffix(f.Path, "*"); ok {
			if !strings.HasPrefix(r.URL.Path, p) {
				continue
			}
		} else if f.Path != r.URL.Path {
			continue
		}
		if f.Skip > 0 {
			f.Skip--
			return nil
		}
		f.Times--
		if f.Times <= 0 {
			w.faults = append(w.faults[:i], w.faults[i+1:]...)
		}
		return f
	}
	return nil
}

func codeForStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "INVALID_PARAMETER_VALUE"
	case http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case http.StatusForbidden:
		return "PERMISSION_DENIED"
	case http.StatusNotFound:
		return "RESOURCE_DOES_NOT_EXIST"
	case http.StatusConflict:
		return "RESOURCE_ALREADY_EXISTS"
	case http.StatusTooManyRequests:
		return "REQUEST_LIMIT_EXCEEDED"
	case http.StatusServiceUnavailable:
		return "TEMPORARILY_UNAVAILABLE"
	default:
		return "INTERNAL_ERROR"
	}
}

func errorBody(_ int, code, message string) string {
	b, _ := json.Marshal(map[string]string{"error_code": code, "message": message})
	return string(b)
}

func writeError(rw http.ResponseWriter, status int, code, message string) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	_, _ = io.WriteString(rw, errorBody(status, code, message))
}

func writeJSON(rw http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(rw, http.StatusInternalServerError, "INTERNAL_ERROR", err.Error())
		return
	}
	rw.Header().Set("Content-Type", "application/json")
	_, _ = rw.Write(b)
}

type authedHandler func(rw http.ResponseWriter, r *http.Request, caller *principal)

// authed enforces bearer authentication like a workspace does.
func (w *Workspace) authed(h authedHandler) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		value, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok || value == "" {
			rw.Header().Set("Content-Type", "application/json")
			rw.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(rw, `{"error_code":401,"message":"Credential was not sent or was of an unsupported type for this API."}`)
			return
		}
		w.mu.Lock()
		t := w.tokenByValue(value)
		var caller *principal
		if t != nil {
			t.lastUsed = w.now()
			caller = t.owner
		} else if b := w.bearers[value]; b != nil && b.resource == resourceDatabricks && w.now().Before(b.expiry) {
			caller = b.owner
		}
		w.mu.Unlock()
		if caller == nil {
			rw.Header().Set("Content-Type", "application/json")
			rw.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(rw, `{"error_code":401,"message":"Invalid access token."}`)
			return
		}
		h(rw, r, caller)
	}
}

// admin restricts an endpoint to workspace admins.
func (w *Workspace) admin(h authedHandler) authedHandler {
	return func(rw http.ResponseWriter, r *http.Request, caller *principal) {
		if !caller.admin {
			writeError(rw, http.StatusForbidden, "PERMISSION_DENIED", "Only Admins can access token management APIs.")
			return
		}
		h(rw, r, caller)
	}
}

func (w *Workspace) wellKnown(rw http.ResponseWriter, _ *http.Request) {
	writeJSON(rw, map[string]any{
		"oidc_endpoint": w.URL() + "/oidc",
		"host_type":     "workspace",
	})
}

// ---- tokens ----

type publicTokenInfo struct {
	TokenID      string `json:"token_id"`
	CreationTime int64  `json:"creation_time"`
	ExpiryTime   int64  `json:"expiry_time"`
	Comment      string `json:"comment,omitempty"`
}

type tokenInfo struct {
	TokenID           string `json:"token_id"`
	CreationTime      int64  `json:"creation_time"`
	ExpiryTime        int64  `json:"expiry_time"`
	Comment           string `json:"comment,omitempty"`
	CreatedByID       int64  `json:"created_by_id"`
	CreatedByUsername string `json:"created_by_username"`
	OwnerID           int64  `json:"owner_id"`
	WorkspaceID       int64  `json:"workspace_id"`
	LastUsedDay       int64  `json:"last_used_day,omitempty"`
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return -1
	}
	return t.UnixMilli()
}

func (t *token) public() publicTokenInfo {
	return publicTokenInfo{TokenID: t.id, CreationTime: ms(t.created), ExpiryTime: ms(t.expiry), Comment: t.comment}
}

func (t *token) full() tokenInfo {
	info := tokenInfo{
		TokenID: t.id, CreationTime: ms(t.created), ExpiryTime: ms(t.expiry), Comment: t.comment,
		CreatedByID: t.createdBy.id, CreatedByUsername: t.createdBy.userName, OwnerID: t.owner.id,
		WorkspaceID: 1234567890123456,
	}
	if !t.lastUsed.IsZero() {
		// The workspace reports the day (UTC midnight) of the last use.
		info.LastUsedDay = t.lastUsed.UTC().Truncate(24 * time.Hour).UnixMilli()
	}
	return info
}

func decode(rw http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		writeError(rw, http.StatusBadRequest, "MALFORMED_REQUEST", "Could not parse request object: "+err.Error())
		return false
	}
	return true
}

func (w *Workspace) tokenCreate(rw http.ResponseWriter, r *http.Request, caller *principal) {
	var req struct {
		Comment         string `json:"comment"`
		LifetimeSeconds int64  `json:"lifetime_seconds"`
	}
	if !decode(rw, r, &req) {
		return
	}
	if req.LifetimeSeconds < 0 {
		writeError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "lifetime_seconds must be positive")
		return
	}
	w.mu.Lock()
	if msg := w.tokenUseDenied(caller); msg != "" {
		w.mu.Unlock()
		writeError(rw, http.StatusForbidden, "PERMISSION_DENIED", msg)
		return
	}
	t := w.newToken(caller, caller, req.Comment, w.now(), time.Duration(req.LifetimeSeconds)*time.Second)
	w.mu.Unlock()
	writeJSON(rw, map[string]any{"token_value": t.value, "token_info": t.public()})
}

func (w *Workspace) sortedTokens(keep func(*token) bool) []*token {
	var out []*token
	for _, t := range w.tokens {
		if !t.revoked && keep(t) {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].created.Equal(out[j].created) {
			return out[i].created.Before(out[j].created)
		}
		return out[i].id < out[j].id
	})
	return out
}

// writeTokenInfos answers with the live tokens keep selects, each rendered by info.
func writeTokenInfos[T any](w *Workspace, rw http.ResponseWriter, keep func(*token) bool, info func(*token) T) {
	w.mu.Lock()
	infos := []T{}
	for _, t := range w.sortedTokens(keep) {
		infos = append(infos, info(t))
	}
	w.mu.Unlock()
	writeJSON(rw, map[string]any{"token_infos": infos})
}

// withLiveToken runs act with w.mu held on the token id when it is not revoked and keep (if
// any) accepts it; otherwise it answers 404.
func (w *Workspace) withLiveToken(rw http.ResponseWriter, id string, keep func(*token) bool, act func(*token)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.tokens[id]
	if t == nil || t.revoked || (keep != nil && !keep(t)) {
		writeError(rw, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("Token with ID %s does not exist.", id))
		return
	}
	act(t)
}

// revoke is the act of a token delete: the token stops working and the answer is empty.
func revoke(rw http.ResponseWriter) func(*token) {
	return func(t *token) {
		t.revoked = true
		writeJSON(rw, map[string]any{})
	}
}

func (w *Workspace) tokenList(rw http.ResponseWriter, _ *http.Request, caller *principal) {
	writeTokenInfos(w, rw, func(t *token) bool { return t.owner == caller }, (*token).public)
}

func (w *Workspace) tokenDelete(rw http.ResponseWriter, r *http.Request, caller *principal) {
	var req struct {
		TokenID string `json:"token_id"`
	}
	if !decode(rw, r, &req) {
		return
	}
	w.withLiveToken(rw, req.TokenID, func(t *token) bool { return t.owner == caller }, revoke(rw))
}

func (w *Workspace) tmList(rw http.ResponseWriter, r *http.Request, _ *principal) {
	byName := r.URL.Query().Get("created_by_username")
	byID, _ := strconv.ParseInt(r.URL.Query().Get("created_by_id"), 10, 64)
	writeTokenInfos(w, rw, func(t *token) bool {
		return (byName == "" || t.createdBy.userName == byName) && (byID == 0 || t.createdBy.id == byID)
	}, (*token).full)
}

func (w *Workspace) tmGet(rw http.ResponseWriter, r *http.Request, _ *principal) {
	w.withLiveToken(rw, r.PathValue("id"), nil, func(t *token) {
		writeJSON(rw, map[string]any{"token_info": t.full()})
	})
}

func (w *Workspace) tmDelete(rw http.ResponseWriter, r *http.Request, _ *principal) {
	w.withLiveToken(rw, r.PathValue("id"), nil, revoke(rw))
}

func (w *Workspace) oboCreate(rw http.ResponseWriter, r *http.Request, caller *principal) {
	var req struct {
		ApplicationID   string `json:"application_id"`
		Comment         string `json:"comment"`
		LifetimeSeconds int64  `json:"lifetime_seconds"`
	}
	if !decode(rw, r, &req) {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	sp := w.users[req.ApplicationID]
	if sp == nil || !sp.sp {
		writeError(rw, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("Service principal with application ID %s does not exist.", req.ApplicationID))
		return
	}
	if req.LifetimeSeconds < 0 {
		writeError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "lifetime_seconds must be positive")
		return
	}
	if w.tokensDisabled {
		writeError(rw, http.StatusForbidden, "PERMISSION_DENIED", "Personal access tokens are disabled for this workspace.")
		return
	}
	if !w.canUseTokens(sp) {
		writeError(rw, http.StatusForbidden, "PERMISSION_DENIED", "On-behalf-of token creation for service principals is not enabled for this workspace")
		return
	}
	t := w.newToken(sp, caller, req.Comment, w.now(), time.Duration(req.LifetimeSeconds)*time.Second)
	writeJSON(rw, map[string]any{"token_value": t.value, "token_info": t.full()})
}

func (w *Workspace) me(rw http.ResponseWriter, _ *http.Request, caller *principal) {
	writeJSON(rw, map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"id":          strconv.FormatInt(caller.id, 10),
		"userName":    caller.userName,
		"displayName": caller.displayName,
		"active":      true,
		"emails":      []map[string]any{{"value": caller.userName, "type": "work", "primary": true}},
	})
}

// ---- recipients ----

type recipientTokenJSON struct {
	ID             string `json:"id"`
	ActivationURL  string `json:"activation_url,omitempty"`
	CreatedAt      int64  `json:"created_at"`
	CreatedBy      string `json:"created_by"`
	ExpirationTime int64  `json:"expiration_time,omitempty"`
	UpdatedAt      int64  `json:"updated_at"`
	UpdatedBy      string `json:"updated_by"`
}

type recipientJSON struct {
	Name               string               `json:"name"`
	Comment            string               `json:"comment,omitempty"`
	Owner              string               `json:"owner"`
	ID                 string               `json:"id"`
	AuthenticationType string               `json:"authentication_type"`
	Activated          bool                 `json:"activated"`
	ActivationURL      string               `json:"activation_url,omitempty"`
	CreatedAt          int64                `json:"created_at"`
	CreatedBy          string               `json:"created_by"`
	UpdatedAt          int64                `json:"updated_at"`
	UpdatedBy          string               `json:"updated_by"`
	MetastoreID        string               `json:"metastore_id"`
	Cloud              string               `json:"cloud"`
	Region             string               `json:"region"`
	Tokens             []recipientTokenJSON `json:"tokens,omitempty"`
}

// view renders a recipient like the real API. Callers hold mu.
func (w *Workspace) view(r *recipient) recipientJSON {
	now := w.now()
	out := recipientJSON{
		Name: r.name, Comment: r.comment, Owner: r.owner, ID: r.id, AuthenticationType: r.authType,
		CreatedAt: r.created.UnixMilli(), CreatedBy: r.createdBy,
		UpdatedAt: r.updated.UnixMilli(), UpdatedBy: r.createdBy,
		MetastoreID: w.metastoreID, Cloud: "aws", Region: "us-west-2",
	}
	for _, t := range r.tokens {
		if !t.expiry.IsZero() && !now.Before(t.expiry) {
			continue
		}
		tj := recipientTokenJSON{
			ID: t.id, CreatedAt: t.created.UnixMilli(), CreatedBy: t.createdBy,
			UpdatedAt: t.created.UnixMilli(), UpdatedBy: t.createdBy,
		}
		if !t.expiry.IsZero() {
			tj.ExpirationTime = t.expiry.UnixMilli()
		}
		if !t.used {
			tj.ActivationURL = w.link(t.code)
		}
		out.Tokens = append(out.Tokens, tj)
	}
	if n := len(r.tokens); n > 0 {
		last := r.tokens[n-1]
		out.Activated = last.used
		if !last.used {
			out.ActivationURL = w.link(last.code)
		}
	}
	return out
}

func (w *Workspace) recipientCreate(rw http.ResponseWriter, r *http.Request, caller *principal) {
	var req struct {
		Name               string `json:"name"`
		Comment            string `json:"comment"`
		AuthenticationType string `json:"authentication_type"`
		ExpirationTime     int64  `json:"expiration_time"`
	}
	if !decode(rw, r, &req) {
		return
	}
	if req.Name == "" {
		writeError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "Recipient name is required.")
		return
	}
	if req.AuthenticationType != "TOKEN" {
		writeError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE",
			fmt.Sprintf("The fake workspace only supports authentication_type TOKEN, got %q.", req.AuthenticationType))
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	// Unity Catalog names are case-insensitive.
	if old, ok := w.recipients[strings.ToLower(req.Name)]; ok {
		writeError(rw, http.StatusConflict, "RECIPIENT_ALREADY_EXISTS", fmt.Sprintf("Recipient '%s' already exists.", old.name))
		return
	}
	if req.ExpirationTime != 0 && req.ExpirationTime <= w.now().UnixMilli() {
		writeError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "expiration_time must be in the future.")
		return
	}
	rec := w.newRecipient(req.Name, req.Comment, caller.userName)
	if req.ExpirationTime != 0 {
		rec.tokens[0].expiry = time.UnixMilli(req.ExpirationTime).UTC()
	}
	writeJSON(rw, w.view(rec))
}

func (w *Workspace) recipientList(rw http.ResponseWriter, _ *http.Request, _ *principal) {
	w.mu.Lock()
	defer w.mu.Unlock()
	names := make([]string, 0, len(w.recipients))
	for n := range w.recipients {
		names = append(names, n)
	}
	sort.Strings(names)
	out := []recipientJSON{}
	for _, n := range names {
		out = append(out, w.view(w.recipients[n]))
	}
	writeJSON(rw, map[string]any{"recipients": out})
}

// withRecipient runs act with w.mu held on the recipient the request's path names; when there
// is none it answers 404.
func (w *Workspace) withRecipient(rw http.ResponseWriter, r *http.Request, act func(*recipient)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	name := r.PathValue("name")
	rec := w.recipients[strings.ToLower(name)]
	if rec == nil {
		writeError(rw, http.StatusNotFound, "RECIPIENT_DOES_NOT_EXIST", fmt.Sprintf("Recipient '%s' does not exist.", name))
		return
	}
	act(rec)
}

func (w *Workspace) recipientGet(rw http.ResponseWriter, r *http.Request, _ *principal) {
	w.withRecipient(rw, r, func(rec *recipient) { writeJSON(rw, w.view(rec)) })
}

func (w *Workspace) recipientDelete(rw http.ResponseWriter, r *http.Request, _ *principal) {
	w.withRecipient(rw, r, func(rec *recipient) {
		for _, t := range rec.tokens {
			delete(w.codes, t.code)
		}
		delete(w.recipients, strings.ToLower(rec.name))
		writeJSON(rw, map[string]any{})
	})
}

func (w *Workspace) recipientRotate(rw http.ResponseWriter, r *http.Request, caller *principal) {
	var req struct {
		ExistingTokenExpireInSeconds *int64 `json:"existing_token_expire_in_seconds"`
	}
	if !decode(rw, r, &req) {
		return
	}
	if req.ExistingTokenExpireInSeconds == nil || *req.ExistingTokenExpireInSeconds < 0 {
		writeError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "existing_token_expire_in_seconds must be set and not negative.")
		return
	}
	w.withRecipient(rw, r, func(rec *recipient) {
		now := w.now().Truncate(time.Millisecond)
		cut := now.Add(time.Duration(*req.ExistingTokenExpireInSeconds) * time.Second)
		for _, t := range rec.tokens {
			if t.expiry.IsZero() || t.expiry.After(cut) {
				t.expiry = cut
			}
		}
		w.addRecipientToken(rec, caller.userName)
		rec.updated = now
		writeJSON(rw, w.view(rec))
	})
}

// ---- public activation endpoints (no authentication) ----

func (w *Workspace) activationInfo(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.codes[r.PathValue("code")] == nil {
		writeError(rw, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", "Activation url does not exist.")
		return
	}
	writeJSON(rw, map[string]any{})
}

func (w *Workspace) activationRetrieve(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	defer w.mu.Unlock()
	code := r.PathValue("code")
	rt := w.codes[code]
	if rt == nil {
		writeError(rw, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", "Activation url does not exist.")
		return
	}
	if rt.used {
		status, body := w.usedStatus, w.usedBody
		if status == 0 {
			status = http.StatusNotFound
			body = errorBody(status, "RESOURCE_DOES_NOT_EXIST",
				fmt.Sprintf("The activation url %s has already been used to download the credential file.", w.link(code)))
		}
		rw.Header().Set("Content-Type", "application/json")
		rw.WriteHeader(status)
		_, _ = io.WriteString(rw, body)
		return
	}
	rt.used = true
	// Written by hand to fix the field order: tests compare the raw bytes.
	var b strings.Builder
	fmt.Fprintf(&b, `{"shareCredentialsVersion":1,"bearerToken":%q,"endpoint":%q`, rt.bearer, w.SharingEndpoint())
	if !rt.expiry.IsZero() {
		fmt.Fprintf(&b, `,"expirationTime":%q`, rt.expiry.UTC().Format("2006-01-02T15:04:05.000Z"))
	}
	b.WriteString("}")
	rw.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(rw, b.String())
}

// ---- helpers ----

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func randUUID() string {
	h := randHex(16)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
