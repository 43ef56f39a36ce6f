package tcpdns

import "encoding/binary"

// verdict is the answer to "does a DNS message start here?".
type verdict uint8

const (
	verdictNo   verdict = iota
	verdictYes          // a plausible prefix and header
	verdictMore         // not enough bytes to tell yet
)

const (
	headerLen   = 12  // RFC 1035 section 4.1.1
	maxNameWire = 255 // RFC 1035 section 3.1
)

// plausible judges whether b starts with a length prefix followed by a DNS
// message, looking at the header and, when there is one, the question. It
// is strict because it is only used where boundaries are guessed: a stream
// picked up mid-way or after a gap.
func plausible(b []byte) verdict {
	if len(b) < 2 {
		return verdictMore
	}
	l := int(binary.BigEndian.Uint16(b))
	if l < headerLen {
		return verdictNo
	}
	if len(b) < 2+headerLen {
		return verdictMore
	}
	h := b[2 : 2+headerLen]
	if !header(h, l) {
		return verdictNo
	}
	if binary.BigEndian.Uint16(h[4:]) == 0 {
		return verdictYes
	}
	end := min(len(b), 2+l)
	return question(b[2+headerLen:end], end == 2+l)
}

// header reports whether the 12-byte header h fits a message of l bytes
// (RFC 1035 section 4.1.1).
func header(h []byte, l int) bool {
	flags := binary.BigEndian.Uint16(h[2:])
	// QUERY, IQUERY, STATUS, NOTIFY (RFC 1996), UPDATE (RFC 2136), DSO
	// (RFC 8490).
	switch opcode := flags >> 11 & 0xf; opcode {
	case 0, 1, 2, 4, 5, 6:
	default:
		return false
	}
	if flags&0x40 != 0 {
		return false // Z must be zero
	}
	if flags&0x8000 == 0 && flags&0xf != 0 {
		return false // RCODE is set in responses only
	}
	qd := int(binary.BigEndian.Uint16(h[4:]))
	if qd > 1 {
		return false // RFC 9619: in practice QDCOUNT is 0 or 1
	}
	rr := int(binary.BigEndian.Uint16(h[6:])) + int(binary.BigEndian.Uint16(h[8:])) +
		int(binary.BigEndian.Uint16(h[10:]))

	// Smallest question: root name, type, class; smallest record: root
	// name, type, class, TTL, rdlength.
	return headerLen+qd*5+rr*11 <= l
}

// question checks the first question's name and class in q, the message
// bytes after the header. complete says q reaches the message's end.
func question(q []byte, complete bool) verdict {
	more := verdictMore
	if complete {
		more = verdictNo
	}
	i, n := 0, 0
	for {
		if i >= len(q) {
			return more
		}
		c := int(q[i])
		if c == 0 {
			break
		}
		// The first name cannot be compressed: nothing precedes it to
		// point at. 0x40-0xbf are not label types in use (RFC 6891 5).
		if c > 63 {
			return verdictNo
		}
		n += 1 + c
		if n >= maxNameWire {
			return verdictNo
		}
		i += 1 + c
	}
	if i+5 > len(q) {
		return more
	}
	// mDNS uses the top bit of QCLASS for unicast responses (RFC 6762 5.4).
	switch binary.BigEndian.Uint16(q[i+3:]) & 0x7fff {
	case 1, 3, 4, 254, 255: // IN, CH, HS, NONE, ANY
		return verdictYes
	}
	return verdictNo
}

// standalone reports whether b starts with a complete, plausible message.
func standalone(b []byte) bool {
	return plausible(b) == verdictYes && 2+int(binary.BigEndian.Uint16(b)) <= len(b)
}
