package dnsmsg

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// Deliberate differences from miekg/dns, kept out of the generated records:
//
//   - Empty RDATA is "\# 0" here for every type; miekg prints nothing (or,
//     for unknown types, "\# 0 " with a trailing space).
//   - A CAA value or URI target holding a backslash: miekg reads "\." in the
//     raw value as an escape; here every octet is escaped as in a TXT string.
//   - SMIMEA data is one hex run here; miekg splits it every 1024 digits.
//   - NULL is RFC 3597 form here; miekg prints its own ";" comment form.
//   - Type mnemonics miekg lacks (WKS, A6, SINK, DSYNC, DOA, WALLET, CLA, IPN,
//     NSAP, PX, GPOS, HIP, RKEY, TALINK, ...) are printed by name here and as
//     TYPEnnn by miekg; types 0 and 65535 print TYPE0 and TYPE65535 here,
//     "None" and "Reserved" there.
//   - A type bitmap, SVCB parameter list or ipv6hint miekg refuses makes it
//     fail the whole message; here only that record is RFC 3597 and BadRData.

// crossRecords are master-file records covering every formatted type and the
// escaping of names and strings.
var crossRecords = []string{
	`a.example. 300 IN A 192.0.2.1`,
	`a.example. IN AAAA 2001:db8::1`,
	`a.example. IN AAAA ::ffff:192.0.2.1`,
	`a.example. IN AAAA ::`,
	`a.example. IN NS ns1.example.`,
	`a.example. IN CNAME b.example.`,
	`a.example. IN CNAME .`,
	`a.example. IN DNAME b.example.`,
	`1.2.0.192.in-addr.arpa. IN PTR host.example.`,
	`a.example. IN MX 10 mail.a.example.`,
	`a.example. IN TXT "hello world" "a\"b\\c" "\000\255x" ""`,
	`a.example. IN TXT "semi;colon (paren) @at 'apos'"`,
	`a.example. IN SPF "v=spf1 -all"`,
	`a.example. IN SOA ns.a.example. host\.master.a.example. 2024 7200 3600 1209600 300`,
	`_sip._tcp.a.example. IN SRV 10 60 5060 sip.a.example.`,
	`a.example. IN NAPTR 100 10 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .`,
	`a.example. IN NAPTR 100 10 "" "" "" replacement.a.example.`,
	`a.example. IN HINFO "INTEL" "Linux 6"`,
	`a.example. IN CAA 0 issue "letsencrypt.org"`,
	`a.example. IN CAA 128 iodef "mailto:a@example.com"`,
	`a.example. IN DS 12345 8 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE`,
	`a.example. IN CDS 0 0 0 00`,
	`a.example. IN DLV 1 8 2 0F`,
	`a.example. IN TA 1 8 2 0F`,
	`a.example. IN DNSKEY 257 3 8 AwEAAagAIKlVZrpC6Ia7gEzahOR+9W29euxhJhVVLOyQbSEW0O8gcCjFFVQUTf6v58fLjwBd0YI0EzrAcQqBGCzh/RStIoO8g0NfnfL2MTJRkxoXbfDaUeVPQuYEhg37NZWAJQ9VnMVDxP/VHL496M/QZxkjf5/Efucp2gaDX6RS6CXpoY68LsvPVjR0ZSwzz1apAzvN9dlzEheX7ICJBBtuA6G3LQpzW5hOA2hzCTMjJPJ8LbqF6dsV6DoBQzgul0sGIcGOYl7OyQdXfZ57relSQageu+ipAdTTJ25AsRTAoub8ONGcLmqrAmRLKBP1dfwhYB4N7knNnulqQxA+Uk1ihz0=`,
	`a.example. IN CDNSKEY 0 3 0 AA==`,
	`a.example. IN KEY 256 3 8 AwEAAQ==`,
	`a.example. IN RRSIG A 8 2 3600 20240101000000 20231201000000 12345 a.example. dGVzdHNpZw==`,
	`a.example. IN RRSIG TYPE1234 13 3 60 21060207062815 19700101000000 1 . AQ==`,
	`a.example. IN SIG A 8 2 3600 20240101000000 20231201000000 12345 a.example. dGVzdHNpZw==`,
	`a.example. IN NSEC b.example. A MX RRSIG NSEC TYPE1234`,
	`a.example. IN NSEC \000.a.example. A NS SOA MX TXT AAAA RRSIG NSEC DNSKEY CAA TYPE65534`,
	`a.example. IN NSEC3 1 1 12 AABBCCDD 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR A RRSIG`,
	`a.example. IN NSEC3 1 0 0 - 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR`,
	`a.example. IN NSEC3PARAM 1 0 0 -`,
	`a.example. IN NSEC3PARAM 1 0 10 AABB`,
	`_443._tcp.a.example. IN TLSA 3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6`,
	`a.example. IN SMIMEA 3 1 1 ABCD`,
	`a.example. IN SSHFP 1 2 123456789abcdef67890123456789abcdef67890123456789abcdef123456789`,
	`a.example. IN HTTPS 1 . alpn="h2,h3" port="443" ipv4hint="192.0.2.1,192.0.2.2" ech="AQID" ipv6hint="2001:db8::1"`,
	`a.example. IN SVCB 0 svc.example.`,
	`a.example. IN SVCB 2 svc.example. mandatory="alpn,port" alpn="h2" port="8443" key667="hello" dohpath="/dns-query{?dns}"`,
	`a.example. IN HTTPS 1 . no-default-alpn="" alpn="h3,a\\\044b,c\\\092d"`,
	`a.example. IN SVCB 3 . key65000="a\"b;c d\\\\e\255"`,
	`a.example. IN TYPE65280 \# 3 010203`,
	`a.example. IN MINFO r.a.example. e.a.example.`,
	`a.example. IN RP mbox.a.example. txt.a.example.`,
	`a.example. IN AFSDB 1 afs.a.example.`,
	`a.example. IN KX 10 kx.a.example.`,
	`a.example. IN RT 10 rt.a.example.`,
	`a.example. IN LP 10 l.a.example.`,
	`a.example. IN MB mb.a.example.`,
	`a.example. IN MG mg.a.example.`,
	`a.example. IN MR mr.a.example.`,
	`a.example. IN MD md.a.example.`,
	`a.example. IN MF mf.a.example.`,
	`a.example. IN NSAP-PTR nsap.a.example.`,
	`a.example. IN OPENPGPKEY AQID`,
	`a.example. IN DHCID AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=`,
	`a.example. IN URI 10 1 "https://a.example/"`,
	`a.example. IN CSYNC 66 3 A NS AAAA`,
	`a.example. IN ZONEMD 2024 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef`,
	`a.example. IN NINFO "x" "y z"`,
	`a.example. IN AVC "app-name:WebEx" "app-class:OAM"`,
	`a.example. IN RESINFO "qnamemin" "exterr=15-17"`,
	`a\.b\ c\(\)\;\@\"\\\000\255.example. IN MX 0 x\.y\ z\(\)\;\@\"\\\000\255.example.`,
	`*._tcp.a.example. CH TXT "chaos"`,
}

