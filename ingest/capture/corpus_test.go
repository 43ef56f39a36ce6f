package capture

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/pcapload/pcapload/internal/corpus"
)

// corpusDir is the shared corpus of real captures, read in place.
func corpusDir(tb testing.TB) string {
	tb.Helper()
	return corpus.Dir(tb)
}

// corpusFiles lists every capture of the corpus with what SOURCES.md says of
// it: container, compression, packet count, and packets per link type.
var corpusFiles = []struct {
	name   string
	format Format
	comp   Compression
	count  int
	links  map[LinkType]int
}{
	{"dnscap/dns.pcap.gz", FormatPcap, CompressionGzip, 133, map[LinkType]int{LinkEthernet: 133}},
	{"dnscap/dns.pcap.zst", FormatPcap, CompressionZstd, 133, map[LinkType]int{LinkEthernet: 133}},
	{"dnscap/dns6.pcap", FormatPcap, CompressionNone, 2, map[LinkType]int{LinkEthernet: 2}},
	{"dnscap/dnso1tcp-bighole.pcap", FormatPcap, CompressionNone, 200, map[LinkType]int{LinkEthernet: 200}},
	{"dnscap/dnsotcp-many1pkt.pcap", FormatPcap, CompressionNone, 10, map[LinkType]int{LinkEthernet: 10}},
	{"dnscap/ipv6-with-ethernet-padding.pcap", FormatPcap, CompressionNone, 1, map[LinkType]int{LinkEthernet: 1}},
	{"dnscap/sll2.pcap", FormatPcap, CompressionNone, 2, map[LinkType]int{LinkLinuxSLL2: 2}},
	{"dnscap/vlan11.pcap", FormatPcap, CompressionNone, 133, map[LinkType]int{LinkEthernet: 133}},
	{"gopacket/test202.pcapng", FormatPcapng, CompressionNone, 8, map[LinkType]int{LinkEthernet: 6, LinkNull: 2}},
	{"gopacket/test_dns.pcap", FormatPcap, CompressionNone, 10, map[LinkType]int{LinkEthernet: 10}},
	{"pcapplusplus/DnsPackets.pcap", FormatPcap, CompressionNone, 464, map[LinkType]int{LinkEthernet: 464}},
	{"pcapplusplus/dns_stack_overflow.pcap", FormatPcap, CompressionNone, 1, map[LinkType]int{LinkEthernet: 1}},
	{"pcapplusplus/ip6_fragments.pcap", FormatPcap, CompressionNone, 36, map[LinkType]int{LinkEthernet: 36}},
	{"pcapplusplus/nanosecs_big_endian.pcap", FormatPcapNano, CompressionNone, 10, map[LinkType]int{LinkEthernet: 10}},
	{"pcapplusplus/pcapng-example.pcapng.zst", FormatPcapng, CompressionZstd, 159, map[LinkType]int{LinkEthernet: 59, LinkLinuxSLL: 100}},
	{"pcapplusplus/sll.pcap", FormatPcap, CompressionNone, 518, map[LinkType]int{LinkLinuxSLL: 518}},
	{"suricata-verify/decode-sll2-01/input.pcap", FormatPcap, CompressionNone, 5, map[LinkType]int{LinkLinuxSLL2: 5}},
	{"suricata-verify/dns-corrupt-additionals/input.pcap", FormatPcap, CompressionNone, 2, map[LinkType]int{LinkRaw: 2}},
	{"suricata-verify/dns-incomplete/input.pcap", FormatPcap, CompressionNone, 18, map[LinkType]int{LinkNull: 18}},
	{"suricata-verify/dns-truncated-rname/poc2.pcap", FormatPcap, CompressionNone, 12, map[LinkType]int{LinkNull: 12}},
	{"suricata-verify/dns-udp-junkrequest-first/input.pcap", FormatPcap, CompressionNone, 4, map[LinkType]int{LinkEthernet: 4}},
	{"suricata-verify/llmnr-udp/input.pcap", FormatPcap, CompressionNone, 2, map[LinkType]int{LinkEthernet: 2}},
	{"tcpdump/802.1ad_QinQ.pcap", FormatPcap, CompressionNone, 2, map[LinkType]int{LinkEthernet: 2}},
	{"tcpdump/LINKTYPE_IPV4.pcap", FormatPcap, CompressionNone, 1, map[LinkType]int{LinkIPv4: 1}},
	{"tcpdump/LINKTYPE_RAW_ipv4.pcap", FormatPcap, CompressionNone, 1, map[LinkType]int{LinkRaw: 1}},
	{"tcpdump/LINKTYPE_RAW_ipv6.pcap", FormatPcap, CompressionNone, 1, map[LinkType]int{LinkRaw: 1}},
	{"tcpdump/dns-badlabel.pcap", FormatPcap, CompressionNone, 1, map[LinkType]int{LinkEthernet: 1}},
	{"tcpdump/dns-badvers.pcap", FormatPcap, CompressionNone, 4, map[LinkType]int{LinkEthernet: 4}},
	{"tcpdump/dns-zlip-1.pcap", FormatPcap, CompressionNone, 1, map[LinkType]int{LinkEthernet: 1}},
	{"tcpdump/dns_fwdptr.pcap", FormatPcap, CompressionNone, 1, map[LinkType]int{LinkEthernet: 1}},
	{"tcpdump/dns_tcp.pcap", FormatPcap, CompressionNone, 11, map[LinkType]int{LinkEthernet: 11}},
	{"tcpdump/dns_udp.pcap", FormatPcap, CompressionNone, 2, map[LinkType]int{LinkEthernet: 2}},
	{"tcpdump/dns_udp_8053.pcap", FormatPcap, CompressionNone, 2, map[LinkType]int{LinkEthernet: 2}},
	{"tcpdump/edns-opts.pcap", FormatPcap, CompressionNone, 42, map[LinkType]int{LinkEthernet: 42}},
	{"tcpdump/empty.pcapng", FormatPcapng, CompressionNone, 0, map[LinkType]int{}},
	{"tcpdump/ipv4_invalid_total_length.pcap", FormatPcap, CompressionNone, 1, map[LinkType]int{LinkEthernet: 1}},
	{"tcpdump/nflog.pcap", FormatPcap, CompressionNone, 4, map[LinkType]int{LinkNFLog: 4}},
	{"tcpdump/ppp_ip_udp_dns.pcap", FormatPcap, CompressionNone, 1, map[LinkType]int{linkPPPHDLC: 1}},
	{"tcpdump/tcp-handshake-nano.pcap", FormatPcapNano, CompressionNone, 3, map[LinkType]int{LinkLinuxSLL: 3}},
	{"tcpdump/time_2106_overflow.pcapng", FormatPcapng, CompressionNone, 1, map[LinkType]int{LinkEthernet: 1}},
	{"zeek/dns-edns-ecs.pcap", FormatPcap, CompressionNone, 89, map[LinkType]int{LinkEthernet: 89}},
	{"zeek/dns-invalid-names.pcap", FormatPcap, CompressionNone, 3, map[LinkType]int{LinkEthernet: 3}},
	{"zeek/dns-inverse-query.pcap", FormatPcap, CompressionNone, 11, map[LinkType]int{linkFDDI: 11}},
	{"zeek/ipv6-fragmented-dns.pcap", FormatPcap, CompressionNone, 8, map[LinkType]int{LinkEthernet: 8}},
	{"zeek/long-connection.pcap", FormatPcap, CompressionNone, 22, map[LinkType]int{LinkEthernet: 22}},
	{"zeek/max-compression-depth.pcap", FormatPcap, CompressionNone, 1, map[LinkType]int{LinkEthernet: 1}},
	{"zeek/mdns.pcap", FormatPcap, CompressionNone, 24, map[LinkType]int{LinkEthernet: 24}},
	{"zeek/pcapng-multi-interface.pcapng", FormatPcapng, CompressionNone, 6, map[LinkType]int{LinkEthernet: 6}},
	{"zeek/sshfp-trunc.pcap", FormatPcap, CompressionNone, 4, map[LinkType]int{LinkEthernet: 4}},
	{"zeek/vlan-qinqinq.pcap", FormatPcap, CompressionNone, 14, map[LinkType]int{LinkEthernet: 14}},
}

