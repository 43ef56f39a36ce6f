package craft

import "net/netip"

// flow is a conversation between a client and a server, and how its
// packets are framed on the link.
type flow struct {
	client, server endpoint
	tags           []tag // VLAN tags of both directions, outermost first
	tcp            bool

	// frame puts an IP packet on the link; nil means Ethernet with tags.
	frame func(b *builder, f *flow, toServer bool, etherType uint16, ip []byte) []byte

	cseq, sseq uint32 // next TCP sequence number of the client and the server
}

// Addresses of the cases: documentation ranges only (RFC 5737, RFC 3849)
// and locally administered MAC addresses, plus the mDNS groups.
var (
	clientV4 = endpoint{mac: mac(0x11), addr: netip.MustParseAddr("192.0.2.10"), port: 40001}
	serverV4 = endpoint{mac: mac(0x53), addr: netip.MustParseAddr("198.51.100.53"), port: 53}
	clientV6 = endpoint{mac: mac(0x16), addr: netip.MustParseAddr("2001:db8:1::10"), port: 40006}
	serverV6 = endpoint{mac: mac(0x63), addr: netip.MustParseAddr("2001:db8:53::53"), port: 53}
)

// mac returns the locally administered address 02:00:5e:00:00:n.
func mac(n byte) [6]byte { return [6]byte{0x02, 0x00, 0x5e, 0x00, 0x00, n} }

// withPort returns e with another port.
func withPort(e endpoint, port uint16) endpoint {
	e.port = port
	return e
}

// ends returns the sender and the receiver of a packet of f.
func (f *flow) ends(toServer bool) (src, dst endpoint) {
	if toServer {
		return f.client, f.server
	}
	return f.server, f.client
}

// link frames an IP packet of f.
func (b *builder) link(f *flow, toServer bool, ip []byte) []byte {
	et := uint16(etherIPv4)
	if ip[0]>>4 == 6 {
		et = etherIPv6
	}
	if f.frame != nil {
		return f.frame(b, f, toServer, et, ip)
	}
	src, dst := f.ends(toServer)
	return ethernet(dst.mac, src.mac, f.tags, et, ip)
}

// udpMsg sends payload over UDP on f gap nanoseconds after the previous
// packet, records mi as its row and returns the frame number.
func (b *builder) udpMsg(f *flow, toServer bool, gap int64, payload []byte, mi msgInfo) int {
	src, dst := f.ends(toServer)
	ip := ipPacket(src.addr, dst.addr, protoUDP, b.nextID(), udp(src, dst, payload))
	n := b.add(gap, b.link(f, toServer, ip))
	b.row(n, f, toServer, mi)
	return n
}

// send sends a well-formed message over UDP on f.
func (b *builder) send(f *flow, toServer bool, gap int64, m message) int {
	return b.udpMsg(f, toServer, gap, m.pack(), m.info())
}

// handshake opens the TCP connection of f: SYN, SYN-ACK, ACK, 30 µs apart
// with one round trip of 400 µs. The initial sequence numbers are fixed.
func (b *builder) handshake(f *flow) {
	f.cseq, f.sseq = 0x1c2d3e4f, 0x8a9b0c1d
	b.tcpSegAt(f, true, 0, f.cseq, tcpSYN, nil)
	f.cseq++
	b.tcpSegAt(f, false, 200_000, f.sseq, tcpSYN|tcpACK, nil)
	f.sseq++
	b.tcpSegAt(f, true, 200_000, f.cseq, tcpACK, nil)
}

// tcpSeg sends payload as the next segment of one side of f, with PSH and
// ACK, and returns the frame number.
func (b *builder) tcpSeg(f *flow, toServer bool, gap int64, payload []byte) int {
	seq := &f.sseq
	if toServer {
		seq = &f.cseq
	}
	n := b.tcpSegAt(f, toServer, gap, *seq, tcpPSH|tcpACK, payload)
	*seq += uint32(len(payload))
	return n
}

// tcpSegAt sends one TCP segment of f with sequence number seq, which the
// caller manages, acknowledging everything the other side sent.
func (b *builder) tcpSegAt(f *flow, toServer bool, gap int64, seq uint32, flags uint8, payload []byte) int {
	src, dst := f.ends(toServer)
	h := tcpHeader{seq: seq, flags: flags}
	if flags&tcpACK != 0 {
		h.ack = f.cseq
		if toServer {
			h.ack = f.sseq
		}
	}
	ip := ipPacket(src.addr, dst.addr, protoTCP, b.nextID(), tcp(src, dst, h, payload))
	return b.add(gap, b.link(f, toServer, ip))
}

// tcpFrame prefixes a message with its two-octet length (RFC 1035 section
// 4.2.2).
func tcpFrame(msg []byte) []byte {
	return append(be.AppendUint16(nil, uint16(len(msg))), msg...)
}
