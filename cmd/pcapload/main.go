// Command pcapload decodes every DNS message in capture files and loads
// them into ClickHouse (an embedded engine by default) and Parquet.
//
// Usage:
//
//	pcapload [load] [flags] INPUT...   load capture files
//	pcapload sql [--db PATH | --to URL] QUERY   query a database
//	pcapload report [--db PATH | --to URL]      what an analyst looks at first
//	pcapload schema print|apply|rebuild-views   the table definitions
//	pcapload serve [--db PATH]         serve the embedded database to ClickHouse clients
//	pcapload version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"
)

// version is stamped by the Makefile with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	setMemoryLimit()
	ctx, interrupt := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go onSignals(signals, interrupt, os.Stderr, interruptGrace, os.Exit)
	code := run(ctx, os.Args[1:], detachStdin(), os.Stdout, os.Stderr)
	interrupt()
	os.Exit(code)
}

// onSignals cancels the run at the first signal, then exits at the
// second, or grace after the first, whatever the run is waiting for:
// exactly once holds as after a SIGKILL, and the next run completes what
// was cut. A load whose insert or commit waited on a stopped server went on
// 5 minutes after the first signal; and the second signal was lost when
// the process began with SIGINT ignored (a script's background job), as
// restoring the signal's disposition made it ignored again (a hostile run).
func onSignals(signals <-chan os.Signal, interrupt func(), stderr io.Writer, grace time.Duration, exit func(int)) {
	<-signals
	fmt.Fprintf(stderr, "pcapload: interrupted: ending what is in progress, for %s at most "+
		"(interrupt again to stop at once)\n", grace)
	interrupt()
	select {
	case sig := <-signals:
		fmt.Fprintln(stderr, "pcapload: interrupted again: stopped at once; loading the same files again completes them")
		code := 130 // as a shell says a process SIGINT ended
		if sig == syscall.SIGTERM {
			code = 143
		}
		exit(code)
	case <-time.After(grace):
		fmt.Fprintf(stderr, "pcapload: still not ended %s after the interrupt: stopped; loading the same files "+
			"again completes them\n", grace)
		exit(exitFailure)
	}
}

// interruptGrace is how long an interrupted run may take to end what is
// in progress: an insert's answer, a load record.
const interruptGrace = 30 * time.Second

// memoryLimit is the Go runtime's soft memory limit unless GOMEMLIMIT sets
// one. What a load holds is bounded by construction (see the load package
// doc), 80 to 160 MiB live with two workers; the collector's default pace,
// which lets the heap grow to twice what was live, would still take the
// process past 256 MiB. At this limit it collects a little more often
// instead, and the process stays under 256 MiB with the binary's code and
// the limit's overshoot on top. It bounds Go's memory only: the embedded
// engine's is its own.
const memoryLimit = 192 << 20

// embeddedMemoryLimit is the limit when the embedded engine is a
// destination: its sink holds an insert's batches as it gathers them and
// those of another while the engine copies them (about 110 MB each), which
// would keep the heap at the 192 MiB limit
// and the collector running without pause (a load then took twice as
// long). The engine's own memory is larger still (see the README).
const embeddedMemoryLimit = 320 << 20

func setMemoryLimit() { setMemoryLimitTo(memoryLimit) }

// setMemoryLimitTo sets the soft memory limit unless GOMEMLIMIT sets one.
func setMemoryLimitTo(n int64) {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(n)
	}
}

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // a file or a destination failed
	exitUsage   = 2
)

