package craft

import (
	"encoding/binary"
	"net/netip"
)

// be is the byte order of every network header.
var be = binary.BigEndian

// IP protocol numbers (IANA "Assigned Internet Protocol Numbers").
const (
	protoTCP  = 6
	protoUDP  = 17
	protoGRE  = 47
	protoFrag = 44 // IPv6 Fragment header
)

// sum16 adds b to the running one's complement sum s (RFC 1071), as 16-bit
// big-endian words, the last odd octet padded with zero.
func sum16(s uint32, b []byte) uint32 {
	for len(b) >= 2 {
		s += uint32(be.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

// fold turns a running sum into the checksum field value.
func fold(s uint32) uint16 {
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// pseudoSum is the sum of the pseudo-header of a UDP or TCP segment of
// length n: RFC 768 for IPv4, RFC 8200 section 8.1 for IPv6.
func pseudoSum(src, dst netip.Addr, proto uint8, n int) uint32 {
	s := sum16(0, src.AsSlice())
	s = sum16(s, dst.AsSlice())
	return s + uint32(proto) + uint32(n)
}

// ipv4Header is the 20-octet IPv4 header (RFC 791) without options.
type ipv4Header struct {
	src, dst netip.Addr
	proto    uint8
	id       uint16
	ttl      uint8
	flags    uint16 // the top three bits of the flags and offset word: DF 0x4000, MF 0x2000
	offset   int    // fragment offset in octets, a multiple of 8
}

// ipv4 returns h followed by payload, with total length and header
// checksum filled in.
func ipv4(h ipv4Header, payload []byte) []byte {
	b := make([]byte, 20, 20+len(payload))
	b[0] = 0x45
	be.PutUint16(b[2:], uint16(20+len(payload)))
	be.PutUint16(b[4:], h.id)
	be.PutUint16(b[6:], h.flags|uint16(h.offset/8))
	b[8] = h.ttl
	b[9] = h.proto
	copy(b[12:], h.src.AsSlice())
	copy(b[16:], h.dst.AsSlice())
	be.PutUint16(b[10:], fold(sum16(0, b)))
	return append(b, payload...)
}

// ipv6 returns a 40-octet IPv6 header (RFC 8200) with next header nh,
// followed by payload.
func ipv6(src, dst netip.Addr, nh uint8, payload []byte) []byte {
	b := make([]byte, 40, 40+len(payload))
	b[0] = 0x60
	be.PutUint16(b[4:], uint16(len(payload)))
	b[6] = nh
	b[7] = 64
	copy(b[8:], src.AsSlice())
	copy(b[24:], dst.AsSlice())
	return append(b, payload...)
}

// ipPacket wraps a transport segment in an IPv4 header (with DF set and the
// given ID) or an IPv6 header, after the version of src.
func ipPacket(src, dst netip.Addr, proto uint8, id uint16, seg []byte) []byte {
	if src.Is4() {
		h := ipv4Header{src: src, dst: dst, proto: proto, id: id, ttl: 64, flags: 0x4000}
		return ipv4(h, seg)
	}
	return ipv6(src, dst, proto, seg)
}

// fragmentsV4 splits a transport segment into IPv4 fragments whose data is
// at most size octets (a multiple of 8), in offset order.
func fragmentsV4(src, dst netip.Addr, proto uint8, id uint16, seg []byte, size int) [][]byte {
	var out [][]byte
	for off := 0; off < len(seg); off += size {
		end := min(off+size, len(seg))
		h := ipv4Header{src: src, dst: dst, proto: proto, id: id, ttl: 64, offset: off}
		if end < len(seg) {
			h.flags = 0x2000
		}
		out = append(out, ipv4(h, seg[off:end]))
	}
	return out
}

// fragmentsV6 splits a transport segment into IPv6 packets carrying a
// Fragment header (RFC 8200 section 4.5) with data of at most size octets
// (a multiple of 8), in offset order.
func fragmentsV6(src, dst netip.Addr, proto uint8, id uint32, seg []byte, size int) [][]byte {
	var out [][]byte
	for off := 0; off < len(seg); off += size {
		end := min(off+size, len(seg))
		fh := make([]byte, 8, 8+end-off)
		fh[0] = proto
		word := uint16(off)
		if end < len(seg) {
			word |= 1 // M flag; the offset is in 8-octet units, already shifted left by 3
		}
		be.PutUint16(fh[2:], word)
		be.PutUint32(fh[4:], id)
		out = append(out, ipv6(src, dst, protoFrag, append(fh, seg[off:end]...)))
	}
	return out
}
