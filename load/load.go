package load

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/ingest/capture"
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
	Path   string
	Hash   string // hex SHA-256 of the bytes as stored; empty for standard input
	Force  bool   // replace the file's rows if the destination holds them
	Sensor string // the sensor its rows are stored under; the sink's own when empty

	// Checkpoint, when not nil, is called at the steps of a load that a
	// crash test stops the loader at: "replace" (a replacement recorded,
	// rows not yet deleted), "uncounted" (the rows taken out of the
	// views, not yet deleted), "insert" after insert n (from 1), "record"
	// before the load record is written and "recorded" after.
	Checkpoint func(step string, n int)
	// Waiting, when not nil, is told that the load waits wait before it
	// replaces the rows of the files at paths, an earlier load's that did
	// not finish, for their mark to be the takeover age (Ledger.SetTakeover).
	Waiting func(paths []string, wait time.Duration)

	in           ingest.Input // as the worker read it: pinned, with its size
	batching     string       // where the worker cuts the rows into batches (see CutInto)
	cut          string       // and the sink the batches into inserts
	supersededBy string       // the hash of the file this one is the start of (Ledger.supersede)
	outcome      *sinkOutcome // where the Ledger tells the file's result what it did in its sink
}

// sinkOutcome is what a sink's Ledger did to earlier loads of a file.
type sinkOutcome struct {
	superseded []string // the paths of the earlier loads of a start of it it replaced (Ledger.supersede)
	replaced   string   // why it replaced an earlier load's rows, unforced
	loadedAs   string   // the other path it was loaded under, when left out as loaded
}

// input returns the Input f was begun for, its path at least.
func (f *File) input() ingest.Input {
	in := f.in
	if in.Path == "" {
		in.Path = f.Path
	}
	return in
}

