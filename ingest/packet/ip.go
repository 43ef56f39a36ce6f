package packet

import (
	"encoding/binary"
	"net/netip"
)

// PortSet is a set of transport ports, as a bitmap so that the per-packet
// test is one load and a mask.
type PortSet [1024]uint64

// Add puts p in the set.
func (s *PortSet) Add(p uint16) { s[p>>6] |= 1 << (p & 63) }

// Has reports whether p is in the set.
func (s *PortSet) Has(p uint16) bool { return s[p>>6]&(1<<(p&63)) != 0 }

// ipv4 decodes an IPv4 header (RFC 791) with options. The total length is
// trusted when it fits in the packet, which drops Ethernet padding; a
// total length beyond the captured bytes is believed up to what was
// captured, as tshark does, and the UDP length decides the rest.
func (d *Decoder) ipv4(data []byte, f *Frame) Reason {
	if len(data) < 20 {
		return Truncated
	}
	if data[0]>>4 != 4 {
		return BadHeader
	}
	hl := int(data[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(data[2:]))
	if hl < 20 || total < hl {
		return BadHeader
	}
	if len(data) < hl {
		return Truncated
	}
	if total < len(data) {
		data = data[:total]
	}
	f.IPVersion = 4
	f.Src = netip.AddrFrom4([4]byte(data[12:16]))
	f.Dst = netip.AddrFrom4([4]byte(data[16:20]))
	f.Protocol = data[9]

	// More-fragments set or a non-zero offset: a piece of a datagram.
	if ff := binary.BigEndian.Uint16(data[6:]); ff&0x3fff != 0 {
		k := fragKey{src: f.Src, dst: f.Dst, id: uint32(binary.BigEndian.Uint16(data[4:])), proto: data[9]}
		whole, ok := d.frag.add(k, d.ts, int(ff&0x1fff)*8, ff&0x2000 != 0, data[hl:])
		if !ok {
			return Fragment
		}
		return d.transport(data[9], whole, f)
	}
	return d.transport(data[9], data[hl:], f)
}

// ipv6 decodes an IPv6 header (RFC 8200) and walks its extension headers.
func (d *Decoder) ipv6(data []byte, f *Frame) Reason {
	if len(data) < 40 {
		return Truncated
	}
	if data[0]>>4 != 6 {
		return BadHeader
	}
	f.IPVersion = 6
	f.Src = netip.AddrFrom16([16]byte(data[8:24]))
	f.Dst = netip.AddrFrom16([16]byte(data[24:40]))

	// A payload length of 0 announces a jumbogram (RFC 2675); then the
	// captured bytes are all there is to go by.
	if n := int(binary.BigEndian.Uint16(data[4:])); n != 0 && 40+n < len(data) {
		data = data[:40+n]
	}
	next, b := data[6], data[40:]
	for {
		f.Protocol = next
		switch next {
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if len(b) < 8 {
				return Truncated
			}
			n := 8 + int(b[1])*8
			if n > len(b) {
				return Truncated
			}
			next, b = b[0], b[n:]
		case 51: // authentication header: length in 4-octet units, minus 2
			if len(b) < 8 {
				return Truncated
			}
			n := (int(b[1]) + 2) * 4
			if n > len(b) {
				return Truncated
			}
			next, b = b[0], b[n:]
		case 44: // fragment header
			if len(b) < 8 {
				return Truncated
			}
			// An atomic fragment (offset 0, no more fragments; RFC 6946)
			// is a whole datagram.
			ff := binary.BigEndian.Uint16(b[2:])
			if ff&0xfff9 == 0 {
				next, b = b[0], b[8:]
				continue
			}
			k := fragKey{src: f.Src, dst: f.Dst, id: binary.BigEndian.Uint32(b[4:]), proto: b[0]}
			whole, ok := d.frag.add(k, d.ts, int(ff&0xfff8), ff&1 != 0, b[8:])
			if !ok {
				return Fragment
			}
			return d.transport(b[0], whole, f)
		default:
			return d.transport(next, b, f)
		}
	}
}

// transport dispatches on the IP protocol number.
func (d *Decoder) transport(proto uint8, b []byte, f *Frame) Reason {
	f.Protocol = proto
	switch proto {
	case protoUDP:
		return d.udp(b, f)
	case protoTCP:
		return d.tcp(b, f)
	case protoIPIP, protoIPv6:
		return d.ipInIP(proto, b, f)
	case protoGRE:
		return d.gre(b, f)
	}
	return OtherProtocol
}

// udp decodes a UDP header (RFC 768). The length field is trusted over the
// IP length: a datagram that claims fewer bytes than the packet holds ends
// where it says (tcpdump's dns-zlip-1 capture hides a pointer loop behind
// such a length).
func (d *Decoder) udp(b []byte, f *Frame) Reason {
	if len(b) < 8 {
		return Truncated
	}
	f.SrcPort = binary.BigEndian.Uint16(b)
	f.DstPort = binary.BigEndian.Uint16(b[2:])
	n := int(binary.BigEndian.Uint16(b[4:]))
	if n < 8 {
		return BadHeader
	}
	if !d.Ports.Has(f.SrcPort) && !d.Ports.Has(f.DstPort) {
		switch f.DstPort {
		case portVXLAN:
			return d.vxlan(b[8:min(n, len(b))], f)
		case portGeneve:
			return d.geneve(b[8:min(n, len(b))], f)
		}
		return OtherPort
	}
	if n > len(b) {
		n = len(b)
		f.Snapped = true
	}
	f.Payload = b[8:n]
	if len(f.Payload) == 0 {
		return EmptyPayload
	}
	return DNS
}

// tcp decodes a TCP header (RFC 9293). A segment on a DNS port is TCP:
// its payload is a piece of a stream that the caller reassembles.
func (d *Decoder) tcp(b []byte, f *Frame) Reason {
	if len(b) < 20 {
		return Truncated
	}
	f.SrcPort = binary.BigEndian.Uint16(b)
	f.DstPort = binary.BigEndian.Uint16(b[2:])
	if !d.Ports.Has(f.SrcPort) && !d.Ports.Has(f.DstPort) {
		return OtherPort
	}
	hl := int(b[12]>>4) * 4
	if hl < 20 {
		return BadHeader
	}
	if hl > len(b) {
		return Truncated
	}
	f.TCPSeq = binary.BigEndian.Uint32(b[4:])
	f.TCPFlags = b[13]
	f.Payload = b[hl:]
	return TCP
}
