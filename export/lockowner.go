package export

import (
	"bytes"
	"os"
	"strconv"
	"strings"
)

// processIdentity is what a sync lock records about the process that holds it, beyond the
// host name and process id, so that a later run on the same machine can tell whether that
// process is still running: the boot id of the kernel, the process's pid namespace and its start
// time (Linux; empty elsewhere). A process id alone is not enough: after the owner died the id can
// belong to another process, and in another container the same id is another process.
type processIdentity struct {
	BootID       string // /proc/sys/kernel/random/boot_id
	PIDNamespace string // the target of /proc/self/ns/pid, e.g. "pid:[4026531836]"
	Start        string // field 22 of /proc/PID/stat: start time in clock ticks after boot
}

// ownerState is what this process can tell about the owner of a lock.
type ownerState int

const (
	ownerUnknown ownerState = iota // another host, or not enough recorded to tell: only expiry frees the lock
	ownerAlive
	ownerGone
)

// lockOwnerState tells whether the process that wrote li is still running, as far as this
// process can know: only for a lock written on this host (same host name, and on Linux the same
// boot and pid namespace). See procState for the per-system check.
func lockOwnerState(li *lockInfo) ownerState {
	host, err := os.Hostname()
	if err != nil || li.Host == "" || li.Host != host || li.PID <= 0 {
		return ownerUnknown
	}
	self := selfIdentity()
	if self.BootID != li.BootID || self.PIDNamespace != li.PIDNamespace {
		// Another boot of this host (or another machine with the same name), or another pid
		// namespace (a container): the process id means nothing here.
		return ownerUnknown
	}
	return procState(li.PID, li.ProcessStart)
}

// statStart returns field 22 (starttime) of a /proc/PID/stat line. The second field, the
// command name in parentheses, may itself hold spaces and parentheses: fields are counted after
// its last ')'.
func statStart(b []byte) string {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(string(b[i+1:])) // fields 3, 4, ...
	if len(f) < 20 {
		return ""
	}
	if _, err := strconv.ParseUint(f[19], 10, 64); err != nil {
		return ""
	}
	return f[19]
}

// statState returns field 3 (state: R, S, D, Z for a zombie...) of a /proc/PID/stat line.
func statState(b []byte) string {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
