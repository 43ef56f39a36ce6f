package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

func TestFile_NextPcap(t *testing.T) {
	data := []byte{0xde, 0xad, 0xbe, 0xef, 0x01}
	tests := []struct {
		name   string
		order  order
		nano   bool
		frac   uint32
		want   int64
		format Format
	}{
		{"little micro", binary.LittleEndian, false, 123456, 1700000000_123456000, FormatPcap},
		{"big micro", binary.BigEndian, false, 999999, 1700000000_999999000, FormatPcap},
		{"little nano", binary.LittleEndian, true, 123456789, 1700000000_123456789, FormatPcapNano},
		{"big nano", binary.BigEndian, true, 1, 1700000000_000000001, FormatPcapNano},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := buildPcap(tc.order, tc.nano, uint32(LinkRaw), 65535,
				rec{ts: 1700000000, frac: tc.frac, data: data, orig: 1500},
				rec{ts: 1700000001, data: nil, orig: 0},
			)
			f, pkts := mustReadAll(t, b)
			if f.Format() != tc.format || f.Compression() != CompressionNone {
				t.Errorf("format %v %v, want %v none", f.Format(), f.Compression(), tc.format)
			}
			if len(pkts) != 2 {
				t.Fatalf("got %d packets, want 2", len(pkts))
			}
			want := Packet{Data: data, OrigLen: 1500, Timestamp: tc.want, LinkType: LinkRaw, Frame: 1, Offset: 24}
			if !equalPacket(pkts[0], want) {
				t.Errorf("got %+v, want %+v", pkts[0], want)
			}
			if p := pkts[1]; p.Frame != 2 || p.Offset != 24+16+5 || len(p.Data) != 0 || p.Timestamp != 1700000001e9 {
				t.Errorf("second packet %+v", p)
			}
			if ifs := f.Interfaces(); len(ifs) != 1 || ifs[0].Snaplen != 65535 || ifs[0].LinkType != LinkRaw {
				t.Errorf("interfaces %+v", ifs)
			}
		})
	}
}

func TestFile_NextPcapLinkTypeFCS(t *testing.T) {
	// Link type 1 with the P bit and an FCS of two 16-bit words.
	b := buildPcap(binary.LittleEndian, false, 1|pcapFCSPresent|2<<pcapFCSLenShift, 0,
		rec{ts: 1, data: []byte{1}, orig: 1})
	f, pkts := mustReadAll(t, b)
	if pkts[0].LinkType != LinkEthernet {
		t.Errorf("link type %d, want 1", pkts[0].LinkType)
	}
	if got := f.Interfaces()[0].FCSLen; got != 4 {
		t.Errorf("FCS length %d, want 4", got)
	}
}

func TestFile_NextPcapErrors(t *testing.T) {
	good := buildPcap(binary.LittleEndian, false, 1, 65535, rec{ts: 1, data: []byte{1, 2}, orig: 2})
	oversize := buildPcap(binary.BigEndian, false, 1, 65535, rec{ts: 1, data: []byte{1}, orig: 1})
	binary.BigEndian.PutUint32(oversize[24+8:], maxCaptureLen+1)
	version := bytes.Clone(good)
	binary.LittleEndian.PutUint16(version[4:], 3)
	// good is 42 bytes: a header and one record of 2 bytes.
	concatenated := append(bytes.Clone(good), good...)

	tests := []struct {
		name    string
		in      []byte
		open    bool // the error comes from Open, not Next
		want    error
		offset  int64
		frame   uint64
		packets int
	}{
		{"oversize record", oversize, false, ErrCorrupt, 24, 1, 0},
		{"truncated data", good[:len(good)-1], false, ErrTruncated, 24, 1, 0},
		{"truncated record header", append(bytes.Clone(good), 1, 2, 3), false, ErrTruncated, 42, 2, 1},
		{"truncated file header", good[:20], true, ErrTruncated, 0, 0, 0},
		{"version 3", version, true, ErrUnsupported, 0, 0, 0},
		{"two files concatenated", concatenated, false, ErrCorrupt, 42, 2, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, pkts, err := readAll(t, tc.in)
			var fe *FormatError
			if !errors.As(err, &fe) || !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want a FormatError wrapping %v", err, tc.want)
			}
			if (f == nil) != tc.open || fe.Offset != tc.offset || fe.Frame != tc.frame || len(pkts) != tc.packets {
				t.Errorf("got open error %v, offset %d, frame %d, %d packets; want %v, %d, %d, %d",
					f == nil, fe.Offset, fe.Frame, len(pkts), tc.open, tc.offset, tc.frame, tc.packets)
			}
			if f != nil {
				var p Packet
				if again := f.Next(&p); again != err {
					t.Errorf("Next after error = %v, want the same error", again)
				}
			}
		})
	}
}

