package craft

import "strings"

// Header flag bits of a DNS message (RFC 1035 section 4.1.1).
const (
	flagQR = 1 << 15
	flagAA = 1 << 10
	flagRD = 1 << 8
	flagRA = 1 << 7
)

// RR types and classes used by the cases.
const (
	typeA    = 1
	typeNS   = 2
	typeSOA  = 6
	typePTR  = 12
	typeMX   = 15
	typeTXT  = 16
	typeAAAA = 28
	typeSRV  = 33
	typeOPT  = 41
	classIN  = 1
	classQU  = 0x8000 // mDNS: unicast response wanted (RFC 6762 section 5.4)
)

// RCODEs (RFC 1035 section 4.1.1).
const (
	rcodeFormErr  = 1
	rcodeNXDomain = 3
)

// ptrQuestion is a compression pointer to the first question's name, which
// always starts right after the 12-octet header.
var ptrQuestion = []byte{0xc0, 12}

// question is one entry of the question section.
type question struct {
	name  string // presentation form without trailing dot; "" is the root
	qtype uint16
	class uint16
}

// record is a resource record with its owner already in wire form, so
// that it can be a compression pointer.
type record struct {
	owner []byte
	typ   uint16
	class uint16
	ttl   uint32
	rdata []byte
}

// message is a well-formed DNS message to pack.
type message struct {
	id         uint16
	flags      uint16 // QR, opcode, AA, TC, RD, RA, Z, AD, CD and the 4 RCODE bits
	questions  []question
	answers    []record
	authority  []record
	additional []record
}

// pack returns m in wire form. Question names are not compressed.
func (m message) pack() []byte {
	b := be.AppendUint16(nil, m.id)
	b = be.AppendUint16(b, m.flags)
	for _, n := range []int{len(m.questions), len(m.answers), len(m.authority), len(m.additional)} {
		b = be.AppendUint16(b, uint16(n))
	}
	for _, q := range m.questions {
		b = append(b, wireName(q.name)...)
		b = be.AppendUint16(b, q.qtype)
		b = be.AppendUint16(b, q.class)
	}
	for _, sec := range [][]record{m.answers, m.authority, m.additional} {
		for _, r := range sec {
			b = appendRecord(b, r)
		}
	}
	return b
}

// info returns what a decoder reports for m.
func (m message) info() msgInfo {
	mi := msgInfo{
		id:      m.id,
		qr:      m.flags&flagQR != 0,
		rcode:   m.flags & 0xf,
		answers: len(m.answers),
	}
	for _, q := range m.questions {
		mi.qnames = append(mi.qnames, q.name)
		mi.qtypes = append(mi.qtypes, q.qtype)
	}
	return mi
}

// appendRecord appends r in wire form.
func appendRecord(b []byte, r record) []byte {
	b = append(b, r.owner...)
	b = be.AppendUint16(b, r.typ)
	b = be.AppendUint16(b, r.class)
	b = be.AppendUint32(b, r.ttl)
	b = be.AppendUint16(b, uint16(len(r.rdata)))
	return append(b, r.rdata...)
}

// wireName returns name in uncompressed wire form (RFC 1035 section 3.1).
// The name must not need escapes; labels are not checked for length, so
// that a case can build a bad one.
func wireName(name string) []byte {
	var b []byte
	if name != "" {
		for l := range strings.SplitSeq(name, ".") {
			b = append(b, byte(len(l)))
			b = append(b, l...)
		}
	}
	return append(b, 0)
}

// opt returns an OPT pseudo-record (RFC 6891 section 6.1.2) advertising
// size, with no options, extended RCODE 0, version 0, DO clear.
func opt(size uint16) record {
	return record{owner: []byte{0}, typ: typeOPT, class: size}
}

// aRecord answers the first question with an IPv4 address.
func aRecord(ttl uint32, a, b, c, d byte) record {
	return record{owner: ptrQuestion, typ: typeA, class: classIN, ttl: ttl, rdata: []byte{a, b, c, d}}
}

// aaaaRecord answers the first question with an IPv6 address in
// 2001:db8::/32 ending in n.
func aaaaRecord(ttl uint32, n uint16) record {
	rd := make([]byte, 16)
	copy(rd, []byte{0x20, 0x01, 0x0d, 0xb8})
	be.PutUint16(rd[14:], n)
	return record{owner: ptrQuestion, typ: typeAAAA, class: classIN, ttl: ttl, rdata: rd}
}
