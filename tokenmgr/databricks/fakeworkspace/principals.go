package fakeworkspace

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file holds the identity side of the fake: SCIM service principals and users, the
// workspace's token permissions (authorization/tokens), and the OAuth token endpoints a service
// principal authenticates with (Databricks OAuth machine-to-machine, and Azure Entra ID).

// More paths served by the fake.
const (
	PathServicePrincipals = "/api/2.0/preview/scim/v2/ServicePrincipals"
	PathUsers             = "/api/2.0/preview/scim/v2/Users"
	PathTokenPermissions  = "/api/2.0/permissions/authorization/tokens"
	// PathOIDCDiscovery and PathOIDCToken are the workspace's OAuth endpoints (oauth-m2m).
	PathOIDCDiscovery = "/oidc/.well-known/oauth-authorization-server"
	PathOIDCToken     = "/oidc/v1/token"
	// AzureLoginPath is the root of the fake Entra ID endpoint: a client-credentials token is
	// requested at URL()+AzureLoginPath+TENANT+"/oauth2/token".
	AzureLoginPath = "/aad/"
	// AzureDatabricksResource is the Entra ID application of Azure Databricks: tokens for this
	// resource authenticate to the workspace.
	AzureDatabricksResource = "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d"
	// AzureManagementResource is the Azure service management resource; its token goes in the
	// X-Databricks-Azure-SP-Management-Token header.
	AzureManagementResource = "https://management.core.windows.net/"
	// AzureTenant is the only tenant the fake Entra ID knows.
	AzureTenant = "00000000-0000-0000-0000-00000000aaaa"
)

const resourceDatabricks = "databricks"

// bearer is an OAuth access token the fake issued.
type bearer struct {
	owner    *principal
	resource string // resourceDatabricks (M2M and Azure Databricks tokens) or the Azure resource
	expiry   time.Time
}

// aclEntry is one entry of the token permissions.
type aclEntry struct {
	kind  string // "user_name", "group_name" or "service_principal_name"
	name  string
	level string
}

// ServicePrincipalSpec describes a service principal for AddServicePrincipalSpec.
type ServicePrincipalSpec struct {
	ApplicationID string
	DisplayName   string
	// Inactive marks the principal disabled.
	Inactive bool
	// Secret, when set, is its OAuth secret (Databricks M2M and Azure Entra ID client secret).
	Secret string
}

// AddServicePrincipalSpec adds a service principal and returns its SCIM ID.
func (w *Workspace) AddServicePrincipalSpec(spec ServicePrincipalSpec) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.addPrincipal(spec.ApplicationID, spec.DisplayName, false, true)
	p.active, p.secret = !spec.Inactive, spec.Secret
	return p.id
}

// ServicePrincipalExists reports whether a service principal with this application ID exists.
func (w *Workspace) ServicePrincipalExists(applicationID string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.users[applicationID]
	return p != nil && p.sp
}

// SetSCIMPageSize caps the number of resources per SCIM list page (default 100).
func (w *Workspace) SetSCIMPageSize(n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.scimPageSize = n
}

// SetTokensEnabled turns personal access tokens on or off for the whole workspace (admin
// setting); while off, creating tokens answers 403.
func (w *Workspace) SetTokensEnabled(on bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.tokensDisabled = !on
}

// RestrictTokenUse removes the "users" group's CAN_USE from the token permissions, as admins do
// to control who may use tokens: then only admins and principals granted CAN_USE may.
func (w *Workspace) RestrictTokenUse() {
	w.mu.Lock()
	defer w.mu.Unlock()
	kept := w.tokenACL[:0]
	for _, e := range w.tokenACL {
		if !(e.kind == "group_name" && e.name == "users") {
			kept = append(kept, e)
		}
	}
	w.tokenACL = kept
}

// CanUseTokens reports whether the principal (user name or application ID) may use tokens.
func (w *Workspace) CanUseTokens(userName string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.users[userName]
	return p != nil && w.canUseTokens(p)
}

// canUseTokens: admins always; others through an entry of their own or the users group.
// Callers hold mu.
func (w *Workspace) canUseTokens(p *principal) bool {
	if p.admin {
		return true
	}
	for _, e := range w.tokenACL {
		if e.level != "CAN_USE" && e.level != "CAN_MANAGE" {
			continue
		}
		if (e.kind == "group_name" && e.name == "users") ||
			(e.kind == "user_name" && !p.sp && e.name == p.userName) ||
			(e.kind == "service_principal_name" && p.sp && e.name == p.userName) {
			return true
		}
	}
	return false
}

