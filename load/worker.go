package load

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/ingest/capture"
	"github.com/pcapload/pcapload/parquet"
	"github.com/pcapload/pcapload/schema"
)

// DefaultBatchBytes bounds a batch by size, as Builder.Size estimates it (within
// a tenth above Arrow's real bytes, whether the rows are a resolver's or a
// zone transfer's): messages carry up to 64 KiB each, and Arrow's 32-bit
// offsets must not overflow. It is what makes a load's memory independent
// of its input. A worker holds the batch it builds and what its sinks
// keep: one batch being written for Parquet, up to an insert's gathering
// for ClickHouse (see the sinks), so two workers loading Parquet hold
// 4 × 32 MiB of batches at most, and typically 4 × 20 MiB. 32 MiB is well
// above the 22 MiB estimate of 65536 rows of typical traffic, so
// --batch-rows still decides where batches end. It was 40 MiB of an
// estimate that counted lists by their text only, under which a capture
// of 64 KiB responses of 4,000 address records made batches of 72 MiB
// (schema.SizeVersion names the change, so that a rerun replaces a
// failed load's rows cut the old way rather than complete them).
// Options.BatchBytes sets another bound.
const DefaultBatchBytes = 32 << 20

// workerBytes bounds a worker's batch, its decoder's state and its
// decompressor's window together: a batch ends at its bound, or sooner
// when the decoder holds more than workerBytes less the batch's bound
// (ingest.Decoder.StateBytes and WindowBytes), but never before
// minBatchBytes. A capture of typical traffic holds a few MiB of state, and
// a file compressed with zstd's or xz's default levels a window of 8 MiB at
// most, and its batches end as before. One made to fill the decoder's
// bounds and the batches' at once (waiting queries, unfinished datagrams
// and TCP streams, with 64 KiB responses) had two workers peak at 311 MiB
// to Parquet; two files with windows of 64 MiB (zstd --long=26, xz -9) at
// 260 MiB, the collector running without pause at the memory limit. What
// the limit is reckoned from is the file's alone, so a rerun ends its
// batches where the first run did.
const (
	workerBytes   = 40 << 20
	minBatchBytes = 8 << 20
)

// windowBudget is how much of decompressors' windows over
// capture.FreeWindow a load's workers hold at once (capture.WindowGate):
// one file of xz -9 or zstd --long=26 at a time, beside files of default
// levels. Two such files read side by side held 128 MiB of windows, and
// into a server and Parquet peaked at 265-273 MiB, 312 MiB for
// hostile.AllAtOnce so compressed (a hostile run).
const windowBudget = 64 << 20

// batchLimit is the size at which the worker's batches end, for the
// decoder's state now and the file's window.
func (w *worker) batchLimit() int {
	b := w.opt.BatchBytes
	return max(min(minBatchBytes, b), min(b, workerBytes-w.dec.StateBytes()-w.dec.WindowBytes()))
}

// worker decodes one file at a time. Its decoder and batch builders are
// reused from file to file.
type worker struct {
	sinks    []Sink
	opt      Options
	seen     *sync.Map // content hash to the path of the run's first file with it
	dec      *ingest.Decoder
	builders map[parquet.Partition]*schema.Builder
	used     map[parquet.Partition]uint64 // when each builder was last switched to
	tick     uint64
	spare    []*schema.Builder // builders forgotten, empty, for the next partitions

	// State of the current file.
	open  []FileSink // nil where the sink failed
	names []string
	res   *FileResult
	cur   parquet.Partition
	curB  *schema.Builder

	// State of the current group, when the worker loads one (see group).
	grouped int           // index in sinks of the GroupSink groups go to
	grp     GroupFileSink // nil when none, or when it failed
	grpOn   bool          // the current batches go to grp
	grpErr  error

	// Hashing beside decoding (see fileAhead): ahead is the hash being
	// computed, nil once settle took it; aheadIn the file; leftOut why
	// settle left the file out, empty when it is loaded; aheadErr the
	// hash's error.
	aheadOK  bool
	ahead    *pendingHash
	aheadIn  *ingest.Input
	aheadErr error
	leftOut  string

	batches int // batches sent on, for Options.Checkpoint
	// held is the bytes (Builder.Size) the builders hold while there are
	// several; see append.
	held int
}