// Link types of the corpus that the decoder does not handle.
const (
	linkPPPHDLC LinkType = 50 // PPP in HDLC-like framing
	linkFDDI    LinkType = 10
)

func TestOpen_Corpus(t *testing.T) {
	dir := corpusDir(t)
	for _, tc := range corpusFiles {
		t.Run(tc.name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, tc.name))
			if err != nil {
				t.Fatal(err)
			}
			f, pkts := mustReadAll(t, b)
			if f.Format() != tc.format || f.Compression() != tc.comp {
				t.Errorf("format %v %v, want %v %v", f.Format(), f.Compression(), tc.format, tc.comp)
			}
			if len(pkts) != tc.count {
				t.Errorf("got %d packets, want %d", len(pkts), tc.count)
			}
			links := map[LinkType]int{}
			for i, p := range pkts {
				links[p.LinkType]++
				if p.Frame != uint64(i+1) {
					t.Fatalf("packet %d has frame %d", i, p.Frame)
				}
			}
			if fmt.Sprint(links) != fmt.Sprint(tc.links) {
				t.Errorf("link types %v, want %v", links, tc.links)
			}
			checkTimes(t, filepath.Join(dir, tc.name+".tshark.csv"), pkts)
		})
	}
}

// checkTimes compares each packet's timestamp, to the nanosecond, with
// frame.time_epoch of the rows tshark decoded (DNS frames only).
func checkTimes(t *testing.T, csvPath string, pkts []Packet) {
	t.Helper()
	fh, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	rows, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows[1:] {
		frame, err := strconv.Atoi(row[0])
		if err != nil || frame < 1 || frame > len(pkts) {
			t.Fatalf("csv frame %q out of range", row[0])
		}
		ts := pkts[frame-1].Timestamp
		if got := fmt.Sprintf("%d.%09d", ts/nanosPerSecond, ts%nanosPerSecond); got != row[1] {
			t.Errorf("frame %d: time %s, want %s", frame, got, row[1])
		}
	}
}

