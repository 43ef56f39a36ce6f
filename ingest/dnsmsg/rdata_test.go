package dnsmsg

import (
	"bytes"
	"testing"
)

// TestMessage_UnpackRData checks the presentation form of each RDATA type the
// package formats, against text written by hand from the RFCs.
func TestMessage_UnpackRData(t *testing.T) {
	v6 := []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}
	mapped := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1}
	bitmap := cat(0, 6, 0x40, 0x01, 0, 0, 0, 0x03, 4, 27, make([]byte, 26), 0x20)
	tests := []struct {
		name  string
		typ   uint16
		rdata []byte
		want  string
		bad   bool // RDATA does not fit the type: RFC 3597 form and BadRData
	}{
		{"A", typeA, []byte{192, 0, 2, 1}, "192.0.2.1", false},
		{"AAAA", typeAAAA, v6, "2001:db8::1", false},
		{"AAAA/v4-mapped", typeAAAA, mapped, "::ffff:192.0.2.1", false},
		{"NS", typeNS, wireName("ns1.example.net"), "ns1.example.net", false},
		{"NS/compressed", typeNS, cat("\x03ns1", 0xC0, 12), "ns1.example.com", false},
		{"CNAME/root", typeCNAME, []byte{0}, ".", false},
		{"DNAME", typeDNAME, wireName("example.org"), "example.org", false},
		{"PTR", typePTR, wireName("host.example"), "host.example", false},
		{"MX", typeMX, cat(u16b(10), "\x04mail", 0xC0, 12), "10 mail.example.com", false},
		{"TXT", typeTXT, cat(11, "hello world", 6, "a\"b\\c", 0xff), `"hello world" "a\"b\\c\255"`, false},
		{"TXT/empty-string", typeTXT, []byte{0}, `""`, false},
		{"SPF", typeSPF, cat(6, "v=spf1"), `"v=spf1"`, false},
		{"HINFO", typeHINFO, cat(5, "INTEL", 5, "Linux"), `"INTEL" "Linux"`, false},
		{
			"SOA", typeSOA,
			cat(wireName("ns.example.com"), wireName("hostmaster.example.com"),
				u32b(2024010101), u32b(7200), u32b(3600), u32b(1209600), u32b(300)),
			"ns.example.com hostmaster.example.com 2024010101 7200 3600 1209600 300", false,
		},
		{"SRV", typeSRV, cat(u16b(10), u16b(60), u16b(5060), wireName("sip.example.com")), "10 60 5060 sip.example.com", false},
		{
			"NAPTR", typeNAPTR,
			cat(u16b(100), u16b(10), 1, "u", 7, "E2U+sip", 27, "!^.*$!sip:info@example.com!", 0),
			`100 10 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .`, false,
		},
		{"CAA", typeCAA, cat(0, 5, "issue", "letsencrypt.org"), `0 issue "letsencrypt.org"`, false},
		{"CAA/empty-tag", typeCAA, cat(0, 0, "x"), `\# 3 000078`, true},
		{"DS", typeDS, cat(u16b(12345), 8, 2, 0xab, 0xcd, 0xef), "12345 8 2 ABCDEF", false},
		{"DS/no-digest", typeDS, cat(u16b(12345), 8, 2), `\# 4 30390802`, true},
		{"DNSKEY", typeDNSKEY, cat(u16b(257), 3, 8, 1, 2, 3), "257 3 8 AQID", false},
		{
			"RRSIG", typeRRSIG,
			cat(u16b(typeA), 8, 2, u32b(3600), u32b(1704067200), u32b(1701388800), u16b(12345),
				wireName("example.com"), 1, 2, 3),
			"A 8 2 3600 20240101000000 20231201000000 12345 example.com AQID", false,
		},
		{"NSEC", typeNSEC, cat(wireName("host.example.com"), bitmap), "host.example.com A MX RRSIG NSEC TYPE1234", false},
		{"NSEC/no-types", typeNSEC, wireName("a.example"), "a.example", false},
		{"NSEC/empty-window", typeNSEC, cat(0, 0, 0), `\# 3 000000`, true},
		{"NSEC/windows-out-of-order", typeNSEC, cat(0, 1, 0, 0x40, 0, 1, 0x40), `\# 7 00010040000140`, true},
		{
			"NSEC3", typeNSEC3,
			cat(1, 1, u16b(12), 4, 0xaa, 0xbb, 0xcc, 0xdd, 5, 0, 0, 0, 0, 1, 0, 1, 0x40),
			"1 1 12 AABBCCDD 00000001 A", false,
		},
		{"NSEC3PARAM", typeNSEC3PARAM, cat(1, 0, u16b(0), 0), "1 0 0 -", false},
		{"TLSA", typeTLSA, cat(3, 1, 1, 0xab, 0xcd), "3 1 1 abcd", false},
		{"SSHFP", typeSSHFP, cat(1, 2, 0xab, 0xcd), "1 2 ABCD", false},
		{"CSYNC", typeCSYNC, cat(u32b(66), u16b(3), 0, 4, 0x60, 0, 0, 0x08), "66 3 A NS AAAA", false},
		{"ZONEMD", typeZONEMD, cat(u32b(2024), 1, 1, 0xab), "2024 1 1 ab", false},
		{"URI", typeURI, cat(u16b(10), u16b(1), "https://a.example/"), `10 1 "https://a.example/"`, false},
		{"DHCID", typeDHCID, []byte{1, 2, 3}, "AQID", false},
		{"TA", typeTA, cat(u16b(1), 8, 2, 0x0f), "1 8 2 0F", false},
		{
			"HTTPS", typeHTTPS,
			cat(u16b(1), 0, u16b(1), u16b(6), 2, "h2", 2, "h3", u16b(3), u16b(2), u16b(443),
				u16b(4), u16b(8), 192, 0, 2, 1, 192, 0, 2, 2, u16b(5), u16b(3), 1, 2, 3, u16b(6), u16b(16), v6),
			`1 . alpn="h2,h3" port="443" ipv4hint="192.0.2.1,192.0.2.2" ech="AQID" ipv6hint="2001:db8::1"`, false,
		},
		{"SVCB/alias", typeSVCB, cat(u16b(0), wireName("svc.example.net")), "0 svc.example.net", false},
		{
			"SVCB/mandatory-and-private-key", typeSVCB,
			cat(u16b(2), 0, u16b(0), u16b(2), u16b(1), u16b(1), u16b(4), 3, "a,b", u16b(667), u16b(3), "x y"),
			`2 . mandatory="alpn" alpn="a\\\044b" key667="x\ y"`, false,
		},
		{"SVCB/keys-out-of-order", typeSVCB, cat(u16b(1), 0, u16b(3), u16b(2), u16b(443), u16b(1), u16b(0)), `\# 13 0001000003000201bb00010000`, true},
		{"A/short", typeA, []byte{1, 2, 3}, `\# 3 010203`, true},
		{"A/long", typeA, []byte{1, 2, 3, 4, 5}, `\# 5 0102030405`, true},
		{"A/empty", typeA, nil, `\# 0`, false},
		{"MX/name-past-rdata", typeMX, cat(u16b(10), 4, "mail"), `\# 7 000a046d61696c`, true},
		{"CNAME/pointer-loop", typeCNAME, []byte{0xC0, 40}, `\# 2 c028`, true},
		{"unknown", 65280, []byte{1, 2, 3}, `\# 3 010203`, false},
		{"OPT-in-answer", typeOPT, []byte{0, 10, 0, 0}, `\# 4 000a0000`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBuilder(1, 1, 0, 0).question("example.com", tt.typ).rr(tt.typ, tt.rdata).b
			var m Message
			m.Unpack(b)
			wantFault := Reason("")
			if tt.bad {
				wantFault = BadRData
			}
			if m.Malformed != wantFault {
				t.Fatalf("Malformed = %q, want %q", m.Malformed, wantFault)
			}
			if len(m.Answer) != 1 {
				t.Fatalf("got %d answers, want 1", len(m.Answer))
			}
			rr := m.Answer[0]
			if got := string(rr.Data); got != tt.want {
				t.Errorf("Data = %q, want %q", got, tt.want)
			}
			if string(rr.Name) != "example.com" || rr.Type != tt.typ || rr.Class != 1 || rr.TTL != 3600 {
				t.Errorf("header = %q %d %d %d", rr.Name, rr.Type, rr.Class, rr.TTL)
			}
		})
	}
}

