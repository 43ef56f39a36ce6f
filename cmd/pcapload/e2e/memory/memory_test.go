//go:build linux

package memory

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/pcapload/pcapload/clickhouse/chtest"
	"github.com/pcapload/pcapload/internal/clitest"
	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/internal/hostile"
)

// peakMemory is the bound a load's resident memory must stay under,
// whatever its input (issue #6).
const peakMemory = 256 << 20

// TestLoad_peakMemory loads two large captures at once, then many small
// ones, then two of zone-transfer-like responses, then two that fill every
// bound of a decoder and a batch at once, into Parquet with the built
// binary (not under the race detector, which multiplies memory), and
// checks the peak resident memory the kernel reports. Before the bound,
// the large pair peaked at 336 to 450 MiB. The zone transfers peaked at
// 462 MiB, before batches counted their lists' items, Parquet dictionaries
// were bounded and a message's records kept their storage. The last pair
// peaked at 322 MiB before the decoder's state and the batches shared a
// bound. Last, the zone transfers go into Parquet and a server at once, and
// the last pair into a server.
func TestLoad_peakMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary on 500,000 messages")
	}
	bin := chtest.Binary(t)
	large, many, zones, bounds, long := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	// Written side by side: under the race detector, writing them one
	// after the other was half the test's time.
	var wg sync.WaitGroup
	write := func(path string, write func(string) error) {
		wg.Go(func() {
			if err := write(path); err != nil {
				t.Error(err)
			}
		})
	}
	generated := func(n int, seed int64) func(string) error {
		return func(path string) error {
			_, err := gen.WriteFile(path, gen.Config{Seed: seed, Messages: n}, gen.Pcap)
			return err
		}
	}
	hostileFile := func(b hostile.Bounds) func(string) error {
		return func(path string) error { return hostile.Write(path, b) }
	}
	for i := range 2 {
		write(filepath.Join(large, fmt.Sprintf("large%d.pcap", i)), generated(200_000, int64(i+1)))
		write(filepath.Join(zones, fmt.Sprintf("zone%d.pcap", i)), hostileFile(hostile.Bounds{Seed: uint64(i + 1), ZoneTransfers: 1000}))
		b := hostile.AllAtOnce
		b.Seed = uint64(i + 1)
		write(filepath.Join(bounds, fmt.Sprintf("bounds%d.pcap", i)), hostileFile(b))
		b.Seed += 10
		write(filepath.Join(long, fmt.Sprintf("long%d.pcap.zst", i)), func(path string) error {
			if err := hostile.Write(path, b); err != nil {
				return err
			}
			plain, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			z, err := hostile.LongWindow(plain)
			if err != nil {
				return err
			}
			return os.WriteFile(path, z, 0o644)
		})
	}
	write(many, func(dir string) error {
		for i := range 200 {
			if err := generated(500, int64(100+i))(filepath.Join(dir, fmt.Sprintf("small%03d.pcap", i))); err != nil {
				return err
			}
		}
		return nil
	})
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	inputs := map[string]string{"large": large, "many": many, "zone transfers": zones, "all bounds at once": bounds}
	for name, input := range inputs {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "parquet")
			peak := peakRSS(t, bin, "load", "--progress", "never", "--workers", "2", "--to", "parquet:"+out, input)
			t.Logf("peak resident memory %d MiB", peak>>20)
			if peak >= peakMemory {
				t.Errorf("peak resident memory %d MiB, want under %d MiB", peak>>20, peakMemory>>20)
			}
		})
	}

	// Into a server a file holds its inserts, compressed, beside its
	// batches, and Parquet's batches are the larger. The native protocol
	// holds the most: it decodes an insert's batches again as it sends
	// them. Zone transfers into both peaked at 343-353 MiB when inserts
	// ended at 256 MiB of Arrow bytes (70 MB of LZ4 each) and Parquet's
	// batches at 32 MiB, 200-201 MiB with inserts of 16 MiB compressed and
	// batches of 8 MiB beside a server (besideInsertHeld,
	// serverBatchBytes). The decoders' full state beside inserts of 28 MiB
	// each peaked at 287-288 MiB natively, 200-203 MiB with inserts ending
	// sooner as the state grows (load.HoldingFileSink). Last, the same
	// shape again with 64 MiB zstd windows, into both: read side by side,
	// the two windows took such files (xz -9) to 307 MiB, 202 MiB read one
	// at a time (capture.WindowGate). The full state into a native and an
	// HTTP server (zstd) and Parquet at once peaked at 256-268 MiB, each
	// server's inserts ending at 4 MiB, their emptied bodies keeping every
	// chunk, and each finished zstd body its encoder; 238-244 MiB without
	// them, and 261 MiB in a clean-clone make test beside the other tests:
	// each insert ended at the first batch past its bound, 8 MiB of
	// random bytes. With the servers sharing batches of 8 MiB, 191-202.
	srv := chtest.Start(t)
	dests := clitest.Destinations(srv)
	for i, tt := range []struct {
		name, input   string
		parquet, http bool // Parquet too, an HTTP server's database too
	}{
		{"zone transfers into Parquet and a server", zones, true, false},
		{"all bounds at once into a server", bounds, false, false},
		{"all bounds at once, 64 MiB windows, into Parquet and a server", long, true, false},
		{"all bounds at once into two servers and Parquet", bounds, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db := fmt.Sprintf("_load%d", i) // each its own: two load the same files
			args := []string{"load", "--progress", "never", "--workers", "2", "--to", dests["native"] + db}
			if tt.http {
				args = append(args, "--to", dests["http"]+db+"_http?compression=zstd")
			}
			if tt.parquet {
				args = append(args, "--to", "parquet:"+filepath.Join(t.TempDir(), "parquet"))
			}
			peak := peakRSS(t, append(append([]string{bin}, args...), tt.input)...)
			t.Logf("peak resident memory %d MiB", peak>>20)
			if peak >= peakMemory {
				t.Errorf("peak resident memory %d MiB, want under %d MiB", peak>>20, peakMemory>>20)
			}
		})
	}
}