// CutInto returns f as a sink cutting its batches into inserts of rows
// rows or bytes Arrow bytes loads it, or by what more says when it is not
// empty (a bound on the inserts' compressed bytes, and the compressor's
// version): the Ledger records where the rows were cut, and what fills
// them, on the file's loading mark, and a run that would cut or fill them
// otherwise replaces the rows rather than continue, since its inserts'
// tokens would drop rows that differ.
func (f File) CutInto(rows int, bytes int64, more string) File {
	f.cut = fmt.Sprintf("%s, inserts of %d rows or %d bytes", f.batching, rows, bytes)
	if more != "" {
		f.cut += " or " + more
	}
	return f
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

// HoldingFileSink is a FileSink told, with each batch, what the worker
// holds for the file apart from its batches: its decoder's state for the
// messages still to come and its decompressor's window
// (ingest.Decoder.StateBytes and WindowBytes) when the batch ended. That
// is reckoned from the file alone, as where batches end is, so a rerun is
// told the same. A destination that gathers batches into inserts ends
// them sooner as it grows (see clickhouse.Options.InsertHeld).
type HoldingFileSink interface {
	FileSink
	// WriteHolding is Write, the worker holding holding bytes.
	WriteHolding(p parquet.Partition, rec arrow.RecordBatch, holding int) error
}

// SkipFileSink is a FileSink that records a file found not to be a
// capture (a README in a walked folder): its Begin marked the file as
// loading, and a mark left without an outcome would name the file as an
// unfinished load in every run after.
type SkipFileSink interface {
	FileSink
	// Skip drops what Write received (nothing, for a file that held no
	// packet) and records the file as skipped.
	Skip() error
}

// CancelFileSink is a FileSink that ends a file whose load was
// interrupted (ingest.ErrCancelled) without sending what it gathered: it
// waits for the inserts in flight and records the file failed. A run of
// the same file again then sends the same inserts, which the destination
// drops by their tokens, and the rest: sent, the short insert of the rows
// read before the interrupt carried a token the next run's insert of
// those rows and more also carries, with other rows, and the engine
// stored both (a new user's Ctrl-C and rerun: 1,089,127 rows of
// 1,000,000 messages).
type CancelFileSink interface {
	FileSink
	Cancel(st *ingest.FileStats) error
}

// GroupSink is a Sink that can load several small files as one: their
// load records read in one query and written in one insert, their rows in
// shared inserts (see Ledger). Each insert and record round trip saved is
// a part less for the engine to write and merge: loaded one by one, a
// thousand files of a thousand packets went into a server at 16,000
// messages a second.
type GroupSink interface {
	Sink
	// SplitGroup splits files, each with a hash, into the groups that can
	// share inserts, as lists of indices into files: one for a database,
	// one per shard for a cluster.
	SplitGroup(files []File) ([][]int, error)
	// BeginGroup begins files, each with a hash, together; they are one
	// of SplitGroup's groups. loaded[i] reports a file the destination
	// holds, left out; the returned GroupFileSink takes the rows of the
	// others, in order, and is nil when there are none. It is called
	// from several workers at once.
	BeginGroup(files []File) (g GroupFileSink, loaded []bool, err error)
}

// GroupFileSink receives the batches of a group's files, from one
// goroutine; a batch may hold rows of several of them.
type GroupFileSink interface {
	// Write adds a batch whose rows all belong to partition p.
	Write(p parquet.Partition, rec arrow.RecordBatch) error
	// Commit makes the files' rows visible, with their accounting:
	// stats[i] is that of the group's i-th file, nil for a file that
	// turned out not to be a capture.
	Commit(stats []*ingest.FileStats) error
	// Abort drops what Write received, as far as the destination can.
	Abort()
}

// Options configure a load.
type Options struct {
	Workers    int           // concurrent files; all cores when 0
	BatchRows  int           // rows per Arrow batch (and Parquet row group); 65536 when 0
	BatchBytes int           // a batch's bytes at most, as schema.Builder.Size reckons them; DefaultBatchBytes when 0
	GroupFiles int           // small files loaded together into a GroupSink; DefaultGroupFiles when 0, 1 for none
	Decode     ingest.Config // how to decode
	Progress   *ingest.Progress
	Force      bool                                     // replace files the destinations already hold
	Checkpoint func(step string, n int)                 // see File.Checkpoint; nil outside tests
	Waiting    func(paths []string, wait time.Duration) // see File.Waiting
}

// FileResult is the outcome of one capture file.
type FileResult struct {
	Stats    ingest.FileStats
	Skipped  string                  // why the file was left out; empty when it was loaded
	SameAs   string                  // the run's first file of the same content, when that is why
	Loaded   []string                // sinks that already held the file and were left out
	Rows     map[string]uint64       // rows written, by sink name
	SinkErrs map[string]error        // sinks that failed on this file
	outcomes map[string]*sinkOutcome // by sink name; see Superseded and Replaced
}

// outcome returns the sinkOutcome of the sink named name, made when new.
func (r *FileResult) outcome(name string) *sinkOutcome {
	if r.outcomes == nil {
		r.outcomes = make(map[string]*sinkOutcome)
	}
	o := r.outcomes[name]
	if o == nil {
		o = new(sinkOutcome)
		r.outcomes[name] = o
	}
	return o
}

// Replaced returns, by sink name, why an earlier load's rows of the file
// were replaced there though not forced: a load that did not finish, and
// that this one could not complete.
func (r *FileResult) Replaced() map[string]string {
	out := make(map[string]string)
	for name, o := range r.outcomes {
		if o.replaced != "" {
			out[name] = o.replaced
		}
	}
	return out
}

// LoadedAs returns, by sink name, the path a file left out as already
// loaded there was loaded under, when that is another than its own.
func (r *FileResult) LoadedAs() map[string]string {
	out := make(map[string]string)
	for name, o := range r.outcomes {
		if o.loadedAs != "" {
			out[name] = o.loadedAs
		}
	}
	return out
}

// loadedText is why a file every destination holds is left out: with
// the name they loaded it under, when that is another than its own.
func (r *FileResult) loadedText() string {
	as := slices.Compact(slices.Sorted(maps.Values(r.LoadedAs())))
	if len(as) == 1 {
		return "already loaded as " + as[0]
	}
	return "already loaded"
}

// Superseded returns, by sink name, the earlier loads (by path) of a
// start of this file, a capture loaded while it was still being written,
// whose rows its load replaced there.
func (r *FileResult) Superseded() map[string][]string {
	out := make(map[string][]string)
	for name, o := range r.outcomes {
		if len(o.superseded) > 0 {
			out[name] = slices.Compact(slices.Sorted(slices.Values(o.superseded)))
		}
	}
	return out
}

// Failed reports whether the file or any destination failed on it.
func (r *FileResult) Failed() bool { return r.Stats.Err != nil || len(r.SinkErrs) > 0 }

// Result is the outcome of a load.
type Result struct {
	Files    []FileResult // in input order
	CloseErr map[string]error
	// Unfinished lists, by sink name, files whose load began there and
	// did not end, in this run or an earlier one (Ledger.Unfinished).
	Unfinished map[string][]string
	// Notes says, by sink name, what a sink did at the end of the run
	// beyond the files: the views it corrected (EmbeddedSink.CheckViews).
	Notes    map[string]string
	Duration time.Duration
}

// viewsChecker is a sink that checks its views once every file is done.
type viewsChecker interface {
	CheckViews(ctx context.Context) (string, error)
}

// Run loads inputs into sinks and closes the sinks. It returns when every
// file is done or ctx is cancelled; files not started then fail with
// ingest.ErrCancelled, as the ones stopped do.
func Run(ctx context.Context, inputs []ingest.Input, sinks []Sink, opt Options) *Result {
	start := time.Now()
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if opt.BatchRows <= 0 {
		opt.BatchRows = 65536
	}
	if opt.BatchBytes <= 0 {
		opt.BatchBytes = DefaultBatchBytes
	}
	opt.Decode.Done = ctx.Done()
	if opt.Decode.Windows == nil {
		opt.Decode.Windows = capture.NewWindowGate(windowBudget)
	}
	var jobs [][]int
	if opt.GroupFiles <= 0 {
		opt.GroupFiles = DefaultGroupFiles
	}
	// A group's files stay open from their hash to their load (see
	// ingest.Input.Pin): at 256 a group, four workers ran out of a
	// limit of 1,024 descriptors (a hostile run).
	opt.GroupFiles = max(1, min(opt.GroupFiles, (openFilesLimit()-openFilesReserve)/opt.Workers-maxOpenFiles))
	grouped := groupSink(sinks)
	if grouped >= 0 && opt.GroupFiles > 1 {
		jobs = groupJobs(inputs, opt.GroupFiles)
	}
	seen := new(sync.Map)
	res := eachFile(ctx, inputs, jobs, opt.Workers, func() (func([]int, []*FileResult), func()) {
		w := newWorker(sinks, opt, seen)
		w.grouped = grouped
		return func(job []int, out []*FileResult) {
			if len(job) == 1 {
				*out[0] = w.file(inputs[job[0]])
				return
			}
			ins := make([]ingest.Input, len(job))
			for k, i := range job {
				ins[k] = inputs[i]
			}
			w.group(ins, out)
		}, w.release
	})
	sameAsFailed(res.Files)
	for _, s := range sinks {
		if u, ok := s.(unfinisher); ok && ctx.Err() == nil {
			// Only a notice: a destination that cannot say fails no file.
			if paths, err := u.Unfinished(); err == nil && len(paths) > 0 {
				if res.Unfinished == nil {
					res.Unfinished = make(map[string][]string)
				}
				res.Unfinished[s.Name()] = paths
			}
		}
		var err error
		if v, ok := s.(viewsChecker); ok && ctx.Err() == nil {
			var note string
			if note, err = v.CheckViews(ctx); note != "" {
				if res.Notes == nil {
					res.Notes = make(map[string]string)
				}
				res.Notes[s.Name()] = note
			}
		}
		if cerr := s.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			if res.CloseErr == nil {
				res.CloseErr = make(map[string]error)
			}
			res.CloseErr[s.Name()] = err
		}
	}
	res.Duration = time.Since(start)
	return res
}