func newWorker(sinks []Sink, opt Options, seen *sync.Map) *worker {
	w := &worker{
		sinks:    sinks,
		opt:      opt,
		seen:     seen,
		dec:      ingest.NewDecoder(opt.Decode),
		builders: make(map[parquet.Partition]*schema.Builder),
		used:     make(map[parquet.Partition]uint64),
		aheadOK:  true,
	}
	for _, s := range sinks {
		switch s.(type) {
		case *ParquetSink, NullSink:
		default:
			// A sink that may hold the file already decides, from its
			// hash, whether to decode it at all.
			w.aheadOK = false
		}
	}
	return w
}

func (w *worker) release() {
	clear(w.builders)
	clear(w.used)
	w.spare = nil
}

// file loads one capture file into every sink.
func (w *worker) file(in ingest.Input) FileResult {
	res := FileResult{Rows: make(map[string]uint64)}
	w.res = &res
	if skipNotCapture(in, &res) {
		return res
	}
	defer in.Unpin()
	if w.aheadOK && hashAhead(in) {
		if err := in.Pin(); err != nil {
			res.Stats = ingest.FileStats{Path: in.Path, Err: err}
			return res
		}
		if in.File != nil {
			w.fileAhead(in, &res)
			return res
		}
	}
	if err := identify(&in); err != nil {
		res.Stats = ingest.FileStats{Path: in.Path, Err: err}
		return res
	}
	if w.duplicate(in, &res) {
		return res
	}
	if !w.begin(in) {
		res.Stats = ingest.FileStats{Path: in.Path, Hash: in.Hash}
		if len(res.SinkErrs) == 0 {
			res.Skipped = res.loadedText()
		}
		return res
	}
	w.curB = nil

	err := w.dec.DecodeFile(in, &res.Stats, w.opt.Progress, func(r *schema.Row) error {
		w.append(r)
		return nil
	})

	if notCapture(in, &res.Stats, err) {
		res.Skipped = "not a capture file"
		w.skipOpen()
		return res
	}
	res.Stats.Err = err
	w.endOpen(err)
	return res
}

// endOpen sends the current file's rows on and commits it in each open
// file sink, once it is decoded with err. Rows read before a fault are
// kept: a capture cut short by a crash still loads what it holds, and the
// file is reported failed. An interrupted file is cancelled instead.
func (w *worker) endOpen(err error) {
	// A file whose hashed bytes could not all be read ends as an
	// interrupted one: its last rows, short of the bytes hashed, are not
	// sent. Sent, their insert shared its token with a rerun's whole one,
	// and a crash before the destination took the file's rows out (see
	// Ledger.takeOut) left both (a hostile run).
	if errors.Is(err, ingest.ErrCancelled) || errors.Is(err, ingest.ErrUnread) {
		w.cancelOpen()
		return
	}
	w.flushAll()
	w.commitOpen()
}

// cancelOpen ends the current file, interrupted, in each open file sink:
// the rows gathered are dropped, not sent (see CancelFileSink), and a
// Parquet export's files are not written. None of the file's rows count
// in any destination; a database keeps the inserts that ended, and the
// next run completes the file.
func (w *worker) cancelOpen() {
	w.dropAll()
	for i, fs := range w.open {
		if fs == nil {
			continue
		}
		if c, ok := fs.(CancelFileSink); ok {
			if err := c.Cancel(&w.res.Stats); err != nil {
				w.sinkFailed(w.names[i], wrapSinkErr("record", err))
			}
		} else {
			fs.Abort()
		}
		w.res.Rows[w.names[i]] = 0
	}
}

