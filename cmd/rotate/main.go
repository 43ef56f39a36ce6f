// Command rotate writes a packet stream into rolling, compressed capture
// files with sidecars, as a DNS sensor does.
//
// Usage:
//
//	rotate -i IFACE -w DIR [flags]     capture live with AF_PACKET
//	rotate -r FILE|- -w DIR [flags]    re-segment a capture file or stdin
//
// SIGINT and SIGTERM finish the current file and exit; SIGHUP rotates now.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is stamped by the Makefile with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	rot := make(chan struct{}, 1)
	go forward(hup, rot)

	e := env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, rotate: rot}
	err := run(ctx, os.Args[1:], e)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// forward turns each SIGHUP into a rotate request, merging ones not yet
// handled.
func forward(sig <-chan os.Signal, rot chan<- struct{}) {
	for range sig {
		select {
		case rot <- struct{}{}:
		default:
		}
	}
}

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// exitCode prints err, if any, as one line on w and maps it to an exit
// code.
func exitCode(err error, w io.Writer) int {
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(w, "rotate: %v\n(rotate -h for help)\n", err)
		return exitUsage
	}
	fmt.Fprintf(w, "rotate: %v\n", err)
	return exitFailure
}
