package craft

import "strings"

// compressionLoop answers a query with two answers whose owner names are
// pointers to each other.
func compressionLoop() Case {
	b := newBuilder("compression-loop",
		"a valid query, then a response whose two answer owners are compression pointers "+
			"to each other (offset 30 to 46, 46 to 30): malformed (name_pointer_loop), question kept, no answer",
		"disagrees: shows the question and both answers, owners named "+
			"\"<Name contains a pointer that loops>\"; we keep no answer, the owners being unreadable")
	f := &flow{client: withPort(clientV4, 40070), server: serverV4}
	q := query(0x7001, "loop.example", typeA, 0)
	b.send(f, true, 0, q)

	// The header says two answers; the question ends at offset 30.
	hdr := reply(q, 0)
	msg := hdr.pack()
	be.PutUint16(msg[6:], 2)
	first := len(msg)
	second := first + 2 + 10 + 4
	msg = appendRecord(msg, record{owner: pointer(second), typ: typeA, class: classIN, ttl: 60,
		rdata: []byte{192, 0, 2, 7}})
	msg = appendRecord(msg, record{owner: pointer(first), typ: typeA, class: classIN, ttl: 60,
		rdata: []byte{192, 0, 2, 8}})

	mi := hdr.info()
	mi.malformed = true
	b.udpMsg(f, false, gapRTT, msg, mi)
	return b.done()
}

// pointer returns a compression pointer to offset off (RFC 1035 section
// 4.1.4).
func pointer(off int) []byte { return []byte{0xc0 | byte(off>>8), byte(off)} }

// labelOver63 is a query whose first label claims 64 octets.
func labelOver63() Case {
	b := newBuilder("label-over-63",
		"a query whose QNAME starts with a 64-octet label: its length octet 0x40 has the "+
			"top bits 01, a retired extended label type; malformed (bad_label_type), no question",
		"agrees: shows the header, then Malformed Packet (exception) where the question starts")
	f := &flow{client: withPort(clientV4, 40063), server: serverV4}
	q := query(0x7101, "", typeA, 0)
	msg := q.pack()
	name := wireName(strings.Repeat("x", 64) + ".example")
	msg = append(msg[:12], append(name, msg[13:]...)...)

	mi := q.info()
	mi.qnames, mi.qtypes, mi.malformed = nil, nil, true
	b.udpMsg(f, true, 0, msg, mi)
	return b.done()
}

// forwardPointer is a response whose QNAME is a pointer to the owner name
// of its answer, later in the message.
func forwardPointer() Case {
	b := newBuilder("forward-pointer",
		"a valid query, then a response whose QNAME is a pointer forward to its answer's "+
			"owner name; RFC 1035 wants prior occurrences, but package dnsmsg and tshark "+
			"follow it, so the row is not malformed",
		"agrees: tshark follows the pointer")
	f := &flow{client: withPort(clientV4, 40099), server: serverV4}
	q := query(0x7201, "fwd.example", typeA, 0)
	b.send(f, true, 0, q)

	// Header (12), QNAME pointer (2), QTYPE and QCLASS (4): the answer starts at 18.
	r := reply(q, 0)
	msg := r.pack()[:12]
	be.PutUint16(msg[6:], 1)
	msg = append(msg, pointer(18)...)
	msg = be.AppendUint16(msg, typeA)
	msg = be.AppendUint16(msg, classIN)
	msg = appendRecord(msg, record{owner: wireName("fwd.example"), typ: typeA, class: classIN,
		ttl: 300, rdata: []byte{192, 0, 2, 99}})

	mi := r.info()
	mi.answers = 1
	b.udpMsg(f, false, gapRTT, msg, mi)
	return b.done()
}

// threeQuestions is a query with QDCOUNT 3, answered FORMERR with the
// questions echoed.
func threeQuestions() Case {
	b := newBuilder("three-questions",
		"a query with three questions (A, AAAA, MX) and a FORMERR response echoing them",
		"agrees: tshark lists the three names and types")
	f := &flow{client: withPort(clientV4, 40003), server: serverV4}
	q := message{id: 0x7401, flags: flagRD, questions: []question{
		{"a.example", typeA, classIN},
		{"b.example", typeAAAA, classIN},
		{"c.example", typeMX, classIN},
	}}
	b.send(f, true, 0, q)
	b.send(f, false, gapRTT, reply(q, rcodeFormErr))
	return b.done()
}

// name255 is a query for a name of exactly 255 octets in wire form, its
// NXDOMAIN response, and a query for a name of 256 octets.
func name255() Case {
	b := newBuilder("name-255",
		"a query for a name of exactly 255 octets on the wire (labels of 63, 63, 63 and 61 "+
			"octets), its NXDOMAIN response, then a query for 256 octets (malformed, name_too_long, no question)",
		"agrees on 255 octets; for 256 it shows a question named \"<Name too long>\", type A, "+
			"where we keep none")
	f := &flow{client: withPort(clientV4, 40255), server: serverV4}
	name := longName(61)
	q := query(0x7501, name, typeA, 0)
	b.send(f, true, 0, q)
	b.send(f, false, gapRTT, reply(q, rcodeNXDomain))

	tooLong := query(0x7502, longName(62), typeA, 0)
	mi := tooLong.info()
	mi.qnames, mi.qtypes, mi.malformed = nil, nil, true
	b.udpMsg(f, true, gapNext, tooLong.pack(), mi)
	return b.done()
}

// longName returns three labels of 63 octets and one of last octets: in
// wire form, 4*1 + 189 + last + 1 octets.
func longName(last int) string {
	return strings.Join([]string{
		strings.Repeat("a", 63), strings.Repeat("b", 63), strings.Repeat("c", 63),
		strings.Repeat("d", last),
	}, ".")
}

// snaplenCut is a response cut by a snaplen of 96 octets inside its second
// answer.
func snaplenCut() Case {
	b := newBuilder("snaplen-cut",
		"a file with snaplen 96: the query fits, the 3-answer response is cut inside its "+
			"second answer (54 of 78 DNS octets kept); snapped and malformed (truncated_rr), 1 answer whole",
		"agrees: shows the question and the first answer, then \"Packet size limited during capture\"")
	b.c.Snaplen = 96
	f := &flow{client: withPort(clientV4, 40096), server: serverV4}
	q := query(0x7301, "snap.example", typeA, 0)
	b.send(f, true, 0, q)

	r := reply(q, 0, aRecord(30, 192, 0, 2, 1), aRecord(30, 192, 0, 2, 2), aRecord(30, 192, 0, 2, 3))
	mi := r.info()
	mi.answers, mi.malformed, mi.snapped = 1, true, true
	b.udpMsg(f, false, gapRTT, r.pack(), mi)
	return b.done()
}