// fileAhead loads a large file into sinks that never hold it already
// (Parquet, null) while its content hash is computed on another core. The
// hash names the file in the sinks and fills file_hash, so the sinks are
// begun, and the rows gathered so far given it, when the first batch is
// sent on (settle); a file of fewer rows, at its end.
func (w *worker) fileAhead(in ingest.Input, res *FileResult) {
	w.ahead, w.aheadIn, w.leftOut, w.aheadErr = startHash(in, w.opt.Decode.Done), &in, "", nil
	w.open, w.names = w.open[:0], w.names[:0]
	w.curB = nil
	err := w.dec.DecodeFile(in, &res.Stats, w.opt.Progress, func(r *schema.Row) error {
		if w.leftOut != "" {
			return errLeftOut
		}
		pending := w.ahead != nil
		if pending {
			// As long as the hash, so that the batches are cut where
			// they would be with it (Builder.Size).
			r.FileHash = unknownHash
		} else {
			r.FileHash = in.Hash
		}
		w.append(r)
		if pending && w.ahead == nil && w.curB != nil {
			// settle ran inside append, perhaps before r was appended
			// (a batch of another partition sent on first).
			w.curB.SetFileHash(in.Hash)
		}
		return nil
	})
	if notCapture(in, &res.Stats, err) {
		if w.ahead != nil {
			w.ahead.wait()
		}
		res.Skipped = "not a capture file"
		w.skipOpen()
		return
	}
	if w.ahead != nil {
		w.settle()
	}
	switch {
	case w.aheadErr != nil:
		w.dropAll()
		res.Stats = ingest.FileStats{Path: in.Path, Err: w.aheadErr}
		return
	case w.leftOut != "":
		w.dropAll()
		res.Stats = ingest.FileStats{Path: in.Path, Hash: in.Hash}
		res.Skipped = w.leftOut
		return
	}
	res.Stats.Err, res.Stats.Hash = err, in.Hash
	w.endOpen(err)
}

// settle takes the hash computed beside the decoding: it gives it to the
// rows gathered, and does what file does before decoding, leaving the
// file out (leftOut) as a duplicate.
func (w *worker) settle() {
	h, err := w.ahead.wait()
	w.ahead = nil
	if err == nil {
		err = ingest.CheckSidecarHash(w.aheadIn.Path, h)
	}
	if err != nil {
		w.leftOut, w.aheadErr = "not hashed", err
		return
	}
	in := w.aheadIn
	in.Hash = h
	for _, b := range w.builders {
		b.SetFileHash(h)
	}
	if w.duplicate(*in, w.res) {
		w.leftOut = w.res.Skipped
		return
	}
	if !w.begin(*in) {
		w.leftOut = "already loaded" // a Parquet export holds it as a longer file's start
	}
}

// unknownHash stands for the file_hash of rows decoded before the hash is
// known: hex SHA-256's length.
var unknownHash = strings.Repeat("0", 2*sha256.Size)

// errLeftOut stops the decoding of a file settle left out.
var errLeftOut = errors.New("file left out")

// dropAll forgets every partition's rows without sending them on.
func (w *worker) dropAll() {
	for p, b := range w.builders {
		if b.Len() > 0 {
			b.NewRecord().Release()
		}
		w.forget(p)
	}
}

// hashAheadBytes is the smallest file fileAhead hashes beside its
// decoding: below it the file's rows are one batch or so, which would
// wait for the hash anyway. A variable for the tests.
var hashAheadBytes int64 = 16 << 20

// hashAhead reports whether in is hashed beside its decoding.
func hashAhead(in ingest.Input) bool {
	if in.Path == ingest.Stdin || in.Hash != "" {
		return false
	}
	size := in.Size
	if size <= 0 {
		fi, err := os.Stat(in.Path)
		if err != nil {
			return false
		}
		size = fi.Size()
	}
	if size < hashAheadBytes {
		return false
	}
	aheadFiles.Add(1)
	return true
}

// aheadFiles counts the files hashed beside their decoding, for the tests.
var aheadFiles atomic.Int64

// pendingHash is a file's content hash being computed.
type pendingHash struct {
	done chan struct{}
	hash string
	err  error
}

// startHash hashes the file at path on a goroutine of its own until
// stop is closed.
func startHash(in ingest.Input, stop <-chan struct{}) *pendingHash {
	p := &pendingHash{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.hash, p.err = ingest.HashInput(in, stop)
	}()
	return p
}

func (p *pendingHash) wait() (string, error) {
	<-p.done
	return p.hash, p.err
}

// skipNotCapture reports whether in, found in a directory, is no capture
// at all by its first bytes, and then says so in res: it is left out
// before it is hashed or begun in any sink. A folder of 3,000 notes beside
// a capture took 34 s to load again one by one (a mark, a record and a
// state query each), 0.65 s in groups. notCapture below still catches a
// file that became one after this look.
func skipNotCapture(in ingest.Input, res *FileResult) bool {
	if !in.Walked || !ingest.NotCapture(in.Path) {
		return false
	}
	res.Stats = ingest.FileStats{Path: in.Path}
	res.Skipped = "not a capture file"
	return true
}

