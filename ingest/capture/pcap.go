package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Classic pcap layout (draft-ietf-opsawg-pcap, section 4 and 5).
//
// File header, 24 bytes: magic(4) version major(2) minor(2) reserved(4)
// reserved(4) snaplen(4) link type and FCS(4).
// Record header, 16 bytes: seconds(4) microseconds or nanoseconds(4)
// captured length(4) original length(4), then the captured bytes.
const (
	pcapFileHeaderLen   = 24
	pcapRecordHeaderLen = 16
)

// maxCaptureLen bounds the captured length of one record. It is the 256 KiB
// Wireshark uses (WTAP_MAX_PACKET_SIZE_STANDARD) and libpcap's
// MAXIMUM_SNAPLEN. The snaplen from the header is not used as the bound
// because writers get it wrong (0, or smaller than the records after
// re-segmenting) and libpcap and Wireshark accept such files. A length above
// the bound means a damaged record header; without it one flipped bit would
// make the reader buffer gigabytes.
const maxCaptureLen = 256 << 10

// Bits of the pcap link type field besides the link type itself.
const (
	pcapLinkTypeMask    = 0x0000ffff
	pcapFCSPresent      = 0x04000000 // the FCS length in the top 4 bits is valid
	pcapFCSLenShift     = 28         // FCS length in 16-bit words
	pcapVersionMajor    = 2
	nanosPerSecond      = 1_000_000_000
	nanosPerMicrosecond = 1_000
)

// pcapReader reads the records of a classic pcap file.
type pcapReader struct {
	in    *input
	order byteOrder
	nano  bool
	iface Interface
	frame uint64
	err   error // sticky: io.EOF or the *FormatError returned
}

// newPcapReader reads the file header at the start of in.
func newPcapReader(in *input) (*pcapReader, error) {
	h, err := in.peek(pcapFileHeaderLen)
	if err != nil {
		return nil, &FormatError{Err: in.cause("read pcap file header", err)}
	}

	r := &pcapReader{in: in, order: bigEndian}
	magic := binary.LittleEndian.Uint32(h)
	if magic == magicMicro || magic == magicNano {
		r.order = littleEndian
	}
	r.nano = magic == magicNano || magic == magicNanoSwap

	if v := r.order.u16(h[4:]); v != pcapVersionMajor {
		return nil, &FormatError{Err: fmt.Errorf("read pcap file header: version %d: %w", v, ErrUnsupported)}
	}
	link := r.order.u32(h[20:])
	r.iface = Interface{LinkType: LinkType(link & pcapLinkTypeMask), Snaplen: r.order.u32(h[16:])}
	if link&pcapFCSPresent != 0 {
		r.iface.FCSLen = uint8(link>>pcapFCSLenShift) * 2
	}
	in.consume(pcapFileHeaderLen)
	return r, nil
}

// next reads one record into p.
func (r *pcapReader) next(p *Packet) error {
	if r.err != nil {
		return r.err
	}
	off := r.in.offset()
	h, err := r.in.peek(pcapRecordHeaderLen)
	if err != nil {
		return r.fail(off, h, "read packet record header", err)
	}
	capLen := r.order.u32(h[8:])
	if r.fileHeader(h) {
		// cat a.pcap b.pcap: read as a record, b's header made an empty
		// packet and the error fell 16 bytes into b (a hostile run).
		return r.corrupt(off, errors.New("another pcap file header: captures concatenated are not read past it"))
	}
	if capLen > maxCaptureLen {
		return r.corrupt(off, fmt.Errorf("captured length %d over %d", capLen, maxCaptureLen))
	}
	n := pcapRecordHeaderLen + int(capLen)
	rec, err := r.in.peek(n)
	if err != nil {
		return r.fail(off, rec, "read packet data", err)
	}
	r.in.consume(n)
	r.frame++

	frac := int64(r.order.u32(rec[4:]))
	if !r.nano {
		frac *= nanosPerMicrosecond
	}
	p.set(rec[pcapRecordHeaderLen:n:n], r.order.u32(rec[12:]), int64(r.order.u32(rec))*nanosPerSecond+frac, false,
		r.iface.LinkType, 0, r.frame, off)
	return nil
}

// fileHeader reports whether a record header h is the start of a pcap
// file header instead: a magic in the file's byte order, version 2.4, and
// the zero time zone and accuracy in the place of the lengths. A record
// of 2055 holding nothing could pass for one.
func (r *pcapReader) fileHeader(h []byte) bool {
	m := r.order.u32(h)
	return (m == magicMicro || m == magicNano) && r.order.u16(h[4:]) == pcapVersionMajor &&
		r.order.u16(h[6:]) == 4 && r.order.u32(h[8:]) == 0 && r.order.u32(h[12:]) == 0
}

// fail records the end of the stream: io.EOF at a record boundary, a
// FormatError otherwise.
func (r *pcapReader) fail(off int64, got []byte, step string, err error) error {
	if isEOF(got, err) {
		r.err = io.EOF
		return r.err
	}
	r.err = &FormatError{Offset: off, Frame: r.frame + 1, Err: r.in.cause(step, err)}
	return r.err
}

// corrupt records a damaged record header.
func (r *pcapReader) corrupt(off int64, err error) error {
	r.err = &FormatError{Offset: off, Frame: r.frame + 1, Err: fmt.Errorf("read packet record header: %w: %w", err, ErrCorrupt)}
	return r.err
}
