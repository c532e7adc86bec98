// Package secrettest is test support for code that handles secrets: [AssertNoSecret] checks
// that no rendering of a value (every fmt verb, JSON, slog, Error()) shows any of the given
// secrets, in clear or hex-encoded; [AssertAdvice] checks that an error of such code says what
// to do next as internal/hint renders it; [WriteFile] writes a file with an exact mode, as
// credential files are kept.
package secrettest
