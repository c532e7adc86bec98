// Package server is deltashare's own Delta Sharing server over local Delta tables
// (`deltashare serve`).
//
// It serves the Delta Sharing REST protocol under a configurable prefix (default
// "/delta-sharing"): listing shares, schemas and tables with signed page tokens, and the table
// endpoints (version, metadata, query, changes), which are plugged in through [TableEndpoints]
// and answer 501 NOT_IMPLEMENTED until a Delta log reader provides them. Every protocol endpoint
// requires a bearer token ([Config.Tokens], tokens added with [Server.AddToken], or tokens
// minted by an activation link); tokens are compared in constant time over SHA-256 digests and
// never logged.
//
// Data files are not served through the protocol endpoints but through signed file URLs
// ([Server.SignURL]), the local stand-in for cloud presigned URLs: an HMAC-SHA256 over the
// table id, the file's path relative to the table root and an expiry time. The file handler
// needs no bearer token, serves HTTP ranges, and never opens anything outside the table's root
// directory (it opens files through an [os.Root]).
//
// Like Databricks open sharing, the server can mint one-time activation links
// ([Server.NewActivation]): the recipient downloads the credential (a profile with a fresh
// bearer token) once from the Databricks-shaped public endpoints
// /api/2.1/unity-catalog/public/data_sharing_activation_info/{code} and
// /api/2.1/unity-catalog/public/data_sharing_activation/{code}.
//
// Configuration comes from a YAML file ([LoadConfig]) or from flags ([ParseTableFlag],
// [Config.AddTable]); [Config.Validate] checks names against the protocol's rules, rejects
// duplicate names (case-insensitively) and tables whose location has no _delta_log, and requires
// at least one bearer token unless NoAuth is set explicitly.
//
// Secrets (bearer tokens, activation codes, signed URL query strings, the signing key) never
// appear in logs, errors or String output.
package server