// crossNames are owner names mixed into the generated messages.
var crossNames = []string{
	".", "example.", "a.example.", "www.a.example.", `we\.ird\ \"name\"\;\(x\).example.`,
	`\000\001\127\128\255.example.`, "xn--bcher-kva.example.", "_dmarc.a.example.", "*.a.example.",
	"very-long-label-01234567890123456789012345678901234567890123456.example.",
}

// randomMessages returns n varied messages built from crossRecords, each
// with random owners, TTLs, sections, header bits and sometimes EDNS.
func randomMessages(t testing.TB, n int) []*dns.Msg {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var out []*dns.Msg
	for i := range n {
		m := new(dns.Msg)
		m.Id = uint16(rng.UintN(1 << 16))
		m.Response = rng.IntN(2) == 0
		m.Opcode = rng.IntN(6)
		m.Authoritative, m.Truncated = rng.IntN(2) == 0, rng.IntN(5) == 0
		m.RecursionDesired, m.RecursionAvailable = rng.IntN(2) == 0, rng.IntN(2) == 0
		m.Zero, m.AuthenticatedData, m.CheckingDisabled = rng.IntN(5) == 0, rng.IntN(2) == 0, rng.IntN(2) == 0
		m.Rcode = rng.IntN(11)
		m.Compress = i%2 == 0
		for range rng.IntN(3) {
			m.Question = append(m.Question, dns.Question{
				Name: crossNames[rng.IntN(len(crossNames))], Qtype: uint16(rng.IntN(300)), Qclass: dns.ClassINET,
			})
		}
		for range 1 + rng.IntN(8) {
			rr := mustRR(t, crossRecords[rng.IntN(len(crossRecords))])
			if rng.IntN(2) == 0 {
				rr.Header().Name = crossNames[rng.IntN(len(crossNames))]
			}
			rr.Header().Ttl = rng.Uint32()
			switch rng.IntN(3) {
			case 0:
				m.Answer = append(m.Answer, rr)
			case 1:
				m.Ns = append(m.Ns, rr)
			default:
				m.Extra = append(m.Extra, rr)
			}
		}
		if rng.IntN(2) == 0 {
			m.Extra = append(m.Extra, randomOPT(rng))
		}
		out = append(out, m)
	}
	return out
}

