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
// The recipient's credentials live in a [Store]: named profiles in a private directory
// ([OpenStore], [DefaultStoreDir]), written atomically, refused when other users could read
// them. [Activate] downloads an activation link's credential straight into the store, checking
// the name before the one-time download and keeping the credential in a recovery file if it
// cannot be stored. [Store.ResolveProfile] lets a stored credential's name stand wherever a
// profile file is accepted. [Check] tells what a credential can still do (token accepted,
// days left, shares and tables reachable, one data file footer readable per table) with an
// exit code.
//
// Secrets (PATs, client secrets, activation codes and links, bearer tokens) are held in
// [Sensitive] values or unexported fields: they never appear in errors, String() output,
// JSON or logs unless a caller explicitly reveals them.
//
// Errors of workspace calls are *[WorkspaceError] values; errors of the credential store and of
// Activate's local steps are *[StoreError] values; errors of activation links and downloads are
// *[ActivationError] values. All unwrap to sentinels ([ErrNoWorkspaceCredentials],
// [ErrWorkspaceAuth], [ErrWorkspacePermission], [ErrWorkspaceNotFound], [ErrCredentialExists],
// [ErrCredentialNotFound], [ErrActivationUsed], ...) so callers can branch with errors.Is and
// pick exit codes.
package tokenmgr