// tokenUseDenied is why the caller may not create a token ("" if it may). Callers hold mu.
func (w *Workspace) tokenUseDenied(p *principal) string {
	switch {
	case w.tokensDisabled:
		return "Personal access tokens are disabled for this workspace."
	case !w.canUseTokens(p):
		return fmt.Sprintf("User %s does not have permission to use tokens.", p.userName)
	}
	return ""
}

func (w *Workspace) principalRoutes(mux *http.ServeMux) {
	w.tokenACL = []aclEntry{{kind: "group_name", name: "users", level: "CAN_USE"}}
	mux.HandleFunc("GET "+PathServicePrincipals, w.authed(w.spList))
	mux.HandleFunc("GET "+PathServicePrincipals+"/{id}", w.authed(w.spGet))
	mux.HandleFunc("DELETE "+PathServicePrincipals+"/{id}", w.authed(w.admin(w.spDelete)))
	mux.HandleFunc("GET "+PathUsers+"/{id}", w.authed(w.userGet))
	mux.HandleFunc("GET "+PathTokenPermissions, w.authed(w.admin(w.permissionsGet)))
	mux.HandleFunc("PATCH "+PathTokenPermissions, w.authed(w.admin(w.permissionsUpdate(false))))
	mux.HandleFunc("PUT "+PathTokenPermissions, w.authed(w.admin(w.permissionsUpdate(true))))
	mux.HandleFunc("GET "+PathOIDCDiscovery, w.oidcDiscovery)
	mux.HandleFunc("POST "+PathOIDCToken, w.oidcToken)
	mux.HandleFunc("POST "+AzureLoginPath+"{tenant}/oauth2/token", w.azureToken)
}

// ---- SCIM ----

func (p *principal) scim() map[string]any {
	m := map[string]any{
		"id":          strconv.FormatInt(p.id, 10),
		"displayName": p.displayName,
		"active":      p.active,
	}
	if p.sp {
		m["schemas"] = []string{"urn:ietf:params:scim:schemas:core:2.0:ServicePrincipal"}
		m["applicationId"] = p.userName
		m["groups"] = []map[string]string{{"display": "users", "value": "1", "type": "direct"}}
	} else {
		m["schemas"] = []string{"urn:ietf:params:scim:schemas:core:2.0:User"}
		m["userName"] = p.userName
	}
	return m
}

// scimFilterRe is the subset of SCIM filters the fake understands: ATTR OP "VALUE".
var scimFilterRe = regexp.MustCompile(`^\s*(\w+)\s+(eq|co|sw)\s+"((?:[^"\\]|\\.)*)"\s*$`)

// scimMatch reports whether p matches the filter; SCIM compares these strings case-insensitively.
func scimMatch(p *principal, attr, op, value string) bool {
	var got string
	switch strings.ToLower(attr) {
	case "displayname":
		got = p.displayName
	case "applicationid":
		got = p.userName
	case "id":
		got = strconv.FormatInt(p.id, 10)
	default:
		return false
	}
	got, value = strings.ToLower(got), strings.ToLower(value)
	switch op {
	case "eq":
		return got == value
	case "co":
		return strings.Contains(got, value)
	default:
		return strings.HasPrefix(got, value)
	}
}

func (w *Workspace) spList(rw http.ResponseWriter, r *http.Request, _ *principal) {
	q := r.URL.Query()
	var attr, op, value string
	if f := q.Get("filter"); f != "" {
		m := scimFilterRe.FindStringSubmatch(f)
		if m == nil {
			writeSCIMError(rw, http.StatusBadRequest, "invalidFilter", fmt.Sprintf("Unsupported filter: %s", f))
			return
		}
		attr, op, value = m[1], m[2], strings.ReplaceAll(m[3], `\"`, `"`)
	}
	start, count := 1, 0
	if s := q.Get("startIndex"); s != "" {
		start, _ = strconv.Atoi(s)
	}
	if c := q.Get("count"); c != "" {
		count, _ = strconv.Atoi(c)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var all []*principal
	for _, p := range w.users {
		if p.sp && (attr == "" || scimMatch(p, attr, op, value)) {
			all = append(all, p)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].id < all[j].id })
	if start < 1 {
		start = 1
	}
	if count <= 0 || count > w.scimPageSize {
		count = w.scimPageSize
	}
	page := []map[string]any{}
	for i := start - 1; i < len(all) && len(page) < count; i++ {
		page = append(page, all[i].scim())
	}
	out := map[string]any{
		"schemas":      []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"},
		"totalResults": len(all),
		"startIndex":   start,
		"itemsPerPage": len(page),
	}
	if len(page) > 0 {
		out["Resources"] = page
	}
	writeJSON(rw, out)
}

