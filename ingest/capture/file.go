package capture

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// Format is the container format of a capture stream.
type Format uint8

// Formats recognised by Open. The names follow capinfos.
const (
	FormatPcap     Format = iota + 1 // classic pcap, microsecond timestamps
	FormatPcapNano                   // classic pcap, nanosecond timestamps
	FormatPcapng                     // pcapng
)

// String returns the capinfos name of f: "pcap", "nsecpcap" or "pcapng".
func (f Format) String() string {
	switch f {
	case FormatPcap:
		return "pcap"
	case FormatPcapNano:
		return "nsecpcap"
	case FormatPcapng:
		return "pcapng"
	}
	return "unknown"
}

// Magic numbers at the start of a capture file, as read big-endian.
const (
	magicMicro       = 0xa1b2c3d4
	magicMicroSwap   = 0xd4c3b2a1
	magicNano        = 0xa1b23c4d
	magicNanoSwap    = 0x4d3cb2a1
	magicPcapngBlock = 0x0a0d0d0a // the SHB type reads the same in both orders
)

// File reads one capture stream. It is the Reader that Open returns.
//
// A File is not safe for concurrent use. Packet.Data points into the File's
// read buffer and is valid until the next call to Next.
type File struct {
	in      *input
	format  Format
	comp    Compression
	closer  io.Closer
	pcap    *pcapReader
	ng      *pcapngReader
	window  int    // see Window
	release func() // gives the window back to its WindowGate; nil when not taken
}

var _ Reader = (*File)(nil)

// Open recognises the compression (gzip including several members, zstd
// including several frames, xz, lz4 frame, bzip2, or none) and then the
// capture format (pcap, pcapng) by their magic bytes, never by name, and reads
// the file header. The Reader it returns is a *File.
//
// A stream that is neither gives a *FormatError wrapping ErrNotCapture; a
// damaged header gives one wrapping ErrTruncated, ErrCorrupt or
// ErrUnsupported. Open does not close r.
func Open(r io.Reader) (Reader, error) {
	f, err := OpenFile(r)
	if err != nil {
		return nil, err // not f: a nil *File in a Reader would not be nil
	}
	return f, nil
}

// OpenFile is Open returning the concrete type, for callers that want the
// format, compression and interface statistics.
func OpenFile(r io.Reader) (*File, error) { return openFile(r, false, nil, nil) }

// OpenRegular is OpenFile for a reader of a regular file, or of anything
// else whose reads never block for long: a file compressed with gzip, xz,
// bzip2 or lz4 is then decompressed a chunk ahead on a goroutine of its
// own (see aheadReader), which Close waits for.
func OpenRegular(r io.Reader) (*File, error) { return openFile(r, true, nil, nil) }

// OpenGated is OpenRegular when regular, else OpenFile, a window over
// FreeWindow first waiting at gate, until done closes (ErrGateCancelled).
// Close gives the window back.
func OpenGated(r io.Reader, regular bool, gate *WindowGate, done <-chan struct{}) (*File, error) {
	return openFile(r, regular, gate, done)
}

func openFile(r io.Reader, ahead bool, gate *WindowGate, done <-chan struct{}) (*File, error) {
	src := &sourceReader{r: r}
	br := bufio.NewReaderSize(src, 64<<10)
	magic, err := br.Peek(6)
	if len(magic) == 0 && err != nil && err != io.EOF {
		return nil, &FormatError{Err: fmt.Errorf("open capture: %w", err)}
	}

	comp := sniffCompression(magic)
	window := 0
	if comp == CompressionZstd || comp == CompressionXz {
		head, _ := br.Peek(windowPeek) // fewer bytes in a short stream; an error is the decompressor's to report
		window = declaredWindow(comp, head)
	}
	release, err := gate.take(window, done)
	if err != nil {
		return nil, err
	}
	dec, closer, err := newDecompressor(comp, br)
	if err != nil {
		if release != nil {
			release()
		}
		in := newInput(br, src, comp)
		defer in.release()
		return nil, &FormatError{Err: in.cause("open "+comp.String()+" stream", err)}
	}

	if ahead && comp != CompressionNone && comp != CompressionZstd {
		a := newAheadReader(dec)
		dec, closer = a, closers{a, closer}
	}
	f := &File{in: newInput(dec, src, comp), comp: comp, closer: closer, window: window, release: release}
	if err := f.readHeader(); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// readHeader recognises the capture format and reads the file header.
func (f *File) readHeader() error {
	b, err := f.in.peek(4)
	if err != nil && err != io.EOF {
		return &FormatError{Err: f.in.cause("read file magic", err)}
	}
	if len(b) == 0 {
		return &FormatError{Err: fmt.Errorf("read file magic: empty: %w", ErrNotCapture)}
	}
	if len(b) < 4 {
		return &FormatError{Err: fmt.Errorf("read file magic: %d bytes only: %w", len(b), ErrNotCapture)}
	}

	switch binary.BigEndian.Uint32(b) {
	case magicMicro, magicMicroSwap:
		f.format = FormatPcap
	case magicNano, magicNanoSwap:
		f.format = FormatPcapNano
	case magicPcapngBlock:
		f.format = FormatPcapng
		f.ng, err = newPcapngReader(f.in)
		return err
	default:
		return &FormatError{Err: fmt.Errorf("read file magic %x: %w", b, ErrNotCapture)}
	}
	f.pcap, err = newPcapReader(f.in)
	return err
}

// Next fills p with the next packet. It returns io.EOF after the last packet
// of a stream that ends at a record boundary and a *FormatError otherwise.
// After an error, Next keeps returning it.
func (f *File) Next(p *Packet) error {
	if f.pcap != nil {
		return f.pcap.next(p)
	}
	return f.ng.next(p)
}

// Format returns the capture format.
func (f *File) Format() Format { return f.format }

// Compression returns the compression the stream was wrapped in.
func (f *File) Compression() Compression { return f.comp }

// Offset returns how many bytes of the decompressed stream have been
// consumed, which is the offset of the next record.
func (f *File) Offset() int64 { return f.in.offset() }

// Interfaces returns a copy of the interfaces described so far, in the order
// of Packet.Interface, with the statistics read so far. A pcap file has one
// interface, described by its file header. Call it after Next has returned
// io.EOF to see the final statistics of a pcapng file.
func (f *File) Interfaces() []Interface {
	if f.pcap != nil {
		return []Interface{f.pcap.iface}
	}
	return append([]Interface(nil), f.ng.ifaces...)
}

// Close releases the decompressor and the read buffer; Packet.Data from
// Next is invalid after it. It does not close the underlying reader.
func (f *File) Close() error {
	if f.in.buf != nil {
		f.in.release()
	}
	if f.closer == nil {
		f.giveBack()
		return nil
	}
	err := f.closer.Close()
	f.closer = nil
	f.giveBack()
	if err != nil {
		return fmt.Errorf("close %s stream: %w", f.comp, err)
	}
	return nil
}

// giveBack returns the file's window to its gate, once, after its
// decompressor stopped.
func (f *File) giveBack() {
	if f.release != nil {
		f.release()
		f.release = nil
	}
}

// isEOF reports whether err ends a stream cleanly: the stream ended with no
// byte of a next record read.
func isEOF(b []byte, err error) bool {
	return len(b) == 0 && err == io.EOF
}