// sameAsFailed says of a file left out for its content, when the file of
// that content loaded in its place failed: "same content as x" read as if
// x's load stood for both.
func sameAsFailed(files []FileResult) {
	failed := make(map[string]bool)
	for i := range files {
		if f := &files[i]; f.SameAs == "" && f.Failed() {
			failed[f.Stats.Path] = true
		}
	}
	for i := range files {
		if f := &files[i]; f.SameAs != "" && failed[f.SameAs] {
			f.Skipped += ", which failed"
		}
	}
}

// groupSink returns the index of the destination that small files are
// loaded into in groups: the one GroupSink; -1 when there is none, or
// more than one. The others take those files one by one beside it. A
// database and a Parquet export of a thousand small files took 40 s one
// by one, the database alone 5.4 s in groups.
//
// Two databases load one by one: they may be one database named twice
// (two spellings of a path, a server's two ports), whose second load the
// engine then drops by the files' insert tokens; a group's tokens and a
// file's differ, and its rows were stored twice (a hostile run's finding).
func groupSink(sinks []Sink) int {
	found := -1
	for i, s := range sinks {
		if _, ok := s.(GroupSink); ok {
			if found >= 0 {
				return -1
			}
			found = i
		}
	}
	return found
}

// unfinisher is a destination that keeps load records (see
// Ledger.Unfinished).
type unfinisher interface {
	// Unfinished lists files whose load began and did not end there.
	Unfinished() ([]string, error)
}

// openFilesReserve is the descriptors a load keeps for other than its
// workers' capture and Parquet files: the engine's, connections, logs.
const openFilesReserve = 128

