package gen

import (
	"bufio"
	"encoding/binary"
)

// Link types (https://www.tcpdump.org/linktypes.html) and the snaplen
// written in the file headers: rotate's default, which never cuts DNS.
const (
	linkEthernet  = 1
	linkLinuxSLL2 = 276
	snaplen       = 65535
)

// capWriter writes packet records to a capture file. Write errors are
// sticky in the bufio.Writer and reported by finish.
type capWriter interface {
	packet(t int64, iface uint32, data []byte)
	finish(st *Stats) error
}

var le = binary.LittleEndian

var zeros [4]byte // padding to 4 bytes

// pcapWriter writes classic pcap
// (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html).
type pcapWriter struct {
	w    *bufio.Writer
	nano bool
	hdr  [16]byte
}

func newPcapWriter(w *bufio.Writer, nano bool) *pcapWriter {
	magic := uint32(0xa1b2c3d4)
	if nano {
		magic = 0xa1b23c4d
	}
	var h [24]byte
	le.PutUint32(h[0:], magic)
	le.PutUint16(h[4:], 2)
	le.PutUint16(h[6:], 4)
	le.PutUint32(h[16:], snaplen)
	le.PutUint32(h[20:], linkEthernet)
	w.Write(h[:])
	return &pcapWriter{w: w, nano: nano}
}

func (pw *pcapWriter) packet(t int64, _ uint32, data []byte) {
	frac := t % 1e9
	if !pw.nano {
		frac /= 1e3
	}
	le.PutUint32(pw.hdr[0:], uint32(t/1e9))
	le.PutUint32(pw.hdr[4:], uint32(frac))
	le.PutUint32(pw.hdr[8:], uint32(len(data)))
	le.PutUint32(pw.hdr[12:], uint32(len(data)))
	pw.w.Write(pw.hdr[:])
	pw.w.Write(data)
}

func (pw *pcapWriter) finish(*Stats) error {
	return pw.w.Flush()
}

// pcapngWriter writes pcapng
// (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-03.html): a
// section header, two interfaces, enhanced packet blocks, and an interface
// statistics block per interface at the end.
type pcapngWriter struct {
	w      *bufio.Writer
	blk    []byte
	word   [4]byte // scratch, a field so that writing it does not allocate
	counts [2]uint64
}

// pcapng block types and option codes.
const (
	blockSHB = 0x0a0d0d0a
	blockIDB = 1
	blockISB = 5
	blockEPB = 6

	optEnd      = 0
	optShbApp   = 4
	optIfName   = 2
	optIfTSRes  = 9
	optIsbStart = 2
	optIsbEnd   = 3
	optIsbRecv  = 4
	optIsbDrop  = 5
)

func newPcapngWriter(w *bufio.Writer) *pcapngWriter {
	pw := &pcapngWriter{w: w}
	b := le.AppendUint32(nil, 0x1a2b3c4d) // byte-order magic
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint64(b, ^uint64(0)) // section length unknown
	b = appendOption(b, optShbApp, []byte("pcapload gen"))
	pw.block(blockSHB, append(b, 0, 0, 0, 0))
	pw.iface(linkEthernet, "span0")
	pw.iface(linkLinuxSLL2, "any")
	return pw
}

func (pw *pcapngWriter) iface(link uint16, name string) {
	b := le.AppendUint16(nil, link)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint32(b, snaplen)
	b = appendOption(b, optIfName, []byte(name))
	b = appendOption(b, optIfTSRes, []byte{9}) // nanoseconds
	pw.block(blockIDB, append(b, 0, 0, 0, 0))
}

func (pw *pcapngWriter) packet(t int64, iface uint32, data []byte) {
	pw.counts[iface]++
	b := le.AppendUint32(pw.blk[:0], iface)
	b = le.AppendUint32(b, uint32(uint64(t)>>32))
	b = le.AppendUint32(b, uint32(t))
	b = le.AppendUint32(b, uint32(len(data)))
	b = le.AppendUint32(b, uint32(len(data)))
	pw.blk = b
	pad := -len(data) & 3
	pw.blockHeader(blockEPB, len(b)+len(data)+pad)
	pw.w.Write(b)
	pw.w.Write(data)
	pw.w.Write(zeros[:pad])
	pw.blockTrailer(len(b) + len(data) + pad)
}

func (pw *pcapngWriter) finish(st *Stats) error {
	for i, n := range pw.counts {
		b := le.AppendUint32(nil, uint32(i))
		b = le.AppendUint32(b, uint32(uint64(st.Last)>>32))
		b = le.AppendUint32(b, uint32(st.Last))
		b = appendOption(b, optIsbStart, ts64(st.First))
		b = appendOption(b, optIsbEnd, ts64(st.Last))
		b = appendOption(b, optIsbRecv, le.AppendUint64(nil, n))
		b = appendOption(b, optIsbDrop, le.AppendUint64(nil, 0))
		pw.block(blockISB, append(b, 0, 0, 0, 0))
	}
	return pw.w.Flush()
}

// block writes a block whose body is already padded to 4 bytes.
func (pw *pcapngWriter) block(typ uint32, body []byte) {
	pw.blockHeader(typ, len(body))
	pw.w.Write(body)
	pw.blockTrailer(len(body))
}

func (pw *pcapngWriter) blockHeader(typ uint32, n int) {
	le.PutUint32(pw.word[:], typ)
	pw.w.Write(pw.word[:])
	pw.blockTrailer(n)
}

// blockTrailer writes the total length of a block with an n-byte body, which
// opens and closes every block.
func (pw *pcapngWriter) blockTrailer(n int) {
	le.PutUint32(pw.word[:], uint32(n+12))
	pw.w.Write(pw.word[:])
}

// appendOption appends one option, padded to 4 bytes; the caller ends the
// list with opt_endofopt.
func appendOption(b []byte, code uint16, v []byte) []byte {
	b = le.AppendUint16(b, code)
	b = le.AppendUint16(b, uint16(len(v)))
	b = append(b, v...)
	return append(b, make([]byte, -len(v)&3)...)
}

// ts64 is a timestamp option value: high 32 bits first, in the section's
// byte order.
func ts64(t int64) []byte {
	b := le.AppendUint32(nil, uint32(uint64(t)>>32))
	return le.AppendUint32(b, uint32(t))
}
