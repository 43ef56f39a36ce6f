package gen

import "encoding/binary"

// DNS wire constants (RFC 1035 section 4.1, RFC 6891, RFC 7871, RFC 7873,
// RFC 8914).
const (
	typeA     = 1
	typeNS    = 2
	typeCNAME = 5
	typeSOA   = 6
	typePTR   = 12
	typeMX    = 15
	typeTXT   = 16
	typeAAAA  = 28
	typeOPT   = 41

	classIN = 1

	flagQR = 1 << 15
	flagAA = 1 << 10
	flagRD = 1 << 8
	flagRA = 1 << 7
	flagAD = 1 << 5

	rcodeServFail  = 2
	rcodeNXDomain  = 3
	rcodeBadCookie = 23 // extended: needs the OPT record's upper bits

	optECS    = 8
	optCookie = 10
	optEDE    = 15

	headerLen = 12
	qnameOff  = headerLen // where the first question's name starts
)

// msg appends one DNS message to b and keeps the section counts, which it
// writes into the header when done.
type msg struct {
	b              []byte
	an, ns, ar, qd uint16
}

func (m *msg) header(id, flags uint16) {
	m.b = binary.BigEndian.AppendUint16(m.b, id)
	m.b = binary.BigEndian.AppendUint16(m.b, flags)
	m.b = append(m.b, 0, 0, 0, 0, 0, 0, 0, 0)
}

func (m *msg) question(wire []byte, qtype uint16) {
	m.b = append(m.b, wire...)
	m.b = binary.BigEndian.AppendUint16(m.b, qtype)
	m.b = binary.BigEndian.AppendUint16(m.b, classIN)
	m.qd++
}

// rr starts a record owned by the name at offset owner (a compression
// pointer, RFC 1035 section 4.1.4) and returns the offset of its RDLENGTH,
// for end to patch.
func (m *msg) rr(owner int, typ, class uint16, ttl uint32) int {
	m.b = appendPtr(m.b, owner)
	return m.rrTail(typ, class, ttl)
}

func (m *msg) rrTail(typ, class uint16, ttl uint32) int {
	m.b = binary.BigEndian.AppendUint16(m.b, typ)
	m.b = binary.BigEndian.AppendUint16(m.b, class)
	m.b = binary.BigEndian.AppendUint32(m.b, ttl)
	m.b = append(m.b, 0, 0)
	return len(m.b) - 2
}

func (m *msg) end(rdlen int) {
	binary.BigEndian.PutUint16(m.b[rdlen:], uint16(len(m.b)-rdlen-2))
}

// finish writes the section counts into the header.
func (m *msg) finish() []byte {
	binary.BigEndian.PutUint16(m.b[4:], m.qd)
	binary.BigEndian.PutUint16(m.b[6:], m.an)
	binary.BigEndian.PutUint16(m.b[8:], m.ns)
	binary.BigEndian.PutUint16(m.b[10:], m.ar)
	return m.b
}

func appendPtr(b []byte, off int) []byte {
	return append(b, 0xc0|byte(off>>8), byte(off))
}

// edns is what a query's OPT record carries.
type edns struct {
	on     bool
	size   uint16
	do     bool
	ecs    bool
	cookie bool
}

// opt appends an OPT record (RFC 6891 section 6.1.2). The extended rcode
// goes in the top byte of the TTL field; client holds the client's address
// and cookie; ede is an extended DNS error info code, 0 for none.
func (m *msg) opt(e edns, rcode uint16, c *host, response bool, ede uint16) {
	m.b = append(m.b, 0)
	ttl := uint32(rcode>>4) << 24
	if e.do {
		ttl |= 1 << 15
	}
	rdlen := m.rrTail(typeOPT, e.size, ttl)
	if e.ecs {
		m.ecs(c, response)
	}
	if e.cookie {
		m.b = binary.BigEndian.AppendUint16(m.b, optCookie)
		n := uint16(8)
		if response {
			n += 16
		}
		m.b = binary.BigEndian.AppendUint16(m.b, n)
		m.b = append(m.b, c.cookie[:]...)
		if response {
			// A server cookie: any 16 bytes that depend on the client.
			m.b = append(m.b, c.cookie[:]...)
			m.b = append(m.b, c.mac[:]...)
			m.b = append(m.b, 0x01, 0x00)
		}
	}
	if ede != 0 {
		const text = "no reachable authority"
		m.b = binary.BigEndian.AppendUint16(m.b, optEDE)
		m.b = binary.BigEndian.AppendUint16(m.b, uint16(2+len(text)))
		m.b = binary.BigEndian.AppendUint16(m.b, ede)
		m.b = append(m.b, text...)
	}
	m.end(rdlen)
	m.ar++
}

// ecs appends a client subnet option (RFC 7871 section 6) for the client's
// /24 or /56; a response scopes it to the same prefix.
func (m *msg) ecs(c *host, response bool) {
	family, prefix := uint16(1), 24
	if c.addr.Is6() {
		family, prefix = 2, 56
	}
	scope := byte(0)
	if response {
		scope = byte(prefix)
	}
	a16 := c.addr.As16()
	a := a16[:prefix/8]
	if c.addr.Is4() {
		a = a16[12 : 12+prefix/8]
	}
	m.b = binary.BigEndian.AppendUint16(m.b, optECS)
	m.b = binary.BigEndian.AppendUint16(m.b, uint16(4+len(a)))
	m.b = binary.BigEndian.AppendUint16(m.b, family)
	m.b = append(m.b, byte(prefix), scope)
	m.b = append(m.b, a...)
}
