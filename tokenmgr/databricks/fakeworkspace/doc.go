// Package fakeworkspace is an in-process fake of the Databricks workspace APIs that
// tokenmgr/databricks (tokens, recipients) and tokenmgr (public activation endpoints) use, for
// tests in any package. It runs on a loopback httptest server and speaks the real request paths
// and JSON shapes:
//
//   - personal access tokens: /api/2.0/token/create, /list, /delete;
//   - token management (admins): /api/2.0/token-management/tokens[/{id}] and
//     /api/2.0/token-management/on-behalf-of/tokens;
//   - the current user: /api/2.0/preview/scim/v2/Me; SCIM service principals (list with
//     filters and paging, get, delete) and users (get) under /api/2.0/preview/scim/v2;
//   - the token permissions /api/2.0/permissions/authorization/tokens (GET, PATCH, PUT), which
//     decide who may create tokens, and a workspace-wide switch for tokens;
//   - the OAuth endpoints a service principal authenticates with: the workspace's
//     /oidc/.well-known/oauth-authorization-server and /oidc/v1/token (machine-to-machine),
//     and an Entra ID token endpoint under /aad/{tenant}/oauth2/token (Azure);
//   - Delta Sharing recipients: /api/2.1/unity-catalog/recipients[/{name}[/rotate-token]];
//   - the public activation endpoints
//     /api/2.1/unity-catalog/public/data_sharing_activation_info/{code} and
//     /api/2.1/unity-catalog/public/data_sharing_activation/{code}, with one-time download;
//   - /.well-known/databricks-config, which the SDK probes while resolving its config.
//
// Bearer authentication is enforced on every non-public endpoint: tokens minted by the fake
// (or added with AddToken) are valid until revoked or expired, and record their last use; OAuth
// access tokens it issued are valid for an hour. Faults can be injected per path
// (InjectFault, FailNext) and every request is recorded with its headers and the response
// (Requests), so tests can assert for example that public endpoints got no Authorization
// header.
//
// Use New(t) in a test; IsolateEnv(t) keeps the Databricks SDK away from the host's real
// environment variables and ~/.databrickscfg, and NewIsolated(t) does both.
package fakeworkspace
