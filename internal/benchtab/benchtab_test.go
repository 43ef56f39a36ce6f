package benchtab

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pcapload/pcapload/internal/testenv"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{4}, 4},
		{[]float64{3, 1, 2}, 2},
		{[]float64{9, 1, 3, 5}, 4},
	}
	for _, tt := range tests {
		in := append([]float64(nil), tt.in...)
		if got := median(in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
		if len(in) > 0 && in[0] != tt.in[0] {
			t.Errorf("median reordered its input: %v", in)
		}
	}
}

func TestCount(t *testing.T) {
	tests := map[uint64]string{0: "0", 999: "999", 1000: "1,000", 10_000_000: "10,000,000"}
	for n, want := range tests {
		if got := count(n); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestParseSizes(t *testing.T) {
	got, err := ParseSizes("100000, 1_000_000")
	if err != nil || len(got) != 2 || got[0] != 100_000 || got[1] != 1_000_000 {
		t.Errorf("ParseSizes = %v, %v; want [100000 1000000]", got, err)
	}
	for _, bad := range []string{"1M", "10", "100000,"} {
		if _, err := ParseSizes(bad); err == nil {
			t.Errorf("ParseSizes(%q): no error", bad)
		}
	}
	if _, err := ParseStages("null,tshark"); err == nil {
		t.Error("ParseStages accepted tshark, which is no loader stage")
	}
}

// TestTable_WriteMarkdown: medians, rates and the comparisons with tshark
// and with the plain file come out in the right cells.
func TestTable_WriteMarkdown(t *testing.T) {
	tab := &Table{Command: "benchtable -runs 3", Cores: 2, Runs: 3, TsharkMax: 1_000_000,
		Tshark: "TShark 4"}
	mk := func(input, plain, stage string, samples ...sample) {
		r := Row{Input: input, Packets: 1_020_000, Messages: 1_000_000, Stage: stage, plain: plain}
		r.set(samples)
		tab.Rows = append(tab.Rows, r)
	}
	mk("1M", "", "tshark", sample{Wall: 30}, sample{Wall: 25, CPU: 20}, sample{Wall: 26})
	mk("1M", "", "null", sample{Wall: 1, CPU: 2, RSS: 40}, sample{Wall: 0.5, CPU: 1, RSS: 50},
		sample{Wall: 0.4, CPU: 1, RSS: 60})
	mk("1M", "", "server", sample{Wall: 2, CPU: 1, ServerCPU: 3, ServerRSS: 700})
	mk("1M", "", "parquet", sample{Wall: 1, CPU: 2, RSS: 100, Out: 36_700_000})
	mk("1M, zstd", "1M", "null", sample{Wall: 0.6, CPU: 1.1, RSS: 45})
	mk("10M", "", "tshark")
	tab.compare()

	var b strings.Builder
	if err := tab.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"- command: `benchtable -runs 3`",
		"| 1M | 1,020,000 | 1,000,000 | tshark | 26.00 | 38,461 |",
		"| 1M | 1,020,000 | 1,000,000 | null | 0.50 | 2,000,000 | 1.00 | 1,000,000 | 50 " +
			"| 52.0× |  |",
		"| server | 2.00 | 500,000 | 4.00 | 250,000 |",
		"loader 1.00 CPU-s; server 3.00 CPU-s, 700 MiB peak",
		"output 36.7 MB, 37 bytes a message",
		"| 1M, zstd | 1,020,000 | 1,000,000 | null | 0.60 |",
		"1.20× the plain file's wall time, 1.10× its CPU",
		"| 10M | 1,020,000 | 1,000,000 | tshark | - | - | - | - | - | - " +
			"| not run: over 1,000,000 packets |",
		"larger files show -",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

// TestRow_setPaired: a copy measured beside its plain file is compared run
// by run. The plain file's third run and the copy's second and third ran
// slow: each run of the copy costs 1.2 times the plain run beside it
// (1.3 times its CPU, the server's counted), but the medians' ratio says
// 2.4.
func TestRow_setPaired(t *testing.T) {
	plain := []sample{{Wall: 1, CPU: 1}, {Wall: 1, CPU: 1}, {Wall: 2, CPU: 1.5, ServerCPU: 0.5}}
	cp := []sample{{Wall: 1.2, CPU: 1.3}, {Wall: 2.4, CPU: 2.6}, {Wall: 2.4, CPU: 2, ServerCPU: 0.6}}
	var r Row
	r.setPaired(cp, plain)
	if r.Runs != 3 || r.Wall != 2.4 {
		t.Errorf("runs %d, median wall %v; want 3 and 2.4", r.Runs, r.Wall)
	}
	if math.Abs(r.VsPlainWall-1.2) > 1e-9 || math.Abs(r.VsPlainCPU-1.3) > 1e-9 {
		t.Errorf("paired ratios %v and %v, want 1.2 and 1.3", r.VsPlainWall, r.VsPlainCPU)
	}
	// compare keeps them.
	tab := &Table{Rows: []Row{{Input: "p", Stage: "null"}, r}}
	tab.Rows[0].set(plain)
	tab.Rows[1].Input, tab.Rows[1].Stage, tab.Rows[1].plain = "c", "null", "p"
	tab.compare()
	if got := tab.Rows[1].VsPlainWall; math.Abs(got-1.2) > 1e-9 {
		t.Errorf("after compare, wall ratio %v, want the paired 1.2", got)
	}
}

// built is the pcapload binary, built once for the package's tests.
var built struct {
	once     sync.Once
	dir, bin string
	err      error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// binary builds pcapload, once, and returns its path.
func binary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "benchtab-test-"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "pcapload")
		cmd := exec.Command("go", "build", "-o", built.bin,
			"github.com/pcapload/pcapload/cmd/pcapload")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("build pcapload: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

// smoke runs the harness on tiny inputs and returns its table.
func smoke(t *testing.T, cfg Config) string {
	t.Helper()
	cfg.Bin, cfg.Dir, cfg.Runs = binary(t), t.TempDir(), 1
	cfg.Sizes, cfg.ManyFiles, cfg.ManyPackets = []int{2000}, 3, 500
	tab, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := tab.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	for _, r := range tab.Rows {
		if r.Runs != 1 || r.Wall <= 0 || r.CPU <= 0 || r.RSS <= 0 || r.Messages == 0 {
			t.Errorf("row %+v: a figure is missing", r)
		}
	}
	return b.String()
}

// TestRun_Smoke runs the real command, decode only and into Parquet, on a
// 2,000-packet capture, its zstd copy and a folder of three files.
func TestRun_Smoke(t *testing.T) {
	out := smoke(t, Config{Stages: []Stage{Null, Parquet}})
	for _, want := range []string{
		"| 2,000 packets | ", " | null | ", " | parquet | ", " bytes a message",
		"| 2,000 packets, zstd | ", "× the plain file's wall time",
		"| 3 files × 500 packets | ",
		"tshark was not found",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "| 2,000 packets, zstd") > strings.Index(out, "| 3 files") {
		t.Errorf("the zstd copy is not beside its plain file:\n%s", out)
	}
}

// TestRun_Tshark adds the yardstick.
func TestRun_Tshark(t *testing.T) {
	bin, err := exec.LookPath("tshark")
	if err != nil {
		testenv.Missing(t, "tshark (make tools installs it)")
	}
	out := smoke(t, Config{Stages: []Stage{Null}, Tshark: bin, ManyFiles: -1, ZstdSize: -1})
	if !strings.Contains(out, " | tshark | ") || strings.Contains(out, "| null | - ") {
		t.Errorf("no tshark row or no ratio to it:\n%s", out)
	}
}

// TestRun_Engine runs the stages that need the embedded engine: the
// embedded database, a server loaded over HTTP, its database created and
// dropped around the run, and the embedded database beside Parquet.
func TestRun_Engine(t *testing.T) {
	testenv.RequireCHDB(t)
	out := smoke(t, Config{Stages: []Stage{DB, Server, DBParquet}, ManyFiles: -1, ZstdSize: -1})
	if !strings.Contains(out, " | db | ") || !strings.Contains(out, "MiB peak") || !strings.Contains(out, " | db+parquet | ") {
		t.Errorf("no db row, no server figures or no db+parquet row:\n%s", out)
	}
}

// TestSummary_check: a run that does not load what was generated fails
// the harness, loudly.
func TestSummary_check(t *testing.T) {
	in := &input{Path: "x.pcap", Files: 1, Packets: 10, Messages: 9}
	good := summary{FilesLoaded: 1, Packets: 10, Messages: 9, Rows: map[string]uint64{"null": 9}}
	if err := good.check(in, 1); err != nil {
		t.Errorf("good summary: %v", err)
	}
	two := summary{FilesLoaded: 1, Packets: 10, Messages: 9, Rows: map[string]uint64{"db:d": 9, "parquet:p": 9}}
	if err := two.check(in, 2); err != nil {
		t.Errorf("good summary of two destinations: %v", err)
	}
	for name, s := range map[string]summary{
		"rows":   {FilesLoaded: 1, Packets: 10, Messages: 9, Rows: map[string]uint64{"null": 8}},
		"failed": {FilesFailed: 1, Packets: 10, Messages: 9, Rows: map[string]uint64{"null": 9}},
		"errors": {FilesLoaded: 1, Packets: 10, Messages: 9, Rows: map[string]uint64{"null": 9},
			Errors: []string{"boom"}},
		"messages": {FilesLoaded: 1, Packets: 10, Messages: 8, Rows: map[string]uint64{"null": 9}},
		"one of two short": {FilesLoaded: 1, Packets: 10, Messages: 9,
			Rows: map[string]uint64{"db:d": 9, "parquet:p": 8}},
		"one of two": {FilesLoaded: 1, Packets: 10, Messages: 9, Rows: map[string]uint64{"db:d": 9}},
	} {
		dests := 1
		if strings.HasPrefix(name, "one of two") {
			dests = 2
		}
		if err := s.check(in, dests); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