// notCapture reports whether in, decoded into st with err, was found in a
// directory and is not a capture at all (a README, a checksum list): it
// is left out and said, not failed.
func notCapture(in ingest.Input, st *ingest.FileStats, err error) bool {
	return in.Walked && st.Packets == 0 && errors.Is(err, capture.ErrNotCapture)
}

// duplicate reports whether a file of the same content as in was begun
// earlier in the run, and then says so in res: it is left out. Both would
// otherwise be loaded, their rows stored twice by a group (one by one,
// the engine dropped the second's inserts by their tokens, but both
// files counted as loaded).
func (w *worker) duplicate(in ingest.Input, res *FileResult) bool {
	if in.Hash == "" {
		return false
	}
	first, dup := w.seen.LoadOrStore(in.Hash, in.Path)
	if dup {
		res.Stats = ingest.FileStats{Path: in.Path, Hash: in.Hash}
		res.SameAs = first.(string)
		res.Skipped = "same content as " + res.SameAs
	}
	return dup
}

// fileOf is the File the sink named name begins for in, whose result is
// res.
func (w *worker) fileOf(in ingest.Input, res *FileResult, name string) File {
	return File{Path: in.Path, Hash: in.Hash, Force: w.opt.Force, Sensor: cmp.Or(in.Sensor, w.opt.Decode.Sensor),
		Checkpoint: w.opt.Checkpoint, Waiting: w.opt.Waiting,
		in: in, outcome: res.outcome(name), batching: fmt.Sprintf(
			"batches of %d rows or %d bytes, %d with the decoder's state and window, at least %d (%s), rows %s",
			w.opt.BatchRows, w.opt.BatchBytes, workerBytes, minBatchBytes, schema.SizeVersion, rowsKey(in, w.opt.Decode))}
}

// rowsKey sums up what a file's rows hold besides its bytes: the sensor,
// the path (the file column), the ports decoded, the pairing timeout and
// the build. A rerun that fills the rows otherwise makes other rows under
// the same tokens, and the destination would keep the first run's beside
// the second's (a hostile run: 40,000 rows of sensor A and 110,000 of B).
func rowsKey(in ingest.Input, cfg ingest.Config) string {
	h := sha256.New()
	ports := cfg.Ports
	if len(ports) == 0 {
		ports = ingest.DefaultPorts
	}
	fmt.Fprintf(h, "%q %q %v %d %s", cmp.Or(in.Sensor, cfg.Sensor), in.Path, ports, cmp.Or(cfg.PairTimeout, ingest.DefaultPairTimeout), build)
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// build names the code that made a load's rows: its VCS revision, or its
// module version, or the test binary's name.
var build = func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return os.Args[0]
	}
	id := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" || s.Key == "vcs.modified" {
			id += " " + s.Value
		}
	}
	return id
}()

// begin begins the file in every sink, and reports whether any sink is
// to load it: false when every one already holds it.
func (w *worker) begin(in ingest.Input) bool {
	w.open, w.names = w.open[:0], w.names[:0]
	return w.beginIn(in, -1) || len(w.sinks) == 0
}

// beginIn begins the file in every sink but sinks[except], appending to
// w.open and w.names, and reports whether any of them is to load it.
func (w *worker) beginIn(in ingest.Input, except int) bool {
	loading := false
	for i, s := range w.sinks {
		if i == except {
			continue
		}
		fs, err := s.Begin(w.fileOf(in, w.res, s.Name()))
		switch {
		case errors.Is(err, ErrLoaded):
			w.res.Loaded = append(w.res.Loaded, s.Name())
		case err != nil:
			// Not loading: a file no sink began was decoded whole for
			// nothing, and its messages counted (a new user's run into a
			// server that was down).
			w.sinkFailed(s.Name(), wrapSinkErr("begin", err))
		default:
			loading = true
		}
		w.open = append(w.open, fs)
		w.names = append(w.names, s.Name())
	}
	return loading
}