// TestOpen_CorpusTimestamps pins nanosecond timestamps of files whose CSVs
// have no rows, read from the records by hand.
func TestOpen_CorpusTimestamps(t *testing.T) {
	dir := corpusDir(t)
	tests := []struct {
		name  string
		frame int
		want  int64
	}{
		{"tcpdump/tcp-handshake-nano.pcap", 1, 1418145369924505488},
		{"tcpdump/tcp-handshake-nano.pcap", 3, 1418145370052115157},
		{"pcapplusplus/nanosecs_big_endian.pcap", 1, 1766361926167647291},
		{"pcapplusplus/nanosecs_big_endian.pcap", 10, 1766361926168451894},
		{"tcpdump/time_2106_overflow.pcapng", 1, 4294967296 * nanosPerSecond},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s#%d", tc.name, tc.frame), func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, tc.name))
			if err != nil {
				t.Fatal(err)
			}
			_, pkts := mustReadAll(t, b)
			if got := pkts[tc.frame-1].Timestamp; got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

// TestFile_InterfacesCorpus checks the interfaces and statistics of the
// big-endian multi-section file from the pcapng test suite.
func TestFile_InterfacesCorpus(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(corpusDir(t), "gopacket/test202.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	f, pkts := mustReadAll(t, b)
	ifs := f.Interfaces()
	if len(ifs) != 5 {
		t.Fatalf("got %d interfaces, want 5", len(ifs))
	}
	last := ifs[3]
	want := InterfaceStats{Blocks: 2, Received: 100, Dropped: 1, OSDropped: 42, HasReceived: true, HasDropped: true, HasOSDrop: true}
	if last.Section != 2 || last.Name != "eth0" || last.Stats != want {
		t.Errorf("interface 3 = %+v, want section 2, eth0, stats %+v", last, want)
	}
	for _, p := range pkts {
		if ifs[p.Interface].LinkType != p.LinkType {
			t.Errorf("frame %d: link type %d, its interface has %d", p.Frame, p.LinkType, ifs[p.Interface].LinkType)
		}
	}
	var p Packet
	if err := f.Next(&p); !errors.Is(err, io.EOF) {
		t.Errorf("Next after the end = %v, want io.EOF", err)
	}
}
