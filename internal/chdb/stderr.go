package chdb

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// captureStderr runs f with file descriptor 2 pointed at an unlinked
// temporary file and returns what was written there. chdb_connect prints its
// failure (and nothing else) to stderr instead of returning it, so this is how
// the message reaches the caller instead of the terminal.
//
// The redirection is process-wide: anything else the process writes to stderr
// during f is captured too, and the caller replays it.
func captureStderr(f func()) (string, error) {
	tmp, err := os.CreateTemp("", "pcapload-chdb-stderr-*")
	if err != nil {
		return "", fmt.Errorf("capture stderr: %w", err)
	}
	defer tmp.Close()
	_ = os.Remove(tmp.Name())

	saved, err := syscall.Dup(2)
	if err != nil {
		return "", fmt.Errorf("capture stderr: %w", err)
	}
	defer syscall.Close(saved)
	if err := syscall.Dup3(int(tmp.Fd()), 2, 0); err != nil {
		return "", fmt.Errorf("capture stderr: %w", err)
	}
	f()
	if err := syscall.Dup3(saved, 2, 0); err != nil {
		return "", fmt.Errorf("restore stderr: %w", err)
	}

	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("read captured stderr: %w", err)
	}
	out, err := io.ReadAll(tmp)
	if err != nil {
		return "", fmt.Errorf("read captured stderr: %w", err)
	}
	return string(out), nil
}
