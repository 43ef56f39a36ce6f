package dnsmsg

import "encoding/binary"

// headerLen is the size of the fixed header (RFC 1035 section 4.1.1).
const headerLen = 12

// Storage a Message keeps between calls. A hostile message can make the
// arena grow to megabytes (a 2-octet pointer expands to a 255-octet name,
// four times that when escaped); past these sizes the storage is dropped
// rather than pinned for the life of the Message. The arena's bound is
// arbitrary: ten times what a large real response needs. The records' is
// what a 64 KiB message can hold (5,956 records of 11 bytes), to which
// appending grows a slice's capacity: a Message pins 8,192 records a
// section at most (460 KB), and a capture of full messages is decoded
// without allocating, where a bound of 4,096 dropped a zone transfer's
// storage after each message.
const (
	maxKeptArena   = 1 << 20
	maxKeptRecords = 8192
)

// Unpack decodes the DNS message in b into m, replacing its contents and
// reusing its storage. It never fails: what did not parse is reported in
// m.Malformed (empty when all parsed), and the fields hold what parsed before
// the fault. m keeps no reference to b.
//
// In the steady state Unpack does not allocate: presentation text is written
// into an arena owned by m, whose capacity survives from call to call.
func (m *Message) Unpack(b []byte) {
	m.reset(len(b))
	if len(b) < headerLen {
		m.fail(TruncatedHeader)
		return
	}
	m.unpackHeader(b)
	off, ok := m.unpackQuestions(b)
	if ok {
		off, ok = m.unpackSection(b, off, m.ANCount, &m.Answer, false)
	}
	if ok {
		off, ok = m.unpackSection(b, off, m.NSCount, &m.Authority, false)
	}
	if ok {
		off, ok = m.unpackSection(b, off, m.ARCount, &m.Additional, true)
	}
	if ok && off < len(b) {
		m.note(TrailingBytes)
	}
}

// reset empties m, keeping the capacity of its storage unless it is too big.
// It sets the fields one by one: assigning a whole new Message would clear
// and copy the name cache and the RDATA reader too, which cost more than
// decoding a small query.
func (m *Message) reset(size int) {
	arena := m.arena[:0]
	if cap(arena) > maxKeptArena {
		arena = nil
	}
	m.ID, m.Opcode, m.RCode = 0, 0, 0
	m.QR, m.AA, m.TC, m.RD, m.RA, m.Z, m.AD, m.CD = false, false, false, false, false, false, false, false
	m.QDCount, m.ANCount, m.NSCount, m.ARCount = 0, 0, 0, 0
	m.Questions = trim(m.Questions)
	m.Answer = trim(m.Answer)
	m.Authority = trim(m.Authority)
	m.Additional = trim(m.Additional)
	e := &m.EDNS
	e.Present, e.UDPSize, e.Version, e.DO = false, 0, 0, false
	e.Options, e.EDECodes, e.EDETexts = e.Options[:0], e.EDECodes[:0], trim(e.EDETexts)
	e.ECSFamily, e.ECSSourcePrefix, e.ECSScopePrefix = 0, 0, 0
	e.ECSAddress, e.ClientCookie, e.ServerCookie, e.NSID = nil, nil, nil, nil
	m.Size, m.Malformed, m.arena = size, "", arena
	m.names.n = 0
}

// trim empties s, dropping its storage when it is too big to keep.
func trim[T any](s []T) []T {
	if cap(s) > maxKeptRecords {
		return nil
	}
	return s[:0]
}

// fail records a framing fault; parsing stops.
func (m *Message) fail(r Reason) {
	m.Malformed = r
}

// note records a content fault unless an earlier fault is already recorded.
func (m *Message) note(r Reason) {
	if m.Malformed == "" {
		m.Malformed = r
	}
}

// keep copies b into the arena and returns the copy.
func (m *Message) keep(b []byte) []byte {
	start := len(m.arena)
	m.arena = append(m.arena, b...)
	return m.arena[start:len(m.arena):len(m.arena)]
}

