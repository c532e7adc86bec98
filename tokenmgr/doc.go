// Package tokenmgr manages the credentials around Delta Sharing.
//
// On the Databricks side (provider, or any workspace user) it wraps the Databricks SDK's
// WorkspaceClient with unified authentication ([NewWorkspace]) and offers:
//
//   - personal access tokens: create, list (own tokens or, for admins, the workspace's),
//     revoke, create on behalf of a service principal, and rotate a token in place
//     ([RotatePAT]: in a ~/.databrickscfg profile or in a token file, with rollback);
//   - Delta Sharing recipients (provider side): create, show, rotate the recipient token.
//
// On the recipient side it fetches the credential behind an activation link
// ([FetchActivation]) through the public, unauthenticated activation endpoints, sending no
// credentials at all.
//
// Secrets (PATs, client secrets, activation codes and links, bearer tokens) are held in
// [Sensitive] values or unexported fields: they never appear in errors, String() output,
// JSON or logs unless a caller explicitly reveals them.
//
// Errors are *[WorkspaceError] values that unwrap to sentinels ([ErrNoWorkspaceCredentials],
// [ErrWorkspaceAuth], [ErrWorkspacePermission], [ErrWorkspaceNotFound], [ErrActivationUsed],
// ...) so callers can branch with errors.Is and pick exit codes.
package tokenmgr
