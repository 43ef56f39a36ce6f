package craft

import "net/netip"

// TCP flags (RFC 9293 section 3.1).
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpPSH = 0x08
	tcpACK = 0x10
)

// endpoint is one side of a flow.
type endpoint struct {
	mac  [6]byte
	addr netip.Addr
	port uint16
}

// udp returns a UDP datagram (RFC 768) from a to b with its checksum, which
// covers the IPv4 or IPv6 pseudo-header.
func udp(a, b endpoint, payload []byte) []byte {
	seg := make([]byte, 8, 8+len(payload))
	be.PutUint16(seg[0:], a.port)
	be.PutUint16(seg[2:], b.port)
	be.PutUint16(seg[4:], uint16(8+len(payload)))
	seg = append(seg, payload...)
	c := fold(sum16(pseudoSum(a.addr, b.addr, protoUDP, len(seg)), seg))
	if c == 0 {
		c = 0xffff // RFC 768: a computed zero is sent as all ones
	}
	be.PutUint16(seg[6:], c)
	return seg
}

// tcpHeader holds the fields of a TCP header (RFC 9293) that change
// between segments; the header never has options.
type tcpHeader struct {
	seq, ack uint32
	flags    uint8
}

// tcp returns a TCP segment from a to b with its checksum.
func tcp(a, b endpoint, h tcpHeader, payload []byte) []byte {
	seg := make([]byte, 20, 20+len(payload))
	be.PutUint16(seg[0:], a.port)
	be.PutUint16(seg[2:], b.port)
	be.PutUint32(seg[4:], h.seq)
	be.PutUint32(seg[8:], h.ack)
	seg[12] = 5 << 4
	seg[13] = h.flags
	be.PutUint16(seg[14:], 64240)
	seg = append(seg, payload...)
	be.PutUint16(seg[16:], fold(sum16(pseudoSum(a.addr, b.addr, protoTCP, len(seg)), seg)))
	return seg
}
