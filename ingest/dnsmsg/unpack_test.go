package dnsmsg

import (
	"bytes"
	"slices"
	"testing"
)

// TestMessage_UnpackHeader checks every header field.
func TestMessage_UnpackHeader(t *testing.T) {
	tests := []struct {
		name  string
		flags uint16
		want  Message
	}{
		{"query", 0x0100, Message{RD: true}},
		{"response", 0x8580, Message{QR: true, AA: true, RD: true, RA: true}},
		{"all-bits", 0xFFFF, Message{QR: true, Opcode: 15, AA: true, TC: true, RD: true, RA: true,
			Z: true, AD: true, CD: true, RCode: 15}},
		{"notify", 0x2000, Message{Opcode: 4}},
		{"nxdomain-ad-cd", 0x8033, Message{QR: true, AD: true, CD: true, RCode: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := (&builder{}).u16(0xBEEF).u16(tt.flags).u16(0).u16(0).u16(0).u16(0).b
			var m Message
			m.Unpack(b)
			want := tt.want
			want.ID = 0xBEEF
			want.Size = 12
			got := m
			got.arena, got.Questions, got.Answer, got.Authority, got.Additional = nil, nil, nil, nil, nil
			got.EDNS = EDNS{}
			if !equalHeader(got, want) {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

func equalHeader(a, b Message) bool {
	return a.ID == b.ID && a.QR == b.QR && a.Opcode == b.Opcode && a.AA == b.AA && a.TC == b.TC &&
		a.RD == b.RD && a.RA == b.RA && a.Z == b.Z && a.AD == b.AD && a.CD == b.CD &&
		a.RCode == b.RCode && a.Size == b.Size && a.Malformed == b.Malformed
}

// opt returns an OPT record with the given TTL field and options.
func opt(ttl uint32, options ...[]byte) []byte {
	rdata := bytes.Join(options, nil)
	return cat([]byte{0}, u16b(typeOPT), u16b(1232), u32b(ttl), u16b(uint16(len(rdata))), rdata)
}

// option returns one EDNS option.
func option(code uint16, data ...any) []byte {
	d := cat(data...)
	return cat(u16b(code), u16b(uint16(len(d))), d)
}

// TestMessage_UnpackEDNS checks the OPT record and the options the package
// decodes.
func TestMessage_UnpackEDNS(t *testing.T) {
	b := newBuilder(1, 0, 0, 1).question("example.com", typeA).raw(opt(0x01008000,
		option(optSubnet, u16b(familyIPv4), 24, 0, 192, 0, 2),
		option(optCookie, "clientck", "server-cookie-16"),
		option(optNSID, "ns1"),
		option(optEDE, u16b(18), "prohibited"),
		option(12, make([]byte, 5)),
		option(optEDE, u16b(3)),
		option(optEDE, u16b(0), "\xff\\x"),
	)...).b
	var m Message
	m.Unpack(b)
	if m.Malformed != "" {
		t.Fatalf("Malformed = %q", m.Malformed)
	}
	e := m.EDNS
	checks := []struct {
		name      string
		got, want any
	}{
		{"Present", e.Present, true},
		{"UDPSize", e.UDPSize, uint16(1232)},
		{"Version", e.Version, uint8(0)},
		{"DO", e.DO, true},
		{"RCode", m.RCode, uint16(16)},
		{"Options", e.Options, []uint16{8, 10, 3, 15, 12, 15, 15}},
		{"ECSFamily", e.ECSFamily, uint16(1)},
		{"ECSSourcePrefix", e.ECSSourcePrefix, uint8(24)},
		{"ECSScopePrefix", e.ECSScopePrefix, uint8(0)},
		{"ECSAddress", string(e.ECSAddress), "192.0.2.0"},
		{"ClientCookie", string(e.ClientCookie), "clientck"},
		{"ServerCookie", string(e.ServerCookie), "server-cookie-16"},
		{"NSID", string(e.NSID), "ns1"},
		{"EDECodes", e.EDECodes, []uint16{18, 3, 0}},
		{"EDETexts", len(e.EDETexts), 3},
		{"EDETexts[2]", string(e.EDETexts[2]), `\255\\x`}, // not UTF-8: escaped, for text columns
		{"EDETexts[0]", string(e.EDETexts[0]), "prohibited"},
		{"EDETexts[1]", string(e.EDETexts[1]), ""},
		{"Additional", len(m.Additional), 0},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if !equalAny(c.got, c.want) {
				t.Errorf("got %v, want %v", c.got, c.want)
			}
		})
	}
}

func equalAny(a, b any) bool {
	if x, ok := a.([]uint16); ok {
		return slices.Equal(x, b.([]uint16))
	}
	return a == b
}

// TestMessage_UnpackEDNSOptions checks the decoded options one at a time,
// and the faults of a wrong OPT record.
func TestMessage_UnpackEDNSOptions(t *testing.T) {
	tests := []struct {
		name   string
		opt    []byte
		rcode  uint16 // header RCODE 0 plus the extended bits
		ecs    string
		client string
		server string
		fault  Reason
	}{
		{"badvers", opt(0x01000000), 16, "", "", "", ""},
		{"badcookie", opt(0x01000000, option(optCookie, "12345678")), 16, "", "12345678", "", ""},
		{"ecs-v6", opt(0, option(optSubnet, u16b(familyIPv6), 56, 48, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 2)),
			0, "2001:db8:1:200::", "", "", ""},
		{"ecs-v4-zero-prefix", opt(0, option(optSubnet, u16b(familyIPv4), 0, 0)), 0, "0.0.0.0", "", "", ""},
		{"ecs-unknown-family", opt(0, option(optSubnet, u16b(3), 8, 0, 0xab)), 0, "ab", "", "", ""},
		{"ecs-v4-too-long", opt(0, option(optSubnet, u16b(familyIPv4), 32, 0, 1, 2, 3, 4, 5)), 0, "", "", "", BadEDNS},
		{"ecs-short", opt(0, option(optSubnet, u16b(familyIPv4))), 0, "", "", "", BadEDNS},
		{"cookie-short", opt(0, option(optCookie, "12345")), 0, "", "", "", BadEDNS},
		{"cookie-server-short", opt(0, option(optCookie, "12345678abc")), 0, "", "12345678", "abc", BadEDNS},
		{"option-overrun", cat(opt(0, []byte{0, 3, 0, 9, 1})), 0, "", "", "", BadEDNS},
		{"option-stub", cat(opt(0, []byte{0, 3, 0})), 0, "", "", "", BadEDNS},
		{"owner-not-root", cat(wireName("a"), opt(0)[1:]), 0, "", "", "", BadEDNS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBuilder(1, 0, 0, 1).question("example.com", typeA).raw(tt.opt...).b
			var m Message
			m.Unpack(b)
			if m.Malformed != tt.fault {
				t.Errorf("Malformed = %q, want %q", m.Malformed, tt.fault)
			}
			if !m.EDNS.Present || m.RCode != tt.rcode {
				t.Errorf("Present, RCode = %v, %d, want true, %d", m.EDNS.Present, m.RCode, tt.rcode)
			}
			got := []string{string(m.EDNS.ECSAddress), string(m.EDNS.ClientCookie), string(m.EDNS.ServerCookie)}
			if want := []string{tt.ecs, tt.client, tt.server}; tt.fault == "" && !slices.Equal(got, want) {
				t.Errorf("ECS, cookies = %q, want %q", got, want)
			}
		})
	}
}

// TestMessage_UnpackSecondOPT checks that a second OPT record is kept in
// Additional and faulted, while the first fills EDNS.
func TestMessage_UnpackSecondOPT(t *testing.T) {
	b := newBuilder(0, 0, 0, 2).raw(opt(0, option(optNSID, "a"))...).raw(opt(0x01000000)...).b
	var m Message
	m.Unpack(b)
	if m.Malformed != BadEDNS {
		t.Errorf("Malformed = %q, want %q", m.Malformed, BadEDNS)
	}
	if string(m.EDNS.NSID) != "a" || m.RCode != 0 {
		t.Errorf("NSID, RCode = %q, %d; want the first OPT", m.EDNS.NSID, m.RCode)
	}
	if len(m.Additional) != 1 || string(m.Additional[0].Data) != `\# 0` {
		t.Errorf("Additional = %+v, want the second OPT", m.Additional)
	}
}

// TestMessage_UnpackMalformed checks the Reason of each malformation and
// what was kept from before it.
func TestMessage_UnpackMalformed(t *testing.T) {
	q := func(qd, an, ns, ar uint16) *builder {
		return newBuilder(qd, an, ns, ar).question("example.com", typeA)
	}
	longLabel := bytes.Repeat([]byte("a"), 63)
	chain126, chain127 := pointerChain(125), pointerChain(126)
	tests := []struct {
		name      string
		msg       []byte
		fault     Reason
		questions int
		records   int // in all three sections
	}{
		{"empty", nil, TruncatedHeader, 0, 0},
		{"header-11", make([]byte, 11), TruncatedHeader, 0, 0},
		{"header-only", make([]byte, 12), "", 0, 0},
		{"qname-cut", newBuilder(1, 0, 0, 0).raw(7, 'e', 'x').b, TruncatedQuestion, 0, 0},
		{"qname-no-end", newBuilder(1, 0, 0, 0).raw(1, 'a').b, TruncatedQuestion, 0, 0},
		{"qtype-cut", newBuilder(1, 0, 0, 0).name("a").raw(0, 1, 0).b, TruncatedQuestion, 0, 0},
		{"qdcount-lies", q(2, 0, 0, 0).b, TruncatedQuestion, 1, 0},
		{"ancount-lies", q(1, 1, 0, 0).b, TruncatedRR, 1, 0},
		{"rr-fixed-cut", q(1, 1, 0, 0).raw(0xC0, 12, 0, 1, 0, 1, 0).b, TruncatedRR, 1, 0},
		{"rr-pointer-cut", q(1, 1, 0, 0).raw(0xC0).b, TruncatedRR, 1, 0},
		{"rdata-cut", q(1, 2, 0, 0).rr(typeA, []byte{1, 2, 3, 4}).raw(0xC0, 12).u16(1).u16(1).u32(0).u16(4).raw(1).b,
			TruncatedRData, 1, 1},
		{"pointer-self", newBuilder(1, 0, 0, 0).raw(0xC0, 12).u16(1).u16(1).b, NamePointerLoop, 0, 0},
		{"pointer-pair", newBuilder(2, 0, 0, 0).raw(0xC0, 18, 0, 1, 0, 1, 0xC0, 12, 0, 1, 0, 1).b, NamePointerLoop, 0, 0},
		{"pointer-past-end", newBuilder(1, 0, 0, 0).raw(0xC0, 200, 0, 1, 0, 1).b, NameBadPointer, 0, 0},
		{"pointer-to-end", newBuilder(1, 0, 0, 0).raw(0xC0, 18, 0, 1, 0, 1).b, NameBadPointer, 0, 0},
		{"label-0x40", newBuilder(1, 0, 0, 0).raw(0x41, 1, 'a', 0, 0, 1, 0, 1).b, BadLabelType, 0, 0},
		{"label-0x80", newBuilder(1, 0, 0, 0).raw(0x80, 0, 1, 0, 1).b, BadLabelType, 0, 0},
		{"owner-bad-label", q(1, 1, 0, 0).raw(0x40).b, BadLabelType, 1, 0},
		{"name-256", newBuilder(1, 0, 0, 0).raw(cat(63, longLabel, 63, longLabel, 63, longLabel, 62,
			longLabel[:62], 0, 0, 1, 0, 1)...).b, NameTooLong, 0, 0},
		{"name-long-via-pointers", newBuilder(1, 1, 0, 0).raw(cat(63, longLabel, 63, longLabel, 63, longLabel,
			0, 0, 1, 0, 1)...).raw(cat(63, longLabel, 0xC0, 12, 0, 1, 0, 1, u32b(0), 0, 0)...).b, NameTooLong, 1, 0},
		{"forward-pointer", newBuilder(1, 1, 0, 0).raw(0xC0, 18, 0, 1, 0, 1, 1, 'a', 0, 0, 1, 0, 1).raw(u32b(0)...).u16(0).b,
			"", 1, 1},
		{"pointer-chain-126", chain126, "", 1, 1},
		{"pointer-chain-127", chain127, NamePointerLoop, 1, 0},
		{"trailing", cat(q(1, 0, 0, 0).b, 0, 0), TrailingBytes, 1, 0},
		{"bad-rdata-then-cut", q(1, 2, 0, 0).rr(typeA, []byte{1}).raw(0xC0).b, TruncatedRR, 1, 1},
		{"bad-rdata-then-trailing", cat(q(1, 1, 0, 0).rr(typeA, []byte{1}).b, 0), BadRData, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m Message
			m.Unpack(tt.msg)
			if m.Malformed != tt.fault {
				t.Errorf("Malformed = %q, want %q", m.Malformed, tt.fault)
			}
			if m.Size != len(tt.msg) {
				t.Errorf("Size = %d, want %d", m.Size, len(tt.msg))
			}
			if len(m.Questions) != tt.questions {
				t.Errorf("got %d questions, want %d", len(m.Questions), tt.questions)
			}
			if n := len(m.Answer) + len(m.Authority) + len(m.Additional); n != tt.records {
				t.Errorf("got %d records, want %d", n, tt.records)
			}
		})
	}
}

// TestMessage_UnpackForwardPointer checks the name a forward pointer reads.
func TestMessage_UnpackForwardPointer(t *testing.T) {
	b := newBuilder(1, 1, 0, 0).raw(0xC0, 18, 0, 1, 0, 1, 1, 'a', 0, 0, 1, 0, 1).raw(u32b(0)...).u16(0).b
	var m Message
	m.Unpack(b)
	if got := string(m.Questions[0].Name); got != "a" {
		t.Errorf("QNAME = %q, want %q", got, "a")
	}
}

// TestMessage_UnpackReuse checks that a Message reused after a large,
// faulty message decodes the next one as a fresh Message does.
func TestMessage_UnpackReuse(t *testing.T) {
	big := newBuilder(1, 3, 0, 1).question("first.example", typeTXT).
		rr(typeTXT, cat(3, "abc")).rr(typeA, []byte{1, 2, 3}).rr(typeMX, cat(u16b(1), 0)).
		raw(opt(0x01008000, option(optNSID, "x"), option(optEDE, u16b(1), "t"))...).b
	small := newBuilder(1, 1, 0, 0).question("b.example", typeA).rr(typeA, []byte{9, 9, 9, 9}).b
	var reused, fresh Message
	reused.Unpack(big)
	reused.Unpack(small)
	fresh.Unpack(small)
	if diff := diffMessages(&reused, &fresh); diff != "" {
		t.Error(diff)
	}
}

// TestMessage_UnpackFullKeepsStorage: a message as full of records as 64
// KiB holds (5,956 of 11 bytes: root owner, no RDATA) is decoded again in
// the storage of the last, without allocating. Storage past 4,096 records
// was dropped after each message: a capture of 64 KiB responses of 4,000
// address records then allocated 350 KB a message, and a Parquet export
// of two such files spent more time in the kernel zeroing fresh pages
// than decoding.
func TestMessage_UnpackFullKeepsStorage(t *testing.T) {
	const records = (65535 - 12 - 5) / 11
	w := newBuilder(1, records, 0, 0).question(".", typeA)
	for range records {
		w.name(".").u16(65280).u16(1).u32(0).u16(0)
	}
	var m Message
	m.Unpack(w.b)
	if m.Malformed != "" || len(m.Answer) != records {
		t.Fatalf("Malformed %q, %d answers, want %d", m.Malformed, len(m.Answer), records)
	}
	if n := testing.AllocsPerRun(10, func() { m.Unpack(w.b) }); n != 0 {
		t.Errorf("%v allocations a message of %d records, want 0", n, records)
	}
}

// pointerChain returns a response whose answer's owner is a pointer to the
// last of n pointers held in its RDATA, each pointing to the one before it
// and the first to the QNAME: the owner takes n+1 pointers to read.
func pointerChain(n int) []byte {
	const rdataStart = 12 + 17 + 12
	w := newBuilder(1, 1, 0, 0).question("example.com", typeA)
	last := rdataStart + 2*(n-1)
	w.raw(0xC0|byte(last>>8), byte(last)).u16(65280).u16(1).u32(0).u16(uint16(2 * n))
	for i := range n {
		prev := 12
		if i > 0 {
			prev = rdataStart + 2*(i-1)
		}
		w.raw(0xC0|byte(prev>>8), byte(prev))
	}
	return w.b
}

// TestMessage_UnpackNameCacheRollback checks that a name read inside RDATA
// that turned out bad, and was rewritten in RFC 3597 form, is not served to a
// later pointer from the discarded text.
func TestMessage_UnpackNameCacheRollback(t *testing.T) {
	const mxName = 12 + 17 + 12 + 2 // header, question, owner and fixed fields, preference
	b := newBuilder(1, 2, 0, 0).question("example.com", typeA).
		rr(typeMX, cat(u16b(10), 3, "abc", 0, 0xff)).
		rr(typeCNAME, []byte{0xC0, mxName}).b
	var m Message
	m.Unpack(b)
	if m.Malformed != BadRData || len(m.Answer) != 2 {
		t.Fatalf("Malformed, answers = %q, %d", m.Malformed, len(m.Answer))
	}
	if got := string(m.Answer[1].Data); got != "abc" {
		t.Errorf("CNAME = %q, want %q", got, "abc")
	}
}
