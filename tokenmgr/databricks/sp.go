package databricks

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/databricks/databricks-sdk-go/service/settings"
)

// ErrAmbiguousPrincipal: a display name matches several service principals.
var ErrAmbiguousPrincipal = errors.New("several service principals have this name")

// ServicePrincipal is a workspace service principal (SCIM ServicePrincipals).
type ServicePrincipal struct {
	// ID is the SCIM ID (the owner_id of its tokens).
	ID string `json:"id"`
	// ApplicationID is the UUID tokens are created on behalf of.
	ApplicationID string `json:"applicationId"`
	DisplayName   string `json:"displayName"`
	Active        bool   `json:"active"`
	// Groups are the display names of its groups (direct and inherited, as SCIM lists them).
	Groups []string `json:"groups,omitempty"`
}

// String names the principal: "display name (application ID)".
func (p ServicePrincipal) String() string {
	return fmt.Sprintf("%s (application ID %s)", p.DisplayName, p.ApplicationID)
}

// OwnerID is ID as the token-management API reports owners (0 if not numeric).
func (p ServicePrincipal) OwnerID() int64 {
	n, _ := strconv.ParseInt(p.ID, 10, 64)
	return n
}

func fromSCIM(in iam.ServicePrincipal) ServicePrincipal {
	p := ServicePrincipal{ID: in.Id, ApplicationID: in.ApplicationId, DisplayName: in.DisplayName, Active: in.Active}
	for _, g := range in.Groups {
		if g.Display != "" {
			p.Groups = append(p.Groups, g.Display)
		}
	}
	return p
}

// scimString quotes s for a SCIM filter.
func scimString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// listServicePrincipals lists the principals matching a SCIM filter, every page.
func (w *Workspace) listServicePrincipals(ctx context.Context, op, filter string) ([]ServicePrincipal, error) {
	it := w.client.ServicePrincipalsV2.List(ctx, iam.ListServicePrincipalsRequest{Filter: filter, Count: 100})
	var out []ServicePrincipal
	for it.HasNext(ctx) {
		sp, err := it.Next(ctx)
		if err != nil {
			return nil, w.err(op, err)
		}
		out = append(out, fromSCIM(sp))
	}
	sort.SliceStable(out, func(i, j int) bool {
		if a, b := strings.ToLower(out[i].DisplayName), strings.ToLower(out[j].DisplayName); a != b {
			return a < b
		}
		return out[i].ApplicationID < out[j].ApplicationID
	})
	return out, nil
}

// ListServicePrincipals lists the workspace's service principals whose display name contains
// nameContains (case-insensitively; "" lists all), sorted by display name.
func (w *Workspace) ListServicePrincipals(ctx context.Context, nameContains string) ([]ServicePrincipal, error) {
	filter := ""
	if nameContains != "" {
		filter = "displayName co " + scimString(nameContains)
	}
	return w.listServicePrincipals(ctx, "list service principals", filter)
}

var uuidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// FindServicePrincipal finds a service principal by application ID or by display name (an
// exact, case-insensitive match). A name several principals share is an error matching
// ErrAmbiguousPrincipal that lists them; no match is ErrWorkspaceNotFound.
func (w *Workspace) FindServicePrincipal(ctx context.Context, ref string) (*ServicePrincipal, error) {
	op := "find service principal " + ref
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, newError(op, nil, "find service principal: a display name or application ID is required", nil)
	}
	if uuidRe.MatchString(ref) {
		found, err := w.listServicePrincipals(ctx, op, "applicationId eq "+scimString(ref))
		if err != nil {
			return nil, err
		}
		for _, p := range found {
			if strings.EqualFold(p.ApplicationID, ref) {
				return &p, nil
			}
		}
	}
	found, err := w.listServicePrincipals(ctx, op, "displayName eq "+scimString(ref))
	if err != nil {
		return nil, err
	}
	var match []ServicePrincipal
	for _, p := range found {
		if strings.EqualFold(p.DisplayName, ref) || p.ApplicationID == ref {
			match = append(match, p)
		}
	}
	switch len(match) {
	case 1:
		return &match[0], nil
	case 0:
		return nil, newHintedError(op, ErrWorkspaceNotFound,
			fmt.Sprintf("%s: no service principal has this display name or application ID; ", op),
			"list them with {Workspace.ListServicePrincipals}", nil)
	}
	return nil, newChoiceError(op, ErrAmbiguousPrincipal,
		fmt.Sprintf("%s: %d service principals have this display name; ", op, len(match)),
		"name the one you mean by its application ID", match)
}

// DeleteServicePrincipal deletes a service principal from the workspace; its tokens stop
// working at once (this is how a Partner Connect connection is removed).
func (w *Workspace) DeleteServicePrincipal(ctx context.Context, p ServicePrincipal) error {
	op := "delete service principal " + p.String()
	if p.ID == "" {
		return newError(op, nil, op+": the principal's SCIM ID is unknown", nil)
	}
	if err := w.client.ServicePrincipalsV2.Delete(ctx, iam.DeleteServicePrincipalRequest{Id: p.ID}); err != nil {
		return w.err(op, err)
	}
	return nil
}