func mustRR(t testing.TB, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return rr
}

// randomOPT returns an OPT record with a random selection of options.
func randomOPT(rng *rand.Rand) *dns.OPT {
	o := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
	o.SetUDPSize(uint16(512 + rng.IntN(4000)))
	o.SetDo(rng.IntN(2) == 0)
	o.SetVersion(uint8(rng.IntN(2)))
	o.SetExtendedRcode(uint16(rng.IntN(4)) << 4)
	if rng.IntN(2) == 0 {
		o.Option = append(o.Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1,
			SourceNetmask: 24, SourceScope: 0, Address: net.IPv4(198, 51, 100, byte(rng.IntN(256)))})
	}
	if rng.IntN(2) == 0 {
		o.Option = append(o.Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 2,
			SourceNetmask: 56, SourceScope: 48, Address: net.ParseIP("2001:db8:1:2300::")})
	}
	if rng.IntN(2) == 0 {
		o.Option = append(o.Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE,
			Cookie: "0102030405060708" + strings.Repeat("ab", 8*rng.IntN(4))})
	}
	if rng.IntN(2) == 0 {
		o.Option = append(o.Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID, Nsid: "6e7331"})
	}
	if rng.IntN(2) == 0 {
		o.Option = append(o.Option, &dns.EDNS0_EDE{InfoCode: uint16(rng.IntN(30)), ExtraText: "extra text"})
	}
	if rng.IntN(2) == 0 {
		o.Option = append(o.Option, &dns.EDNS0_PADDING{Padding: make([]byte, rng.IntN(40))})
	}
	return o
}

// TestMessage_UnpackCrossCheck packs varied messages with miekg/dns and
// compares every field with miekg's own decoding of the same octets.
func TestMessage_UnpackCrossCheck(t *testing.T) {
	var m Message
	for i, msg := range randomMessages(t, 600) {
		b, err := msg.Pack()
		if err != nil {
			t.Fatalf("message %d: pack: %v", i, err)
		}
		want := new(dns.Msg)
		if err := want.Unpack(b); err != nil {
			t.Fatalf("message %d: miekg unpack: %v", i, err)
		}
		m.Unpack(b)
		for _, d := range crossDiff(&m, want) {
			t.Errorf("message %d: %s", i, d)
		}
	}
}

