package capture

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

var (
	le64 = binary.LittleEndian
	be64 = binary.BigEndian
)

// multiSection is a capture of two sections in different byte orders with
// interfaces of different link types and resolutions, and every packet
// block type.
func multiSection() []byte {
	n := &ngBuilder{}
	n.shb(le64).
		idb(uint16(LinkEthernet), 65535, opt{optIfName, []byte("eth0\x00")}).               // µs by default
		idb(uint16(LinkRaw), 0, opt{optIfTSResol, []byte{9}}, opt{optIfFCSLen, []byte{4}}). // ns
		epb(0, 1700000000_123456, []byte{1, 2, 3}, 3).                                      // frame 1
		epb(1, 1700000000_123456789, []byte{4}, 60).                                        // frame 2
		block(0x0bad, []byte("custom block, skipped")).                                     // not a frame
		spb([]byte{5, 6, 7, 8, 9}, 5).                                                      // frame 3
		pb(1, 1700000002_000000001, []byte{10, 11}, 2)                                      // frame 4
	n.isb(0, 1700000003_000000, n.u64opt(optISBIfRecv, 1000), n.u64opt(optISBIfDrop, 7))
	n.shb(be64).
		idb(uint16(LinkLinuxSLL), 128, opt{optIfTSResol, []byte{0x80 | 20}}, opt{optIfTSOffset, be64.AppendUint64(nil, 100)}).
		idb(uint16(LinkNull), 0, opt{optIfTSResol, []byte{3}}).
		epb(0, 1700000000<<20|1<<19, []byte{12}, 1). // frame 5: half a second in 2^-20 units
		epb(1, 1700000004_005, []byte{13}, 1).       // frame 6: milliseconds
		spb(make([]byte, 200), 300)                  // frame 7: cut to the snaplen
	return n.b
}

func TestFile_NextPcapng(t *testing.T) {
	f, pkts := mustReadAll(t, multiSection())
	want := []Packet{
		{Data: []byte{1, 2, 3}, OrigLen: 3, Timestamp: 1700000000_123456000, LinkType: LinkEthernet, Interface: 0, Frame: 1},
		{Data: []byte{4}, OrigLen: 60, Timestamp: 1700000000_123456789, LinkType: LinkRaw, Interface: 1, Frame: 2},
		{Data: []byte{5, 6, 7, 8, 9}, OrigLen: 5, Timestamp: 1700000000_123456789, NoTimestamp: true, LinkType: LinkEthernet, Frame: 3},
		{Data: []byte{10, 11}, OrigLen: 2, Timestamp: 1700000002_000000001, LinkType: LinkRaw, Interface: 1, Frame: 4},
		{Data: []byte{12}, OrigLen: 1, Timestamp: 1700000100_500000000, LinkType: LinkLinuxSLL, Interface: 2, Frame: 5},
		{Data: []byte{13}, OrigLen: 1, Timestamp: 1700000004_005000000, LinkType: LinkNull, Interface: 3, Frame: 6},
		{Data: make([]byte, 128), OrigLen: 300, Timestamp: 1700000004_005000000, NoTimestamp: true, LinkType: LinkLinuxSLL, Interface: 2, Frame: 7},
	}
	if f.Format() != FormatPcapng {
		t.Errorf("format %v, want pcapng", f.Format())
	}
	if len(pkts) != len(want) {
		t.Fatalf("got %d packets, want %d", len(pkts), len(want))
	}
	for i := range want {
		want[i].Offset = pkts[i].Offset
		if !equalPacket(pkts[i], want[i]) {
			t.Errorf("packet %d:\n got %+v\nwant %+v", i, pkts[i], want[i])
		}
		if i > 0 && pkts[i].Offset <= pkts[i-1].Offset {
			t.Errorf("packet %d: offset %d not after %d", i, pkts[i].Offset, pkts[i-1].Offset)
		}
	}

	ifs := f.Interfaces()
	wantIfs := []Interface{
		{Section: 0, ID: 0, LinkType: LinkEthernet, Snaplen: 65535, Name: "eth0",
			Stats: InterfaceStats{Blocks: 1, Timestamp: 1700000003e9, Received: 1000, Dropped: 7, HasReceived: true, HasDropped: true}},
		{Section: 0, ID: 1, LinkType: LinkRaw, FCSLen: 4},
		{Section: 1, ID: 0, LinkType: LinkLinuxSLL, Snaplen: 128},
		{Section: 1, ID: 1, LinkType: LinkNull},
	}
	if len(ifs) != len(wantIfs) {
		t.Fatalf("got %d interfaces, want %d", len(ifs), len(wantIfs))
	}
	for i := range wantIfs {
		if ifs[i] != wantIfs[i] {
			t.Errorf("interface %d:\n got %+v\nwant %+v", i, ifs[i], wantIfs[i])
		}
	}
}