// Grouping bounds: a file of at most smallFile bytes on disk joins the
// files before it into one group (see GroupSink) while they total at most
// groupBytes and number at most Options.GroupFiles. Larger groups make
// larger inserts, which cost the engine less to sort and merge: a
// thousand files of a thousand packets (140 KB each) into a server took
// it 13.7 CPU-seconds in groups of 16 MiB (117 files, an insert of
// 110,000 rows each), 8.4 in groups of 32 MiB and 7.4 in groups of 256
// files (36 MB, 240,000 rows, near an insert's 262,144), against 4.8 for
// the same messages as one file; 130,000 to 178,000 messages/s. Four
// groups still keep two workers busy to the end.
const (
	smallFile         = 4 << 20
	groupBytes        = 64 << 20
	DefaultGroupFiles = 256
)

// groupJobs cuts inputs into jobs: runs of consecutive small files, at
// most maxFiles each, and every other input alone. The cut depends on the
// inputs only.
func groupJobs(inputs []ingest.Input, maxFiles int) [][]int {
	var jobs [][]int
	var cur []int
	var bytes int64
	end := func() {
		if len(cur) > 0 {
			jobs = append(jobs, cur)
		}
		cur, bytes = nil, 0
	}
	for i, in := range inputs {
		if in.Size == 0 && in.Path != ingest.Stdin {
			if fi, err := os.Stat(in.Path); err == nil {
				in.Size = fi.Size()
			}
		}
		small := in.Path != ingest.Stdin && in.Size >= 0 && in.Size <= smallFile
		if !small {
			end()
			jobs = append(jobs, []int{i})
			continue
		}
		if len(cur) == maxFiles || bytes+in.Size > groupBytes {
			end()
		}
		cur = append(cur, i)
		bytes += in.Size
	}
	end()
	return jobs
}

// eachFile runs workers goroutines, each with what start gives it, a
// function that handles a job and one that releases what it holds, and
// hands them the jobs in order until ctx ends. A job is a list of inputs,
// one each when jobs is nil. Results go to the file's slot, so the
// summary keeps the input order.
func eachFile(ctx context.Context, inputs []ingest.Input, jobs [][]int, workers int,
	start func() (run func(job []int, out []*FileResult), release func())) *Result {
	res := &Result{Files: make([]FileResult, len(inputs))}
	if jobs == nil {
		jobs = make([][]int, len(inputs))
		for i := range inputs {
			jobs[i] = []int{i}
		}
	}
	ch := make(chan []int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			run, release := start()
			defer release()
			for job := range ch {
				out := make([]*FileResult, len(job))
				for k, i := range job {
					out[k] = &res.Files[i]
				}
				run(job, out)
			}
		})
	}
	for _, job := range jobs {
		select {
		case ch <- job:
		case <-ctx.Done():
			for _, i := range job {
				// Counted as interrupted, as a file the signal stopped
				// is: said as failed, 44 files of an interrupted run
				// read "not started: context canceled".
				err := fmt.Errorf("%s: not started, the run was %w", inputs[i].Path, ingest.ErrCancelled)
				res.Files[i].Stats = ingest.FileStats{Path: inputs[i].Path, Err: err}
			}
		}
	}
	close(ch)
	wg.Wait()
	return res
}

// identify sets in's Hash, the content hash that names the file in the
// destinations, unless in is standard input or already has one.
func identify(in *ingest.Input) error {
	if in.Path == ingest.Stdin || in.Hash != "" {
		return nil
	}
	// A named pipe (<(zcat x.pcap.gz)) or a device is not pinned: it
	// reads once, as standard input does, and goes without a hash as it
	// does; the hash's pass emptied the pipe, and the decoding then
	// waited for a writer that never came (a hostile run).
	if err := in.Pin(); err != nil {
		return err
	}
	if fi, err := os.Stat(in.Path); in.File == nil && err == nil && !fi.IsDir() {
		return nil
	}
	h, err := ingest.HashInput(*in, nil)
	if err != nil {
		return err
	}
	in.Hash = h
	return ingest.CheckSidecarHash(in.Path, h)
}

func wrapSinkErr(step string, err error) error {
	return &SinkError{Step: step, Err: err}
}

// SinkError is a destination's failure on a file, at a step: begin (before
// any row was sent), write, commit or record.
type SinkError struct {
	Step string
	Err  error
}

func (e *SinkError) Error() string { return e.Step + ": " + e.Err.Error() }

func (e *SinkError) Unwrap() error { return e.Err }

// SentNothing reports whether err, a destination's failure on a file,
// came before any of the file's rows was sent.
func SentNothing(err error) bool {
	var se *SinkError
	return errors.As(err, &se) && se.Step == "begin"
}
