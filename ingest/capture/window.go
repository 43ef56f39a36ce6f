package capture

import (
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz/lzma"
)

// windowPeek is how many bytes of a stream declaredWindow looks at: a zstd
// frame header after skippable frames (a hostile run hid a 64 MiB window
// behind one of 5,000 bytes, when this was 4 KiB), or an xz stream header
// and the first block header (at most 1,024 bytes). It is the whole of
// the reader's buffer.
const windowPeek = 64 << 10

// Window returns the bytes the decompressor holds for its window or
// dictionary, as the stream's first zstd frame or xz block declares it, at
// most 64 MiB; 0 for the other compressions, whose windows are 900 KB at
// most (bzip2), and for an uncompressed file. It is read at Open, from the
// file's bytes alone, so that what a caller decides on it comes out the
// same on every read of the file. Later frames or blocks may declare other
// sizes; a writer rarely changes them.
//
// TODO(compress): a file whose first frame or block declares a small
// window and a later one 64 MiB (two files concatenated, or skippable
// frames of over 64 KiB first) is reckoned by the first: a hostile run's two
// such files peaked at 258-270 MiB to Parquet. Noting each frame's window
// at the decompressed offset where it starts, and the decoder taking it up
// when it reaches that offset, would count it from there on and still
// depend on the file alone (the decompressors read ahead on goroutines of
// their own, so what they have seen so far does not).
func (f *File) Window() int { return f.window }

// declaredWindow returns the window of a stream compressed with c, as the
// first frame or block in head declares it, or 0 when head does not tell.
func declaredWindow(c Compression, head []byte) int {
	var n uint64
	switch c {
	case CompressionZstd:
		var h zstd.Header
		for {
			if h.Decode(head) != nil {
				return 0
			}
			if !h.Skippable {
				break
			}
			skip := uint64(h.HeaderSize) + uint64(h.SkippableSize)
			if skip >= uint64(len(head)) {
				return 0
			}
			head = head[skip:]
		}
		n = h.WindowSize
		if h.SingleSegment || h.HasFCS && h.FrameContentSize < n {
			n = h.FrameContentSize
		}
	case CompressionXz:
		n = xzDeclaredDict(head)
	}
	return int(min(n, zstdMaxWindow))
}

// xzDeclaredDict returns the LZMA2 dictionary of the first block after the
// stream header in head, no larger than the block's uncompressed size when
// the header gives it, as the reader allocates it (see blockHeader); 0 when
// head holds no such block header. Nothing is checked: the reader checks
// the header when it reaches it.
func xzDeclaredDict(head []byte) uint64 {
	if len(head) < xzHeaderLen+2 || head[xzHeaderLen] == 0 {
		return 0 // no block: the index follows the stream header
	}
	h := head[xzHeaderLen:]
	if size := (int(h[0]) + 1) * 4; size <= len(h) {
		h = h[:size]
	} else {
		return 0
	}
	flags, rest := h[1], h[2:]
	next := func() (byte, error) {
		if len(rest) == 0 {
			return 0, io.ErrUnexpectedEOF
		}
		b := rest[0]
		rest = rest[1:]
		return b, nil
	}
	used := uint64(1 << 63)
	for _, bit := range []byte{xzBlockCompressedSize, xzBlockUncompressedSize} {
		if flags&bit == 0 {
			continue
		}
		v, err := xzUvarint(next)
		if err != nil {
			return 0
		}
		if bit == xzBlockUncompressedSize {
			used = v
		}
	}
	if flags&xzBlockFilters != 0 {
		return 0
	}
	if id, err := xzUvarint(next); err != nil || id != xzFilterLZMA2 {
		return 0
	}
	if n, err := xzUvarint(next); err != nil || n != 1 {
		return 0
	}
	code, err := next()
	if err != nil {
		return 0
	}
	dict, err := lzma.DecodeDictCap(code)
	if err != nil {
		return 0
	}
	return min(uint64(dict), used)
}
