package capture

import (
	"bytes"
	"compress/bzip2"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
)

// bzip2Pcap is bzip2Input compressed by /usr/bin/bzip2 -9 as two streams
// (its first 30 bytes, then the rest), since Go has no bzip2 writer.
const bzip2Pcap = "425a683931415926535920ed63e200000bc31ef6000800020020001000080004002000a0003100" +
	"d000d3426866861d916932477ce17ef1705ad17724538509020ed63e20425a683931415926535980c39d1d" +
	"0000044b00fc00000408003a0020002000310340d01a6a7a08da94a68cc78c00b710b3659d6f3e2ee48a70" +
	"a12101873a3a"

// bzip2Input is the capture inside bzip2Pcap.
func bzip2Input() []byte {
	return buildPcap(binary.LittleEndian, false, 1, 65535,
		rec{ts: 1700000000, frac: 1, data: []byte{1, 2, 3, 4}, orig: 60},
		rec{ts: 1700000001, frac: 2, data: []byte("abc"), orig: 3})
}

// compress wraps b in comp, as two members, frames or streams where the
// format allows, to test that they are read as one stream.
func compress(tb testing.TB, comp Compression, b []byte) []byte {
	tb.Helper()
	if comp == CompressionBzip2 {
		if !bytes.Equal(b, bzip2Input()) {
			tb.Fatal("bzip2 only for bzip2Input")
		}
		out, _ := hex.DecodeString(bzip2Pcap)
		return out
	}
	half := len(b) / 2
	return append(compressOne(tb, comp, b[:half]), compressOne(tb, comp, b[half:])...)
}

func compressOne(tb testing.TB, comp Compression, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	var err error
	switch comp {
	case CompressionNone:
		return b
	case CompressionGzip:
		w = gzip.NewWriter(&buf)
	case CompressionZstd:
		w, err = zstd.NewWriter(&buf)
	case CompressionXz:
		w, err = xz.NewWriter(&buf)
	case CompressionLZ4:
		w = lz4.NewWriter(&buf)
	default:
		tb.Fatalf("no writer for %v", comp)
	}
	if err != nil {
		tb.Fatal(err)
	}
	writeClose(tb, w, b)
	return buf.Bytes()
}

// writeClose writes b to w and closes it.
func writeClose(tb testing.TB, w io.WriteCloser, b []byte) {
	tb.Helper()
	if _, err := w.Write(b); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
}

func gzipBytes(tb testing.TB, b []byte) []byte { return compressOne(tb, CompressionGzip, b) }
func zstdBytes(tb testing.TB, b []byte) []byte { return compressOne(tb, CompressionZstd, b) }

// manyPackets is a capture of n packets of varied sizes, big enough to
// span several compressed blocks.
func manyPackets(n int) []byte {
	recs := make([]rec, n)
	for i := range recs {
		data := bytes.Repeat([]byte{byte(i)}, i%1500)
		recs[i] = rec{ts: uint64(1700000000 + i), frac: uint32(i), data: data, orig: uint32(len(data))}
	}
	return buildPcap(binary.LittleEndian, true, 1, 65535, recs...)
}

func TestOpen_Compression(t *testing.T) {
	plain := manyPackets(500)
	_, want := mustReadAll(t, plain)
	skippable := append([]byte{0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3}, compress(t, CompressionZstd, plain)...)
	tests := []struct {
		name  string
		comp  Compression
		in    []byte
		plain []byte
	}{
		{"none", CompressionNone, plain, plain},
		{"gzip two members", CompressionGzip, compress(t, CompressionGzip, plain), plain},
		{"zstd two frames", CompressionZstd, compress(t, CompressionZstd, plain), plain},
		{"zstd skippable frame first", CompressionZstd, skippable, plain},
		{"xz two streams", CompressionXz, compress(t, CompressionXz, plain), plain},
		{"lz4 two frames", CompressionLZ4, compress(t, CompressionLZ4, plain), plain},
		{"bzip2 two streams", CompressionBzip2, compress(t, CompressionBzip2, bzip2Input()), bzip2Input()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, pkts := mustReadAll(t, tc.in)
			if f.Compression() != tc.comp {
				t.Errorf("compression %v, want %v", f.Compression(), tc.comp)
			}
			_, want := mustReadAll(t, tc.plain)
			_, ahead, err := readAllWith(t, OpenRegular, tc.in) // decompressed ahead
			if err != nil {
				t.Fatalf("OpenRegular: %v", err)
			}
			for _, got := range [][]Packet{pkts, ahead} {
				if len(got) != len(want) {
					t.Fatalf("got %d packets, want %d", len(got), len(want))
				}
				for i := range want {
					if !equalPacket(got[i], want[i]) {
						t.Fatalf("packet %d differs: %+v, want %+v", i, got[i], want[i])
					}
				}
			}
		})
	}
	if len(want) != 500 {
		t.Errorf("plain capture has %d packets, want 500", len(want))
	}
}

