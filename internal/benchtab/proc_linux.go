package benchtab

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

// childAttr ties a child to the harness: should the harness die without
// stopping it, the kernel sends the child SIGTERM, so that no loader or
// server outlives an interrupted bench.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}

// peakRSS returns an exited child's peak resident memory in MiB; Linux
// counts ru_maxrss in KiB.
func peakRSS(ps *os.ProcessState) float64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}

// resetPeakRSS restarts a process's VmHWM from its current resident
// memory (clear_refs value 5, Linux 4.0), so that one server serves
// several runs and each run gets its own peak.
func resetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// cpuModel names the machine's processor, empty when unknown.
func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return ""
}
