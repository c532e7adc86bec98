// Package databricks administers a Databricks workspace for Delta Sharing: it wraps the
// Databricks SDK's WorkspaceClient with unified authentication ([NewWorkspace]) and offers
//
//   - personal access tokens: create, list (own tokens or, for admins, the workspace's),
//     revoke, create on behalf of a service principal, and rotate a token in place
//     ([RotatePAT]: in a ~/.databrickscfg profile or in a token file, with rollback);
//   - service principals: find one by display name or application ID, list, delete, read the
//     workspace's token permissions and grant CAN_USE on tokens, resolve token owners' names,
//     and rotate a principal's token in the integration guides' order
//     ([Workspace.RotatePrincipalToken]);
//   - Delta Sharing recipients (provider side): create (with an expiry; names unique
//     case-insensitively), show, list, delete, rotate the recipient token.
//
// Every workspace call is bounded by WorkspaceOptions.Timeout, retries included; a token
// creation without a reliable answer is checked by comment before it is tried again, never
// repeated blindly.
//
// The recipient's side (credential store, activation, access check) is package tokenmgr; this
// package does not import it (only its tests do, to download a recipient's credential). Tests
// use the fake workspace in package tokenmgr/databricks/fakeworkspace.
//
// Secrets (PATs, client secrets, activation links) are held in [secret.Sensitive] values or
// unexported fields: they never appear in errors, String() output, JSON or logs unless a
// caller explicitly reveals them.
//
// Errors are *[WorkspaceError] values that unwrap to sentinels ([ErrNoWorkspaceCredentials],
// [ErrNoWorkspaceHost], [ErrWorkspaceAuth], [ErrWorkspacePermission], [ErrWorkspaceNotFound],
// [ErrWorkspaceConflict], [ErrOldTokenUnknown], [ErrRotationFailed], [ErrAmbiguousPrincipal]) so callers can branch with
// errors.Is and pick exit codes.
package databricks