// TestOpen_Bzip2Blob checks that the fixed blob holds what the tests think.
func TestOpen_Bzip2Blob(t *testing.T) {
	b, _ := hex.DecodeString(bzip2Pcap)
	got, err := io.ReadAll(bzip2.NewReader(bytes.NewReader(b)))
	if err != nil || !bytes.Equal(got, bzip2Input()) {
		t.Errorf("blob decodes to %x, %v; want %x", got, err, bzip2Input())
	}
}

// TestOpen_CompressionDamaged cuts and corrupts compressed captures: the
// reader must fail with a FormatError, never hang, panic or end cleanly.
func TestOpen_CompressionDamaged(t *testing.T) {
	plain := manyPackets(300)
	for _, comp := range []Compression{CompressionGzip, CompressionZstd, CompressionXz, CompressionLZ4, CompressionBzip2} {
		in := plain
		if comp == CompressionBzip2 {
			in = bzip2Input()
		}
		z := compress(t, comp, in)
		cut := z[:len(z)-5]
		flipped := bytes.Clone(z)
		flipped[len(z)*3/4] ^= 0x55
		for name, b := range map[string][]byte{"cut": cut, "flipped": flipped} {
			t.Run(comp.String()+" "+name, func(t *testing.T) {
				_, pkts, err := readAll(t, b)
				// Decompressed ahead, the same packets and the same error.
				_, ahead, aheadErr := readAllWith(t, OpenRegular, b)
				if len(ahead) != len(pkts) || fmt.Sprint(aheadErr) != fmt.Sprint(err) {
					t.Errorf("OpenRegular read %d packets and %v; OpenFile %d and %v", len(ahead), aheadErr, len(pkts), err)
				}
				var fe *FormatError
				if !errors.As(err, &fe) {
					t.Errorf("got %v, want a FormatError", err)
				}
				if name == "cut" && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrCorrupt) {
					t.Errorf("got %v, want ErrTruncated or ErrCorrupt", err)
				}
				if name == "cut" && errors.Is(err, ErrTruncated) && comp != CompressionBzip2 &&
					!strings.Contains(err.Error(), comp.String()+" stream cut short") {
					t.Errorf("got %q, want it to name the cut %s stream", err, comp)
				}
			})
		}
	}
}

