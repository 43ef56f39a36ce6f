package load_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/internal/hostile"
	"github.com/pcapload/pcapload/load"
	"github.com/pcapload/pcapload/parquet"
)

// sizeSink is a destination that keeps the Arrow bytes of each batch.
type sizeSink struct{ sizes []int64 }

func (s *sizeSink) Name() string                           { return "sizes" }
func (s *sizeSink) Close() error                           { return nil }
func (s *sizeSink) Begin(load.File) (load.FileSink, error) { return sizeFile{s}, nil }

type sizeFile struct{ s *sizeSink }

func (f sizeFile) Write(_ parquet.Partition, rec arrow.RecordBatch) error {
	var n int64
	for _, c := range rec.Columns() {
		n += arrowBytes(c.Data())
	}
	f.s.sizes = append(f.s.sizes, n)
	return nil
}

// arrowBytes sums the lengths of an array's buffers, its children's and
// its dictionary's.
func arrowBytes(d arrow.ArrayData) int64 {
	var n int64
	for _, b := range d.Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	for _, c := range d.Children() {
		n += arrowBytes(c)
	}
	if d.DataType().ID() == arrow.DICTIONARY {
		n += arrowBytes(d.Dictionary())
	}
	return n
}
func (f sizeFile) Commit(*ingest.FileStats) error { return nil }
func (f sizeFile) Abort()                         {}

// TestRun_batchesShareTheDecodersBound: a worker's batch and its decoder's
// state share one bound. The capture fills the decoder's state (TCP
// directions, unfinished datagrams, waiting queries: 32 MiB), then brings
// 600 responses of 64 KiB, each a row of tens to hundreds of KiB. Their
// batches ended at 32 MiB, beside the 32 MiB the decoder held; with the
// state full they end at the least a batch may be, 8 MiB.
func TestRun_batchesShareTheDecodersBound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bounds.pcap")
	b := hostile.Bounds{Seed: 1, TCP: 2500, Fragments: 400, Queries: 20000, Responses: 600}
	if err := hostile.Write(path, b); err != nil {
		t.Fatal(err)
	}
	sink := &sizeSink{}
	res := load.Run(context.Background(), []ingest.Input{{Path: path}}, []load.Sink{sink}, load.Options{Workers: 1})
	f := res.Files[0]
	if f.Failed() || f.Rows["sizes"] != f.Stats.Messages() || f.Stats.Messages() != 20600 {
		t.Fatalf("failed %v %v; %d rows of %d messages, want 20,600", f.Stats.Err, f.SinkErrs, f.Rows["sizes"],
			f.Stats.Messages())
	}
	// The last batch holds the queries still waiting at the end, made as
	// the state empties, and may be larger.
	for i, n := range sink.sizes[:len(sink.sizes)-1] {
		if n > 10<<20 {
			t.Errorf("batch %d of %d: %d Arrow bytes, want at most 10 MiB", i, len(sink.sizes), n)
		}
	}
}
