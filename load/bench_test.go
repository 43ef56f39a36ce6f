package load_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/internal/testenv"
	"github.com/pcapload/pcapload/load"
	"github.com/pcapload/pcapload/schema"
)

// benchMessages is the size of the generated capture the benchmarks load.
const benchMessages = 1_000_000

var benchCapture struct {
	once sync.Once
	path string
	msgs uint64
	err  error
}

// generatedCapture writes, once per run, a capture of benchMessages DNS
// messages with the generator's realistic mix.
func generatedCapture(b *testing.B) (string, uint64) {
	c := &benchCapture
	c.once.Do(func() {
		dir, err := os.MkdirTemp("", "pcapload-bench-")
		if err != nil {
			c.err = err
			return
		}
		c.path = filepath.Join(dir, "resolver.pcap")
		st, err := gen.WriteFile(c.path, gen.Config{Seed: 1, Messages: benchMessages}, gen.Pcap)
		c.msgs, c.err = st.Messages, err
	})
	if c.err != nil {
		b.Fatal(c.err)
	}
	return c.path, c.msgs
}

// cpuSeconds is the CPU time the process has used, user and system.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// reportRate reports messages per second of wall time and per CPU-second
// (the per-core rate, whatever the load spread over). cpu0 is cpuSeconds
// when the timed loop started.
func reportRate(b *testing.B, msgs uint64, path string, cpu0 float64) {
	fi, err := os.Stat(path)
	if err == nil {
		b.SetBytes(fi.Size())
	}
	total := float64(msgs) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(total/(cpuSeconds()-cpu0), "msgs/cpu-s")
}

// BenchmarkDecode decodes every packet and message, building no rows.
func BenchmarkDecode(b *testing.B) {
	path, msgs := generatedCapture(b)
	d := ingest.NewDecoder(ingest.Config{})
	b.ReportAllocs()
	cpu0 := cpuSeconds()
	for b.Loop() {
		var st ingest.FileStats
		if err := d.DecodeFile(ingest.Input{Path: path}, &st, nil, func(*schema.Row) error { return nil }); err != nil {
			b.Fatal(err)
		}
		if st.Messages() != msgs {
			b.Fatalf("decoded %d messages, generated %d", st.Messages(), msgs)
		}
	}
	reportRate(b, msgs, path, cpu0)
}

// BenchmarkHashFile is the pre-pass that identifies a capture file: SHA-256
// of its bytes as stored, to compare with BenchmarkDecode.
func BenchmarkHashFile(b *testing.B) {
	path, msgs := generatedCapture(b)
	b.ReportAllocs()
	cpu0 := cpuSeconds()
	for b.Loop() {
		if _, err := ingest.HashFile(path); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, msgs, path, cpu0)
}

// BenchmarkRun_Parquet is the whole load of one file on one core: read,
// decode, build Arrow batches, write Parquet.
func BenchmarkRun_Parquet(b *testing.B) {
	path, msgs := generatedCapture(b)
	b.ReportAllocs()
	cpu0 := cpuSeconds()
	for b.Loop() {
		out := b.TempDir()
		res := load.Run(context.Background(), []ingest.Input{{Path: path}},
			[]load.Sink{load.NewParquetSink(out)}, load.Options{Workers: 1})
		checkBench(b, res, msgs)
	}
	reportRate(b, msgs, path, cpu0)
}

// BenchmarkRun_Embedded loads one file into the embedded ClickHouse, a new
// database each time: the same file loaded again into one would be left
// out as already loaded.
func BenchmarkRun_Embedded(b *testing.B) {
	testenv.RequireCHDB(b)
	path, msgs := generatedCapture(b)
	dir := b.TempDir()
	b.ReportAllocs()
	cpu0 := cpuSeconds()
	n := 0
	for b.Loop() {
		b.StopTimer()
		n++
		emb, err := load.OpenEmbedded(context.Background(), filepath.Join(dir, fmt.Sprint("db", n)), "bench")
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res := load.Run(context.Background(), []ingest.Input{{Path: path}}, []load.Sink{emb}, load.Options{Workers: 1})
		checkBench(b, res, msgs)
	}
	reportRate(b, msgs, path, cpu0)
}

func checkBench(b *testing.B, res *load.Result, msgs uint64) {
	f := res.Files[0]
	if f.Skipped != "" {
		b.Fatalf("load left the file out: %s", f.Skipped)
	}
	if f.Failed() {
		b.Fatalf("load failed: %v %v", f.Stats.Err, f.SinkErrs)
	}
	for name, rows := range f.Rows {
		if rows != msgs {
			b.Fatalf("%s: %d rows, want %d", name, rows, msgs)
		}
	}
}

// BenchmarkRun_Rows decodes and builds the Arrow batches, with no
// destination: the cost of the load path before any sink.
func BenchmarkRun_Rows(b *testing.B) {
	path, msgs := generatedCapture(b)
	b.ReportAllocs()
	cpu0 := cpuSeconds()
	for b.Loop() {
		res := load.Run(context.Background(), []ingest.Input{{Path: path}}, nil, load.Options{Workers: 1})
		checkBench(b, res, msgs)
	}
	reportRate(b, msgs, path, cpu0)
}
