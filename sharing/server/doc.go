// Package server is deltashare's own Delta Sharing server over local Delta tables
// (`deltashare serve`).
//
// It serves the Delta Sharing REST protocol under a configurable prefix (default
// "/delta-sharing"): listing shares, schemas and tables with signed page tokens, and the table
// endpoints over the tables' Delta logs (package deltalog; [Server.DefaultTableEndpoints],
// replaceable with [WithTableEndpoints]):
//
//   - version: the Delta-Table-Version header (latest, or the first version at or after
//     startingTimestamp);
//   - metadata: the protocol and metaData lines, by version or timestamp;
//   - query: snapshots (latest, by version or timestamp) or the data change files since a
//     startingVersion, with jsonPredicateHints file skipping, limitHint, maxFiles/pageToken
//     paging and refresh tokens;
//   - changes: the change data feed of tables that record it, paged the same way.
//
// Responses are streamed NDJSON. The response format follows the delta-sharing-capabilities
// header: parquet unless the table uses deletion vectors or column mapping (then delta; a client
// that accepts only parquet gets 400 UNSUPPORTED_OPERATION). Page and refresh tokens are opaque
// and HMAC-signed, bound to the table, the pinned version and a hash of the request's
// parameters. A table's history (time travel, startingVersion queries, change data feed) is
// shared unless its config sets historyShared: false; startVersion bounds how far back it
// reaches. Hints are optional: a jsonPredicateHints that does not parse is ignored (logged at
// debug level), and file skipping is conservative, so hints never change what a client reads.
// Asynchronous queries and temporary table credentials answer 501 NOT_IMPLEMENTED.
//
// Every protocol endpoint requires a bearer token ([Config.Tokens], tokens added with [Server.AddToken], or tokens
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
// Configuration comes from a YAML file ([LoadConfig]) or from code ([ParseTableFlag],
// [Config.AddTable]); [Config.ValidateWith] checks names against the protocol's rules, rejects
// duplicate names (case-insensitively) and tables whose location has no _delta_log, and requires
// at least one bearer token unless NoAuth is set explicitly.
//
// Secrets (bearer tokens, activation codes, signed URL query strings, the signing key) never
// appear in logs, errors or String output.
package server
