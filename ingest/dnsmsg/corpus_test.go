package dnsmsg

import (
	"compress/gzip"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/pcapload/pcapload/internal/corpus"
)

// segment is the transport payload of one frame of a capture.
type segment struct {
	frame    int
	tcp      bool
	fragment bool   // an IPv4 fragment: reassembly is the packet layer's job
	payload  []byte // as the UDP length or the TCP segment bounds it
	ip       []byte // the whole IP payload, transport header included
}

// corpusSegments returns the UDP and TCP payloads of a corpus capture in
// frame order, skipping the test when the corpus is not there.
func corpusSegments(t testing.TB, name string) []segment {
	t.Helper()
	f, err := os.Open(filepath.Join(corpus.Dir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var in io.Reader = f
	if strings.HasSuffix(name, ".gz") {
		if in, err = gzip.NewReader(f); err != nil {
			t.Fatal(err)
		}
	}
	r, err := pcapgo.NewReader(in)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out []segment
	for frame := 1; ; frame++ {
		data, _, err := r.ReadPacketData()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: frame %d: %v", name, frame, err)
		}
		out = append(out, decodeFrame(frame, data, r.LinkType())...)
	}
}

// decodeFrame returns the transport payload of a frame, if it has one.
func decodeFrame(frame int, data []byte, lt layers.LinkType) []segment {
	p := gopacket.NewPacket(data, lt, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	s := segment{frame: frame}
	if ip, ok := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
		s.ip = ip.Payload
		s.fragment = ip.FragOffset != 0 || ip.Flags&layers.IPv4MoreFragments != 0
	}
	if udp, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP); ok {
		s.payload = udp.Payload
	} else if tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP); ok && len(tcp.Payload) > 0 {
		s.tcp, s.payload = true, tcp.Payload
	} else if !s.fragment {
		return nil
	}
	return []segment{s}
}

// tsharkRow is one frame of a corpus file's tshark decode.
type tsharkRow struct {
	frame    int
	udp      bool
	id       string // "0x1234"
	response string // "0" or "1"
	rcode    string // header RCODE only
	qnames   string // joined with "|"
	qtypes   string
}

// tsharkRows reads the tshark CSV next to a corpus capture.
func tsharkRows(t testing.TB, name string) []tsharkRow {
	t.Helper()
	f, err := os.Open(filepath.Join(corpus.Dir(t), name+".tshark.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows []tsharkRow
	for _, r := range recs[1:] {
		frame, _ := strconv.Atoi(r[0])
		rows = append(rows, tsharkRow{frame: frame, udp: r[6] != "", id: r[8], response: r[9],
			rcode: r[10], qnames: r[11], qtypes: r[12]})
	}
	return rows
}

// TestMessage_UnpackCorpus decodes the UDP DNS frames of real captures and
// compares ID, QR, RCODE, QNAMEs and QTYPEs with tshark's decode.
func TestMessage_UnpackCorpus(t *testing.T) {
	files := []string{
		"dnscap/dns.pcap.gz", "dnscap/vlan11.pcap", "dnscap/dns6.pcap", "dnscap/ipv6-with-ethernet-padding.pcap",
		"tcpdump/dns_udp.pcap", "tcpdump/dns_udp_8053.pcap", "tcpdump/edns-opts.pcap", "tcpdump/dns-badvers.pcap",
		"tcpdump/LINKTYPE_RAW_ipv4.pcap", "tcpdump/LINKTYPE_RAW_ipv6.pcap",
		"zeek/dns-edns-ecs.pcap", "zeek/mdns.pcap", "zeek/long-connection.pcap", "zeek/max-compression-depth.pcap",
		"zeek/sshfp-trunc.pcap", "pcapplusplus/DnsPackets.pcap", "gopacket/test_dns.pcap",
		"suricata-verify/llmnr-udp/input.pcap", "suricata-verify/dns-corrupt-additionals/input.pcap",
		"suricata-verify/dns-udp-junkrequest-first/input.pcap",
	}
	for _, name := range files {
		t.Run(name, func(t *testing.T) {
			segs := map[int]segment{}
			for _, s := range corpusSegments(t, name) {
				if !s.tcp {
					segs[s.frame] = s
				}
			}
			var m Message
			compared := 0
			for _, row := range tsharkRows(t, name) {
				if !row.udp {
					continue
				}
				seg, ok := segs[row.frame]
				if !ok {
					t.Errorf("frame %d: no UDP payload", row.frame)
					continue
				}
				if seg.fragment {
					continue // tshark reassembled it; the packet layer does that here
				}
				m.Unpack(seg.payload)
				if got, want := tsharkView(&m), row; got != want.view() {
					t.Errorf("frame %d: got %s, want %s (Malformed %q)", row.frame, got, want.view(), m.Malformed)
				}
				compared++
			}
			if compared == 0 {
				t.Error("no UDP DNS frame compared")
			}
		})
	}
}

// view returns the fields of the row compared with a Message.
func (r tsharkRow) view() string {
	return strings.Join([]string{r.id, r.response, r.rcode, r.qnames, r.qtypes}, " ")
}

// tsharkView returns a Message's fields as tshark prints them.
func tsharkView(m *Message) string {
	// tshark prints the RCODE of responses only.
	qr, rcode := "0", ""
	if m.QR {
		qr, rcode = "1", strconv.Itoa(int(m.RCode&0xF))
	}
	var names, types []string
	for _, q := range m.Questions {
		n := string(q.Name)
		if n == "." {
			n = "<Root>"
		}
		names = append(names, n)
		types = append(types, strconv.Itoa(int(q.Type)))
	}
	id := "0x" + strconv.FormatUint(uint64(m.ID)|0x10000, 16)[1:]
	return strings.Join([]string{id, qr, rcode,
		strings.Join(names, "|"), strings.Join(types, "|")}, " ")
}

// TestMessage_UnpackHostileCorpus decodes the hostile messages of the corpus
// (SOURCES.md, "Hand-checked expectations") and checks the Reason, what was
// kept, and that each takes bounded time.
func TestMessage_UnpackHostileCorpus(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		payload   func(t testing.TB, segs []segment) []byte
		fault     Reason
		questions int
		qname     string
	}{
		// Pointer chains through labels: over 255 octets long.
		{"forward-pointers", "tcpdump/dns_fwdptr.pcap", udpFrame(1), NameTooLong, 0, ""},
		{"bad-label", "tcpdump/dns-badlabel.pcap", udpFrame(1), NameTooLong, 0, ""},
		// The QNAME's first label byte is 0x80.
		{"stack-overflow", "pcapplusplus/dns_stack_overflow.pcap", udpFrame(1), BadLabelType, 0, ""},
		// A chain of pointers to pointers, seven deep: legitimate.
		{"compression-depth", "zeek/max-compression-depth.pcap", udpFrame(1), "", 1, "a"},
		{"invalid-names/cut", "zeek/dns-invalid-names.pcap", udpFrame(1), TruncatedQuestion, 0, ""},
		{"invalid-names/self-pointer", "zeek/dns-invalid-names.pcap", udpFrame(2), NamePointerLoop, 0, ""},
		// UDP says no payload, as tshark and the product must trust.
		{"zlip/udp-length", "tcpdump/dns-zlip-1.pcap", udpFrame(1), TruncatedHeader, 0, ""},
		// The octets the IPv4 length carries past the UDP length: c00c at 12.
		{"zlip/ip-length", "tcpdump/dns-zlip-1.pcap", beyondUDP(1), NamePointerLoop, 0, ""},
		// 16,773 octets over TCP, QDCOUNT 1500, the first QNAME 279 octets.
		{"truncated-rname", "suricata-verify/dns-truncated-rname/poc2.pcap", tcpStream, NameTooLong, 0, ""},
		{"badvers", "tcpdump/dns-badvers.pcap", udpFrame(2), "", 1, "."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := tt.payload(t, corpusSegments(t, tt.file))
			var m Message
			start := time.Now()
			m.Unpack(payload)
			if d := time.Since(start); d > 50*time.Millisecond {
				t.Errorf("Unpack took %v", d)
			}
			if m.Malformed != tt.fault || len(m.Questions) != tt.questions {
				t.Errorf("Malformed, questions = %q, %d; want %q, %d", m.Malformed, len(m.Questions), tt.fault, tt.questions)
			}
			if tt.qname != "" && (len(m.Questions) == 0 || string(m.Questions[0].Name) != tt.qname) {
				t.Errorf("got %s, want QNAME %q", dump(&m), tt.qname)
			}
		})
	}
}