// byID is the principal the path's {id} names (sp: a service principal, else a user), or nil
// after answering 404. Callers hold mu.
func (w *Workspace) byID(rw http.ResponseWriter, r *http.Request, sp bool) *principal {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	for _, p := range w.users {
		if p.id == id && p.sp == sp {
			return p
		}
	}
	kind := "User"
	if sp {
		kind = "ServicePrincipal"
	}
	writeSCIMError(rw, http.StatusNotFound, "", fmt.Sprintf("%s with id %s not found.", kind, r.PathValue("id")))
	return nil
}

func (w *Workspace) spGet(rw http.ResponseWriter, r *http.Request, _ *principal) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if p := w.byID(rw, r, true); p != nil {
		writeJSON(rw, p.scim())
	}
}

func (w *Workspace) userGet(rw http.ResponseWriter, r *http.Request, _ *principal) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if p := w.byID(rw, r, false); p != nil {
		writeJSON(rw, p.scim())
	}
}

// spDelete deletes a service principal; its tokens die with it.
func (w *Workspace) spDelete(rw http.ResponseWriter, r *http.Request, _ *principal) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.byID(rw, r, true)
	if p == nil {
		return
	}
	for _, t := range w.tokens {
		if t.owner == p {
			t.revoked = true
		}
	}
	for v, b := range w.bearers {
		if b.owner == p {
			delete(w.bearers, v)
		}
	}
	delete(w.users, p.userName)
	rw.WriteHeader(http.StatusNoContent)
}

func writeSCIMError(rw http.ResponseWriter, status int, scimType, detail string) {
	body := map[string]any{
		"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"},
		"detail":  detail,
		"status":  strconv.Itoa(status),
	}
	if scimType != "" {
		body["scimType"] = scimType
	}
	rw.Header().Set("Content-Type", "application/scim+json")
	rw.WriteHeader(status)
	b, _ := jsonMarshal(body)
	_, _ = rw.Write(b)
}

// ---- token permissions ----

type permissionJSON struct {
	PermissionLevel     string   `json:"permission_level"`
	Inherited           bool     `json:"inherited"`
	InheritedFromObject []string `json:"inherited_from_object,omitempty"`
}

type aclResponseJSON struct {
	UserName             string           `json:"user_name,omitempty"`
	GroupName            string           `json:"group_name,omitempty"`
	ServicePrincipalName string           `json:"service_principal_name,omitempty"`
	DisplayName          string           `json:"display_name,omitempty"`
	AllPermissions       []permissionJSON `json:"all_permissions"`
}

// permissions renders the token permissions like the real API. Callers hold mu.
func (w *Workspace) permissions() map[string]any {
	acl := []aclResponseJSON{{GroupName: "admins", AllPermissions: []permissionJSON{{PermissionLevel: "CAN_MANAGE"}}}}
	for _, e := range w.tokenACL {
		a := aclResponseJSON{AllPermissions: []permissionJSON{{PermissionLevel: e.level}}}
		switch e.kind {
		case "group_name":
			a.GroupName = e.name
		case "user_name":
			a.UserName = e.name
			if p := w.users[e.name]; p != nil {
				a.DisplayName = p.displayName
			}
		default:
			a.ServicePrincipalName = e.name
			if p := w.users[e.name]; p != nil {
				a.DisplayName = p.displayName
			}
		}
		acl = append(acl, a)
	}
	return map[string]any{"object_id": "authorization/tokens", "object_type": "tokens", "access_control_list": acl}
}

func (w *Workspace) permissionsGet(rw http.ResponseWriter, _ *http.Request, _ *principal) {
	w.mu.Lock()
	defer w.mu.Unlock()
	writeJSON(rw, w.permissions())
}

// permissionsUpdate handles PATCH (add or change the given entries, keep the others) and PUT
// (replace the list; the admins group always keeps CAN_MANAGE).
func (w *Workspace) permissionsUpdate(replace bool) authedHandler {
	return func(rw http.ResponseWriter, r *http.Request, _ *principal) {
		var req struct {
			AccessControlList []struct {
				UserName             string `json:"user_name"`
				GroupName            string `json:"group_name"`
				ServicePrincipalName string `json:"service_principal_name"`
				PermissionLevel      string `json:"permission_level"`
			} `json:"access_control_list"`
		}
		if !decode(rw, r, &req) {
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		var add []aclEntry
		for _, a := range req.AccessControlList {
			if a.PermissionLevel != "CAN_USE" && a.PermissionLevel != "CAN_MANAGE" {
				writeError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", fmt.Sprintf("Permission level %q is not supported for tokens.", a.PermissionLevel))
				return
			}
			e := aclEntry{level: a.PermissionLevel}
			switch {
			case a.ServicePrincipalName != "":
				e.kind, e.name = "service_principal_name", a.ServicePrincipalName
				if p := w.users[e.name]; p == nil || !p.sp {
					writeError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", fmt.Sprintf("Principal: ServicePrincipalName(%s) does not exist", e.name))
					return
				}
			case a.UserName != "":
				e.kind, e.name = "user_name", a.UserName
				if p := w.users[e.name]; p == nil || p.sp {
					writeError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", fmt.Sprintf("Principal: UserName(%s) does not exist", e.name))
					return
				}
			case a.GroupName != "":
				e.kind, e.name = "group_name", a.GroupName
			default:
				writeError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "An access control entry names no principal.")
				return
			}
			if e.kind == "group_name" && e.name == "admins" {
				continue
			}
			add = append(add, e)
		}
		if replace {
			w.tokenACL = nil
		}
		for _, e := range add {
			found := false
			for i := range w.tokenACL {
				if w.tokenACL[i].kind == e.kind && w.tokenACL[i].name == e.name {
					w.tokenACL[i].level, found = e.level, true
				}
			}
			if !found {
				w.tokenACL = append(w.tokenACL, e)
			}
		}
		writeJSON(rw, w.permissions())
	}
}

