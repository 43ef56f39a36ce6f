// Command benchtable measures the built pcapload command end to end and
// prints a markdown table on stdout, its progress on stderr: `make bench`
// runs it after the Go benchmarks.
//
// Usage:
//
//	benchtable [-pcapload bin/pcapload] [-sizes 100000,1000000,10000000] [-runs 3]
//	           [-stages null,parquet,db,server,db+parquet] [-files 1000] [-file-packets 1000] [-files-runs 1]
//	           [-zstd-size N] [-tshark tshark] [-tshark-max 1000000]
//
// The db and server stages need the embedded engine: PCAPLOAD_CHDB_LIB, as
// the Makefile sets it, or the library in its cache. See package benchtab
// for what is measured.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/pcapload/pcapload/internal/benchtab"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2) // the flag package said what is wrong
	default:
		fmt.Fprintf(os.Stderr, "benchtable: %v\n", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if _, err := os.Stat(cfg.Bin); err != nil {
		return fmt.Errorf("%w (make build makes it)", err)
	}
	dir, err := os.MkdirTemp("", "benchtable-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg.Dir = dir
	t, err := benchtab.Run(ctx, cfg)
	if err != nil {
		return err
	}
	return t.WriteMarkdown(stdout)
}

// parseFlags turns the command line into a Config, without its Dir.
func parseFlags(args []string, stderr io.Writer) (benchtab.Config, error) {
	command := strings.Join(append([]string{"benchtable"}, args...), " ")
	cfg := benchtab.Config{Log: stderr, Command: command}
	fs := flag.NewFlagSet("benchtable", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Bin, "pcapload", "bin/pcapload", "the pcapload binary to measure")
	sizes := fs.String("sizes", "100000,1000000,10000000", "capture sizes in packets")
	fs.IntVar(&cfg.Runs, "runs", 3, "runs of each stage on each input; the table has their medians")
	stages := fs.String("stages", "null,parquet,db,server,db+parquet", "stages to run, comma-separated")
	fs.IntVar(&cfg.ManyFiles, "files", 1000, "small captures in the many-files folder; -1 for none")
	fs.IntVar(&cfg.ManyPackets, "file-packets", 1000, "packets in each small capture")
	fs.IntVar(&cfg.ManyRuns, "files-runs", 1, "runs on the many-files folder (a memory check)")
	fs.IntVar(&cfg.ZstdSize, "zstd-size", 0,
		"size whose zstd copy is measured; 0 for the largest up to 1,000,000 packets, -1 for none")
	fs.IntVar(&cfg.TsharkMax, "tshark-max", 1_000_000, "largest capture tshark runs on, in packets")
	tshark := fs.String("tshark", "tshark", "the tshark binary, the yardstick; empty for none")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, errUsage
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if cfg.Sizes, err = benchtab.ParseSizes(*sizes); err != nil {
		return cfg, err
	}
	if cfg.Stages, err = benchtab.ParseStages(*stages); err != nil {
		return cfg, err
	}
	if *tshark != "" {
		// A missing tshark is said in the table rather than failing the
		// bench.
		cfg.Tshark, _ = exec.LookPath(*tshark)
	}
	return cfg, nil
}
