package clickhouse_test

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/pcapload/pcapload/clickhouse"
	"github.com/pcapload/pcapload/clickhouse/chtest"
	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/load"
)

// benchMessages is the size of the generated capture, as in load's
// benchmarks.
const benchMessages = 1_000_000

// generate writes a capture of benchMessages DNS messages.
func generate(b *testing.B) (string, uint64) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "resolver.pcap")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	st, err := gen.Write(w, gen.Config{Seed: 1, Messages: benchMessages}, gen.Pcap, nil)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		b.Fatal(err)
	}
	return path, st.Messages
}

// BenchmarkSink loads the generated capture end to end (decode, Arrow
// batches, insert) into `pcapload serve` on this machine, by protocol and
// wire compression.
func BenchmarkSink(b *testing.B) {
	srv := chtest.Start(b)
	path, msgs := generate(b)
	cases := []struct{ name, url, compression string }{
		{"native/lz4", "clickhouse://" + srv.TCP + "/default", "lz4"},
		{"native/none", "clickhouse://" + srv.TCP + "/default", "none"},
		{"http/lz4", "http://" + srv.HTTP + "/default", "lz4"},
		{"http/zstd", "http://" + srv.HTTP + "/default", "zstd"},
		{"http/none", "http://" + srv.HTTP + "/default", "none"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			sink, err := clickhouse.Open(c.url, clickhouse.Options{Sensor: "bench", Compression: c.compression})
			if err != nil {
				b.Fatal(err)
			}
			defer sink.Close()
			var ru0 syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			for b.Loop() {
				// Force: the server holds the file after the first run, and
				// exactly-once loading would skip it.
				res := load.Run(context.Background(), []ingest.Input{{Path: path}},
					[]load.Sink{keepOpen{sink}}, load.Options{Workers: 1, Force: true})
				if f := res.Files[0]; f.Failed() || f.Rows[sink.Name()] != msgs {
					b.Fatalf("load: %v %v, %d rows, want %d", f.Stats.Err, f.SinkErrs, f.Rows[sink.Name()], msgs)
				}
			}
			b.ReportMetric(float64(msgs)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			var ru syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
			b.ReportMetric(float64(ru.Maxrss)/1024, "peak-MiB") // the loader's, not the server's
		})
	}
}

// keepOpen keeps the sink open across the benchmark's runs.
type keepOpen struct{ load.Sink }

func (keepOpen) Close() error { return nil }
