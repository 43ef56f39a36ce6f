package craft

import (
	"bytes"
	"testing"
)

// TestMutate checks that mutated copies are deterministic, differ from the
// original and between seeds, keep every packet readable, and leave the
// original alone.
func TestMutate(t *testing.T) {
	for _, c := range Cases() {
		t.Run(c.Name, func(t *testing.T) {
			orig := c.Pcap()
			keep := bytes.Clone(orig)
			seen := map[string]bool{}
			for seed := range int64(20) {
				m := Mutate(seed, orig)
				if !bytes.Equal(m, Mutate(seed, orig)) {
					t.Fatalf("seed %d: two calls differ", seed)
				}
				if bytes.Equal(m, orig) {
					t.Errorf("seed %d: nothing changed", seed)
				}
				if !bytes.Equal(m[:pcapFileHeaderLen], orig[:pcapFileHeaderLen]) {
					t.Errorf("seed %d: file header changed", seed)
				}
				if n := len(readTimes(t, m, c.Link)); n != c.Packets() {
					t.Errorf("seed %d: read %d packets, want %d", seed, n, c.Packets())
				}
				seen[string(m)] = true
			}
			if len(seen) < 15 {
				t.Errorf("20 seeds gave %d distinct captures", len(seen))
			}
			if !bytes.Equal(orig, keep) {
				t.Errorf("Mutate modified its input")
			}
		})
	}
}

// TestMutate_NotPcap returns other input unchanged.
func TestMutate_NotPcap(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"short", []byte{0xd4, 0xc3, 0xb2, 0xa1}},
		{"pcapng", append([]byte{0x0a, 0x0d, 0x0d, 0x0a}, make([]byte, 40)...)},
		{"bad record length", append(bytes.Clone(Cases()[0].Pcap()), 1, 2, 3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Mutate(1, tt.in); !bytes.Equal(got, tt.in) {
				t.Errorf("Mutate changed input that is not a classic pcap")
			}
		})
	}
}
