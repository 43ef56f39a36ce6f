package main

import (
	"io"
	"log/slog"
	"time"

	"github.com/pcapload/pcapload/rotate"
)

// newLogger returns the text or JSON logger on w.
func newLogger(w io.Writer, json bool) *slog.Logger {
	if json {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// logPeriodically logs the totals every d until stop is closed.
func logPeriodically(r *rotate.Rotator, log *slog.Logger, start time.Time, d time.Duration,
	stop <-chan struct{},
) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			logStats(log, "stats", r.Totals(), time.Since(start))
		}
	}
}

// logStats logs totals and the rate since start.
func logStats(log *slog.Logger, msg string, t rotate.Totals, elapsed time.Duration) {
	secs := max(elapsed.Seconds(), 1e-9)
	log.Info(msg,
		slog.Uint64("packets", t.Packets),
		slog.Uint64("bytes", t.Bytes),
		slog.Uint64("drops", t.Drops),
		slog.Uint64("files", t.Files),
		slog.Float64("mb_per_s", float64(t.Bytes)/1e6/secs),
		slog.Float64("packets_per_s", float64(t.Packets)/secs),
		slog.Duration("duration", elapsed),
	)
}
