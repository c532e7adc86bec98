//go:build unix

package bench

import (
	"os"
	"runtime"
	"syscall"
)

// peakRSS reads ru_maxrss of an exited child: kibibytes on Linux and the BSDs, bytes on macOS.
func peakRSS(ps *os.ProcessState) int64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok || ru == nil {
		return 0
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return int64(ru.Maxrss)
	}
	return int64(ru.Maxrss) << 10
}