// append adds a row to its partition's batch, sending the batch on when
// it is full.
func (w *worker) append(r *schema.Row) {
	p := parquet.PartitionOf(r.Time, r.Sensor)
	if w.curB == nil || p != w.cur {
		b, ok := w.builders[p]
		if !ok {
			if len(w.builders) >= maxPartitions {
				w.flushOldest()
			}
			b = w.newBuilder()
			w.builders[p] = b
			if len(w.builders) > 1 {
				w.boundHeld()
			}
		}
		w.tick++
		w.used[p] = w.tick
		w.cur, w.curB = p, b
	}
	if len(w.builders) > 1 {
		// held is kept while several partitions gather rows: summing
		// every builder's size at each switch, as was done, cost a
		// capture hopping between hundreds of days as much per row.
		before := w.curB.Size()
		w.curB.Append(r)
		if w.held += w.curB.Size() - before; w.held > w.batchLimit() {
			w.boundHeld()
		}
	} else {
		w.curB.Append(r)
	}
	if w.curB.Len() >= w.opt.BatchRows || w.curB.Size() >= w.batchLimit() {
		w.flush(p, w.curB)
	}
}

// maxPartitions bounds the partitions (days) a worker gathers batches for
// at once. A capture spans a day or two; one whose packets spread over
// thousands of days would otherwise hold a builder for each. Past it the
// partition used longest ago is sent on: flushing them all, as was done,
// cut a capture whose packets hop between 20 days into one-row batches
// and as many Parquet files (a hostile run: 50,000 files, and 5.4 GB into
// a database). Sending on the oldest does the same to a capture cycling
// through more days than the bound (at 32, 40 days made 18,359 Parquet
// files of 40,000 rows; at 256, 300 days made 150,092), so the bound is
// high: what the builders' rows hold is bounded by bytes (boundHeld), and
// a builder of a few rows takes 24 KB, 24 MB at the bound.
const maxPartitions = 1024

// flushOldest sends on the batch of the partition used longest ago and
// forgets its builder.
func (w *worker) flushOldest() {
	var oldest parquet.Partition
	first := true
	for p := range w.builders {
		if first || w.used[p] < w.used[oldest] {
			oldest, first = p, false
		}
	}
	w.forget(oldest)
}

// boundHeld sends on the largest batches while the partitions' batches
// together hold more than one batch may, and sets held to what they hold.
func (w *worker) boundHeld() {
	for {
		total, largest := 0, 0
		var lp parquet.Partition
		for p, b := range w.builders {
			n := b.Size()
			total += n
			if n > largest || n == largest && comparePartitions(p, lp) < 0 {
				largest, lp = n, p
			}
		}
		if total <= w.batchLimit() || largest == 0 {
			w.held = total
			return
		}
		w.flush(lp, w.builders[lp])
	}
}

// maxSpare bounds the builders a worker keeps for reuse. A file's
// partitions are usually one day, sometimes two.
const maxSpare = 2

// spareRows is the largest batch, in rows, of a builder kept for reuse.
// A builder keeps buffers as large as its batches, and those its batches
// gave back: kept from large files, they held a batch or more a worker
// beside the next file's own, and a native load of four large files rose
// from 219 to 275 MiB, its CPU by a sixth (the collector at the memory
// limit). Small files are where reuse pays.
const spareRows = 8192

// newBuilder returns a spare builder, or a new one. A builder reused keeps
// its buffers' sizes and the buffers its last batches gave back: a folder
// of small captures otherwise grew a new builder's 72 columns from nothing
// for every file, a sixth of a Parquet export's CPU in growing slices,
// clearing them and the collector's write barriers (see spareRows for
// large files).
func (w *worker) newBuilder() *schema.Builder {
	if n := len(w.spare); n > 0 {
		b := w.spare[n-1]
		w.spare = w.spare[:n-1]
		return b
	}
	return schema.NewBuilder()
}

// forget sends on p's batch, if it holds rows, and keeps its builder
// spare.
func (w *worker) forget(p parquet.Partition) {
	b := w.builders[p]
	if b.Len() > 0 {
		w.flush(p, b)
	}
	if len(w.spare) < maxSpare && b.MostRows() <= spareRows {
		w.spare = append(w.spare, b)
	}
	delete(w.builders, p)
	delete(w.used, p)
	if p == w.cur {
		w.curB = nil
	}
}

