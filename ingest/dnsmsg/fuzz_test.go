package dnsmsg

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/miekg/dns"
)

// FuzzUnpack checks that Unpack never panics, keeps its invariants, decodes
// into a reused Message as into a fresh one, and reads the same names as
// miekg/dns whenever both decode the message whole.
func FuzzUnpack(f *testing.F) {
	for _, msg := range randomMessages(f, 60) {
		if b, err := msg.Pack(); err == nil {
			f.Add(b)
		}
	}
	for _, file := range []string{"pcapplusplus/DnsPackets.pcap", "zeek/dns-edns-ecs.pcap", "tcpdump/edns-opts.pcap",
		"zeek/max-compression-depth.pcap", "zeek/dns-invalid-names.pcap", "pcapplusplus/dns_stack_overflow.pcap",
		"suricata-verify/dns-corrupt-additionals/input.pcap", "zeek/sshfp-trunc.pcap"} {
		for i, s := range corpusSegments(f, file) {
			if !s.tcp && i < 40 {
				f.Add(s.payload)
			}
		}
	}
	f.Add(pointerChain(125))
	f.Add(pointerChain(126))
	var reused Message
	f.Fuzz(func(t *testing.T, b []byte) {
		var fresh Message
		fresh.Unpack(b)
		reused.Unpack(b)
		if diff := diffMessages(&reused, &fresh); diff != "" {
			t.Fatalf("reused Message differs from a fresh one:\n%s", diff)
		}
		checkInvariants(t, &fresh, b)
		compareMiekgNames(t, &fresh, b)
	})
}

// checkInvariants fails t when m breaks a promise of Unpack.
func checkInvariants(t *testing.T, m *Message, b []byte) {
	t.Helper()
	if m.Size != len(b) {
		t.Errorf("Size = %d, want %d", m.Size, len(b))
	}
	if m.Malformed != "" && !slices.Contains(Reasons(), m.Malformed) {
		t.Errorf("unknown Reason %q", m.Malformed)
	}
	opt := 0
	if m.EDNS.Present {
		opt = 1
	}
	got := []int{len(m.Questions), len(m.Answer), len(m.Authority), len(m.Additional) + opt}
	want := []int{int(m.QDCount), int(m.ANCount), int(m.NSCount), int(m.ARCount)}
	for i := range got {
		if got[i] > want[i] || !m.Malformed.Framing() && got[i] != want[i] {
			t.Errorf("section %d has %d entries, header says %d (Malformed %q)", i, got[i], want[i], m.Malformed)
		}
	}
	names := make([][]byte, 0, len(m.Questions))
	for _, q := range m.Questions {
		names = append(names, q.Name)
	}
	for _, sec := range [][]RR{m.Answer, m.Authority, m.Additional} {
		for _, rr := range sec {
			names = append(names, rr.Name)
			if len(rr.Data) == 0 {
				t.Errorf("record %q type %d has empty Data", rr.Name, rr.Type)
			}
		}
	}
	for _, n := range names {
		if len(n) == 0 || len(n) > 4*maxNameWire || len(n) > 1 && n[len(n)-1] == '.' && n[len(n)-2] != '\\' {
			t.Errorf("bad name %q", n)
		}
	}
	// What goes to text columns must be UTF-8, or readers refuse the file.
	texts := append(names, m.EDNS.EDETexts...)
	texts = append(texts, m.EDNS.ECSAddress)
	for _, sec := range [][]RR{m.Answer, m.Authority, m.Additional} {
		for _, rr := range sec {
			texts = append(texts, rr.Data)
		}
	}
	for _, s := range texts {
		if !utf8.Valid(s) {
			t.Errorf("text %q is not UTF-8", s)
		}
	}
}

// compareMiekgNames fails t when m and miekg/dns both decode b whole but
// read different questions or owners.
func compareMiekgNames(t *testing.T, m *Message, b []byte) {
	t.Helper()
	w := new(dns.Msg)
	if m.Malformed.Framing() || w.Unpack(b) != nil {
		return
	}
	var got, want []string
	for _, q := range m.Questions {
		got = append(got, string(q.Name))
	}
	for _, q := range w.Question {
		want = append(want, bareName(q.Name))
	}
	for _, sec := range [][]RR{m.Answer, m.Authority, m.Additional} {
		for _, rr := range sec {
			got = append(got, string(rr.Name)+" "+TypeName(rr.Type))
		}
	}
	skipOPT := m.EDNS.Present // the first OPT of Additional is in m.EDNS
	for i, sec := range [][]dns.RR{w.Answer, w.Ns, w.Extra} {
		for _, rr := range sec {
			h := rr.Header()
			if i == 2 && h.Rrtype == dns.TypeOPT && skipOPT {
				skipOPT = false
				continue
			}
			want = append(want, bareName(h.Name)+" "+TypeName(h.Rrtype))
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("names:\n%q\nmiekg/dns:\n%q", got, want)
	}
}
