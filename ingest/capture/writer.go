package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

// ErrTimestamp is returned by the writers for a packet time the format
// cannot hold: before the epoch, or for pcap after 2106-02-07.
var ErrTimestamp = errors.New("timestamp out of range")

// le is the byte order the writers use; readers accept either.
var le = binary.LittleEndian

// zeros pads pcapng blocks to 32 bits.
var zeros [4]byte

// PcapWriter writes a classic little-endian pcap file. Each call writes
// straight to the underlying writer, so give it a buffered one.
type PcapWriter struct {
	w    io.Writer
	nano bool
	hdr  [pcapRecordHeaderLen]byte
}

// NewPcapWriter writes a pcap file header for one link type and snaplen,
// with nanosecond timestamps when nanosecond is set and microseconds (the
// more widely read format) otherwise.
func NewPcapWriter(w io.Writer, link LinkType, snaplen uint32, nanosecond bool) (*PcapWriter, error) {
	var h [pcapFileHeaderLen]byte
	magic := uint32(magicMicro)
	if nanosecond {
		magic = magicNano
	}
	le.PutUint32(h[0:], magic)
	le.PutUint16(h[4:], pcapVersionMajor)
	le.PutUint16(h[6:], 4)
	le.PutUint32(h[16:], snaplen)
	le.PutUint32(h[20:], uint32(link))
	if _, err := w.Write(h[:]); err != nil {
		return nil, fmt.Errorf("write pcap file header: %w", err)
	}
	return &PcapWriter{w: w, nano: nanosecond}, nil
}

// WritePacket writes one record: ts in nanoseconds since the epoch
// (truncated to microseconds unless the file is nanosecond), the captured
// bytes, and the length of the packet on the wire.
func (pw *PcapWriter) WritePacket(ts int64, data []byte, origLen uint32) error {
	if ts < 0 || ts/nanosPerSecond > math.MaxUint32 {
		return fmt.Errorf("write packet record: %d: %w", ts, ErrTimestamp)
	}
	if len(data) > maxCaptureLen {
		return fmt.Errorf("write packet record: %d bytes over %d", len(data), maxCaptureLen)
	}
	frac := ts % nanosPerSecond
	if !pw.nano {
		frac /= nanosPerMicrosecond
	}
	le.PutUint32(pw.hdr[0:], uint32(ts/nanosPerSecond))
	le.PutUint32(pw.hdr[4:], uint32(frac))
	le.PutUint32(pw.hdr[8:], uint32(len(data)))
	le.PutUint32(pw.hdr[12:], origLen)
	if _, err := pw.w.Write(pw.hdr[:]); err != nil {
		return fmt.Errorf("write packet record: %w", err)
	}
	if _, err := pw.w.Write(data); err != nil {
		return fmt.Errorf("write packet record: %w", err)
	}
	return nil
}

// PcapngWriter writes a little-endian pcapng file of one section with
// nanosecond timestamps: one interface, and one more for each other link
// type added. Each call writes straight to the underlying writer, so give
// it a buffered one.
type PcapngWriter struct {
	w       io.Writer
	hdr     [blockHeaderLen + pcapngPacketHead]byte
	trailer [4]byte    // a field, not a local, so that writing it does not allocate
	links   []LinkType // of the interfaces, by ID
	cur     uint32     // the interface packets are written on
}

// NewPcapngWriter writes a Section Header Block and an Interface
// Description Block for the interface that captures every packet; ifName
// becomes its if_name option unless empty.
func NewPcapngWriter(w io.Writer, link LinkType, snaplen uint32, ifName string) (*PcapngWriter, error) {
	shb := le.AppendUint32(nil, blockSHB)
	shb = le.AppendUint32(shb, shbMinLen)
	shb = le.AppendUint32(shb, byteOrderMagic)
	shb = le.AppendUint16(shb, pcapngMajor)
	shb = le.AppendUint16(shb, 0)
	shb = le.AppendUint64(shb, math.MaxUint64) // section length unknown
	shb = le.AppendUint32(shb, shbMinLen)

	b := appendIDB(shb, link, snaplen, ifName)
	if _, err := w.Write(b); err != nil {
		return nil, fmt.Errorf("write pcapng header: %w", err)
	}
	return &PcapngWriter{w: w, links: []LinkType{link}}, nil
}