// udpFrame returns a function picking the UDP payload of one frame.
func udpFrame(frame int) func(testing.TB, []segment) []byte {
	return func(t testing.TB, segs []segment) []byte {
		t.Helper()
		for _, s := range segs {
			if s.frame == frame && !s.tcp {
				return s.payload
			}
		}
		t.Fatalf("frame %d has no UDP payload", frame)
		return nil
	}
}

// beyondUDP returns a function picking what follows the UDP header of one
// frame up to the end of the IP payload, whatever the UDP length says.
func beyondUDP(frame int) func(testing.TB, []segment) []byte {
	return func(t testing.TB, segs []segment) []byte {
		t.Helper()
		for _, s := range segs {
			if s.frame == frame && len(s.ip) >= 8 {
				return s.ip[8:]
			}
		}
		t.Fatalf("frame %d has no IP payload", frame)
		return nil
	}
}

// tcpStream returns the first DNS message of the TCP payloads taken in frame
// order, without its 2-octet length (RFC 1035 section 4.2.2). It is enough for
// a capture with one message sent in order and nothing lost.
func tcpStream(t testing.TB, segs []segment) []byte {
	t.Helper()
	var stream []byte
	for _, s := range segs {
		if s.tcp {
			stream = append(stream, s.payload...)
		}
	}
	if len(stream) < 2 {
		t.Fatal("no TCP payload")
	}
	n := int(stream[0])<<8 | int(stream[1])
	if len(stream) < 2+n {
		t.Fatalf("TCP stream has %d octets, the message %d", len(stream)-2, n)
	}
	return stream[2 : 2+n]
}

// TestMessage_UnpackBADVERS checks the extended RCODE of real responses:
// the answer to an EDNS version 255 query has header RCODE 0 and OPT upper
// bits 1, which make BADVERS, 16 (RFC 6891 section 6.1.3), where tshark's
// header-only column shows 0; the answer to a version 0 query is NOERROR.
func TestMessage_UnpackBADVERS(t *testing.T) {
	want := map[int]uint16{2: 16, 4: 0}
	var m Message
	for _, s := range corpusSegments(t, "tcpdump/dns-badvers.pcap") {
		m.Unpack(s.payload)
		if !m.QR {
			continue
		}
		rcode, ok := want[s.frame]
		if !ok || m.RCode != rcode || !m.EDNS.Present || m.Malformed != "" {
			t.Errorf("frame %d: RCode, EDNS, Malformed = %d, %v, %q; want %d, true, \"\"",
				s.frame, m.RCode, m.EDNS.Present, m.Malformed, rcode)
		}
		delete(want, s.frame)
	}
	if len(want) != 0 {
		t.Errorf("responses not seen: %v", want)
	}
}
