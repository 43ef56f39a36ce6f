package benchtab

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// sample is the figures of one run.
type sample struct {
	Wall float64 // seconds from the child's start to its exit
	CPU  float64 // the child's CPU seconds, user and system
	RSS  float64 // the child's peak resident memory, MiB

	// The server's CPU seconds and peak resident memory (MiB) over the
	// load, in the server stage.
	ServerCPU, ServerRSS float64

	Out float64 // bytes written, in the parquet stage
}

// stopDelay is how long a child has to exit after SIGTERM before it is
// killed.
const stopDelay = time.Minute

// runChild runs bin with args to its end, its stdout going to stdout, and
// returns its figures. An exit status other than 0 is an error quoting
// the end of its stderr. Cancelling ctx stops the child with SIGTERM.
func runChild(ctx context.Context, bin string, args, env []string, stdout io.Writer) (
	sample, error,
) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	cmd.SysProcAttr = childAttr()
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopDelay
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("%s %s: %w\n%s", bin, strings.Join(args, " "), err,
			tail(stderr.String(), 2000))
	}
	ps := cmd.ProcessState
	cpu := ps.UserTime() + ps.SystemTime()
	return sample{Wall: wall.Seconds(), CPU: cpu.Seconds(), RSS: peakRSS(ps)}, nil
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// summary is the part of the loader's --json summary that a run checks.
type summary struct {
	Files       int               `json:"files"`
	FilesLoaded int               `json:"files_loaded"`
	FilesFailed int               `json:"files_failed"`
	Packets     uint64            `json:"packets"`
	Messages    uint64            `json:"dns_messages"`
	Rows        map[string]uint64 `json:"rows"`
	Errors      []string          `json:"errors"`
}

// load runs the loader on in with one destination and checks that it
// loaded every generated message, once.
func load(ctx context.Context, cfg *Config, in *input, dests ...string) (sample, error) {
	var out bytes.Buffer
	args := []string{"load", "--json", "--progress", "never"}
	for _, d := range dests {
		args = append(args, "--to", d)
	}
	s, err := runChild(ctx, cfg.Bin, append(args, in.Path), cfg.Env, &out)
	if err != nil {
		return s, err
	}
	var sum summary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		return s, fmt.Errorf("load --to %s: summary: %w", strings.Join(dests, " --to "), err)
	}
	return s, sum.check(in, len(dests))
}

// check compares a summary of a load into dests destinations with what
// was generated: every destination holds every message.
func (sum *summary) check(in *input, dests int) error {
	var short []string
	for name, n := range sum.Rows {
		if n != in.Messages {
			short = append(short, fmt.Sprintf("%s %d", name, n))
		}
	}
	switch {
	case len(sum.Errors) > 0:
		return fmt.Errorf("load %s: %s", in.Path, strings.Join(sum.Errors, "; "))
	case sum.FilesLoaded != in.Files || sum.FilesFailed != 0:
		return fmt.Errorf("load %s: %d files loaded, %d failed; want %d loaded",
			in.Path, sum.FilesLoaded, sum.FilesFailed, in.Files)
	case sum.Packets != in.Packets || sum.Messages != in.Messages:
		return fmt.Errorf("load %s: %d packets, %d messages; generated %d and %d",
			in.Path, sum.Packets, sum.Messages, in.Packets, in.Messages)
	case len(sum.Rows) != dests || len(short) > 0:
		return fmt.Errorf("load %s: rows %v; want %d in each of %d destinations",
			in.Path, sum.Rows, in.Messages, dests)
	}
	return nil
}

// tsharkFields are the fields tshark exports, as in load's BenchmarkTshark:
// what an analyst would pull out of each DNS message without pcapload.
var tsharkFields = []string{
	"frame.time_epoch", "ip.src", "ip.dst", "dns.id", "dns.flags.response", "dns.flags.rcode",
	"dns.qry.name", "dns.qry.type", "dns.resp.name", "dns.resp.type", "dns.resp.ttl",
}

// tshark runs the yardstick on in, its output discarded.
func tshark(ctx context.Context, cfg *Config, in *input) (sample, error) {
	args := []string{"-n", "-r", in.Path, "-Y", "dns", "-T", "fields"}
	for _, f := range tsharkFields {
		args = append(args, "-e", f)
	}
	return runChild(ctx, cfg.Tshark, args, nil, io.Discard)
}
