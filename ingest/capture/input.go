package capture

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Buffer sizes. The read buffer starts large enough for the biggest pcap
// record so that steady-state reading never grows it; pcapng blocks with
// large options may grow it up to maxBlockLen once.
const (
	initialBufSize = 512 << 10
	maxEmptyReads  = 100 // as bufio: a reader that keeps returning 0, nil is broken
)

// input is a read buffer over the decompressed stream that hands out
// slices of itself, so that records are never copied.
//
// A slice returned by peek is valid until the next peek or skip, which may
// move the buffered bytes. Offsets are positions in the decompressed stream.
type input struct {
	r    io.Reader
	buf  []byte
	pos  int   // first unconsumed byte in buf
	end  int   // end of valid bytes in buf
	base int64 // stream offset of buf[0]
	err  error // sticky error from r, reported once the buffer is drained

	src  *sourceReader // the caller's reader, to tell I/O from decompression errors
	comp Compression
}

func newInput(r io.Reader, src *sourceReader, comp Compression) *input {
	var buf []byte
	if p, ok := readBufs.Get().(*[]byte); ok {
		buf = *p
	} else {
		buf = make([]byte, initialBufSize)
	}
	return &input{r: r, buf: buf, src: src, comp: comp}
}

// readBufs recycles read buffers of initialBufSize from file to file. A
// folder of small captures opened each twice (a look at the first bytes,
// then the load) spent 7% of a Parquet export clearing new buffers.
var readBufs sync.Pool

// errClosed is what an input reads after release.
var errClosed = errors.New("read after close")

// release gives the buffer back for another file to use. The slices peek
// handed out are then invalid, as they are after the next peek anyway.
func (in *input) release() {
	if len(in.buf) == initialBufSize {
		buf := in.buf
		readBufs.Put(&buf)
	}
	in.buf, in.pos, in.end, in.err = nil, 0, 0, errClosed
}

// offset returns the stream offset of the next unconsumed byte.
func (in *input) offset() int64 { return in.base + int64(in.pos) }

// peek returns the next n bytes without consuming them. When the stream
// ends or fails first it returns what is left together with the error.
func (in *input) peek(n int) ([]byte, error) {
	if in.end-in.pos >= n {
		return in.buf[in.pos : in.pos+n], nil
	}
	return in.fill(n)
}

// fill is peek's slow path: it makes room for n bytes and reads until they
// are there or the reader fails.
func (in *input) fill(n int) ([]byte, error) {
	in.makeRoom(n)
	for empty := 0; in.end-in.pos < n && in.err == nil; {
		m, err := in.r.Read(in.buf[in.end:])
		in.end += m
		in.err = err
		if m > 0 {
			empty = 0
		} else if empty++; empty >= maxEmptyReads && err == nil {
			in.err = io.ErrNoProgress
		}
	}
	if in.end-in.pos >= n {
		return in.buf[in.pos : in.pos+n], nil
	}
	return in.buf[in.pos:in.end], in.err
}

// makeRoom moves the unconsumed bytes to the start of the buffer, growing it
// when n bytes would not fit.
func (in *input) makeRoom(n int) {
	buf := in.buf
	if n > len(buf) {
		buf = make([]byte, max(n, 2*len(buf)))
	}
	copy(buf, in.buf[in.pos:in.end])
	in.base += int64(in.pos)
	in.end -= in.pos
	in.pos = 0
	in.buf = buf
}

// consume marks n peeked bytes as read.
func (in *input) consume(n int) { in.pos += n }

// skip consumes n bytes that need not be buffered, such as an unknown
// pcapng block. It returns the read error when fewer than n bytes are left.
func (in *input) skip(n int64) error {
	for n > 0 {
		if in.pos == in.end {
			if _, err := in.fill(1); err != nil {
				return err
			}
		}
		m := min(n, int64(in.end-in.pos))
		in.pos += int(m)
		n -= m
	}
	return nil
}

// cause turns a read error met at a record into the cause of a FormatError.
// Running out of data, from the stream or inside a compressed frame, is
// ErrTruncated; an error of the caller's reader is passed on as it is; any
// other error came from the decompressor and means corrupt input.
func (in *input) cause(step string, err error) error {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) && in.comp != CompressionNone:
		// fill passes a clean end on as io.EOF: only the decompressor
		// says a frame was cut, and the message names the stream, which
		// a cut .zst holding no whole block fails at the file magic.
		return fmt.Errorf("%s: %s stream cut short: %w", step, in.comp, ErrTruncated)
	case err == io.EOF, errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: %w", step, ErrTruncated)
	case in.src.err != nil && errors.Is(err, in.src.err):
		return fmt.Errorf("%s: %w", step, err)
	case errors.Is(err, zstd.ErrWindowSizeExceeded), errors.Is(err, zstd.ErrDecoderSizeExceeded):
		// Said as xz's dictionary is: the library's words name no size.
		// A frame in a single segment has its size for a window, and
		// over the bound the library says "decompressed size exceeds
		// configured limit" (a hostile run's zstd --long=27 file of 116
		// MB), which read as a broken file.
		return fmt.Errorf("%s: decompress %s: %w: window over the %d MiB allowed", step, in.comp, ErrCorrupt, zstdMaxWindow>>20)
	case in.comp != CompressionNone:
		return fmt.Errorf("%s: decompress %s: %w: %w", step, in.comp, ErrCorrupt, err)
	default:
		return fmt.Errorf("%s: %w", step, err)
	}
}

// sourceReader remembers the last error of the caller's reader, so that an
// I/O error passed through a decompressor is not mistaken for corruption.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}
