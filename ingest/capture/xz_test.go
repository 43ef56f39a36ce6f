package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ulikunitz/xz"
)

// xzSetDict sets the LZMA2 dictionary size code of the block header at
// off in the .xz file b, and its CRC32 after it, as a hostile file would.
func xzSetDict(tb testing.TB, b []byte, off int, code byte) {
	tb.Helper()
	size := (int(b[off]) + 1) * 4
	h := b[off : off+size]
	rest := h[2 : size-4]
	skip := func() { // an xz integer
		for rest[0]&0x80 != 0 {
			rest = rest[1:]
		}
		rest = rest[1:]
	}
	if h[1]&xzBlockCompressedSize != 0 {
		skip()
	}
	if h[1]&xzBlockUncompressedSize != 0 {
		skip()
	}
	if h[1]&xzBlockFilters != 0 || rest[0] != xzFilterLZMA2 || rest[1] != 1 {
		tb.Fatalf("block header at %d: % x, not LZMA2 alone", off, h)
	}
	rest[2] = code
	binary.LittleEndian.PutUint32(h[size-4:], crc32.ChecksumIEEE(h[:size-4]))
}

// xzBlocks returns the offsets of the blocks of b, an .xz file of one
// stream, from its index.
func xzBlocks(tb testing.TB, b []byte) []int {
	tb.Helper()
	footer := b[len(b)-xzFooterLen:]
	index := b[len(b)-xzFooterLen-int(binary.LittleEndian.Uint32(footer[4:])+1)*4:]
	i := 1
	next := func() (byte, error) {
		i++
		return index[i-1], nil
	}
	count, _ := xzUvarint(next)
	var offs []int
	off := xzHeaderLen
	for range count {
		unpadded, _ := xzUvarint(next)
		xzUvarint(next) // uncompressed size
		offs = append(offs, off)
		off += int(unpadded+3) &^ 3
	}
	return offs
}

// xzWrite compresses b with the library's writer, in blocks of blockSize
// bytes.
func xzWrite(tb testing.TB, b []byte, blockSize int64) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w, err := xz.WriterConfig{BlockSize: blockSize}.NewWriter(&buf)
	if err != nil {
		tb.Fatal(err)
	}
	writeClose(tb, w, b)
	return buf.Bytes()
}

// TestOpen_XzDictionary: a block header declaring a dictionary over
// xzMaxDict (as xz -t accepts: 4 GiB took a load to 444 MiB as the
// dictionary filled) is refused before the dictionary is allocated, in
// any block of any stream; the 64 MiB of xz -9 are read.
func TestOpen_XzDictionary(t *testing.T) {
	plain := manyPackets(400)
	_, want := mustReadAll(t, plain)
	half := len(plain) / 2
	tests := []struct {
		name    string
		in      func() []byte
		err     string // "" when the file reads whole
		packets int    // read before the error
	}{
		{"4 GiB", func() []byte {
			b := xzWrite(t, plain, 0)
			xzSetDict(t, b, xzHeaderLen, 40)
			return b
		}, "block header at compressed byte 12: LZMA2 dictionary of 4096 MiB, over the 64 MiB allowed", 0},
		{"96 MiB", func() []byte {
			b := xzWrite(t, plain, 0)
			xzSetDict(t, b, xzHeaderLen, 29)
			return b
		}, "LZMA2 dictionary of 96 MiB, over the 64 MiB allowed", 0},
		{"64 MiB", func() []byte {
			b := xzWrite(t, plain, 0)
			xzSetDict(t, b, xzHeaderLen, 28)
			return b
		}, "", len(want)},
		{"4 GiB in the last block", func() []byte {
			b := xzWrite(t, plain, int64(half))
			blocks := xzBlocks(t, b)
			if len(blocks) != 2 {
				t.Fatalf("%d blocks, want 2", len(blocks))
			}
			xzSetDict(t, b, blocks[1], 40)
			return b
		}, "LZMA2 dictionary of 4096 MiB, over the 64 MiB allowed", -1},
		{"4 GiB in the second stream", func() []byte {
			second := xzWrite(t, plain[half:], 0)
			xzSetDict(t, second, xzHeaderLen, 40)
			return append(xzWrite(t, plain[:half], 0), second...)
		}, "LZMA2 dictionary of 4096 MiB, over the 64 MiB allowed", -1},
	}
	// The packets wholly in the first half, read before a later block
	// fails.
	_, first, _ := readAll(t, plain[:half])
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, pkts, err := readAll(t, in)
			elapsed := time.Since(start)
			var after runtime.MemStats
			runtime.ReadMemStats(&after)

			if tc.err == "" {
				if err != nil || len(pkts) != len(want) {
					t.Fatalf("read %d packets and %v, want %d and the end", len(pkts), err, len(want))
				}
				return
			}
			var fe *FormatError
			if !errors.As(err, &fe) || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("got %v, want a FormatError wrapping ErrCorrupt saying %q", err, tc.err)
			}
			if n := tc.packets; n == -1 && len(pkts) != len(first) || n >= 0 && len(pkts) != n {
				t.Errorf("read %d packets before the error", len(pkts))
			}
			// Before the fix the 4 GiB were allocated, and filled as the
			// block inflated.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
				t.Errorf("allocated %d MiB before refusing", alloc>>20)
			}
			if elapsed > 5*time.Second {
				t.Errorf("took %v to refuse", elapsed)
			}
			// Decompressed ahead, the same error.
			_, _, aheadErr := readAllWith(t, OpenRegular, in)
			if aheadErr == nil || aheadErr.Error() != err.Error() {
				t.Errorf("OpenRegular: %v, want %v", aheadErr, err)
			}
		})
	}
}

