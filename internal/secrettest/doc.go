// Package secrettest is test support for code that handles secrets: [AssertNoSecret] checks
// that no rendering of a value (every fmt verb, JSON, slog, Error()) shows any of the given
// secrets, in clear or hex-encoded.
package secrettest