// TestMessage_UnpackNames checks the escaping of owner names and QNAMEs.
func TestMessage_UnpackNames(t *testing.T) {
	tests := []struct {
		name string
		wire []byte
		want string
	}{
		{"root", []byte{0}, "."},
		{"plain", wireName("www.Example.COM"), "www.Example.COM"},
		{"dot-in-label", cat(3, "a.b", 3, "com", 0), `a\.b.com`},
		{"backslash", cat(3, `a\b`, 0), `a\\b`},
		{"specials", cat(7, ` '@;()"`, 1, "x", 0), `\ \'\@\;\(\)\".x`},
		{"non-printable", cat(4, 0, 0x1f, 0x7f, 0xff, 0), `\000\031\127\255`},
		{"comma-not-escaped", cat(1, ",", 0), ","},
		{"underscore-and-star", cat(1, "*", 4, "_tcp", 0), "*._tcp"},
		{"max-length", cat(63, bytes.Repeat([]byte("a"), 63), 63, bytes.Repeat([]byte("b"), 63),
			63, bytes.Repeat([]byte("c"), 63), 61, bytes.Repeat([]byte("d"), 61), 0),
			string(bytes.Repeat([]byte("a"), 63)) + "." + string(bytes.Repeat([]byte("b"), 63)) + "." +
				string(bytes.Repeat([]byte("c"), 63)) + "." + string(bytes.Repeat([]byte("d"), 61))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBuilder(1, 0, 0, 0).raw(tt.wire...).u16(1).u16(1).b
			var m Message
			m.Unpack(b)
			if m.Malformed != "" {
				t.Fatalf("Malformed = %q", m.Malformed)
			}
			if got := string(m.Questions[0].Name); got != tt.want {
				t.Errorf("Name = %q, want %q", got, tt.want)
			}
		})
	}
}