// usageError is a mistake on the command line; main prints it with a hint
// and exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// run dispatches to a command and maps its outcome to an exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	env := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, rest := "load", args
	switch {
	case slices.Contains(commands, args[0]) || slices.Contains([]string{"-h", "--help", "-help"}, args[0]):
		cmd, rest = args[0], args[1:]
	case args[0] == "--version" || args[0] == "-version":
		cmd, rest = "version", args[1:]
	default:
		if mistyped(args[0]) {
			return exitCode(usagef("%s: no such command, nor file; the commands are load, sql, report, schema, serve, version and help",
				args[0]), stderr)
		}
	}
	var err error
	switch cmd {
	case "load":
		err = env.load(ctx, rest)
	case "sql":
		err = env.sql(ctx, rest)
	case "report":
		err = env.report(ctx, rest)
	case "schema":
		err = env.schema(ctx, rest)
	case "serve":
		err = env.serve(ctx, rest)
	case "version":
		if len(rest) > 0 {
			err = usagef("version: unexpected argument %q", rest[0])
			break
		}
		fmt.Fprintf(stdout, "pcapload %s\n", version)
	default:
		fmt.Fprint(stdout, usage)
	}
	return exitCode(err, stderr)
}

// commands are the command names run takes.
var commands = []string{"load", "sql", "report", "schema", "serve", "version", "help"}

// mistyped reports whether a first argument that is no command is no
// input either: a bare word (no path, extension or pattern) naming nothing.
// "pcapload frobnicate" printed a load's summary of one missing file.
func mistyped(a string) bool {
	if strings.ContainsAny(a, "/.*?[-") {
		return false
	}
	_, err := os.Stat(a)
	return errors.Is(err, fs.ErrNotExist)
}

// helpedCommands are the commands whose usage errors point at their own
// help (-h).
var helpedCommands = []string{"load", "report", "sql", "serve", "schema print", "schema apply"}

func exitCode(err error, stderr io.Writer) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return exitOK
	case errors.Is(err, errFailed):
		return exitFailure // already reported file by file
	case errors.As(err, &ue):
		msg := oneLine(err.Error())
		try := "pcapload help"
		// "load: ..." is a usage error of load: its own help says more.
		if cmd, _, ok := strings.Cut(msg, ":"); ok && slices.Contains(helpedCommands, cmd) {
			try = "pcapload " + cmd + " -h"
		}
		fmt.Fprintf(stderr, "pcapload: %s\nTry '%s'.\n", msg, try)
		return exitUsage
	}
	fmt.Fprintf(stderr, "pcapload: %s\n", oneLine(err.Error()))
	return exitFailure
}

// errFailed reports that some files or destinations failed; the details
// were printed as they happened.
var errFailed = errors.New("some files or destinations failed")

// errHelp reports that a command printed its help; the exit status is 0.
var errHelp = errors.New("help printed")

// flagSet returns a command's flags. Parse errors are returned, not
// printed: main prints them as one line with a hint.
func (e *env) flagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(e.stdout, "Usage: pcapload %s %s\n\nFlags:\n", name, synopsis)
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parse parses a command's flags; -h prints the help, once.
func (e *env) parse(fs *flag.FlagSet, args []string) error {
	// Parse itself calls Usage on -h and on every error: silenced, the
	// help is printed once for -h and not at all for a mistake, which is
	// one line on stderr.
	help := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.Usage = help
	if errors.Is(err, flag.ErrHelp) {
		help()
		return errHelp
	}
	if err != nil {
		return usagef("%s: %v", fs.Name(), err)
	}
	return nil
}

// env holds a command's standard streams.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

const usage = `pcapload decodes every DNS message in capture files and loads them.

Usage:
  pcapload [load] [flags] INPUT...   load files, directories, globs or - (stdin)
  pcapload sql [--db PATH | --to URL] [--format F] QUERY
                                     query the embedded database, or a server by its http(s):// URL
  pcapload report [--db PATH | --to URL]
                                     files by state; messages by type, rcode and VLAN; top names and clients
  pcapload schema print              print the ClickHouse DDL that apply runs
  pcapload schema apply [--db PATH | --to URL]
                                     create the tables in the embedded database or a server
  pcapload schema rebuild-views [--db PATH | --to URL]
                                     fill the views again from dns_messages
  pcapload serve [--db PATH] [--tcp ADDR] [--http ADDR] [--config-file FILE]
                                     serve the embedded database with ClickHouse's native
                                     and HTTP protocols (127.0.0.1:9000 and :8123)
  pcapload version

Run 'pcapload load -h' for the load flags.
`
