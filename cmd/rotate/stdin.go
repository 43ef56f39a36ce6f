package main

import (
	"context"
	"io"
	"os"
	"syscall"
	"time"
)

// interruptible returns stdin such that a Read blocked on a pipe ends when
// ctx is done, so that SIGINT and SIGTERM finish the current file even
// while the writer of the pipe is silent. It does so by making the
// descriptor non-blocking, which lets the runtime's poller give it a read
// deadline; undo restores blocking mode, for the sake of whoever shares the
// descriptor (a shell's terminal). Anything but the process's stdin, and a
// stdin the poller refuses (a regular file, which never stalls), is
// returned as it is.
func interruptible(ctx context.Context, stdin io.Reader) (r io.Reader, undo func()) {
	if stdin != io.Reader(os.Stdin) {
		return stdin, func() {}
	}
	if err := syscall.SetNonblock(0, true); err != nil {
		return stdin, func() {}
	}
	f := os.NewFile(0, "stdin")
	stop := context.AfterFunc(ctx, func() { f.SetReadDeadline(time.Now()) })
	return f, func() {
		stop()
		f.SetReadDeadline(time.Time{}) // also keeps f, whose finalizer closes fd 0, alive until now
		syscall.SetNonblock(0, false)
	}
}
