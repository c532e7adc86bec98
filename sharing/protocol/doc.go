// Package protocol is the Delta Sharing protocol on the wire, shared by the client (sharing) and
// our server (sharing/server): the request and response types of every REST endpoint, the
// newline-delimited JSON responses in both the parquet and the delta response formats (decoded a
// line at a time with no line-length limit into one set of normalized types: [Item], [File],
// [TableMetadata], [EndStream]; [Encoder] writes them), the capabilities header, table
// references (share.schema.table), and the protocol's errors: [APIError] for error bodies and
// sentinels ([ErrUnauthorized], [ErrNotFound], [ErrTokenExpired] and others) for errors.Is.
//
// It does no I/O of its own beyond encoding and decoding, and imports no other package of the
// Delta Sharing client or server.
package protocol
