package gen

import (
	"encoding/binary"
	"net/netip"
)

// Servers of the non-DNS traffic: an NTP server on the campus, and web
// servers in the documentation ranges (RFC 5737, RFC 3849).
var (
	ntp4 = netip.AddrFrom4([4]byte{10, 123, 0, 1})
	ntp6 = netip.MustParseAddr("2001:db8:123::1")
)

// pingData is the payload of a Windows echo request: 32 bytes of alphabet.
const pingData = "abcdefghijklmnopqrstuvwabcdefghi"

// nonDNS writes one packet a DNS decoder must count and skip: ARP, ICMP or
// ICMPv6 echo, NTP, QUIC-like UDP or a TCP SYN, from a random client.
func (g *generator) nonDNS() {
	c := &g.w.clients[g.r.IntN(len(g.w.clients))]
	p := packet{
		via: c, cooked: g.cooked(c),
		srcMAC: c.mac, dstMAC: g.w.gateway,
		src: c.addr, dst: g.webServer(c.addr.Is6()),
		sport: 49152 + uint16(g.r.IntN(16384)), dport: 443, ttl: 64,
	}
	b := g.frame[:0]
	switch g.r.IntN(5) {
	case 0:
		if c.addr.Is4() && !p.cooked {
			b = p.arp(b)
			break
		}
		fallthrough
	case 1:
		p.dst = c.server
		b = p.echo(b, g.nextID())
	case 2:
		p.dst, p.dport = ntp4, 123
		if c.addr.Is6() {
			p.dst = ntp6
		}
		b = p.udp(b, g.nextID(), ntpRequest[:])
	case 3:
		b = p.udp(b, g.nextID(), g.quicLike())
	case 4:
		b = p.syn(b, g.nextID(), g.r.Uint32())
	}
	g.frame = b
	g.write(g.now, &p)
	g.st.NonDNS++
}

func (g *generator) webServer(v6 bool) netip.Addr {
	x := byte(1 + g.r.IntN(254))
	if v6 {
		return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 15: x})
	}
	return netip.AddrFrom4([4]byte{198, 51, 100, x})
}

// ntpRequest is an NTPv4 client request (RFC 5905 section 7.3): LI 0, VN 4,
// mode 3, everything else zero.
var ntpRequest = [48]byte{0x23}

// quicLike is random bytes behind a QUIC long-header first byte, the size
// of a small Initial.
func (g *generator) quicLike() []byte {
	b := g.payload[:0]
	b = append(b, 0xc3, 0, 0, 0, 1)
	for len(b) < 200+g.r.IntN(200) {
		b = binary.BigEndian.AppendUint64(b, g.r.Uint64())
	}
	g.payload = b
	return b
}

// arp appends a who-has request for the client's gateway (RFC 826).
func (p *packet) arp(b []byte) []byte {
	p.dstMAC = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	b = p.link(b, etherARP)
	b = append(b, 0, 1, 8, 0, 6, 4, 0, 1)
	b = append(b, p.srcMAC[:]...)
	s := p.src.As4()
	b = append(b, s[:]...)
	b = append(b, 0, 0, 0, 0, 0, 0)
	b = append(b, s[0], s[1], s[2], 1)
	return p.pad(b)
}

// echo appends an ICMP or ICMPv6 echo request (RFC 792, RFC 4443 section
// 4.1); only ICMPv6 covers a pseudo-header in its checksum.
func (p *packet) echo(b []byte, id uint16) []byte {
	proto, typ := uint8(protoICMP), byte(8)
	if p.src.Is6() {
		proto, typ = protoICMPv6, 128
	}
	b = p.ip(b, proto, 8+len(pingData), id)
	l4 := len(b)
	b = append(b, typ, 0, 0, 0, 0, 1)
	b = binary.BigEndian.AppendUint16(b, id)
	b = append(b, pingData...)
	acc := sum(b[l4:], 0)
	if proto == protoICMPv6 {
		acc += p.pseudo(proto, len(b)-l4)
	}
	binary.BigEndian.PutUint16(b[l4+2:], fold(acc))
	return p.pad(b)
}

// syn appends a TCP SYN with an MSS option (RFC 9293 section 3.1).
func (p *packet) syn(b []byte, id uint16, seq uint32) []byte {
	b = p.ip(b, protoTCP, 24, id)
	l4 := len(b)
	b = binary.BigEndian.AppendUint16(b, p.sport)
	b = binary.BigEndian.AppendUint16(b, p.dport)
	b = binary.BigEndian.AppendUint32(b, seq)
	b = append(b, 0, 0, 0, 0, 6<<4, 0x02, 0xfa, 0xf0, 0, 0, 0, 0)
	b = append(b, 2, 4, 0x05, 0xb4)
	binary.BigEndian.PutUint16(b[l4+16:], fold(p.pseudo(protoTCP, 24)+sum(b[l4:], 0)))
	return p.pad(b)
}