// PrincipalName names a token owner: its display name and its user name (for a service
// principal, the application ID).
type PrincipalName struct {
	DisplayName string `json:"displayName"`
	UserName    string `json:"userName"`
	// ServicePrincipal is true for a service principal.
	ServicePrincipal bool `json:"servicePrincipal"`
}

// String is the display name, or the user name when there is none.
func (n PrincipalName) String() string {
	if n.DisplayName != "" {
		return n.DisplayName
	}
	return n.UserName
}

// PrincipalNames resolves token owner IDs (owner_id) to names: service principals and users,
// each ID looked up once. IDs that cannot be resolved (deleted principals) are left out.
func (w *Workspace) PrincipalNames(ctx context.Context, ids []int64) (map[int64]PrincipalName, error) {
	out := map[int64]PrincipalName{}
	tried := map[int64]bool{}
	for _, id := range ids {
		if tried[id] || id == 0 {
			continue
		}
		tried[id] = true
		sid := strconv.FormatInt(id, 10)
		op := "look up the owner " + sid
		sp, err := w.client.ServicePrincipalsV2.Get(ctx, iam.GetServicePrincipalRequest{Id: sid})
		if err == nil {
			out[id] = PrincipalName{DisplayName: sp.DisplayName, UserName: sp.ApplicationId, ServicePrincipal: true}
			continue
		}
		if mapped := w.err(op, err); !errors.Is(mapped, ErrWorkspaceNotFound) {
			return out, mapped
		}
		u, err := w.client.UsersV2.Get(ctx, iam.GetUserRequest{Id: sid})
		if err != nil {
			if mapped := w.err(op, err); !errors.Is(mapped, ErrWorkspaceNotFound) {
				return out, mapped
			}
			continue
		}
		out[id] = PrincipalName{DisplayName: u.DisplayName, UserName: u.UserName}
	}
	return out, nil
}

// TokenPermission is one entry of the workspace's token permissions: who may use (CAN_USE) or
// manage (CAN_MANAGE) tokens.
type TokenPermission struct {
	// Kind is "user", "group" or "servicePrincipal"; Name the user name, group name or
	// application ID.
	Kind        string   `json:"kind"`
	Name        string   `json:"name"`
	DisplayName string   `json:"displayName,omitempty"`
	Levels      []string `json:"levels"`
}

// TokenPermissions returns the workspace's token permissions (admins only).
func (w *Workspace) TokenPermissions(ctx context.Context) ([]TokenPermission, error) {
	tp, err := w.client.TokenManagement.GetPermissions(ctx)
	if err != nil {
		return nil, w.err("read the token permissions", err)
	}
	return fromTokenACL(tp), nil
}

func fromTokenACL(tp *settings.TokenPermissions) []TokenPermission {
	var out []TokenPermission
	for _, a := range tp.AccessControlList {
		e := TokenPermission{DisplayName: a.DisplayName}
		switch {
		case a.ServicePrincipalName != "":
			e.Kind, e.Name = "servicePrincipal", a.ServicePrincipalName
		case a.UserName != "":
			e.Kind, e.Name = "user", a.UserName
		default:
			e.Kind, e.Name = "group", a.GroupName
		}
		for _, p := range a.AllPermissions {
			e.Levels = append(e.Levels, string(p.PermissionLevel))
		}
		out = append(out, e)
	}
	return out
}

// CanUseTokens reports whether the permissions let p use tokens, and through which entry
// ("direct" or "group NAME"); "" when they do not.
func CanUseTokens(perms []TokenPermission, p ServicePrincipal) string {
	groups := map[string]bool{}
	for _, g := range p.Groups {
		groups[g] = true
	}
	for _, e := range perms {
		if len(e.Levels) == 0 {
			continue
		}
		switch {
		case e.Kind == "servicePrincipal" && e.Name == p.ApplicationID:
			return "direct"
		case e.Kind == "group" && groups[e.Name]:
			return "group " + e.Name
		}
	}
	return ""
}

// GrantTokenUse gives the principal CAN_USE on tokens. It PATCHes the token permissions with
// this one entry, so every other entry is kept.
func (w *Workspace) GrantTokenUse(ctx context.Context, p ServicePrincipal) ([]TokenPermission, error) {
	op := "grant token use to " + p.String()
	tp, err := w.client.TokenManagement.UpdatePermissions(ctx, settings.TokenPermissionsRequest{
		AccessControlList: []settings.TokenAccessControlRequest{{
			ServicePrincipalName: p.ApplicationID,
			PermissionLevel:      settings.TokenPermissionLevelCanUse,
		}},
	})
	if err != nil {
		return nil, w.err(op, err)
	}
	return fromTokenACL(tp), nil
}
