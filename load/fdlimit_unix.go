//go:build unix

package load

import (
	"math"
	"syscall"
)

// openFilesLimit returns how many files the process may have open
// (RLIMIT_NOFILE; Go raises it to the hard limit at start).
func openFilesLimit() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(rl.Cur)
}