// rssCommandEnv holds the command line, as JSON, that the helper process
// runs (see peakRSS).
const rssCommandEnv = "PCAPLOAD_TEST_RSS_COMMAND"

// peakRSS runs the command line and returns its peak resident memory in
// bytes. It runs it from a helper process, this test binary started
// afresh: Linux counts in a child's peak the memory of the process it was
// spawned from, which for this one, under the race detector, is above the
// bound itself.
func peakRSS(t *testing.T, args ...string) int64 {
	t.Helper()
	line, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	helper := exec.Command(os.Args[0], "-test.run=^TestPeakRSSHelper$")
	helper.Env = append(os.Environ(), rssCommandEnv+"="+string(line))
	out, err := helper.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "maxrss "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("helper printed %q", l)
			}
			return n
		}
	}
	t.Fatalf("helper printed no peak:\n%s", out)
	return 0
}

// TestPeakRSSHelper is the helper process of peakRSS: it runs the command
// line in rssCommandEnv, with the binary's default memory settings, and
// prints its peak resident memory. Run as a test, it does nothing.
func TestPeakRSSHelper(t *testing.T) {
	line := os.Getenv(rssCommandEnv)
	if line == "" {
		t.Skip("helper process of peakRSS")
	}
	var args []string
	if err := json.Unmarshal([]byte(line), &args); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = defaultMemoryEnv()
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	// Maxrss is in KiB on Linux.
	fmt.Printf("maxrss %d\n", cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss<<10)
}

// defaultMemoryEnv is the test's environment without the variables that
// change the Go runtime's memory limit and collection pace, so that the
// binary runs with its own defaults.
func defaultMemoryEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOMEMLIMIT=") && !strings.HasPrefix(kv, "GOGC=") &&
			!strings.HasPrefix(kv, rssCommandEnv+"=") {
			env = append(env, kv)
		}
	}
	return env
}
