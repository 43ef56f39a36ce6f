package load_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/ingest/capture"
	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/internal/hostile"
	"github.com/pcapload/pcapload/load"
	"github.com/pcapload/pcapload/parquet"
)

// sizeSink is a destination that keeps the Arrow bytes and the rows of
// each batch.
type sizeSink struct{ sizes, rows []int64 }

func (s *sizeSink) Name() string                           { return "sizes" }
func (s *sizeSink) Close() error                           { return nil }
func (s *sizeSink) Begin(load.File) (load.FileSink, error) { return sizeFile{s}, nil }

type sizeFile struct{ s *sizeSink }

func (f sizeFile) Write(_ parquet.Partition, rec arrow.RecordBatch) error {
	f.s.sizes = append(f.s.sizes, load.RecordBytes(rec))
	f.s.rows = append(f.s.rows, rec.NumRows())
	return nil
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

// TestRun_batchesShareTheWindow: a file whose decompressor holds a window
// of 64 MiB (zstd --long=26, xz -9) has its batches end at 8 MiB; the same
// traffic uncompressed ends them at --batch-rows, 65,536.
func TestRun_batchesShareTheWindow(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.pcap")
	if _, err := gen.WriteFile(plain, gen.Config{Seed: 4, Messages: 100_000}, gen.Pcap); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	compressed, err := hostile.LongWindow(data)
	if err != nil {
		t.Fatal(err)
	}
	long := filepath.Join(dir, "long.pcap.zst")
	if err := os.WriteFile(long, compressed, 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		path   string
		window int
	}{{plain, 0}, {long, 64 << 20}} {
		in, err := os.Open(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		cf, err := capture.OpenFile(in)
		if err != nil {
			t.Fatal(err)
		}
		if cf.Window() != tc.window {
			t.Fatalf("%s: window %d, want %d", tc.path, cf.Window(), tc.window)
		}
		cf.Close()
		in.Close()

		sink := &sizeSink{}
		res := load.Run(context.Background(), []ingest.Input{{Path: tc.path}}, []load.Sink{sink}, load.Options{Workers: 1})
		if r := res.Files[0]; r.Failed() || r.Rows["sizes"] != r.Stats.Messages() {
			t.Fatalf("%s: failed %v %v; %d rows of %d messages", tc.path, r.Stats.Err, r.SinkErrs, r.Rows["sizes"],
				r.Stats.Messages())
		}
		if tc.window == 0 {
			if sink.rows[0] != 65536 {
				t.Errorf("%s: first batch of %d rows, want 65,536", tc.path, sink.rows[0])
			}
			continue
		}
		for i, n := range sink.sizes[:len(sink.sizes)-1] {
			if n > 9<<20 {
				t.Errorf("%s: batch %d of %d: %d Arrow bytes, want about 8 MiB", tc.path, i, len(sink.sizes), n)
			}
		}
	}
}
