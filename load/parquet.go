package load

import (
	"cmp"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/parquet"
	"github.com/pcapload/pcapload/schema"
)

// ParquetSink writes Parquet files under a directory: one file per capture
// file and partition, named after the capture file's content hash, so that
// loading the same file again, even renamed or moved, replaces its Parquet
// files instead of adding to them.
type ParquetSink struct {
	// Sensor is the sensor the rows are stored under, which names their
	// partitions: the export's log keeps a capture's export by it.
	Sensor string

	dir       parquet.Dir
	schema    *arrow.Schema
	log       *exportLog
	leftovers parquet.Leftovers // of earlier exports, removed at publish
}

// NewParquetSink returns a sink writing under dir.
func NewParquetSink(dir string) *ParquetSink {
	return &ParquetSink{dir: parquet.Dir{Root: dir}, schema: schema.Arrow(), log: &exportLog{root: dir}}
}

// Name implements Sink.
func (s *ParquetSink) Name() string { return "parquet:" + s.dir.Root }

// Close implements Sink.
func (s *ParquetSink) Close() error { return nil }

// Begin implements Sink. A capture the export's log says was superseded
// by a longer one it is the start of is left out (ErrLoaded) unless
// forced: its rows are that one's first ones.
func (s *ParquetSink) Begin(in File) (FileSink, error) {
	if in.Hash != "" && !in.Force {
		superseded, err := s.log.superseded(in.Hash, cmp.Or(in.Sensor, s.Sensor))
		if err != nil {
			return nil, err
		}
		if superseded {
			return nil, ErrLoaded
		}
	}
	f := &parquetFile{sink: s, in: in, name: outputName(in), files: make(map[parquet.Partition]*parquet.File),
		opened: make(map[parquet.Partition]int)}
	return f.start(), nil
}

// outputName names a capture file's output after its content hash alone,
// so that a renamed or moved file replaces its own output; the rows'
// file column still says where each came from. 128 bits of the hash are
// plenty to keep different files apart.
func outputName(in File) string {
	if in.Hash == "" {
		// Nothing identifies a stream; a name per load keeps two loads
		// from standard input from replacing each other's rows.
		return fmt.Sprintf("stdin-%d", time.Now().UnixNano())
	}
	return in.Hash[:32]
}

// parquetFile writes one capture file's batches on a goroutine of its own,
// so that encoding Parquet (zstd pages, list levels: the larger half of the
// work) overlaps with decoding the next batch, and one large capture keeps
// two cores busy.
type parquetFile struct {
	sink     *ParquetSink
	in       File
	outputs  []string        // committed, relative to the root
	finished []*parquet.File // finished, not yet published (see publish)
	name     string
	files    map[parquet.Partition]*parquet.File
	opened   map[parquet.Partition]int // times each partition was opened
	queue    chan parquetBatch
	done     chan error // the writer's first error, sent when the queue closes
	err      error      // an error already seen by Write
}

type parquetBatch struct {
	p   parquet.Partition
	rec arrow.RecordBatch
}

func (f *parquetFile) start() *parquetFile {
	// An unbuffered queue: the worker hands a batch over only when the
	// writer has finished the one before, so a file holds two batches at
	// most, the one being written and the one being built. A third, queued,
	// would only wait there: the writer is the slower side.
	f.queue, f.done = make(chan parquetBatch), make(chan error, 1)
	go f.writer()
	return f
}

func (f *parquetFile) writer() {
	var first error
	for b := range f.queue {
		if first == nil {
			first = f.write(b.p, b.rec)
		}
		b.rec.Release()
	}
	f.done <- first
}

// maxOpenFiles bounds the Parquet files a capture file keeps open, one per
// partition: each holds a write buffer (256 KiB) and its row groups'
// footer entries until it is finished. A capture hopping between more
// days finishes and reopens files (as NAME-1, NAME-2, ...) as its batches
// come; its rows gathered for all of them at once (maxPartitions) come as
// few batches. Finished files wait under temporary names, holding their
// names only (parquet.File.Finish), until the capture's end publishes them
// all.
const maxOpenFiles = 64

func (f *parquetFile) write(p parquet.Partition, rec arrow.RecordBatch) error {
	pf, ok := f.files[p]
	if !ok {
		if len(f.files) >= maxOpenFiles {
			if err := f.finishOpen(); err != nil {
				return err
			}
		}
		// A partition opened again gets the next sequence number; the
		// names stay the same from run to run for the same input.
		name := f.name
		if n := f.opened[p]; n > 0 {
			name = fmt.Sprintf("%s-%d", f.name, n)
		}
		f.opened[p]++
		var err error
		pf, err = f.sink.dir.Create(p, name, f.sink.schema)
		if err != nil {
			return err
		}
		f.files[p] = pf
	}
	return pf.Write(rec)
}

// finishOpen finishes every open file, to be published with the rest at
// the capture's end (see parquet.File.Finish).
func (f *parquetFile) finishOpen() error {
	var errs []error
	for p, pf := range f.files {
		if err := pf.Finish(); err != nil {
			errs = append(errs, err)
		} else {
			f.finished = append(f.finished, pf)
		}
		delete(f.files, p)
	}
	return errors.Join(errs...)
}

// publish finishes the open files and renames every finished one into
// place. Then it removes what an earlier export of the capture made that
// this one did not: NAME-N files of its partitions past those written,
// as an export with smaller batches left.
func (f *parquetFile) publish() error {
	if err := f.finishOpen(); err != nil {
		return err
	}
	var errs []error
	folders := make(map[string]bool)
	written := make(map[string]bool)
	for _, pf := range f.finished {
		err := pf.Publish()
		if rel, rerr := filepath.Rel(f.sink.dir.Root, pf.Path()); err == nil && rerr == nil {
			f.outputs = append(f.outputs, rel)
		}
		folders[filepath.Dir(pf.Path())], written[pf.Path()] = true, true
		errs = append(errs, err)
	}
	f.finished = nil
	for folder := range folders {
		f.sink.leftovers.Remove(folder, f.name, written)
	}
	return errors.Join(errs...)
}

func (f *parquetFile) Write(p parquet.Partition, rec arrow.RecordBatch) error {
	if f.err != nil {
		return f.err
	}
	rec.Retain()
	f.queue <- parquetBatch{p, rec}
	return nil
}

// wait stops the writer and returns its first error.
func (f *parquetFile) wait() error {
	if f.queue != nil {
		close(f.queue)
		f.err = <-f.done
		f.queue = nil
	}
	return f.err
}

func (f *parquetFile) Commit(st *ingest.FileStats) error {
	if err := f.wait(); err != nil {
		f.Abort()
		return err
	}
	if err := f.publish(); err != nil {
		return err
	}
	return f.sink.log.commit(f.in, cmp.Or(f.in.Sensor, f.sink.Sensor), st, f.outputs)
}

func (f *parquetFile) Abort() {
	f.wait()
	for p, pf := range f.files {
		pf.Abort()
		delete(f.files, p)
	}
	for _, pf := range f.finished {
		pf.Abort()
	}
	f.finished = nil
}