// TestXzReader_xzUtils reads what xz writes with its presets, checks,
// block and thread options, several streams with padding between them,
// and compares it with the input. make test installs xz (xz-utils).
func TestXzReader_xzUtils(t *testing.T) {
	bin, err := exec.LookPath("xz")
	if err != nil {
		// testenv.Missing, which this package's tests cannot import
		// (testenv needs the engine's package, which needs this one).
		if os.Getenv("CI") == "true" {
			t.Fatalf("missing xz, which make test installs: %v", err)
		}
		t.Skipf("missing xz, which make test installs: %v", err)
	}
	plain := manyPackets(2000)
	dir := t.TempDir()
	path := filepath.Join(dir, "in.pcap")
	if err := os.WriteFile(path, plain, 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	xzOf := func(t *testing.T, in string, args ...string) []byte {
		out, err := exec.Command(bin, append(append([]string{"-c"}, args...), in)...).Output()
		if err != nil {
			t.Fatalf("xz %v: %v", args, err)
		}
		return out
	}
	tests := []struct {
		name string
		args []string
		err  string // "" when it reads whole
	}{
		{"-0", []string{"-0"}, ""},
		{"-6 CRC32", []string{"-6", "--check=crc32"}, ""},
		{"-9 SHA-256", []string{"-9", "--check=sha256"}, ""},
		{"-9e no check", []string{"-9e", "--check=none"}, ""},
		{"blocks", []string{"-9", "--block-size=100KiB"}, ""},
		{"blocks with sizes", []string{"-9", "-T2", "--block-size=100KiB"}, ""},
		{"128 MiB dictionary", []string{"--lzma2=dict=128MiB"}, "LZMA2 dictionary of 128 MiB, over the 64 MiB allowed"},
		{"x86 filter", []string{"--x86", "--lzma2"}, "2 filters, where only LZMA2 alone is read"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			z := xzOf(t, path, tc.args...)
			r, err := newXzReader(bytes.NewReader(z))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("read %d bytes and %v, want the %d of the input", len(got), err, len(plain))
			}
		})
	}
	t.Run("streams and padding", func(t *testing.T) {
		var z []byte
		z = append(z, xzOf(t, path, "-1")...)
		z = append(z, 0, 0, 0, 0)
		z = append(z, xzOf(t, empty)...)
		z = append(z, xzOf(t, path, "-2", "--check=crc32")...)
		z = append(z, 0, 0, 0, 0, 0, 0, 0, 0)
		r, err := newXzReader(bytes.NewReader(z))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, append(bytes.Clone(plain), plain...)) {
			t.Fatalf("read %d bytes and %v, want the input twice", len(got), err)
		}
		// Padding not of whole 4-byte words is a stream cut short.
		r, _ = newXzReader(bytes.NewReader(z[:len(z)-2]))
		if _, err := io.ReadAll(r); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("padding of 6 bytes: %v, want io.ErrUnexpectedEOF", err)
		}
	})
}

// TestXzReader_damaged changes each byte of a small two-block file in
// turn: the reader never returns other bytes than the input's without an
// error, and never hangs or panics. Some changes read whole: the library's
// LZMA2 decoder ends a chunk where its data does, not where its header's
// compressed size says, which liblzma would refuse.
func TestXzReader_damaged(t *testing.T) {
	plain := manyPackets(40)
	z := xzWrite(t, plain, int64(len(plain)/2))
	for i := range z {
		b := bytes.Clone(z)
		b[i] ^= 0x01
		r, err := newXzReader(bytes.NewReader(b))
		if err != nil {
			continue
		}
		if got, err := io.ReadAll(r); err == nil && !bytes.Equal(got, plain) {
			t.Errorf("byte %d changed: read %d bytes unlike the input's, no error", i, len(got))
		}
	}
}
