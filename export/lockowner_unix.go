//go:build unix && !linux

package export

import (
	"errors"
	"syscall"
)

// selfIdentity records nothing beyond host and pid on these systems.
func selfIdentity() processIdentity { return processIdentity{} }

// procState is the portable check: signal 0 to pid; "no such process" means it is gone. A
// reused process id reads as alive (then only expiry or BreakLock frees the lock).
func procState(pid int, _ string) ownerState {
	err := syscall.Kill(pid, 0)
	switch {
	case err == nil || errors.Is(err, syscall.EPERM):
		return ownerAlive
	case errors.Is(err, syscall.ESRCH):
		return ownerGone
	}
	return ownerUnknown
}
