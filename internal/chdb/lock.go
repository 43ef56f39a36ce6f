package chdb

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// whyNoConnect explains a failed chdb_connect, which returns NULL and prints
// the reason to stderr. The common cause is another process holding the path:
// ClickHouse takes an exclusive flock on <path>/status and writes its PID
// there. Otherwise the first line the engine printed is the reason.
func whyNoConnect(path, printed string) error {
	refused := errors.New("engine refused the connection")
	if line, _, _ := strings.Cut(strings.TrimSpace(printed), "\n"); line != "" {
		refused = fmt.Errorf("engine refused the connection: %w", engineError(line))
	}
	f, err := os.Open(filepath.Join(path, "status"))
	if err != nil {
		return refused
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		if pid := statusPID(f); pid != "" {
			return fmt.Errorf("%w (pid %s)", ErrLocked, pid)
		}
		return ErrLocked
	}
	if err == nil {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	}
	return refused
}

// statusPID returns the "PID: n" line of a status file, or "".
func statusPID(f *os.File) string {
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if pid, ok := strings.CutPrefix(sc.Text(), "PID: "); ok {
			return strings.TrimSpace(pid)
		}
	}
	return ""
}
