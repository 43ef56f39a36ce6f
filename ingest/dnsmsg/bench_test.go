package dnsmsg

import (
	"testing"

	"github.com/miekg/dns"
)

// benchMessages are typical messages of a resolver's traffic.
func benchMessages(b *testing.B) map[string][]byte {
	b.Helper()
	pack := func(m *dns.Msg) []byte {
		m.Compress = true
		out, err := m.Pack()
		if err != nil {
			b.Fatal(err)
		}
		return out
	}
	query := new(dns.Msg).SetQuestion("www.example.com.", dns.TypeA)
	query.SetEdns0(1232, false)
	query.IsEdns0().Option = append(query.IsEdns0().Option,
		&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"})

	resp := new(dns.Msg).SetQuestion("www.example.com.", dns.TypeA)
	resp.Response, resp.RecursionAvailable = true, true
	for _, s := range []string{
		"www.example.com. 300 IN CNAME web.example.com.",
		"web.example.com. 300 IN A 192.0.2.1",
		"web.example.com. 300 IN A 192.0.2.2",
	} {
		resp.Answer = append(resp.Answer, mustRR(b, s))
	}
	resp.SetEdns0(1232, true)

	dnssec := new(dns.Msg).SetQuestion("example.com.", dns.TypeDNSKEY)
	dnssec.Response = true
	for _, s := range crossRecords {
		if rr := mustRR(b, s); rr.Header().Rrtype == dns.TypeDNSKEY || rr.Header().Rrtype == dns.TypeRRSIG {
			dnssec.Answer = append(dnssec.Answer, rr)
		}
	}
	return map[string][]byte{"query": pack(query), "response": pack(resp), "dnssec": pack(dnssec)}
}

// BenchmarkMessage_Unpack measures the decoder on typical messages; it must
// not allocate.
func BenchmarkMessage_Unpack(b *testing.B) {
	for name, msg := range benchMessages(b) {
		b.Run(name, func(b *testing.B) {
			var m Message
			m.Unpack(msg)
			if m.Malformed != "" {
				b.Fatalf("Malformed = %q", m.Malformed)
			}
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				m.Unpack(msg)
			}
		})
	}
}

// BenchmarkMessage_UnpackCorpus decodes every UDP message of a real capture
// of mixed traffic (464 messages) per iteration.
func BenchmarkMessage_UnpackCorpus(b *testing.B) {
	var msgs [][]byte
	size := 0
	for _, s := range corpusSegments(b, "pcapplusplus/DnsPackets.pcap") {
		if !s.tcp {
			msgs = append(msgs, s.payload)
			size += len(s.payload)
		}
	}
	var m Message
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, msg := range msgs {
			m.Unpack(msg)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(msgs)), "ns/msg")
}

// BenchmarkMiekgUnpack is the reference: miekg/dns decoding the same
// response, and printing its records as this package does.
func BenchmarkMiekgUnpack(b *testing.B) {
	msg := benchMessages(b)["response"]
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		var m dns.Msg
		if err := m.Unpack(msg); err != nil {
			b.Fatal(err)
		}
		for _, rr := range m.Answer {
			_ = rr.String()
		}
	}
}
