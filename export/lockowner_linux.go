package export

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
)

var selfIdentity = sync.OnceValue(func() processIdentity {
	var id processIdentity
	if b, err := os.ReadFile("/proc/sys/kernel/random/boot_id"); err == nil {
		id.BootID = strings.TrimSpace(string(b))
	}
	if ns, err := os.Readlink("/proc/self/ns/pid"); err == nil {
		id.PIDNamespace = ns
	}
	id.Start = procStart("self")
	if id.BootID == "" || id.PIDNamespace == "" || id.Start == "" {
		// Without all three, nothing is recorded: a later run must not judge this process.
		return processIdentity{}
	}
	return id
})

// procStart returns the start time of process pid ("self" or a number) from /proc/PID/stat,
// or "" when it cannot be read.
func procStart(pid string) string {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return ""
	}
	return statStart(b)
}

// procState tells whether process pid, started at start (ticks after boot), still runs: a
// missing /proc entry or another start time (the id was reused) means it is gone.
func procState(pid int, start string) ownerState {
	if start == "" {
		return ownerUnknown
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, fs.ErrNotExist) {
		return ownerGone
	}
	if err != nil {
		return ownerUnknown
	}
	switch statStart(b) {
	case start:
		if st := statState(b); st == "Z" || st == "X" {
			return ownerGone // killed, not yet reaped by its parent
		}
		return ownerAlive
	case "":
		return ownerUnknown
	}
	return ownerGone
}
