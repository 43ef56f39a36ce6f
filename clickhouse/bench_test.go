package clickhouse_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/pcapload/pcapload/clickhouse/chtest"
	"github.com/pcapload/pcapload/internal/gen"
)

// benchMessages is the size of the generated archive, as in load's
// benchmarks: one file of that many DNS messages, or benchFiles files that
// add up to it.
const (
	benchMessages = 1_000_000
	benchFiles    = 4
)

// generate writes captures of msgs DNS messages in all, cut into files
// files with seeds from 1, into dir, and returns the messages written.
func generate(b *testing.B, dir string, msgs, files int) uint64 {
	b.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	var total uint64
	for i := range files {
		path := filepath.Join(dir, fmt.Sprintf("resolver-%d.pcap", i+1))
		st, err := gen.WriteFile(path, gen.Config{Seed: int64(i + 1), Messages: msgs / files}, gen.Pcap)
		if err != nil {
			b.Fatal(err)
		}
		total += st.Messages
	}
	return total
}

// BenchmarkSink loads a generated archive end to end into `pcapload serve`
// on this machine: the pcapload binary as a user runs it (read, decode,
// Arrow batches, inserts, load records), by protocol and wire compression,
// on one file of a million messages and on four files of a quarter of that.
// Every run loads into a database of its own, which the loader creates:
// exactly-once loading would skip files already loaded, and --force would
// time a delete as well.
//
// Besides messages a second, it reports the CPU seconds of the loader and
// of the server per run and the peak resident memory of each. The two
// processes share the machine's cores.
func BenchmarkSink(b *testing.B) {
	srv := chtest.Start(b)
	conn := srv.Conn(b)
	dir := b.TempDir()
	inputs := []struct {
		name, path string
		msgs       uint64
	}{
		{"file", filepath.Join(dir, "file"), generate(b, filepath.Join(dir, "file"), benchMessages, 1)},
		{"archive", filepath.Join(dir, "archive"), generate(b, filepath.Join(dir, "archive"), benchMessages, benchFiles)},
	}
	sinks := []struct{ name, url string }{
		{"http-zstd", "http://" + srv.HTTP + "/%s?compression=zstd"},
		{"http-lz4", "http://" + srv.HTTP + "/%s?compression=lz4"},
		{"http-none", "http://" + srv.HTTP + "/%s?compression=none"},
		{"native-lz4", "clickhouse://" + srv.TCP + "/%s"},
	}
	run := 0
	for _, in := range inputs {
		for _, sk := range sinks {
			b.Run(in.name+"/"+sk.name, func(b *testing.B) {
				var loaderCPU, serverCPU time.Duration
				var loaderPeak int64
				for b.Loop() {
					run++
					db := fmt.Sprintf("bench_%d", run)
					cpu0, _, err := srv.Usage()
					if err != nil {
						b.Fatal(err)
					}
					ru := loadCLI(b, srv.Bin, fmt.Sprintf(sk.url, db), in.path, in.msgs)
					cpu1, _, err := srv.Usage()
					if err != nil {
						b.Fatal(err)
					}
					loaderCPU += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
					serverCPU += cpu1 - cpu0
					loaderPeak = max(loaderPeak, ru.Maxrss<<10)

					b.StopTimer()
					if err := conn.Exec(context.Background(), "DROP DATABASE "+db+" SYNC"); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				_, serverPeak, err := srv.Usage()
				if err != nil {
					b.Fatal(err)
				}
				n := float64(b.N)
				b.ReportMetric(float64(in.msgs)*n/b.Elapsed().Seconds(), "msgs/s")
				b.ReportMetric(loaderCPU.Seconds()/n, "loader-cpu-s/op")
				b.ReportMetric(serverCPU.Seconds()/n, "server-cpu-s/op")
				b.ReportMetric(float64(loaderPeak)/(1<<20), "loader-peak-MiB")
				b.ReportMetric(float64(serverPeak)/(1<<20), "server-peak-MiB")
			})
		}
	}
}

// loadCLI runs `pcapload load` on path into url, checks that it stored
// want rows, and returns the loader's resource usage.
func loadCLI(b *testing.B, bin, url, path string, want uint64) *syscall.Rusage {
	b.Helper()
	cmd := exec.Command(bin, "load", "--progress", "never", "--json", "--to", url, path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("pcapload load --to %s: %v\n%s", url, err, stderr.Bytes())
	}
	var sum struct {
		Rows map[string]uint64 `json:"rows"`
	}
	if err := json.Unmarshal(out, &sum); err != nil {
		b.Fatalf("summary: %v\n%s", err, out)
	}
	var rows uint64
	for _, n := range sum.Rows {
		rows += n
	}
	if rows != want {
		b.Fatalf("pcapload load --to %s stored %d rows, want %d\n%s", url, rows, want, stderr.Bytes())
	}
	return cmd.ProcessState.SysUsage().(*syscall.Rusage)
}
