//go:build !unix

package export

// selfIdentity records nothing beyond host and pid on these systems.
func selfIdentity() processIdentity { return processIdentity{} }

// procState cannot tell here: only expiry or BreakLock frees a lock.
func procState(int, string) ownerState { return ownerUnknown }
