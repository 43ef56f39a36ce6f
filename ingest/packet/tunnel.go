package packet

import "encoding/binary"

// Tunnel ports and protocol types (IANA).
const (
	portVXLAN  = 4789 // RFC 7348
	portGeneve = 6081 // RFC 8926

	greIPv4      = 0x0800
	greIPv6      = 0x86dd
	greEthernet  = 0x6558 // transparent Ethernet bridging
	greERSPAN2   = 0x88be // ERSPAN type I (no sequence number) or II
	greERSPAN3   = 0x22eb
	maxTunnels   = 8 // encapsulations peeled per packet; bounds hostile nesting
	pppIPv4      = 0x0021
	pppIPv6      = 0x0057
	mplsBottom   = 0x01 // bottom-of-stack bit, in the third octet of an entry
	erspan2Len   = 8
	erspan3Len   = 12
	erspan3Sub   = 8 // optional platform-specific subheader of type III
	vxlanLen     = 8
	geneveMinLen = 8
)

// enter counts one more encapsulation; false when there are too many.
func (d *Decoder) enter() bool {
	d.depth++
	return d.depth <= maxTunnels
}

// gre decodes a GRE header (RFC 2784, RFC 2890) and what it carries: IP,
// Ethernet, or a mirrored frame in ERSPAN type I, II or III (the Cisco
// ERSPAN draft, draft-foschiano-erspan).
func (d *Decoder) gre(b []byte, f *Frame) Reason {
	if !d.enter() {
		return Tunnel
	}
	if len(b) < 4 {
		return Truncated
	}
	flags, proto := binary.BigEndian.Uint16(b), binary.BigEndian.Uint16(b[2:])
	if flags&0x0007 != 0 {
		return Tunnel // GRE version 1 is PPTP's enhanced GRE: not a mirror
	}
	n := 4
	for _, bit := range []uint16{0x8000, 0x2000, 0x1000} { // checksum, key, sequence
		if flags&bit != 0 {
			n += 4
		}
	}
	if len(b) < n {
		return Truncated
	}
	b = b[n:]
	switch proto {
	case greIPv4:
		return d.ipv4(b, f)
	case greIPv6:
		return d.ipv6(b, f)
	case greEthernet:
		return d.ethernet(b, f)
	case greERSPAN2:
		if flags&0x1000 == 0 {
			return d.ethernet(b, f) // type I has no ERSPAN header
		}
		if len(b) < erspan2Len {
			return Truncated
		}
		return d.ethernet(b[erspan2Len:], f)
	case greERSPAN3:
		return d.erspan3(b, f)
	}
	return Tunnel
}

// erspan3 skips an ERSPAN type III header and its optional subheader.
func (d *Decoder) erspan3(b []byte, f *Frame) Reason {
	if len(b) < erspan3Len {
		return Truncated
	}
	n := erspan3Len
	if b[11]&0x01 != 0 {
		n += erspan3Sub
	}
	if len(b) < n {
		return Truncated
	}
	return d.ethernet(b[n:], f)
}

// vxlan decodes a VXLAN header (RFC 7348) and the Ethernet frame in it.
func (d *Decoder) vxlan(b []byte, f *Frame) Reason {
	if !d.enter() {
		return Tunnel
	}
	if len(b) < vxlanLen {
		return Truncated
	}
	return d.ethernet(b[vxlanLen:], f)
}

// geneve decodes a Geneve header (RFC 8926) with its options.
func (d *Decoder) geneve(b []byte, f *Frame) Reason {
	if !d.enter() {
		return Tunnel
	}
	if len(b) < geneveMinLen {
		return Truncated
	}
	n := geneveMinLen + int(b[0]&0x3f)*4
	if len(b) < n {
		return Truncated
	}
	switch binary.BigEndian.Uint16(b[2:]) {
	case greEthernet:
		return d.ethernet(b[n:], f)
	case greIPv4:
		return d.ipv4(b[n:], f)
	case greIPv6:
		return d.ipv6(b[n:], f)
	}
	return Tunnel
}

// mpls pops an MPLS label stack (RFC 3032). What follows the bottom
// label is not announced; the first nibble tells IPv4, IPv6, or a
// pseudowire control word (0) before an Ethernet frame (RFC 4448).
func (d *Decoder) mpls(b []byte, f *Frame) Reason {
	if !d.enter() {
		return Tunnel
	}
	for {
		if len(b) < 4 {
			return Truncated
		}
		bottom := b[2]&mplsBottom != 0
		b = b[4:]
		if bottom {
			break
		}
	}
	if len(b) < 1 {
		return Truncated
	}
	switch b[0] >> 4 {
	case 4:
		return d.ipv4(b, f)
	case 6:
		return d.ipv6(b, f)
	case 0:
		if len(b) < 4 {
			return Truncated
		}
		return d.ethernet(b[4:], f)
	}
	return Tunnel
}

// pppoe decodes a PPPoE session header (RFC 2516) and its PPP protocol.
func (d *Decoder) pppoe(b []byte, f *Frame) Reason {
	if !d.enter() {
		return Tunnel
	}
	if len(b) < 8 {
		return Truncated
	}
	switch binary.BigEndian.Uint16(b[6:]) {
	case pppIPv4:
		return d.ipv4(b[8:], f)
	case pppIPv6:
		return d.ipv6(b[8:], f)
	}
	return NotIP
}

// ipInIP decodes an IPv4 or IPv6 packet inside another (RFC 2003,
// RFC 2473), whichever the outer version.
func (d *Decoder) ipInIP(proto uint8, b []byte, f *Frame) Reason {
	if !d.enter() {
		return Tunnel
	}
	if proto == protoIPIP {
		return d.ipv4(b, f)
	}
	return d.ipv6(b, f)
}