// TestFile_NextPcapngFrames checks that frame numbers follow tshark:
// journal export blocks are frames, other non-packet blocks are not.
func TestFile_NextPcapngFrames(t *testing.T) {
	n := &ngBuilder{}
	n.shb(le64).idb(1, 0).epb(0, 1, []byte{1}, 1).block(blockSJE, []byte("__CURSOR=x\n")).
		isb(0, 2).block(4, nil).epb(0, 3, []byte{2}, 1)
	_, pkts := mustReadAll(t, n.b)
	if len(pkts) != 2 || pkts[0].Frame != 1 || pkts[1].Frame != 3 {
		t.Errorf("got %+v, want frames 1 and 3", pkts)
	}
}

func TestFile_NextPcapngErrors(t *testing.T) {
	good := func() *ngBuilder { return (&ngBuilder{}).shb(le64).idb(1, 0) }
	badTrailer := good().epb(0, 1, []byte{1}, 1).b
	binary.LittleEndian.PutUint32(badTrailer[len(badTrailer)-4:], 99)
	badLength := good().b
	badLength = append(badLength, 6, 0, 0, 0, 13, 0, 0, 0)
	hugeCap := good().epb(0, 1, []byte{1}, 1).b
	binary.LittleEndian.PutUint32(hugeCap[len(hugeCap)-16:], maxCaptureLen+1)
	version := good().b
	binary.LittleEndian.PutUint16(version[12:], 2)

	tests := []struct {
		name    string
		in      []byte
		want    error
		frame   uint64
		packets int
	}{
		{"unknown interface", good().epb(1, 1, []byte{1}, 1).b, ErrCorrupt, 1, 0},
		{"pb unknown interface", good().pb(3, 1, []byte{1}, 1).b, ErrCorrupt, 1, 0},
		{"spb before idb", (&ngBuilder{}).shb(le64).spb([]byte{1}, 1).b, ErrCorrupt, 1, 0},
		{"isb unknown interface", good().isb(2, 1).b, ErrCorrupt, 0, 0},
		{"bad trailer", badTrailer, ErrCorrupt, 1, 0},
		{"length not multiple of 4", badLength, ErrCorrupt, 1, 0},
		{"captured length over bound", hugeCap, ErrCorrupt, 1, 0},
		{"tsresol out of range", good().idb(1, 0, opt{optIfTSResol, []byte{20}}).b, ErrCorrupt, 0, 0},
		{"option overruns", good().block(blockIDB, []byte{1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 40, 0}).b, ErrCorrupt, 0, 0},
		{"truncated block", good().epb(0, 1, []byte{1}, 1).b[:60], ErrTruncated, 1, 0},
		{"truncated after packet", append(good().epb(0, 1, []byte{1}, 1).b, 6, 0), ErrTruncated, 0, 1},
		{"second shb bad byte order", append(good().b, "\n\r\r\n\x1c\x00\x00\x00abcd"...), ErrCorrupt, 0, 0},
		{"version 2", version, ErrUnsupported, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, pkts, err := readAll(t, tc.in)
			var fe *FormatError
			if !errors.As(err, &fe) || !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want a FormatError wrapping %v", err, tc.want)
			}
			if fe.Frame != tc.frame || len(pkts) != tc.packets {
				t.Errorf("got frame %d, %d packets; want %d, %d (%v)", fe.Frame, len(pkts), tc.frame, tc.packets, err)
			}
		})
	}
}

func TestTSConv_NS(t *testing.T) {
	tests := []struct {
		name   string
		resol  uint8
		offset int64
		ts     uint64
		want   int64
	}{
		{"seconds", 0, 0, 1700000000, 1700000000e9},
		{"microseconds", 6, 0, 1700000000_000001, 1700000000_000001000},
		{"nanoseconds", 9, 0, 1700000000_000000001, 1700000000_000000001},
		{"picoseconds truncated", 12, 0, 1_000_000_999, 1_000_000},
		{"10^-19", 19, 0, math.MaxUint64, 1844674407},
		{"2^-0", 0x80, 0, 5, 5e9},
		{"2^-1", 0x81, 0, 3, 1_500_000_000},
		{"2^-32", 0x80 | 32, 0, 1<<32 | 1<<31, 1_500_000_000},
		{"2^-63", 0x80 | 63, 0, 1 << 62, 500_000_000},
		{"offset", 6, -10, 10_000_000, 0},
		{"past 2106", 6, 0, 4294967296_000000, 4294967296e9},
		{"saturates", 6, 0, math.MaxUint64, math.MaxInt64},
		{"offset saturates", 9, math.MaxInt64, 1, math.MaxInt64},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := newTSConv(tc.resol, tc.offset)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.ns(tc.ts); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}
