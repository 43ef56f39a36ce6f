package gen

import (
	"encoding/binary"
	"net/netip"
)

// IP protocol numbers and EtherTypes used here.
const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58

	etherIPv4 = 0x0800
	etherARP  = 0x0806
	etherIPv6 = 0x86dd

	minFrame = 60 // shortest Ethernet frame without its FCS

	// Linux packet types (linux/if_packet.h) as SLL2 records them.
	pktHost      = 0
	pktMulticast = 2
	pktOutgoing  = 4
)

// packet is the addressing of one packet.
type packet struct {
	via            *host // the client whose link the frame crosses
	cooked         bool  // write a Linux SLL2 header instead of Ethernet
	pktType        byte  // SLL2 packet type: pktHost, pktMulticast or pktOutgoing
	srcMAC, dstMAC [6]byte
	src, dst       netip.Addr
	sport, dport   uint16
	ttl            uint8
}

// link appends the link-layer header: Ethernet with the client's VLAN tags,
// or Linux SLL2 (https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html)
// as a capture on "any" at the resolver shows it.
func (p *packet) link(b []byte, etherType uint16) []byte {
	if p.cooked {
		b = binary.BigEndian.AppendUint16(b, etherType)
		b = append(b, 0, 0, 0, 0, 0, 2, 0, 1) // reserved, ifindex 2, ARPHRD_ETHER
		b = append(b, p.pktType, 6)
		b = append(b, p.srcMAC[:]...)
		return append(b, 0, 0)
	}
	b = append(b, p.dstMAC[:]...)
	b = append(b, p.srcMAC[:]...)
	b = append(b, p.via.tags...)
	return binary.BigEndian.AppendUint16(b, etherType)
}

// ip appends the link header and an IPv4 or IPv6 header for a payload of n
// bytes of protocol proto.
func (p *packet) ip(b []byte, proto uint8, n int, id uint16) []byte {
	if p.src.Is6() {
		b = p.link(b, etherIPv6)
		b = append(b, 0x60, 0, 0, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
		b = append(b, proto, p.ttl)
		s, d := p.src.As16(), p.dst.As16()
		b = append(b, s[:]...)
		return append(b, d[:]...)
	}
	b = p.link(b, etherIPv4)
	h := len(b)
	b = append(b, 0x45, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(20+n))
	b = binary.BigEndian.AppendUint16(b, id)
	b = append(b, 0x40, 0, p.ttl, proto, 0, 0) // DF, no fragment offset
	s, d := p.src.As4(), p.dst.As4()
	b = append(b, s[:]...)
	b = append(b, d[:]...)
	binary.BigEndian.PutUint16(b[h+10:], fold(sum(b[h:], 0)))
	return b
}

// udp appends a whole UDP datagram, headers included.
func (p *packet) udp(b []byte, id uint16, payload []byte) []byte {
	b = p.ip(b, protoUDP, 8+len(payload), id)
	l4 := len(b)
	b = binary.BigEndian.AppendUint16(b, p.sport)
	b = binary.BigEndian.AppendUint16(b, p.dport)
	b = binary.BigEndian.AppendUint16(b, uint16(8+len(payload)))
	b = append(b, 0, 0)
	b = append(b, payload...)
	c := fold(p.pseudo(protoUDP, len(b)-l4) + sum(b[l4:], 0))
	if c == 0 {
		c = 0xffff // RFC 768: zero means no checksum
	}
	binary.BigEndian.PutUint16(b[l4+6:], c)
	return p.pad(b)
}

// pad extends an Ethernet frame to the 60 bytes the wire requires, as a
// SPAN port delivers it.
func (p *packet) pad(b []byte) []byte {
	for !p.cooked && len(b) < minFrame {
		b = append(b, 0)
	}
	return b
}

// pseudo sums the pseudo-header of the transport checksum (RFC 768, RFC
// 8200 section 8.1).
func (p *packet) pseudo(proto uint8, n int) uint64 {
	var acc uint64
	if p.src.Is6() {
		s, d := p.src.As16(), p.dst.As16()
		acc = sum(s[:], sum(d[:], 0))
	} else {
		s, d := p.src.As4(), p.dst.As4()
		acc = sum(s[:], sum(d[:], 0))
	}
	return acc + uint64(proto) + uint64(n)
}

// sum adds b to acc as big-endian 16-bit words (RFC 1071). Adding 32-bit
// words is the same sum once folded, and twice as fast.
func sum(b []byte, acc uint64) uint64 {
	for len(b) >= 4 {
		acc += uint64(binary.BigEndian.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		acc += uint64(binary.BigEndian.Uint16(b)) << 16
		b = b[2:]
	}
	if len(b) == 1 {
		acc += uint64(b[0]) << 24
	}
	return acc
}

// fold reduces a sum to the 16-bit ones' complement checksum.
func fold(acc uint64) uint16 {
	for acc > 0xffff {
		acc = acc&0xffff + acc>>16
	}
	return ^uint16(acc)
}
