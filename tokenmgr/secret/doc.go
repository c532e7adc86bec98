// Package secret keeps secrets out of text: [Sensitive] holds a secret (a token, a client
// secret, an activation link) that prints, formats, marshals and logs as "[redacted]" unless
// [Sensitive.Reveal] is called, and [Redact] scrubs known secrets from a message (an SDK or
// server error, a log line) before it is shown.
//
// It is the leaf that tokenmgr (credential store, activation) and tokenmgr/databricks
// (workspace administration) share, so that neither has to import the other.
package secret
