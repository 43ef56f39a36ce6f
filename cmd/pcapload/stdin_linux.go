package main

import (
	"os"
	"syscall"
)

// detachStdin moves standard input off descriptor 0, which then reads
// /dev/null, and returns the file that reads it now; os.Stdin reads
// /dev/null. The embedded engine
// runs in this process and, as clickhouse-local does, takes a descriptor
// 0 that is no terminal for data of its queries: with the loader at the
// end of a pipe (`echo | pcapload load ...`, ssh) every load record's
// insert failed ("async inserts with both inlined and external data"),
// and a capture given as "-" could be read by the engine instead of the
// loader (a hostile run's finding).
func detachStdin() *os.File {
	fd, err := syscall.Dup(0)
	if err != nil {
		return os.Stdin // no descriptor 0 to keep
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		syscall.Close(fd)
		return os.Stdin
	}
	defer null.Close()
	if err := syscall.Dup3(int(null.Fd()), 0, 0); err != nil {
		syscall.Close(fd)
		return os.Stdin
	}
	syscall.CloseOnExec(fd)
	// os.Stdin stays the file of descriptor 0: a file left unreferenced
	// is closed by its finalizer, and the engine's next open would take
	// descriptor 0 for its standard input again.
	return os.NewFile(uintptr(fd), "/dev/stdin")
}