// appendIDB appends an Interface Description Block.
func appendIDB(b []byte, link LinkType, snaplen uint32, ifName string) []byte {
	var opts []byte
	if ifName != "" {
		opts = appendOption(opts, optIfName, []byte(ifName))
	}
	opts = appendOption(opts, optIfTSResol, []byte{9})
	opts = appendOption(opts, optEndOfOpt, nil)
	body := le.AppendUint16(nil, uint16(link))
	body = le.AppendUint16(body, 0)
	body = le.AppendUint32(body, snaplen)
	return appendBlock(b, blockIDB, append(body, opts...))
}

// UseLink writes the next packets on the interface of link: the first one
// of that link type, described first if there is none yet.
func (nw *PcapngWriter) UseLink(link LinkType, snaplen uint32, ifName string) error {
	if nw.links[nw.cur] == link {
		return nil
	}
	if i := slices.Index(nw.links, link); i >= 0 {
		nw.cur = uint32(i)
		return nil
	}
	if _, err := nw.w.Write(appendIDB(nil, link, snaplen, ifName)); err != nil {
		return fmt.Errorf("write interface description: %w", err)
	}
	nw.links = append(nw.links, link)
	nw.cur = uint32(len(nw.links) - 1)
	return nil
}

// Links returns the link types of the interfaces written, by ID.
func (nw *PcapngWriter) Links() []LinkType { return nw.links }

// WritePacket writes an Enhanced Packet Block: ts in nanoseconds since the
// epoch, the captured bytes, and the length of the packet on the wire.
func (nw *PcapngWriter) WritePacket(ts int64, data []byte, origLen uint32) error {
	if ts < 0 {
		return fmt.Errorf("write packet block: %d: %w", ts, ErrTimestamp)
	}
	if len(data) > maxCaptureLen {
		return fmt.Errorf("write packet block: %d bytes over %d", len(data), maxCaptureLen)
	}
	padded := pad4(len(data))
	length := uint32(blockOverhead + pcapngPacketHead + padded)
	h := nw.hdr[:]
	le.PutUint32(h[0:], blockEPB)
	le.PutUint32(h[4:], length)
	le.PutUint32(h[8:], nw.cur) // interface ID
	le.PutUint32(h[12:], uint32(uint64(ts)>>32))
	le.PutUint32(h[16:], uint32(ts))
	le.PutUint32(h[20:], uint32(len(data)))
	le.PutUint32(h[24:], origLen)

	le.PutUint32(nw.trailer[:], length)
	for _, part := range [...][]byte{h, data, zeros[:padded-len(data)], nw.trailer[:]} {
		if _, err := nw.w.Write(part); err != nil {
			return fmt.Errorf("write packet block: %w", err)
		}
	}
	return nil
}

// WriteStats writes an Interface Statistics Block with the counters
// isb_ifrecv and isb_ifdrop, cumulative since the capture started, as of
// ts (nanoseconds since the epoch).
func (nw *PcapngWriter) WriteStats(ts int64, received, dropped uint64) error {
	if ts < 0 {
		return fmt.Errorf("write interface statistics: %d: %w", ts, ErrTimestamp)
	}
	body := le.AppendUint32(nil, 0)
	body = le.AppendUint32(body, uint32(uint64(ts)>>32))
	body = le.AppendUint32(body, uint32(ts))
	body = appendOption(body, optISBIfRecv, le.AppendUint64(nil, received))
	body = appendOption(body, optISBIfDrop, le.AppendUint64(nil, dropped))
	body = appendOption(body, optEndOfOpt, nil)
	if _, err := nw.w.Write(appendBlock(nil, blockISB, body)); err != nil {
		return fmt.Errorf("write interface statistics: %w", err)
	}
	return nil
}

// appendBlock appends a little-endian pcapng block with body, padded.
func appendBlock(b []byte, typ uint32, body []byte) []byte {
	length := uint32(blockOverhead + pad4(len(body)))
	b = le.AppendUint32(b, typ)
	b = le.AppendUint32(b, length)
	b = append(b, body...)
	b = append(b, zeros[:pad4(len(body))-len(body)]...)
	return le.AppendUint32(b, length)
}

// appendOption appends a little-endian pcapng option, padded.
func appendOption(b []byte, code uint16, v []byte) []byte {
	b = le.AppendUint16(b, code)
	b = le.AppendUint16(b, uint16(len(v)))
	b = append(b, v...)
	return append(b, zeros[:pad4(len(v))-len(v)]...)
}