// crossDiff lists the fields where m and miekg's decoding disagree.
func crossDiff(m *Message, w *dns.Msg) []string {
	var diffs []string
	check := func(what string, got, want any) {
		if fmt.Sprint(got) != fmt.Sprint(want) {
			diffs = append(diffs, fmt.Sprintf("%s = %v, want %v", what, got, want))
		}
	}
	check("Malformed", m.Malformed, "")
	check("header", []any{m.ID, m.QR, m.Opcode, m.AA, m.TC, m.RD, m.RA, m.Z, m.AD, m.CD, m.RCode},
		[]any{w.Id, w.Response, w.Opcode, w.Authoritative, w.Truncated, w.RecursionDesired,
			w.RecursionAvailable, w.Zero, w.AuthenticatedData, w.CheckingDisabled, w.Rcode})
	check("questions", len(m.Questions), len(w.Question))
	for i := range min(len(m.Questions), len(w.Question)) {
		q, wq := m.Questions[i], w.Question[i]
		check("question", []any{string(q.Name), q.Type, q.Class}, []any{bareName(wq.Name), wq.Qtype, wq.Qclass})
	}
	extra := slices.DeleteFunc(slices.Clone(w.Extra), func(rr dns.RR) bool { return rr.Header().Rrtype == dns.TypeOPT })
	for _, s := range []struct {
		name string
		got  []RR
		want []dns.RR
	}{{"answer", m.Answer, w.Answer}, {"authority", m.Authority, w.Ns}, {"additional", m.Additional, extra}} {
		check(s.name+" count", len(s.got), len(s.want))
		for i := range min(len(s.got), len(s.want)) {
			rr, h := s.got[i], s.want[i].Header()
			check(s.name, []any{string(rr.Name), rr.Type, rr.Class, rr.TTL, string(rr.Data)},
				[]any{bareName(h.Name), h.Rrtype, h.Class, h.Ttl, miekgRData(s.want[i])})
		}
	}
	return append(diffs, ednsDiff(m, w.IsEdns0())...)
}

// ednsDiff lists the EDNS fields where m and miekg's OPT record disagree.
func ednsDiff(m *Message, o *dns.OPT) []string {
	if o == nil {
		if m.EDNS.Present {
			return []string{"EDNS present, want absent"}
		}
		return nil
	}
	e := m.EDNS
	want := []any{true, o.UDPSize(), o.Version(), o.Do()}
	got := []any{e.Present, e.UDPSize, e.Version, e.DO}
	var codes []uint16
	var ede []string
	var ecs *dns.EDNS0_SUBNET // the last one, which Message keeps
	for _, opt := range o.Option {
		codes = append(codes, opt.Option())
		switch v := opt.(type) {
		case *dns.EDNS0_SUBNET:
			ecs = v
		case *dns.EDNS0_COOKIE:
			want = append(want, v.Cookie)
			got = append(got, hex.EncodeToString(e.ClientCookie)+hex.EncodeToString(e.ServerCookie))
		case *dns.EDNS0_NSID:
			want = append(want, v.Nsid)
			got = append(got, hex.EncodeToString(e.NSID))
		case *dns.EDNS0_EDE:
			ede = append(ede, fmt.Sprint(v.InfoCode, v.ExtraText))
		}
	}
	if ecs != nil {
		want = append(want, ecs.Family, ecs.SourceNetmask, ecs.SourceScope, ecs.Address.String())
		got = append(got, e.ECSFamily, e.ECSSourcePrefix, e.ECSScopePrefix, string(e.ECSAddress))
	}
	want = append(want, codes)
	got = append(got, e.Options)
	for i := range e.EDECodes {
		got = append(got, fmt.Sprint(e.EDECodes[i], string(e.EDETexts[i])))
	}
	for _, s := range ede {
		want = append(want, s)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		return []string{fmt.Sprintf("EDNS = %v, want %v", got, want)}
	}
	return nil
}

// bareName strips the trailing dot miekg/dns keeps on every name.
func bareName(s string) string {
	if s == "." {
		return s
	}
	return strings.TrimSuffix(s, ".")
}

// miekgRData returns miekg's presentation of rr without the owner, TTL,
// class and type, and without the trailing dot of the names in it.
func miekgRData(rr dns.RR) string {
	parts := strings.SplitN(rr.String(), "\t", 5)
	if len(parts) < 5 {
		return ""
	}
	return stripNameDots(parts[4])
}

// stripNameDots removes the trailing dot of every unquoted token that ends in
// an unescaped dot, except the root name ".".
func stripNameDots(s string) string {
	var out strings.Builder
	quoted := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			out.WriteByte(c)
			out.WriteByte(s[i+1])
			i++
			continue
		case c == '"':
			quoted = !quoted
		case c == '.' && !quoted && (i+1 == len(s) || s[i+1] == ' ') && i > 0 && s[i-1] != ' ':
			continue
		}
		out.WriteByte(c)
	}
	return out.String()
}
