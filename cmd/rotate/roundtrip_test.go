package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pcapload/pcapload/internal/captest"
	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/rotate"
)

// TestRun_RoundTrip re-segments generated captures across several
// rotations and checks the files hold exactly the input's packets, byte for
// byte, in order.
func TestRun_RoundTrip(t *testing.T) {
	pcapNano := captest.Generate(t, 20000, gen.PcapNano, gen.Config{Seed: 1})
	// One interface's worth of pcapng: a second link type would split the
	// output at each change.
	pcapng := captest.Generate(t, 20000, gen.Pcapng, gen.Config{Seed: 2, Cooked: -1})
	var gz bytes.Buffer
	zw, err := gen.Compress(&gz, "gzip")
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(pcapng)
	zw.Close()

	tests := []struct {
		name      string
		input     []byte
		stdin     bool
		flags     []string
		wantFiles int                                    // at least
		check     func(t *testing.T, s []rotate.Sidecar) // more checks on the sidecars
	}{
		{"pcap to pcapng zstd by packets", pcapNano, false,
			[]string{"--max-packets", "3000"}, 7, nil},
		{"gzip pcapng stdin to pcap gzip by bytes", gz.Bytes(), true,
			[]string{"--format", "pcap", "--compress", "gzip", "--max-bytes", "200k", "--frame-bytes", "65536"},
			4, nil},
		{"pcap to pcapng plain by time", pcapNano, false,
			[]string{"--compress", "none", "--every", "100ms"}, 5, checkSlots(100e6)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := captest.ReadAll(t, bytes.NewReader(tt.input))
			dir := t.TempDir()
			in := filepath.Join(t.TempDir(), "in")
			if err := os.WriteFile(in, tt.input, 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"-r", in, "-w", dir, "--sensor", "rt", "--stats-every", "0"}
			args = append(args, tt.flags...)
			var stdin []byte
			if tt.stdin {
				args[1], stdin = "-", tt.input
			}
			out, errOut, err := runCmd(t, stdin, args...)
			if err != nil {
				t.Fatalf("run: %v\n%s", err, errOut)
			}

			files := finished(t, dir)
			if len(files) < tt.wantFiles {
				t.Fatalf("%d files, want at least %d", len(files), tt.wantFiles)
			}
			var got []pkt
			side := sidecars(t, files)
			for i, f := range files {
				ps := captest.ReadFile(t, f)
				got = append(got, ps...)
				if side[i].Packets != uint64(len(ps)) || side[i].Recovered {
					t.Errorf("%s: sidecar says %d packets, file has %d", f, side[i].Packets, len(ps))
				}
			}
			captest.Equal(t, got, want)
			if tt.check != nil {
				tt.check(t, side)
			}
			if wantOut := fmt.Sprintf("%d packets,", len(want)); !strings.HasPrefix(out, wantOut) {
				t.Errorf("summary %q, want it to start with %q", out, wantOut)
			}
		})
	}
}

// checkSlots returns a check that each file lies within one slot of every
// nanoseconds aligned to the epoch, and that no two files share a slot.
func checkSlots(every int64) func(t *testing.T, s []rotate.Sidecar) {
	return func(t *testing.T, side []rotate.Sidecar) {
		last := int64(-1)
		for _, s := range side {
			slot := s.FirstNS / every
			if s.LastNS/every != slot || slot <= last {
				t.Errorf("%s spans %d..%d, outside slot %d or after slot %d",
					s.File, s.FirstNS, s.LastNS, slot, last)
			}
			last = slot
		}
	}
}