// flushAll sends every partition's batch on and forgets the builders.
//
// In partition order: the order decides the names of a Parquet export's
// further files of a partition (see parquetFile), and a capture exported
// again must replace its own files, not leave some of the last export's
// beside them (a hostile run's capture hopping over 40 days).
func (w *worker) flushAll() {
	parts := make([]parquet.Partition, 0, len(w.builders))
	for p := range w.builders {
		parts = append(parts, p)
	}
	slices.SortFunc(parts, comparePartitions)
	for _, p := range parts {
		w.forget(p)
	}
}

func comparePartitions(a, b parquet.Partition) int {
	return cmp.Or(cmp.Compare(a.Day, b.Day), strings.Compare(a.Sensor, b.Sensor))
}

// flush sends a partition's batch to every open sink.
func (w *worker) flush(p parquet.Partition, b *schema.Builder) {
	if w.ahead != nil {
		w.settle()
	}
	w.held -= b.Size()
	rec := b.NewRecord()
	defer rec.Release()
	if w.grp != nil && w.grpOn {
		if err := w.grp.Write(p, rec); err != nil {
			w.grpErr = wrapSinkErr("write", err)
			w.grp.Abort()
			w.grp = nil
		}
	}
	holding := w.dec.StateBytes() + w.dec.WindowBytes()
	for i, fs := range w.open {
		if fs == nil {
			continue
		}
		var err error
		if hs, ok := fs.(HoldingFileSink); ok {
			err = hs.WriteHolding(p, rec, holding)
		} else {
			err = fs.Write(p, rec)
		}
		if err != nil {
			w.sinkFailed(w.names[i], wrapSinkErr("write", err))
			fs.Abort()
			w.open[i] = nil
			continue
		}
		w.res.Rows[w.names[i]] += uint64(rec.NumRows())
	}
	if w.opt.Checkpoint != nil {
		w.batches++
		w.opt.Checkpoint("batch", w.batches)
	}
}

// group loads small files together into sinks[w.grouped], a GroupSink:
// their rows share inserts, their records one insert (see Ledger), and
// the other sinks take them one by one (see loadGroup).
// out[i] receives the result of ins[i]. A file that fails to decode fails
// alone, its rows read before the fault kept, as in file; a failure of
// the sink fails every file of the group.
func (w *worker) group(ins []ingest.Input, out []*FileResult) {
	s := w.sinks[w.grouped].(GroupSink)
	var files []File
	var idx []int // of ins, for each of files
	defer func() {
		for i := range ins {
			ins[i].Unpin()
		}
	}()
	for i := range ins {
		*out[i] = FileResult{Rows: make(map[string]uint64)}
		if skipNotCapture(ins[i], out[i]) {
			continue
		}
		if err := identify(&ins[i]); err != nil {
			out[i].Stats = ingest.FileStats{Path: ins[i].Path, Err: err}
			continue
		}
		if w.duplicate(ins[i], out[i]) {
			continue
		}
		files = append(files, w.fileOf(ins[i], out[i], s.Name()))
		idx = append(idx, i)
	}
	if len(files) == 0 {
		return
	}
	parts, err := s.SplitGroup(files)
	if err != nil {
		w.loadGroup(s, files, ins, idx, out, err)
		return
	}
	for _, part := range parts {
		var pf []File
		var pi []int
		for _, k := range part {
			pf, pi = append(pf, files[k]), append(pi, idx[k])
		}
		w.loadGroup(s, pf, ins, pi, out, nil)
	}
}

