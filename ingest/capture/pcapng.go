package capture

import (
	"fmt"
	"io"
)

// pcapng block layout (draft-ietf-opsawg-pcapng, section 3.1): type(4)
// total length(4) body, padded to 32 bits, total length(4) again. Each
// Section Header Block starts a section with its own byte order and its own
// interfaces.
const (
	blockSHB = 0x0a0d0d0a // Section Header Block
	blockIDB = 1          // Interface Description Block
	blockPB  = 2          // Packet Block, obsolete
	blockSPB = 3          // Simple Packet Block
	blockISB = 5          // Interface Statistics Block
	blockEPB = 6          // Enhanced Packet Block
	blockSJE = 9          // systemd Journal Export Block

	byteOrderMagic   = 0x1a2b3c4d
	pcapngMajor      = 1
	blockHeaderLen   = 8  // type and total length
	blockOverhead    = 12 // header and trailing length
	shbMinLen        = 28 // overhead, byte-order magic, versions, section length
	shbByteOrderAt   = 8
	pcapngPacketHead = 20 // EPB and PB fields before the packet data
)

// maxBlockLen bounds the blocks the reader buffers whole: a packet of
// maxCaptureLen with generous room for options. Longer blocks of known types
// are corrupt; unknown blocks of any length are skipped without buffering.
const maxBlockLen = maxCaptureLen + 64<<10

// ngIface is what the reader keeps about an interface of the current
// section to decode its packets.
type ngIface struct {
	index int // position in pcapngReader.ifaces and Packet.Interface
	link  LinkType
	snap  uint32
	conv  tsConv
}

// pcapngReader reads the blocks of a pcapng stream.
type pcapngReader struct {
	in      *input
	order   byteOrder
	section int         // current section, -1 before the first SHB
	cur     []ngIface   // interfaces of the current section, by ID
	ifaces  []Interface // interfaces of all sections
	frame   uint64
	lastTS  int64 // timestamp of the latest packet, given to Simple Packet Blocks
	err     error // sticky: io.EOF or the *FormatError returned
}

// newPcapngReader reads the Section Header Block at the start of in.
func newPcapngReader(in *input) (*pcapngReader, error) {
	r := &pcapngReader{in: in, section: -1}
	if err := r.readSHB(in.offset()); err != nil {
		return nil, err
	}
	return r, nil
}

// next reads blocks until one carries a packet, which it puts into p.
func (r *pcapngReader) next(p *Packet) error {
	for r.err == nil {
		off := r.in.offset()
		h, err := r.in.peek(blockHeaderLen)
		if err != nil {
			return r.fail(off, 0, h, "read block header", err)
		}
		typ, length := r.order.u32(h), r.order.u32(h[4:])
		if typ == blockSHB {
			r.err = r.readSHB(off)
			continue
		}
		if length < blockOverhead || length%4 != 0 {
			return r.corrupt(off, r.frameOf(typ), "read block header", fmt.Errorf("block length %d", length))
		}
		if r.readBlock(off, typ, length, p) {
			return nil
		}
	}
	return r.err
}

// readBlock reads one block other than an SHB, reporting whether it filled
// p with a packet. Errors are left in r.err.
func (r *pcapngReader) readBlock(off int64, typ, length uint32, p *Packet) bool {
	switch typ {
	case blockEPB, blockPB, blockSPB:
		body, ok := r.block(off, typ, length)
		if ok {
			r.frame++
			r.err = r.readPacket(off, typ, body, p)
		}
		return ok && r.err == nil
	case blockIDB:
		if body, ok := r.block(off, typ, length); ok {
			r.err = r.readIDB(off, body)
		}
	case blockISB:
		if body, ok := r.block(off, typ, length); ok {
			r.err = r.readISB(off, body)
		}
	case blockSJE:
		// Wireshark shows each journal entry as a frame; counting them
		// keeps Packet.Frame equal to tshark's frame.number.
		r.frame++
		r.skip(off, length)
	default:
		r.skip(off, length)
	}
	return false
}

// block reads a whole block into the buffer, checks its trailing length and
// returns its body. On failure it sets r.err and returns false.
func (r *pcapngReader) block(off int64, typ, length uint32) ([]byte, bool) {
	frame := r.frameOf(typ)
	if length > maxBlockLen {
		r.corrupt(off, frame, "read block", fmt.Errorf("block length %d over %d", length, maxBlockLen))
		return nil, false
	}
	b, err := r.in.peek(int(length))
	if err != nil {
		r.fail(off, frame, b, "read block", err)
		return nil, false
	}
	if trailer := r.order.u32(b[length-4:]); trailer != length {
		r.corrupt(off, frame, "read block", fmt.Errorf("trailing length %d, leading %d", trailer, length))
		return nil, false
	}
	r.in.consume(int(length))
	return b[blockHeaderLen : length-4], true
}

// skip passes over a block the reader has no use for.
func (r *pcapngReader) skip(off int64, length uint32) {
	if err := r.in.skip(int64(length)); err != nil {
		r.err = &FormatError{Offset: off, Err: r.in.cause("skip block", err)}
	}
}

// frameOf returns the frame number a block of type typ at the read
// position would have, for error reports.
func (r *pcapngReader) frameOf(typ uint32) uint64 {
	switch typ {
	case blockEPB, blockPB, blockSPB, blockSJE:
		return r.frame + 1
	}
	return 0
}

// fail records the end of the stream: io.EOF at a block boundary, a
// FormatError otherwise. It returns r.err.
func (r *pcapngReader) fail(off int64, frame uint64, got []byte, step string, err error) error {
	if isEOF(got, err) {
		r.err = io.EOF
		return r.err
	}
	r.err = &FormatError{Offset: off, Frame: frame, Err: r.in.cause(step, err)}
	return r.err
}

// corrupt records a block with impossible contents. It returns r.err.
func (r *pcapngReader) corrupt(off int64, frame uint64, step string, err error) error {
	r.err = &FormatError{Offset: off, Frame: frame, Err: fmt.Errorf("%s: %w: %w", step, err, ErrCorrupt)}
	return r.err
}
