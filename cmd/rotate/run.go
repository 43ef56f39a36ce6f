package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/pcapload/pcapload/ingest/capture"
	"github.com/pcapload/pcapload/rotate"
)

// env is what run needs from the process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	rotate         <-chan struct{} // a value per SIGHUP
}

// run parses args, recovers what a crash left, writes the stream into
// rolling files and prints a summary.
func run(ctx context.Context, args []string, e env) error {
	o, err := parseFlags(args, e.stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if o.showVersion {
		fmt.Fprintln(e.stdout, "rotate", version)
		return nil
	}
	log := newLogger(e.stderr, o.logJSON)
	o.cfg.Logger = log

	if _, err := rotate.Recover(o.cfg); err != nil {
		return err
	}
	src, closeSrc, err := openSource(ctx, o, e.stdin)
	if err != nil && ctx.Err() != nil {
		return nil // stopped before the stream began: nothing to write
	}
	if err != nil {
		return err
	}
	defer closeSrc()
	if live, ok := src.(*rotate.Live); ok {
		o.cfg.Stats = live.Stats
		o.cfg.Now = time.Now
		log.Info("capture started", slog.String("interface", o.iface), slog.Int("fanout", o.live.Fanout))
	}
	r, err := rotate.New(o.cfg)
	if err != nil {
		return err
	}
	return runLogged(ctx, r, src, e, log, o.statsEvery)
}

// runLogged runs the rotator, logging statistics periodically and at exit,
// and prints the summary.
func runLogged(ctx context.Context, r *rotate.Rotator, src capture.Reader, e env, log *slog.Logger,
	every time.Duration,
) error {
	start := time.Now()
	stop := make(chan struct{})
	if every > 0 {
		go logPeriodically(r, log, start, every, stop)
	}
	err := rotate.Run(ctx, r, src, e.rotate)
	close(stop)
	t := r.Totals()
	logStats(log, "done", t, time.Since(start))
	fmt.Fprintf(e.stdout, "%d packets, %d bytes, %d files, %d drops, %d deleted\n",
		t.Packets, t.Bytes, t.Files, t.Drops, t.Deleted)
	return err
}

// openSource opens the capture file or stdin (-r) or the interface (-i).
func openSource(ctx context.Context, o *options, stdin io.Reader) (capture.Reader, func(), error) {
	if o.iface != "" {
		l, err := rotate.OpenLive(o.live)
		if err != nil {
			return nil, nil, err
		}
		return l, func() { l.Close() }, nil
	}
	in, closeIn := interruptible(ctx, stdin)
	if o.read != "-" {
		f, err := os.Open(o.read)
		if err != nil {
			return nil, nil, fmt.Errorf("open capture: %w", err)
		}
		closeIn()
		in, closeIn = f, func() { f.Close() }
	}
	r, err := capture.OpenFile(in)
	if err != nil {
		closeIn()
		return nil, nil, fmt.Errorf("open capture %s: %w", o.read, err)
	}
	if ifs := r.Interfaces(); len(ifs) > 0 && ifs[0].Snaplen > 0 && o.read != "" {
		o.cfg.Snaplen = ifs[0].Snaplen
	}
	return r, func() { r.Close(); closeIn() }, nil
}