// loadGroup loads files, of ins[idx[k]], as one group of s. A non-nil
// err fails them all there before they begin.
//
// The other destinations take each file one by one beside the group, as
// file does: a file's batches are then cut at its end, to go to its own
// file sinks as well, and the group gathers them into its inserts still.
func (w *worker) loadGroup(s GroupSink, files []File, ins []ingest.Input, idx []int, out []*FileResult, err error) {
	name := s.Name()
	var g GroupFileSink
	var loaded []bool
	if err == nil {
		g, loaded, err = s.BeginGroup(files)
	}
	if err != nil {
		for _, i := range idx {
			out[i].Stats = ingest.FileStats{Path: ins[i].Path, Hash: ins[i].Hash}
			out[i].SinkErrs = map[string]error{name: wrapSinkErr("begin", err)}
			out[i].Rows[name] = 0
		}
		if len(w.sinks) == 1 {
			return
		}
		loaded = nil
	}
	w.grp, w.grpErr = g, nil
	w.open, w.names = w.open[:0], w.names[:0]
	var stats []*ingest.FileStats // of the group's files
	var members []*FileResult
	rows := make(map[*FileResult]uint64)
	for k, i := range idx {
		res := out[i]
		inGroup := loaded != nil && !loaded[k]
		if loaded != nil && loaded[k] {
			res.Loaded = append(res.Loaded, name)
		}
		w.res = res
		loading, opened := inGroup, 0
		if len(w.sinks) > 1 {
			loading = w.beginIn(ins[i], w.grouped) || inGroup
			for _, fs := range w.open {
				if fs != nil {
					opened++
				}
			}
			if opened > 0 || !inGroup {
				w.flushGroup()
			}
		}
		if !inGroup && !loading {
			res.Stats = ingest.FileStats{Path: ins[i].Path, Hash: ins[i].Hash}
			if len(res.SinkErrs) == 0 {
				res.Skipped = res.loadedText()
			}
			continue
		}
		w.grpOn = inGroup
		w.curB = nil
		var n uint64
		err := w.dec.DecodeFile(ins[i], &res.Stats, w.opt.Progress, func(r *schema.Row) error {
			w.append(r)
			n++
			return nil
		})
		if notCapture(ins[i], &res.Stats, err) {
			res.Skipped = "not a capture file"
			if inGroup {
				stats = append(stats, nil)
			}
			w.skipOpen()
			w.open, w.names = w.open[:0], w.names[:0]
			continue
		}
		res.Stats.Err = err
		if inGroup {
			stats = append(stats, &res.Stats)
			members = append(members, res)
			rows[res] = n
		}
		if opened > 0 || !inGroup {
			// Rows of a file the group does not take must not wait
			// in the builders for the group's next batch. The builders
			// hold this file's rows alone (the group's were sent on
			// before it): interrupted, they are dropped, and the group
			// records the file failed.
			w.endOpen(err)
		}
		w.open, w.names = w.open[:0], w.names[:0]
	}
	w.flushGroup()
	if w.grp != nil {
		if err := w.grp.Commit(stats); err != nil {
			w.grpErr = wrapSinkErr("commit", err)
			w.grp.Abort()
		}
	}
	w.grp = nil
	for _, res := range members {
		if w.grpErr != nil {
			w.res = res
			w.sinkFailed(name, w.grpErr)
			continue
		}
		if !errors.Is(res.Stats.Err, ingest.ErrUnread) {
			res.Rows[name] = rows[res] // else taken out again (see Ledger.takeOut)
		}
	}
}

// flushGroup sends the rows gathered for the group alone to it: before a
// file's rows go to its own sinks too, they must not carry earlier files'.
func (w *worker) flushGroup() {
	open, names := w.open, w.names
	w.open, w.names = nil, nil
	w.grpOn = true
	w.flushAll()
	w.open, w.names = open, names
}

// skipOpen records, in each open file sink that can, the current file as
// no capture, and aborts the others.
func (w *worker) skipOpen() {
	for i, fs := range w.open {
		if s, ok := fs.(SkipFileSink); ok {
			if err := s.Skip(); err != nil {
				w.sinkFailed(w.names[i], wrapSinkErr("record", err))
			}
		} else if fs != nil {
			fs.Abort()
		}
	}
}

// commitOpen commits the current file in each open file sink.
func (w *worker) commitOpen() {
	for i, fs := range w.open {
		if fs == nil {
			continue
		}
		if err := fs.Commit(&w.res.Stats); err != nil {
			w.sinkFailed(w.names[i], wrapSinkErr("commit", err))
			fs.Abort()
		}
	}
}

// sinkFailed records a destination's failure on the current file. None of
// the file's rows count as written there: what a sink got before failing
// is dropped or, for the embedded database, reloaded by the next run.
func (w *worker) sinkFailed(name string, err error) {
	if w.res.SinkErrs == nil {
		w.res.SinkErrs = make(map[string]error)
	}
	w.res.SinkErrs[name] = err
	w.res.Rows[name] = 0
}
