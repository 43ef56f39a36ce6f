package capture

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"
)

// TestFile_NextTruncated cuts small captures at every byte: the reader must
// deliver every record before the cut, then end with io.EOF exactly when the
// cut falls on a record boundary and with ErrTruncated (or ErrNotCapture
// before the magic) otherwise.
func TestFile_NextTruncated(t *testing.T) {
	pcap := buildPcap(binary.BigEndian, true, 1, 0,
		rec{ts: 1, data: []byte{1, 2, 3}}, rec{ts: 2}, rec{ts: 3, data: make([]byte, 70)})
	pcapEnds := []int{24, 24 + 19, 24 + 19 + 16, len(pcap)}
	ng := multiSection()

	tests := []struct {
		name string
		in   []byte
		ends []int // record boundaries at which a cut is a clean end
	}{
		{"pcap", pcap, pcapEnds},
		{"pcapng", ng, blockEnds(ng)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, all := mustReadAll(t, tc.in)
			for cut := range len(tc.in) {
				checkCut(t, tc.in[:cut], all, tc.ends)
			}
		})
	}
}

func checkCut(t *testing.T, in []byte, all []Packet, ends []int) {
	t.Helper()
	_, pkts, err := readAll(t, in)
	whole := 0
	for _, p := range all {
		i, _ := slices.BinarySearch(ends, int(p.Offset)+1)
		if ends[i] <= len(in) {
			whole++
		}
	}

	switch {
	case len(in) < 4:
		if !errors.Is(err, ErrNotCapture) {
			t.Errorf("cut %d: got %v, want ErrNotCapture", len(in), err)
		}
		return
	case slices.Contains(ends, len(in)):
		if err != nil {
			t.Errorf("cut %d: got %v, want a clean end", len(in), err)
		}
	default:
		var fe *FormatError
		if !errors.As(err, &fe) || !errors.Is(err, ErrTruncated) {
			t.Errorf("cut %d: got %v, want ErrTruncated", len(in), err)
		}
	}
	if len(pkts) != whole {
		t.Fatalf("cut %d: got %d packets, want %d", len(in), len(pkts), whole)
	}
	for i := range pkts {
		if !equalPacket(pkts[i], all[i]) {
			t.Fatalf("cut %d: packet %d differs", len(in), i)
		}
	}
}

// blockEnds walks the blocks of a pcapng file and returns the offset after
// each, following the byte order of each section.
func blockEnds(b []byte) []int {
	var ends []int
	o := binary.ByteOrder(binary.LittleEndian)
	for off := 0; off+12 <= len(b); {
		if binary.LittleEndian.Uint32(b[off:]) == blockSHB {
			o = binary.LittleEndian
			if binary.BigEndian.Uint32(b[off+8:]) == byteOrderMagic {
				o = binary.BigEndian
			}
		}
		off += int(o.Uint32(b[off+4:]))
		ends = append(ends, off)
	}
	return ends
}