// unpackHeader decodes the header (RFC 1035 section 4.1.1; AD and CD from
// RFC 4035 section 3.2; Z is the one bit still reserved).
func (m *Message) unpackHeader(b []byte) {
	m.ID = binary.BigEndian.Uint16(b)
	flags := binary.BigEndian.Uint16(b[2:])
	m.QR = flags&0x8000 != 0
	m.Opcode = uint8(flags>>11) & 0xF
	m.AA = flags&0x0400 != 0
	m.TC = flags&0x0200 != 0
	m.RD = flags&0x0100 != 0
	m.RA = flags&0x0080 != 0
	m.Z = flags&0x0040 != 0
	m.AD = flags&0x0020 != 0
	m.CD = flags&0x0010 != 0
	m.RCode = flags & 0xF
	m.QDCount = binary.BigEndian.Uint16(b[4:])
	m.ANCount = binary.BigEndian.Uint16(b[6:])
	m.NSCount = binary.BigEndian.Uint16(b[8:])
	m.ARCount = binary.BigEndian.Uint16(b[10:])
}

// name appends the name at off to the arena and returns it. A name that runs
// off the end of the message is reported as truncated, the Reason of the
// place it was in.
func (m *Message) name(b []byte, off int, truncated Reason) ([]byte, int, bool) {
	if name, ok := m.names.lookup(b, off); ok {
		return name, off + 2, true
	}
	start := len(m.arena)
	arena, next, hops, fault := appendName(m.arena, b, off)
	m.arena = arena[:start]
	if fault != "" {
		if fault == nameTruncated {
			fault = truncated
		}
		m.fail(fault)
		return nil, 0, false
	}
	m.arena = arena
	name := arena[start:len(arena):len(arena)]
	m.names.add(off, hops, name)
	return name, next, true
}

// unpackQuestions decodes the question section (RFC 1035 section 4.1.2).
func (m *Message) unpackQuestions(b []byte) (int, bool) {
	off := headerLen
	for range m.QDCount {
		name, next, ok := m.name(b, off, TruncatedQuestion)
		if !ok {
			return off, false
		}
		if next+4 > len(b) {
			m.fail(TruncatedQuestion)
			return off, false
		}
		m.Questions = append(m.Questions, Question{
			Name:  name,
			Type:  binary.BigEndian.Uint16(b[next:]),
			Class: binary.BigEndian.Uint16(b[next+2:]),
		})
		off = next + 4
	}
	return off, true
}

// unpackSection decodes count resource records (RFC 1035 section 4.1.3) into
// sec. In the additional section the OPT record goes to m.EDNS instead.
func (m *Message) unpackSection(
	b []byte, off int, count uint16, sec *[]RR, additional bool,
) (int, bool) {
	for range count {
		name, next, ok := m.name(b, off, TruncatedRR)
		if !ok {
			return off, false
		}
		if next+10 > len(b) {
			m.fail(TruncatedRR)
			return off, false
		}
		rr := RR{
			Name:  name,
			Type:  binary.BigEndian.Uint16(b[next:]),
			Class: binary.BigEndian.Uint16(b[next+2:]),
			TTL:   binary.BigEndian.Uint32(b[next+4:]),
		}
		start := next + 10
		end := start + int(binary.BigEndian.Uint16(b[next+8:]))
		if end > len(b) {
			m.fail(TruncatedRData)
			return off, false
		}
		off = end
		if additional && rr.Type == typeOPT {
			if !m.EDNS.Present {
				m.unpackOPT(name, rr.Class, rr.TTL, b[start:end])
				continue
			}
			// RFC 6891 section 6.1.1: at most one OPT per message.
			m.note(BadEDNS)
		}
		rr.Data = m.rdata(b, start, end, rr.Type)
		*sec = append(*sec, rr)
	}
	return off, true
}

// rdata appends the presentation form of b[start:end], the RDATA of a record
// of type t, to the arena and returns it. RDATA that does not parse as its
// type says is written in RFC 3597 form and noted as BadRData. Empty RDATA is
// written "\# 0" whatever the type and is no fault: dynamic update (RFC 2136
// section 2.5) sends it to delete RRsets.
func (m *Message) rdata(b []byte, start, end int, t uint16) []byte {
	base := len(m.arena)
	if f := formatterFor(t); f != nil && end > start {
		r := &m.rd
		r.msg, r.off, r.end, r.bad, r.names = b, start, end, false, &m.names // not a literal: see nameCache.add
		cached := m.names.n
		dst := f(m.arena, r)
		r.msg = nil // Unpack keeps no reference to b
		if !r.bad && r.off == r.end {
			m.arena = dst
			return dst[base:len(dst):len(dst)]
		}
		// The arena is rolled back: forget the names written into it.
		m.arena, m.names.n = dst[:base], cached
		m.note(BadRData)
	}
	m.arena = appendUnknown(m.arena, b[start:end])
	return m.arena[base:len(m.arena):len(m.arena)]
}
