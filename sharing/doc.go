// Package sharing is the Delta Sharing protocol client: it reads a recipient's profile (the
// credential file a provider hands out), turns it into an authenticated HTTP client, and speaks
// the Delta Sharing REST protocol to list shares, schemas and tables, read a table's version and
// metadata, and stream the file actions of a snapshot, a time-travel or a change-data query.
//
// The pieces, one file each:
//
//   - profile.go: [Profile], [ParseProfile], [LoadProfile] and [LoadProfileWith] for profile format versions 1 and 2
//     (bearer_token, oauth_client_credentials, basic and oauth_jwt_bearer_private_key_jwt).
//     Secrets never appear in String or log output.
//   - auth.go: credentials are oauth2.TokenSource values; a bearer token is a static source with
//     an expiry, OAuth client credentials are fetched, cached and refreshed before they expire,
//     basic credentials are a static source sent as HTTP basic authentication.
//   - jwtbearer.go: the JWT bearer grant of oauth_jwt_bearer_private_key_jwt profiles (an
//     assertion signed with the profile's private key, exchanged for a cached access token).
//     One http.RoundTripper adds the Authorization header, and only to the sharing endpoint.
//   - retry.go: [RetryPolicy], [IsRetryable] and [RetryableStatus], the single place where
//     retries are decided (the table reader's downloads use the same policy).
//   - client.go: [Client] and its endpoints, following every page of every listing and query.
//
// The wire types, the NDJSON codec and the protocol's errors live in sharing/protocol (shared with
// our server, sharing/server); reading the returned files into Arrow records is sharing/reader.
package sharing
