//go:build !linux

package main

import "os"

// detachStdin returns standard input: the embedded engine runs on Linux
// only (see stdin_linux.go).
func detachStdin() *os.File { return os.Stdin }