func TestSniffCompression(t *testing.T) {
	tests := []struct {
		in   string
		want Compression
	}{
		{"1f8b0800", CompressionGzip},
		{"28b52ffd", CompressionZstd},
		{"5a2a4d18", CompressionZstd},
		{"fd377a585a00", CompressionXz},
		{"04224d18", CompressionLZ4},
		{"02214c18", CompressionLZ4},
		{"425a6839", CompressionBzip2},
		{"425a6830", CompressionNone},
		{"d4c3b2a1", CompressionNone},
		{"", CompressionNone},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			b, _ := hex.DecodeString(tc.in)
			if got := sniffCompression(b); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestOpenRegular_closeEarly closes files decompressed ahead before their
// end: Close returns with the goroutine gone, and a read after it fails
// rather than hangs.
func TestOpenRegular_closeEarly(t *testing.T) {
	z := compress(t, CompressionGzip, manyPackets(3000))
	for range 20 {
		f, err := OpenRegular(bytes.NewReader(z))
		if err != nil {
			t.Fatal(err)
		}
		a, ok := f.in.r.(*aheadReader)
		if !ok {
			t.Fatalf("a gzip file is read through %T, not decompressed ahead", f.in.r)
		}
		var p Packet
		if err := f.Next(&p); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-a.done:
		default:
			t.Fatal("Close returned with the goroutine running")
		}
		if n, err := a.Read(make([]byte, 8)); err == nil {
			t.Fatalf("read %d bytes after Close, no error", n)
		}
	}
}

// TestOpen_ZstdWindow: a zstd frame whose window is over zstdMaxWindow
// fails as corrupt, saying the bound, as an xz dictionary over it does;
// one at the bound reads.
func TestOpen_ZstdWindow(t *testing.T) {
	plain := manyPackets(400)
	_, want := mustReadAll(t, plain)
	for _, tc := range []struct {
		descriptor byte // the frame's window: exponent << 3, a window of 1 << (10 + exponent)
		err        string
	}{
		{17 << 3, "decompress zstd: corrupt: window over the 64 MiB allowed"}, // 128 MiB
		{16 << 3, ""}, // 64 MiB
	} {
		var b bytes.Buffer
		w, err := zstd.NewWriter(&b, zstd.WithSingleSegment(false))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(plain); err != nil || w.Close() != nil {
			t.Fatal(err)
		}
		z := b.Bytes()
		if z[4]&0x20 != 0 {
			t.Fatalf("frame header descriptor %#x: a single segment, with no window", z[4])
		}
		z[5] = tc.descriptor
		_, pkts, err := readAll(t, z)
		if tc.err == "" {
			if err != nil || len(pkts) != len(want) {
				t.Errorf("window %#x: read %d packets and %v, want %d and the end", tc.descriptor, len(pkts), err, len(want))
			}
			continue
		}
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(fmt.Sprint(err), tc.err) {
			t.Errorf("window %#x: %v, want an error saying %q", tc.descriptor, err, tc.err)
		}
	}

	// A single segment of 116 MiB: its size is its window. The frame
	// header by hand (single segment, a 4-byte content size), then one
	// raw last block.
	z := []byte{0x28, 0xb5, 0x2f, 0xfd, 0xa0}
	z = binary.LittleEndian.AppendUint32(z, 116<<20)
	block := uint32(len(plain))<<3 | 1
	z = append(z, byte(block), byte(block>>8), byte(block>>16))
	z = append(z, plain...)
	_, _, err := readAll(t, z)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(fmt.Sprint(err), "window over the 64 MiB allowed") {
		t.Errorf("a single segment of 116 MiB: %v, want an error saying the window is over 64 MiB", err)
	}
}

// zstdDeclaring returns plain compressed with zstd in a frame that
// declares the window descriptor (exponent << 3 | eighths) and no content
// size, so that the window is all there is to go by.
func zstdDeclaring(t *testing.T, plain []byte, descriptor byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := zstd.NewWriter(&b, zstd.WithSingleSegment(false))
	if err != nil {
		t.Fatal(err)
	}
	writeClose(t, w, plain)
	z := b.Bytes()
	if z[4] != 0x84 {
		t.Fatalf("frame header descriptor %#x: want a window and a 4-byte content size", z[4])
	}
	z[4], z[5] = 0x04, descriptor
	return append(z[:6:6], z[10:]...)
}

// TestFile_Window: Window is what the first zstd frame or xz block
// declares, read at Open; 0 for the other compressions.
func TestFile_Window(t *testing.T) {
	plain := manyPackets(400)
	zstdWindow := func(descriptor byte) []byte { return zstdDeclaring(t, plain, descriptor) }
	single, err := zstd.NewWriter(nil, zstd.WithSingleSegment(true))
	if err != nil {
		t.Fatal(err)
	}
	skippable := func(n int) []byte {
		b := binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 0x184d2a53), uint32(n))
		return append(b, make([]byte, n)...)
	}
	xzDict := func(code byte) []byte {
		b := xzWrite(t, plain, 1<<20)
		xzSetDict(t, b, xzHeaderLen, code)
		return b
	}
	for _, tc := range []struct {
		name string
		file []byte
		want int
	}{
		{"plain", plain, 0},
		{"gzip", gzipBytes(t, plain), 0},
		{"lz4", compressOne(t, CompressionLZ4, plain), 0},
		{"zstd window 64 MiB", zstdWindow(16 << 3), 64 << 20},
		{"zstd window 10 MiB", zstdWindow(13<<3 | 2), 10 << 20}, // 8 MiB and 2/8 of it
		{"zstd one segment", single.EncodeAll(plain, nil), len(plain)},
		{"zstd after a skippable frame", append(skippable(100), zstdWindow(16<<3)...), 64 << 20},
		{"zstd after skippable frames of 5,000 bytes", slices.Concat(skippable(5000), skippable(5000), zstdWindow(16<<3)),
			64 << 20},
		{"zstd after a skippable frame of 70,000 bytes (not looked past)", append(skippable(70000), zstdWindow(16<<3)...),
			0},
		{"xz dictionary 64 MiB", xzDict(28), 64 << 20},
		{"xz dictionary 6 MiB", xzDict(21), 6 << 20},
	} {
		f, err := OpenFile(bytes.NewReader(tc.file))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := f.Window(); got != tc.want {
			t.Errorf("%s: window %d, want %d", tc.name, got, tc.want)
		}
		f.Close()
	}
	// A block that declares its uncompressed size, 1,000 bytes, is
	// given a dictionary no larger (the header's CRC32 is not looked at).
	head := make([]byte, xzHeaderLen)
	head = append(head, 3, xzBlockUncompressedSize, 0xe8, 0x07, xzFilterLZMA2, 1, 28, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	if got := xzDeclaredDict(head); got != 1000 {
		t.Errorf("xz block of 1,000 bytes declaring 64 MiB: dictionary %d, want 1000", got)
	}
}
