package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Option codes read from IDBs and ISBs (draft-ietf-opsawg-pcapng,
// sections 4.2 and 4.6).
const (
	optEndOfOpt = 0
	optIfName   = 2

	// Bounds on what a file's interface descriptions may make the reader
	// keep; real captures have a handful of interfaces with short names.
	maxIfaces     = 1 << 16
	maxIfName     = 256
	optIfTSResol  = 9
	optIfFCSLen   = 13
	optIfTSOffset = 14
	optISBIfRecv  = 4
	optISBIfDrop  = 5
	optISBOSDrop  = 7

	idbFixedLen = 8  // link type(2) reserved(2) snaplen(4)
	isbFixedLen = 12 // interface ID(4) timestamp(8)
	spbFixedLen = 4  // original length(4)
)

// readSHB reads a Section Header Block, which sets the byte order of the
// blocks after it and starts with no interfaces. Its errors are returned,
// not recorded.
func (r *pcapngReader) readSHB(off int64) error {
	h, err := r.in.peek(shbByteOrderAt + 4)
	if err != nil {
		return &FormatError{Offset: off, Err: r.in.cause("read section header", err)}
	}
	switch bom := h[shbByteOrderAt:]; {
	case binary.LittleEndian.Uint32(bom) == byteOrderMagic:
		r.order = littleEndian
	case binary.BigEndian.Uint32(bom) == byteOrderMagic:
		r.order = bigEndian
	default:
		// The block type already says pcapng (its bytes were chosen to
		// survive nothing but a binary transfer), so a bad byte-order
		// magic is a damaged capture, never "not a capture".
		return &FormatError{Offset: off, Err: fmt.Errorf("read section header: byte-order magic: %w", ErrCorrupt)}
	}

	length := r.order.u32(h[4:])
	if length < shbMinLen || length%4 != 0 {
		return &FormatError{Offset: off, Err: fmt.Errorf("read section header: block length %d: %w", length, ErrCorrupt)}
	}
	body, ok := r.block(off, blockSHB, length)
	if !ok {
		err, r.err = r.err, nil
		return err
	}
	if v := r.order.u16(body[4:]); v != pcapngMajor {
		return &FormatError{Offset: off, Err: fmt.Errorf("read section header: version %d: %w", v, ErrUnsupported)}
	}
	r.section++
	r.cur = r.cur[:0]
	return nil
}

// readPacket decodes the body of an EPB, PB or SPB into p.
//
// EPB: interface ID(4) timestamp high(4) low(4) captured length(4) original
// length(4) data options. PB: the same with a 2-byte interface ID and a
// 2-byte drop count. SPB: original length(4) data, no timestamp and no
// interface ID: it belongs to interface 0 of the section.
func (r *pcapngReader) readPacket(off int64, typ uint32, body []byte, p *Packet) error {
	if typ == blockSPB {
		return r.readSPB(off, body, p)
	}
	if len(body) < pcapngPacketHead {
		return r.corrupt(off, r.frame, "read packet block", fmt.Errorf("body of %d bytes", len(body)))
	}
	id := r.order.u32(body)
	if typ == blockPB {
		id = uint32(r.order.u16(body))
	}
	capLen := r.order.u32(body[12:])
	if id >= uint32(len(r.cur)) {
		return r.corrupt(off, r.frame, "read packet block", fmt.Errorf("interface %d not described", id))
	}
	if capLen > maxCaptureLen || int(capLen) > len(body)-pcapngPacketHead {
		return r.corrupt(off, r.frame, "read packet block", fmt.Errorf("captured length %d", capLen))
	}

	ifc := &r.cur[id]
	r.lastTS = ifc.conv.ns(uint64(r.order.u32(body[4:]))<<32 | uint64(r.order.u32(body[8:])))
	end := pcapngPacketHead + int(capLen)
	p.set(body[pcapngPacketHead:end:end], r.order.u32(body[16:]), r.lastTS, false,
		ifc.link, uint32(ifc.index), r.frame, off)
	return nil
}

// readSPB decodes a Simple Packet Block. It has no timestamp; p gets that of
// the packet before it (0 if none) and NoTimestamp, never the wall clock.
// Its captured length is implied: the original length, cut to the snaplen
// and to the block.
func (r *pcapngReader) readSPB(off int64, body []byte, p *Packet) error {
	if len(r.cur) == 0 {
		return r.corrupt(off, r.frame, "read simple packet block", errNoInterface)
	}
	if len(body) < spbFixedLen {
		return r.corrupt(off, r.frame, "read simple packet block", fmt.Errorf("body of %d bytes", len(body)))
	}
	ifc := &r.cur[0]
	orig := r.order.u32(body)
	capLen := min(uint64(orig), uint64(len(body)-spbFixedLen))
	if ifc.snap > 0 {
		capLen = min(capLen, uint64(ifc.snap))
	}
	end := spbFixedLen + int(capLen)
	p.set(body[spbFixedLen:end:end], orig, r.lastTS, true, ifc.link, uint32(ifc.index), r.frame, off)
	return nil
}

// readIDB adds an interface to the section: link type(2) reserved(2)
// snaplen(4) options.
func (r *pcapngReader) readIDB(off int64, body []byte) error {
	if len(body) < idbFixedLen {
		return r.corrupt(off, 0, "read interface description", fmt.Errorf("body of %d bytes", len(body)))
	}
	ifc := Interface{
		Section:  r.section,
		ID:       uint32(len(r.cur)),
		LinkType: LinkType(r.order.u16(body)),
		Snaplen:  r.order.u32(body[4:]),
	}
	resol, offset := uint8(defaultTSResol), int64(0)
	err := r.options(body[idbFixedLen:], func(code uint16, v []byte) error {
		switch {
		case code == optIfName:
			name := trimNUL(v)
			if len(name) > maxIfName {
				name = name[:maxIfName]
			}
			ifc.Name = string(name)
		case code == optIfTSResol && len(v) == 1:
			resol = v[0]
		case code == optIfFCSLen && len(v) == 1:
			ifc.FCSLen = v[0]
		case code == optIfTSOffset && len(v) == 8:
			offset = int64(r.order.u64(v))
		case code == optIfTSResol, code == optIfFCSLen, code == optIfTSOffset:
			return fmt.Errorf("option %d of %d bytes", code, len(v))
		}
		return nil
	})
	if err != nil {
		return r.corrupt(off, 0, "read interface description", err)
	}
	conv, err := newTSConv(resol, offset)
	if err != nil {
		return r.corrupt(off, 0, "read interface description", err)
	}

	if len(r.ifaces) >= maxIfaces {
		return r.corrupt(off, 0, "read interface description", fmt.Errorf("more than %d interfaces", maxIfaces))
	}
	r.cur = append(r.cur, ngIface{index: len(r.ifaces), link: ifc.LinkType, snap: ifc.Snaplen, conv: conv})
	r.ifaces = append(r.ifaces, ifc)
	return nil
}

// readISB records the counters of an Interface Statistics Block: interface
// ID(4) timestamp high(4) low(4) options.
func (r *pcapngReader) readISB(off int64, body []byte) error {
	if len(body) < isbFixedLen {
		return r.corrupt(off, 0, "read interface statistics", fmt.Errorf("body of %d bytes", len(body)))
	}
	id := r.order.u32(body)
	if id >= uint32(len(r.cur)) {
		return r.corrupt(off, 0, "read interface statistics", fmt.Errorf("interface %d not described", id))
	}

	ifc := &r.cur[id]
	st := r.ifaces[ifc.index].Stats
	st.Blocks++
	st.Timestamp = ifc.conv.ns(uint64(r.order.u32(body[4:]))<<32 | uint64(r.order.u32(body[8:])))
	err := r.options(body[isbFixedLen:], func(code uint16, v []byte) error {
		if code != optISBIfRecv && code != optISBIfDrop && code != optISBOSDrop {
			return nil
		}
		if len(v) != 8 {
			return fmt.Errorf("option %d of %d bytes", code, len(v))
		}
		n := r.order.u64(v)
		switch code {
		case optISBIfRecv:
			st.Received, st.HasReceived = n, true
		case optISBIfDrop:
			st.Dropped, st.HasDropped = n, true
		default:
			st.OSDropped, st.HasOSDrop = n, true
		}
		return nil
	})
	if err != nil {
		return r.corrupt(off, 0, "read interface statistics", err)
	}
	r.ifaces[ifc.index].Stats = st
	return nil
}

// options calls fn for each option in b: code(2) length(2) value, padded to
// 32 bits, until opt_endofopt or the end of b. An option running past the
// block is an error; so is whatever fn returns.
func (r *pcapngReader) options(b []byte, fn func(code uint16, v []byte) error) error {
	for len(b) >= 4 {
		code, n := r.order.u16(b), int(r.order.u16(b[2:]))
		if code == optEndOfOpt {
			return nil
		}
		if 4+n > len(b) {
			return fmt.Errorf("option %d of %d bytes overruns the block", code, n)
		}
		if err := fn(code, b[4:4+n]); err != nil {
			return err
		}
		b = b[min(len(b), 4+pad4(n)):]
	}
	return nil
}

// pad4 rounds n up to a multiple of 4.
func pad4(n int) int { return (n + 3) &^ 3 }

// trimNUL drops the NUL terminators some writers put in string options.
func trimNUL(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}

// errNoInterface is the cause of a Simple Packet Block in a section without
// interfaces.
var errNoInterface = errors.New("no interface described")