// ---- OAuth ----

func (w *Workspace) oidcDiscovery(rw http.ResponseWriter, _ *http.Request) {
	writeJSON(rw, map[string]any{
		"issuer":                 w.URL() + "/oidc",
		"authorization_endpoint": w.URL() + "/oidc/v1/authorize",
		"token_endpoint":         w.URL() + PathOIDCToken,
	})
}

func writeOAuthError(rw http.ResponseWriter, status int, code, desc string) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	b, _ := jsonMarshal(map[string]string{"error": code, "error_description": desc})
	_, _ = rw.Write(b)
}

// clientCredentials checks a client-credentials request (client ID and secret in the Basic
// header or the form) and returns the service principal, or nil after answering.
func (w *Workspace) clientCredentials(rw http.ResponseWriter, r *http.Request) *principal {
	if err := r.ParseForm(); err != nil {
		writeOAuthError(rw, http.StatusBadRequest, "invalid_request", "malformed form")
		return nil
	}
	if g := r.PostForm.Get("grant_type"); g != "client_credentials" {
		writeOAuthError(rw, http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("grant_type %q is not supported", g))
		return nil
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	p := w.users[id]
	if p == nil || !p.sp || p.secret == "" || p.secret != secret || !p.active {
		writeOAuthError(rw, http.StatusUnauthorized, "invalid_client", "Client authentication failed")
		return nil
	}
	return p
}

// oidcToken issues a Databricks OAuth token (oauth-m2m) to a service principal.
func (w *Workspace) oidcToken(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.clientCredentials(rw, r)
	if p == nil {
		return
	}
	value := "dose" + randHex(24)
	w.bearers[value] = &bearer{owner: p, resource: resourceDatabricks, expiry: w.now().Add(time.Hour)}
	writeJSON(rw, map[string]any{"access_token": value, "token_type": "Bearer", "expires_in": 3600, "scope": r.PostForm.Get("scope")})
}

// azureToken is the Entra ID token endpoint: a client-credentials token for a resource.
func (w *Workspace) azureToken(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if r.PathValue("tenant") != AzureTenant {
		writeOAuthError(rw, http.StatusBadRequest, "invalid_request", "AADSTS90002: Tenant '"+r.PathValue("tenant")+"' not found.")
		return
	}
	p := w.clientCredentials(rw, r)
	if p == nil {
		return
	}
	resource := r.PostForm.Get("resource")
	kind := resource
	if resource == AzureDatabricksResource {
		kind = resourceDatabricks
	}
	value := "eyJ0" + base64.RawURLEncoding.EncodeToString([]byte(randHex(24)))
	w.bearers[value] = &bearer{owner: p, resource: kind, expiry: w.now().Add(time.Hour)}
	writeJSON(rw, map[string]any{"access_token": value, "token_type": "Bearer", "expires_in": "3599", "resource": resource})
}

// AzureManagementTokenValid reports whether value is a live Entra ID token for the Azure
// management resource issued by the fake (what the X-Databricks-Azure-SP-Management-Token
// header must hold).
func (w *Workspace) AzureManagementTokenValid(value string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.bearers[value]
	return b != nil && b.resource == AzureManagementResource && w.now().Before(b.expiry)
}

// GrantTokenUse gives a user (user name) or service principal (application ID) CAN_USE on
// tokens, as an admin would in the UI.
func (w *Workspace) GrantTokenUse(userName string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	kind := "user_name"
	if p := w.users[userName]; p != nil && p.sp {
		kind = "service_principal_name"
	}
	w.tokenACL = append(w.tokenACL, aclEntry{kind: kind, name: userName, level: "CAN_USE"})
}
