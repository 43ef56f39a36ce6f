package capture

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"slices"

	"github.com/ulikunitz/xz/lzma"
)

// The .xz container is read here, and only the LZMA2 data of its blocks by
// github.com/ulikunitz/xz/lzma. The library's own xz.Reader allocates the
// dictionary each block header declares, up to 4 GiB, whatever its
// ReaderConfig says (DictCap there is a floor, not a bound), and fills it
// as the block inflates: a 114 MB file of 3 million messages whose header
// declared 4 GiB took a load to 444 MiB resident with --to null. Reading each block header
// here refuses such a block before anything is allocated for it. Checking
// the headers in a reader in front of the library's would have meant
// finding where each block ends as the library does, and it does not say:
// it can stop short of an LZMA chunk's declared size and read its next
// chunk header from there, so that a block header hidden inside a chunk
// would pass the guard and reach the library.
//
// Layout (The .xz File Format, tukaani.org/xz/xz-file-format.txt):
//
// Stream: header(12): magic(6) flags(2) CRC32(4); blocks; index;
// footer(12): CRC32(4) backward size(4) flags(2) magic "YZ"(2). Streams
// follow each other, with padding of zero 4-byte words between them.
// Block: header of (first byte+1)*4 bytes: that byte(1) flags(1)
// [compressed size] [uncompressed size] filter flags padding CRC32(4);
// the filters' data; padding to 4 bytes; the check the stream flags name.
// Filter flags: ID, properties size, properties; LZMA2's one property byte
// codes the dictionary size.
// Index: 0x00, record count, records (unpadded size, uncompressed size),
// padding to 4 bytes, CRC32(4).
// Integers in headers and the index are little-endian 7 bits a byte, as
// xzUvarint reads them.
const (
	xzHeaderLen    = 12
	xzFooterLen    = 12
	xzMaxHeaderLen = 1024 // the largest block header its first byte can give
	xzFilterLZMA2  = 0x21

	xzBlockFilters          = 0x03 // the number of filters, less one
	xzBlockReserved         = 0x3c
	xzBlockCompressedSize   = 0x40
	xzBlockUncompressedSize = 0x80
)

var (
	xzMagic       = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	xzFooterMagic = []byte{'Y', 'Z'}
)

// xzMaxDict bounds the LZMA2 dictionary of a block, and so the decoder's
// memory, per file: the bound of zstd's window, for the same reason. It is
// the dictionary of xz -9 and -9e, the largest presets; only a custom
// --lzma2=dict= goes beyond it.
// TODO(compress): as for zstd, make the bound a loader option if someone
// needs larger dictionaries.
const xzMaxDict = zstdMaxWindow

// xzCRC64 is the CRC-64 of xz checks (ECMA-182, reflected).
var xzCRC64 = crc64.MakeTable(crc64.ECMA)

// xzReader decompresses an .xz file of one or more streams.
type xzReader struct {
	src xzSource

	// The check of the stream being read, as its flags name it: check is
	// nil for none, and CRC32 and CRC64 are stored little-endian where Go's
	// hashes sum big-endian (checkLE).
	flags    byte
	check    hash.Hash
	checkLen int
	checkLE  bool
	blocks   xzIndexSum // of the stream's blocks read, for its index

	// The block being read; data is nil between blocks.
	data      io.Reader // its LZMA2 decoder, teed into check
	blockOff  int64     // compressed offset of the block header
	headerLen int64
	dataOff   int64 // compressed offset of its LZMA2 data
	cSize     int64 // sizes the header declares, -1 when it does not
	uSize     int64
	n         int64 // uncompressed bytes read from the block

	sum [sha256.Size]byte
	err error // sticky: io.EOF after the last stream, or the failure
}

// xzSource counts the compressed bytes read, for the offsets in errors
// and the sizes in the index.
type xzSource struct {
	r io.Reader
	n int64
}

func (s *xzSource) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n += int64(n)
	return n, err
}

// newXzReader reads the first stream header of r, as opening a gzip or
// zstd stream reads its first header.
func newXzReader(r io.Reader) (*xzReader, error) {
	x := &xzReader{src: xzSource{r: r}}
	var h [xzHeaderLen]byte
	if err := x.readFull(h[:]); err != nil {
		return nil, err
	}
	if err := x.streamHeader(0, h[:]); err != nil {
		return nil, err
	}
	return x, nil
}

