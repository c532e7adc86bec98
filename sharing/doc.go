// Package sharing is the Delta Sharing protocol client: it reads a recipient's profile (the
// credential file a provider hands out), turns it into an authenticated HTTP client, and speaks
// the Delta Sharing REST protocol to list shares, schemas and tables, read a table's version and
// metadata, and stream the file actions of a snapshot, a time-travel or a change-data query.
//
// The pieces, one file each:
//
//   - profile.go: [Profile], [ParseProfile], [LoadProfile] and [LoadProfileWith] for profile format versions 1 and 2
//     (bearer_token and oauth_client_credentials). Secrets never appear in String or log output.
//   - auth.go: credentials are oauth2.TokenSource values; a bearer token is a static source with
//     an expiry, OAuth client credentials are fetched, cached and refreshed before they expire.
//     One http.RoundTripper adds the Authorization header, and only to the sharing endpoint.
//   - table.go: [Table] references (share.schema.table and profile#share.schema.table).
//   - errors.go: [APIError] for the protocol's error bodies, and sentinels ([ErrUnauthorized],
//     [ErrNotFound], [ErrTokenExpired] and others) for errors.Is.
//   - retry.go: [RetryPolicy] and [IsRetryable], the single place where retries are decided.
//   - client.go: [Client] and its endpoints, following every page of every listing and query.
//   - ndjson.go and wire.go: the newline-delimited JSON responses in both the parquet and the
//     delta response formats, decoded one line at a time with no line-length limit into one set
//     of normalized types ([Item], [File], [TableMetadata], [EndStream]). The exported wire
//     structs and [Encoder] write the same shapes, so a server can produce responses with them.
//
// The table reader (parallel download of the returned files, decoding, deletion vectors and
// column mapping) is built on top of this package.
package sharing
