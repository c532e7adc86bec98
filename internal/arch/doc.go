// Package arch guards the layout: its test fails when a package imports against the direction
// data flows (profile → client → reader → export → formats → sink), when our server imports the
// client, or when a package has no comment saying its one job. It has no code of its own.
package arch
