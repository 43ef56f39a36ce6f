package rotate

import (
	"bytes"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pcapload/pcapload/ingest/capture"
	"github.com/pcapload/pcapload/internal/captest"
)

// start0 is 2026-11-02T08:00:00Z, a multiple of every interval tested.
const start0 = int64(1793606400) * 1e9

func TestRotator_Triggers(t *testing.T) {
	linkChange := synthetic(6, start0, 100)
	for i := 3; i < 6; i++ {
		linkChange[i].LinkType = capture.LinkRaw
	}
	// Two interfaces' packets interleaved, as a pcapng of both read with -r.
	interleaved := synthetic(6, start0, 100)
	for i := 1; i < 6; i += 2 {
		interleaved[i].LinkType = capture.LinkRaw
	}
	tests := []struct {
		name      string
		cfg       Config
		ps        []pkt
		wantFiles []int // packets per file
	}{
		{"no limit", Config{}, synthetic(10, start0, 100), []int{10}},
		{"max packets", Config{MaxPackets: 4}, synthetic(10, start0, 100), []int{4, 4, 2}},
		// Uncompressed, and a frame per packet, the size is exact: the
		// headers and two 1032-byte EPBs pass 2000 bytes, so the third
		// packet starts a new file.
		{"max bytes", Config{MaxBytes: 2000, Compression: CompressNone, FramePackets: 1},
			synthetic(7, start0, 1000), []int{2, 2, 2, 1}},
		// One packet a second from :00; every 4s rotates at :04 and :08.
		{"every", Config{Every: 4 * time.Second}, synthetic(10, start0, 100), []int{4, 4, 2}},
		{"every unaligned start", Config{Every: 4 * time.Second}, synthetic(10, start0+3e9, 100), []int{1, 4, 4, 1}},
		{"link type change, pcap", Config{Format: FormatPcap}, linkChange, []int{3, 3}},
		{"link types interleaved, pcap", Config{Format: FormatPcap}, interleaved, []int{1, 1, 1, 1, 1, 1}},
		// pcapng describes an interface a link type: one file.
		{"link type change, pcapng", Config{}, linkChange, []int{6}},
		{"link types interleaved, pcapng", Config{}, interleaved, []int{6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Dir, cfg.Sensor = t.TempDir(), "s"
			writeAll(t, cfg, tt.ps)

			files := finishedFiles(t, cfg.Dir)
			if len(files) != len(tt.wantFiles) {
				t.Fatalf("got files %s, want %d files", baseNames(files), len(tt.wantFiles))
			}
			var all []pkt
			for i, f := range files {
				ps := captest.ReadFile(t, f)
				if len(ps) != tt.wantFiles[i] {
					t.Errorf("file %d has %d packets, want %d", i, len(ps), tt.wantFiles[i])
				}
				all = append(all, ps...)
			}
			captest.Equal(t, all, tt.ps)
		})
	}
}

// TestRotator_relinkWarning: pcap output of interleaved link types says,
// once, that each change starts a file and pcapng would keep them in one.
func TestRotator_relinkWarning(t *testing.T) {
	ps := synthetic(2*relinkWarning+10, start0, 100)
	for i := 1; i < len(ps); i += 2 {
		ps[i].LinkType = capture.LinkRaw
	}
	var log bytes.Buffer
	cfg := Config{Dir: t.TempDir(), Sensor: "s", Format: FormatPcap, Logger: slog.New(slog.NewTextHandler(&log, nil))}
	writeAll(t, cfg, ps)
	if n := strings.Count(log.String(), "--format pcapng keeps them in one"); n != 1 {
		t.Errorf("warned %d times, want once:\n%s", n, log.String())
	}
}

func TestRotator_Names(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Dir: dir, Sensor: "s", MaxPackets: 2}
	writeAll(t, cfg, synthetic(4, start0, 100))
	// A second run continues the sequence.
	writeAll(t, cfg, synthetic(2, start0+3600e9, 100))
	want := []string{
		"s-20261102T080000Z-000001.pcapng.zst",
		"s-20261102T080002Z-000002.pcapng.zst",
		"s-20261102T090000Z-000003.pcapng.zst",
	}
	got := finishedFiles(t, dir)
	if len(got) != len(want) {
		t.Fatalf("got %s, want %v", baseNames(got), want)
	}
	for i := range want {
		if filepath.Base(got[i]) != want[i] {
			t.Errorf("file %d = %s, want %s", i, filepath.Base(got[i]), want[i])
		}
	}
}

func TestRotator_Rotate(t *testing.T) {
	dir := t.TempDir()
	r, err := New(Config{Dir: dir, Sensor: "s"})
	if err != nil {
		t.Fatal(err)
	}
	ps := synthetic(3, start0, 100)
	for i, q := range ps {
		p := q.Capture()
		if err := r.WritePacket(&p); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if err := r.Rotate(); err != nil {
				t.Fatal(err)
			}
			if err := r.Rotate(); err != nil { // nothing open: no empty file
				t.Fatal(err)
			}
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if got := len(finishedFiles(t, dir)); got != 2 {
		t.Fatalf("got %d files, want 2", got)
	}
	if tot := r.Totals(); tot.Files != 2 || tot.Packets != 3 || tot.Bytes != 300 {
		t.Fatalf("Totals = %+v", tot)
	}
}

// TestRotator_Tick checks that wall-clock rotation happens without packets.
func TestRotator_Tick(t *testing.T) {
	dir := t.TempDir()
	now := time.Unix(0, start0+59e9)
	r, err := New(Config{Dir: dir, Sensor: "s", Every: time.Minute, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	p := capture.Packet{Timestamp: start0 + 59e9, Data: make([]byte, 60), OrigLen: 60, LinkType: capture.LinkEthernet}
	if err := r.WritePacket(&p); err != nil {
		t.Fatal(err)
	}
	if err := r.Tick(); err != nil {
		t.Fatal(err)
	}
	if got := len(finishedFiles(t, dir)); got != 0 {
		t.Fatalf("rotated before the minute: %d files", got)
	}
	now = now.Add(time.Second)
	if err := r.Tick(); err != nil {
		t.Fatal(err)
	}
	if got := len(finishedFiles(t, dir)); got != 1 {
		t.Fatalf("got %d files at the minute, want 1", got)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestRotator_linkTypesSidecar: a pcapng file of several link types says
// them all in its sidecar, and one of one link type none.
func TestRotator_linkTypesSidecar(t *testing.T) {
	ps := synthetic(4, start0, 100)
	ps[2].LinkType = capture.LinkRaw
	for _, tc := range []struct {
		ps   []pkt
		want []uint16
	}{{ps, []uint16{uint16(capture.LinkEthernet), uint16(capture.LinkRaw)}}, {synthetic(4, start0, 100), nil}} {
		cfg := Config{Dir: t.TempDir(), Sensor: "s"}
		writeAll(t, cfg, tc.ps)
		files := finishedFiles(t, cfg.Dir)
		side, err := ReadSidecar(files[0])
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(side.LinkTypes, tc.want) || side.LinkType != uint16(capture.LinkEthernet) {
			t.Errorf("sidecar link types %d %v, want 1 %v", side.LinkType, side.LinkTypes, tc.want)
		}
	}
}
