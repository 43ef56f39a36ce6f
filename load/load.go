package load

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/parquet"
)

// Sink is a destination of the load.
type Sink interface {
	// Name identifies the destination in summaries ("parquet:DIR", ...).
	Name() string
	// Begin starts loading one capture file. It is called from several
	// workers at once. A destination that already holds the file (the
	// same hash, loaded) returns ErrLoaded unless f.Force is set.
	Begin(f File) (FileSink, error)
	// Close finishes the destination after the last file.
	Close() error
}

// ErrLoaded reports a capture file a destination already holds; the file
// is left out there.
var ErrLoaded = errors.New("already loaded")

// File is the capture file a Sink begins.
type File struct {
	Path  string
	Hash  string // hex SHA-256 of the bytes as stored; empty for standard input
	Force bool   // replace the file's rows if the destination holds them

	// Checkpoint, when not nil, is called at the steps of a load that a
	// crash test stops the loader at: "replace" (a replacement recorded,
	// rows not yet deleted), "insert" after insert n (from 1), "record"
	// before the load record is written and "recorded" after.
	Checkpoint func(step string, n int)
}

// Reached calls f.Checkpoint, when it is set, at step n of the load.
func (f *File) Reached(step string, n int) {
	if f.Checkpoint != nil {
		f.Checkpoint(step, n)
	}
}

// FileSink receives the batches of one capture file, from one goroutine.
type FileSink interface {
	// Write adds a batch whose rows all belong to partition p. The batch
	// is released by the caller after Write returns.
	Write(p parquet.Partition, rec arrow.RecordBatch) error
	// Commit makes the file's rows visible, with its accounting.
	Commit(st *ingest.FileStats) error
	// Abort drops what Write received, as far as the destination can.
	Abort()
}

// Options configure a load.
type Options struct {
	Workers    int           // concurrent files; all cores when 0
	BatchRows  int           // rows per Arrow batch (and Parquet row group); 65536 when 0
	Decode     ingest.Config // how to decode
	Progress   *ingest.Progress
	Force      bool                     // replace files the destinations already hold
	Checkpoint func(step string, n int) // see File.Checkpoint; nil outside tests
}

// FileResult is the outcome of one capture file.
type FileResult struct {
	Stats    ingest.FileStats
	Skipped  string            // why the file was left out; empty when it was loaded
	Loaded   []string          // sinks that already held the file and were left out
	Rows     map[string]uint64 // rows written, by sink name
	SinkErrs map[string]error  // sinks that failed on this file
}

// Failed reports whether the file or any destination failed on it.
func (r *FileResult) Failed() bool { return r.Stats.Err != nil || len(r.SinkErrs) > 0 }

// Result is the outcome of a load.
type Result struct {
	Files    []FileResult // in input order
	CloseErr map[string]error
	Duration time.Duration
}

// Run loads inputs into sinks and closes the sinks. It returns when every
// file is done or ctx is cancelled; files not started then are marked
// failed with ctx's error.
func Run(ctx context.Context, inputs []ingest.Input, sinks []Sink, opt Options) *Result {
	start := time.Now()
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if opt.BatchRows <= 0 {
		opt.BatchRows = 65536
	}
	opt.Decode.Done = ctx.Done()
	res := eachFile(ctx, inputs, opt.Workers, func() (func(ingest.Input) FileResult, func()) {
		w := newWorker(sinks, opt)
		return w.file, w.release
	})
	for _, s := range sinks {
		if err := s.Close(); err != nil {
			if res.CloseErr == nil {
				res.CloseErr = make(map[string]error)
			}
			res.CloseErr[s.Name()] = err
		}
	}
	res.Duration = time.Since(start)
	return res
}

// eachFile runs workers goroutines, each with what start gives it, a
// function that handles one file and one that releases what it holds, and
// hands them the inputs in order until ctx ends. Results go to the file's
// slot, so the summary keeps the input order.
func eachFile(ctx context.Context, inputs []ingest.Input, workers int,
	start func() (file func(ingest.Input) FileResult, release func())) *Result {
	res := &Result{Files: make([]FileResult, len(inputs))}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			file, release := start()
			defer release()
			for i := range jobs {
				res.Files[i] = file(inputs[i])
			}
		})
	}
	for i := range inputs {
		select {
		case jobs <- i:
		case <-ctx.Done():
			res.Files[i].Stats = ingest.FileStats{Path: inputs[i].Path, Err: ctx.Err()}
		}
	}
	close(jobs)
	wg.Wait()
	return res
}

// identify sets in's Hash, the content hash that names the file in the
// destinations, unless in is standard input or already has one.
func identify(in *ingest.Input) error {
	if in.Path == ingest.Stdin || in.Hash != "" {
		return nil
	}
	h, err := ingest.HashFile(in.Path)
	in.Hash = h
	return err
}

func wrapSinkErr(step string, err error) error {
	return fmt.Errorf("%s: %w", step, err)
}
