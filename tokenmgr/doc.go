// Package tokenmgr is the recipient's side of Delta Sharing credentials: the local credential
// store, activation, and the access check.
//
// The recipient's credentials live in a [Store]: named profiles in a private directory
// ([OpenStore], [DefaultStoreDir]), written atomically, refused when other users could read
// them. [Store.ResolveProfile] lets a stored credential's name stand wherever a profile file is
// accepted.
//
// [FetchActivation] fetches the credential behind an activation link through the public,
// unauthenticated activation endpoints (the Databricks SDK's RecipientActivation API), sending
// no credentials at all. [Activate] downloads an activation link's credential straight into the
// store, checking the name before the one-time download and keeping the credential in a
// recovery file if it cannot be stored.
//
// [Check] tells what a credential can still do (token accepted, days left, shares and tables
// reachable, one data file footer readable per table) with an exit code.
//
// Administration of a Databricks workspace (personal access tokens, recipients) is package
// tokenmgr/databricks; this package does not depend on it.
//
// Secrets (bearer tokens, activation codes and links) are held in [Sensitive] values
// (package tokenmgr/secret) or unexported fields: they never appear in errors, String()
// output, JSON or logs unless a caller explicitly reveals them.
//
// Errors of the store and of Activate's local steps are *[StoreError] values; errors of
// activation links and downloads are *[ActivationError] values. Both unwrap to sentinels
// ([ErrCredentialExists], [ErrCredentialNotFound], [ErrCredentialPending],
// [ErrInvalidCredentialName], [ErrInsecurePermissions], [ErrCredentialNotSaved],
// [ErrActivationUsed], [ErrInvalidActivationLink], ...) so callers can branch with errors.Is
// and pick exit codes.
package tokenmgr