// TestOpen_DamagedSectionHeader: the pcapng block type with a bad
// byte-order magic is a damaged capture, which a directory walk must not
// skip as "not a capture".
func TestOpen_DamagedSectionHeader(t *testing.T) {
	_, err := Open(bytes.NewReader([]byte("\n\r\r\n\x1c\x00\x00\x00xxxxxxxxxxxxxxxxxxxx")))
	if !errors.Is(err, ErrCorrupt) || errors.Is(err, ErrNotCapture) {
		t.Errorf("got %v, want ErrCorrupt", err)
	}
}

func TestOpen_NotCapture(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"short", []byte{0xa1, 0xb2}},
		{"text", []byte("GET / HTTP/1.1\r\nHost: example.org\r\n\r\n")},
		{"gzip of text", gzipBytes(t, []byte("hello, world"))},
		{"zstd of nothing", zstdBytes(t, nil)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Open(bytes.NewReader(tc.in))
			var fe *FormatError
			if !errors.Is(err, ErrNotCapture) || !errors.As(err, &fe) || r != nil {
				t.Errorf("got %v, %v; want nil and ErrNotCapture", r, err)
			}
		})
	}
}

// TestOpen_ReaderError checks that an I/O error of the caller's reader is
// reported as itself, not as corruption.
func TestOpen_ReaderError(t *testing.T) {
	errDisk := errors.New("disk on fire")
	for _, comp := range []Compression{CompressionNone, CompressionGzip, CompressionZstd} {
		t.Run(comp.String(), func(t *testing.T) {
			b := compress(t, comp, buildPcap(binary.LittleEndian, false, 1, 0, rec{data: make([]byte, 100_000)}))
			r := io.MultiReader(bytes.NewReader(b[:len(b)/2]), &errReader{errDisk})
			f, err := OpenFile(r)
			if err == nil {
				var p Packet
				for err == nil {
					err = f.Next(&p)
				}
			}
			if !errors.Is(err, errDisk) || errors.Is(err, ErrCorrupt) {
				t.Errorf("got %v, want the reader's error", err)
			}
		})
	}
}

type errReader struct{ err error }

func (r *errReader) Read([]byte) (int, error) { return 0, r.err }

// equalPacket compares packets including their data.
func equalPacket(a, b Packet) bool {
	return bytes.Equal(a.Data, b.Data) && a.OrigLen == b.OrigLen && a.Timestamp == b.Timestamp &&
		a.LinkType == b.LinkType && a.Interface == b.Interface && a.Frame == b.Frame &&
		a.Offset == b.Offset && a.NoTimestamp == b.NoTimestamp
}

// TestFile_NextAfterClose checks that a closed file, whose read buffer
// went back for other files to use, reads nothing more, even while another
// file reads through that buffer.
func TestFile_NextAfterClose(t *testing.T) {
	first := buildPcap(binary.LittleEndian, false, uint32(LinkRaw), 65535,
		rec{ts: 1, data: []byte{1, 1, 1}, orig: 3}, rec{ts: 2, data: []byte{2, 2, 2}, orig: 3})
	second := buildPcap(binary.LittleEndian, false, uint32(LinkRaw), 65535,
		rec{ts: 3, data: []byte{9, 9, 9}, orig: 3}, rec{ts: 4, data: []byte{8, 8, 8}, orig: 3})
	a, err := OpenFile(bytes.NewReader(first))
	if err != nil {
		t.Fatal(err)
	}
	var p Packet
	if err := a.Next(&p); err != nil || p.Data[0] != 1 {
		t.Fatalf("first packet %v, %v", p.Data, err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := OpenFile(bytes.NewReader(second))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Next(&p); err != nil || p.Data[0] != 9 {
		t.Fatalf("other file's packet %v, %v", p.Data, err)
	}
	if err := a.Next(&p); err == nil || err == io.EOF {
		t.Fatalf("Next after Close read %v, %v; want an error", p.Data, err)
	}
	if err := b.Next(&p); err != nil || p.Data[0] != 8 {
		t.Fatalf("other file's second packet %v, %v", p.Data, err)
	}
}
