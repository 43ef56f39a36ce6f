package dnsmsg

import "encoding/binary"

// EDNS option codes the package decodes (IANA "DNS EDNS0 Option Codes").
const (
	optNSID   = 3  // RFC 5001
	optSubnet = 8  // RFC 7871
	optCookie = 10 // RFC 7873
	optEDE    = 15 // RFC 8914
)

// Address families of the client subnet option (RFC 7871 section 6).
const (
	familyIPv4 = 1
	familyIPv6 = 2
)

// unpackOPT fills m.EDNS from the OPT pseudo-record (RFC 6891 section 6.1.2):
// CLASS is the UDP payload size, TTL holds the upper 8 bits of the extended
// RCODE, the version and the DO flag, and RDATA is a list of options.
func (m *Message) unpackOPT(owner []byte, class uint16, ttl uint32, rdata []byte) {
	e := &m.EDNS
	e.Present = true
	e.UDPSize = class
	e.Version = uint8(ttl >> 16)
	e.DO = ttl&0x8000 != 0
	m.RCode = uint16(ttl>>24)<<4 | m.RCode&0xF

	// RFC 6891 section 6.1.2: the owner of the OPT record is the root.
	if len(owner) != 1 || owner[0] != '.' {
		m.note(BadEDNS)
	}
	for len(rdata) > 0 {
		if len(rdata) < 4 {
			m.note(BadEDNS)
			return
		}
		code := binary.BigEndian.Uint16(rdata)
		n := int(binary.BigEndian.Uint16(rdata[2:]))
		if 4+n > len(rdata) {
			m.note(BadEDNS)
			return
		}
		e.Options = append(e.Options, code)
		if !m.unpackOption(code, rdata[4:4+n]) {
			m.note(BadEDNS)
		}
		rdata = rdata[4+n:]
	}
}

// unpackOption stores the options the product keeps. It reports false when
// one of them has a length its RFC forbids.
func (m *Message) unpackOption(code uint16, data []byte) bool {
	e := &m.EDNS
	switch code {
	case optNSID:
		e.NSID = m.keep(data)
	case optSubnet:
		return m.unpackSubnet(data)
	case optCookie:
		return m.unpackCookie(data)
	case optEDE:
		if len(data) < 2 {
			return false
		}
		e.EDECodes = append(e.EDECodes, binary.BigEndian.Uint16(data))
		start := len(m.arena)
		m.arena = AppendUTF8(m.arena, data[2:])
		e.EDETexts = append(e.EDETexts, m.arena[start:len(m.arena):len(m.arena)])
	}
	return true
}

// unpackSubnet decodes the client subnet option (RFC 7871 section 6). The
// address is zero-padded to its family's size; when the option appears more
// than once the last one wins. Addresses of unknown families are kept in hex.
//
// RFC 7871 also asks for exactly ceil(SOURCE/8) address octets with no bits
// set past SOURCE; the decoder does not check that, since a passive monitor
// wants the address the client sent whatever its encoding.
func (m *Message) unpackSubnet(data []byte) bool {
	if len(data) < 4 {
		return false
	}
	e := &m.EDNS
	e.ECSFamily = binary.BigEndian.Uint16(data)
	e.ECSSourcePrefix = data[2]
	e.ECSScopePrefix = data[3]
	addr := data[4:]
	start := len(m.arena)
	var a [16]byte
	switch e.ECSFamily {
	case familyIPv4:
		if len(addr) > 4 || e.ECSSourcePrefix > 32 {
			return false
		}
		copy(a[:], addr)
		m.arena = appendIPv4(m.arena, a[:4])
	case familyIPv6:
		if len(addr) > 16 || e.ECSSourcePrefix > 128 {
			return false
		}
		copy(a[:], addr)
		m.arena = appendIPv6(m.arena, a[:])
	default:
		m.arena = appendHex(m.arena, addr)
	}
	e.ECSAddress = m.arena[start:len(m.arena):len(m.arena)]
	return true
}

// unpackCookie splits the cookie option (RFC 7873 section 4): an 8-octet
// client cookie, then an optional server cookie of 8 to 32 octets.
func (m *Message) unpackCookie(data []byte) bool {
	if len(data) < 8 {
		return false
	}
	m.EDNS.ClientCookie = m.keep(data[:8])
	if len(data) > 8 {
		m.EDNS.ServerCookie = m.keep(data[8:])
	}
	n := len(data) - 8
	return n == 0 || n >= 8 && n <= 32
}