// Read fills p with decompressed bytes. It returns io.EOF after the last
// stream's footer and its padding, and a cut file as io.ErrUnexpectedEOF.
func (x *xzReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && x.err == nil {
		if x.data == nil {
			x.err = x.nextBlock()
			continue
		}
		k, err := x.data.Read(p[n:])
		n += k
		x.n += int64(k)
		switch {
		case x.uSize >= 0 && x.n > x.uSize:
			x.err = fmt.Errorf("block at compressed byte %d: more than the %d bytes its header declares", x.blockOff, x.uSize)
		case err == io.EOF:
			x.err = x.endBlock()
		case err != nil:
			x.err = fmt.Errorf("block at compressed byte %d: %w", x.blockOff, err)
		}
	}
	return n, x.err
}

// readFull reads p whole from the container: the file ending before it is
// a stream cut short.
func (x *xzReader) readFull(p []byte) error {
	_, err := io.ReadFull(&x.src, p)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// streamHeader checks the header h of a stream at compressed offset off
// and sets up its check.
func (x *xzReader) streamHeader(off int64, h []byte) error {
	if !bytes.Equal(h[:len(xzMagic)], xzMagic) {
		return fmt.Errorf("compressed byte %d: neither an xz stream header nor padding", off)
	}
	if crc32.ChecksumIEEE(h[6:8]) != binary.LittleEndian.Uint32(h[8:]) {
		return fmt.Errorf("stream header at compressed byte %d: CRC32 mismatch", off)
	}
	if h[6] != 0 {
		return fmt.Errorf("stream header at compressed byte %d: reserved flags %#x set", off, h[6])
	}
	// The check IDs are those of the library's reader; xz writes no other.
	x.check, x.checkLE = nil, false
	switch h[7] {
	case 0x00: // none
	case 0x01:
		x.check, x.checkLE = crc32.NewIEEE(), true
	case 0x04:
		x.check, x.checkLE = crc64.New(xzCRC64), true
	case 0x0a:
		x.check = sha256.New()
	default:
		return fmt.Errorf("stream header at compressed byte %d: unknown check %#x", off, h[7])
	}
	x.checkLen = 0
	if x.check != nil {
		x.checkLen = x.check.Size()
	}
	x.flags = h[7]
	x.blocks = xzIndexSum{}
	return nil
}

// nextBlock reads up to the next block's LZMA2 data: its header, after
// the index and footer that end a stream, the padding after them and the
// next stream's header when the block is the first of its stream. It
// returns io.EOF where the file ends after a stream.
func (x *xzReader) nextBlock() error {
	for {
		off := x.src.n
		var b [1]byte
		if err := x.readFull(b[:]); err != nil {
			return err
		}
		if b[0] != 0 {
			return x.blockHeader(off, b[0])
		}
		if err := x.index(off); err != nil {
			return err
		}
		if err := x.nextStream(); err != nil {
			return err
		}
	}
}

// blockHeader reads the rest of the block header at compressed offset off,
// whose first byte is size, and starts decoding the block.
func (x *xzReader) blockHeader(off int64, size byte) error {
	var buf [xzMaxHeaderLen]byte
	h := buf[:(int(size)+1)*4]
	h[0] = size
	if err := x.readFull(h[1:]); err != nil {
		return err
	}
	fail := func(format string, a ...any) error {
		return fmt.Errorf("block header at compressed byte %d: "+format, append([]any{off}, a...)...)
	}
	end := len(h) - 4
	if crc32.ChecksumIEEE(h[:end]) != binary.LittleEndian.Uint32(h[end:]) {
		return fail("CRC32 mismatch")
	}
	flags := h[1]
	if flags&xzBlockReserved != 0 {
		return fail("reserved flags %#x set", flags)
	}
	rest := h[2:end]
	next := func() (byte, error) {
		if len(rest) == 0 {
			return 0, errors.New("fields past its end")
		}
		b := rest[0]
		rest = rest[1:]
		return b, nil
	}
	x.cSize, x.uSize = -1, -1
	for _, f := range []struct {
		bit  byte
		size *int64
	}{{xzBlockCompressedSize, &x.cSize}, {xzBlockUncompressedSize, &x.uSize}} {
		if flags&f.bit == 0 {
			continue
		}
		v, err := xzUvarint(next)
		if err != nil {
			return fail("size: %w", err)
		}
		*f.size = int64(v)
	}
	// The library's reader reads LZMA2 alone too: the other filters (delta,
	// BCJ) come before LZMA2 in a chain, which xz writes only when asked.
	if n := flags&xzBlockFilters + 1; n != 1 {
		return fail("%d filters, where only LZMA2 alone is read", n)
	}
	id, err := xzUvarint(next)
	if err != nil {
		return fail("filter ID: %w", err)
	}
	if id != xzFilterLZMA2 {
		return fail("filter %#x, where only LZMA2 is read", id)
	}
	if n, err := xzUvarint(next); err != nil {
		return fail("LZMA2 properties size: %w", err)
	} else if n != 1 {
		return fail("LZMA2 properties of %d bytes, want 1", n)
	}
	code, err := next()
	if err != nil {
		return fail("LZMA2 properties: %w", err)
	}
	dict, err := lzma.DecodeDictCap(code)
	if err != nil {
		return fail("LZMA2 dictionary size code %d", code)
	}
	if dict > xzMaxDict {
		return fail("LZMA2 dictionary of %d MiB, over the %d MiB allowed", (dict+1<<20-1)>>20, xzMaxDict>>20)
	}
	if slices.ContainsFunc(rest, func(b byte) bool { return b != 0 }) {
		return fail("nonzero padding")
	}

	// A block starts its dictionary afresh, so it never needs more than
	// the block's bytes: threaded xz declares the preset's dictionary (64
	// MiB at -9) for blocks smaller than it, and writes their sizes.
	// TODO(xz): each block allocates its dictionary anew, as the library's
	// reader did, since an lzma.Reader2 cannot be reset. A file of many
	// blocks without their sizes (xz --block-size, single-threaded) clears
	// 64 MiB a block at -9: a million messages in blocks of 64 KiB took
	// 32 s and 223 MiB with --to null, against 3.9 s and 152 MiB in one
	// block (36.7 s and 285 MiB before this reader).
	if x.uSize >= 0 {
		dict = min(dict, x.uSize)
	}
	x.blockOff, x.headerLen, x.dataOff, x.n = off, int64(len(h)), x.src.n, 0
	lz, err := lzma.Reader2Config{DictCap: int(max(dict, lzma.MinDictCap))}.NewReader2(&x.src)
	if err != nil {
		return fail("%w", err)
	}
	x.data = lz
	if x.check != nil {
		x.check.Reset()
		x.data = io.TeeReader(lz, x.check)
	}
	return nil
}

// endBlock checks the sizes, padding and check that end the block whose
// LZMA2 data has just ended.
func (x *xzReader) endBlock() error {
	x.data = nil
	fail := func(format string, a ...any) error {
		return fmt.Errorf("block at compressed byte %d: "+format, append([]any{x.blockOff}, a...)...)
	}
	compressed := x.src.n - x.dataOff
	if x.cSize >= 0 && compressed != x.cSize {
		return fail("%d compressed bytes, where its header declares %d", compressed, x.cSize)
	}
	if x.uSize >= 0 && x.n != x.uSize {
		return fail("%d bytes, where its header declares %d", x.n, x.uSize)
	}
	var buf [3 + sha256.Size]byte
	pad := int(-compressed & 3)
	tail := buf[:pad+x.checkLen]
	if err := x.readFull(tail); err != nil {
		return err
	}
	if slices.ContainsFunc(tail[:pad], func(b byte) bool { return b != 0 }) {
		return fail("nonzero padding")
	}
	if x.check != nil {
		want := x.check.Sum(x.sum[:0])
		if x.checkLE {
			slices.Reverse(want)
		}
		if !bytes.Equal(tail[pad:], want) {
			return fail("check mismatch")
		}
	}
	x.blocks.add(uint64(x.headerLen+compressed+int64(x.checkLen)), uint64(x.n))
	return nil
}

// index reads the index at compressed offset off, whose first byte has
// been read, and the stream footer after it.
func (x *xzReader) index(off int64) error {
	fail := func(format string, a ...any) error {
		return fmt.Errorf("index at compressed byte %d: "+format, append([]any{off}, a...)...)
	}
	crc := crc32.Update(0, crc32.IEEETable, []byte{0})
	next := func() (byte, error) {
		var b [1]byte
		if err := x.readFull(b[:]); err != nil {
			return 0, err
		}
		crc = crc32.Update(crc, crc32.IEEETable, b[:])
		return b[0], nil
	}
	count, err := xzUvarint(next)
	if err != nil {
		return fail("record count: %w", err)
	}
	if count != x.blocks.count {
		return fail("%d records for %d blocks", count, x.blocks.count)
	}
	var records xzIndexSum
	for range count {
		unpadded, err := xzUvarint(next)
		if err != nil {
			return fail("record: %w", err)
		}
		size, err := xzUvarint(next)
		if err != nil {
			return fail("record: %w", err)
		}
		records.add(unpadded, size)
	}
	if records != x.blocks {
		return fail("records unlike the blocks")
	}
	for range -(x.src.n - off) & 3 {
		if b, err := next(); err != nil {
			return err
		} else if b != 0 {
			return fail("nonzero padding")
		}
	}
	var sum [4]byte
	if err := x.readFull(sum[:]); err != nil {
		return err
	}
	if binary.LittleEndian.Uint32(sum[:]) != crc {
		return fail("CRC32 mismatch")
	}

	size := x.src.n - off
	var f [xzFooterLen]byte
	if err := x.readFull(f[:]); err != nil {
		return err
	}
	fail = func(format string, a ...any) error {
		return fmt.Errorf("stream footer at compressed byte %d: "+format, append([]any{off + size}, a...)...)
	}
	switch {
	case !bytes.Equal(f[10:], xzFooterMagic):
		return fail("no footer magic")
	case crc32.ChecksumIEEE(f[4:10]) != binary.LittleEndian.Uint32(f[:4]):
		return fail("CRC32 mismatch")
	case (int64(binary.LittleEndian.Uint32(f[4:8]))+1)*4 != size:
		return fail("index of %d bytes, where the index read has %d", (int64(binary.LittleEndian.Uint32(f[4:8]))+1)*4, size)
	case f[8] != 0 || f[9] != x.flags:
		return fail("flags %#x%02x unlike the stream header's", f[8], f[9])
	}
	return nil
}

// nextStream reads the padding after a stream, zero 4-byte words, and the
// header of the stream after it. It returns io.EOF where the file ends
// instead.
func (x *xzReader) nextStream() error {
	var h [xzHeaderLen]byte
	for {
		off := x.src.n
		n, err := io.ReadFull(&x.src, h[:4])
		if n == 0 && err == io.EOF {
			return io.EOF
		}
		if err != nil {
			return err // io.ErrUnexpectedEOF: padding of a size not a multiple of 4
		}
		if binary.LittleEndian.Uint32(h[:4]) == 0 {
			continue
		}
		if err := x.readFull(h[4:]); err != nil {
			return err
		}
		return x.streamHeader(off, h[:])
	}
}

// xzUvarint reads an xz integer: 7 bits a byte, the low ones first, the
// high bit set on all bytes but the last; at most 9 bytes, and the last
// one not zero unless it is the only one.
func xzUvarint(next func() (byte, error)) (uint64, error) {
	var v uint64
	for i := range 9 {
		b, err := next()
		if err != nil {
			return 0, err
		}
		v |= uint64(b&0x7f) << (7 * i)
		if b&0x80 == 0 {
			if b == 0 && i > 0 {
				return 0, errors.New("integer of a trailing zero byte")
			}
			return v, nil
		}
	}
	return 0, errors.New("integer of over 9 bytes")
}

// xzIndexSum sums a stream's index records, as liblzma does, to compare
// its blocks with its index without a list of them, which a file of many
// small blocks would grow with its length.
type xzIndexSum struct {
	count uint64
	crc   uint64 // CRC-64 of the records, each two little-endian uint64
}

func (s *xzIndexSum) add(unpadded, uncompressed uint64) {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], unpadded)
	binary.LittleEndian.PutUint64(b[8:], uncompressed)
	s.count++
	s.crc = crc64.Update(s.crc, xzCRC64, b[:])
}
