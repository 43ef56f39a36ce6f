package gen

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/miekg/dns"
)

var formats = []Format{Pcap, PcapNano, Pcapng}

func generate(tb testing.TB, cfg Config, f Format) ([]byte, []Expected, Stats) {
	tb.Helper()
	var buf bytes.Buffer
	var all []Expected
	st, err := Write(&buf, cfg, f, func(e Expected) { all = append(all, e) })
	if err != nil {
		tb.Fatalf("Write(%v): %v", f, err)
	}
	return buf.Bytes(), all, st
}

func TestWrite_Deterministic(t *testing.T) {
	for _, f := range formats {
		t.Run(f.String(), func(t *testing.T) {
			cfg := Config{Seed: 42, Messages: 3000}
			a, _, _ := generate(t, cfg, f)
			b, _, _ := generate(t, cfg, f)
			if !bytes.Equal(a, b) {
				t.Fatal("two runs of the same config differ")
			}
			cfg.Seed = 43
			c, _, _ := generate(t, cfg, f)
			if bytes.Equal(a, c) {
				t.Fatal("seeds 42 and 43 give the same bytes")
			}
		})
	}
}

func TestWrite_MessageCount(t *testing.T) {
	for _, n := range []int{1, 2, 3, 10, 999} {
		_, all, st := generate(t, Config{Seed: int64(n), Messages: n}, Pcapng)
		if len(all) != n || st.Messages != uint64(n) {
			t.Errorf("Messages %d: got %d expected, stats %d", n, len(all), st.Messages)
		}
		if st.Queries-st.Responses != st.Unanswered {
			t.Errorf("Messages %d: %d queries, %d responses, but %d unanswered",
				n, st.Queries, st.Responses, st.Unanswered)
		}
	}
}

func TestWritePcap_Wrappers(t *testing.T) {
	cfg := Config{Seed: 5, Messages: 500}
	var buf bytes.Buffer
	all, err := WritePcap(&buf, cfg, true)
	if err != nil {
		t.Fatal(err)
	}
	raw, want, _ := generate(t, cfg, PcapNano)
	if !bytes.Equal(buf.Bytes(), raw) || len(all) != len(want) {
		t.Fatal("WritePcap differs from Write with PcapNano")
	}
	buf.Reset()
	all, err = WritePcapng(&buf, cfg)
	if err != nil || len(all) != 500 {
		t.Fatalf("WritePcapng: %d messages, %v", len(all), err)
	}
}

func TestWrite_WriterError(t *testing.T) {
	_, err := Write(failWriter{}, Config{Messages: 5000}, Pcap, nil)
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("got %v, want errDiskFull", err)
	}
}

var errDiskFull = errors.New("disk full")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errDiskFull }

// TestWrite_GroundTruth decodes every packet of the file with gopacket and
// miekg/dns, independently of the generator, and holds it against the
// Expected values and the Stats.
func TestWrite_GroundTruth(t *testing.T) {
	for _, f := range formats {
		t.Run(f.String(), func(t *testing.T) {
			cfg := Config{Seed: 9, Messages: 20000, Malformed: 0.01, Multicast: 0.02, TCP: 0.05}
			raw, all, st := generate(t, cfg, f)
			byFrame := map[uint64][]Expected{}
			for _, e := range all {
				byFrame[e.Frame] = append(byFrame[e.Frame], e)
			}
			frames := readCapture(t, raw, f)
			if uint64(len(frames)) != st.Packets {
				t.Fatalf("file has %d packets, stats say %d", len(frames), st.Packets)
			}
			var nonDNS, segments, tcpMessages uint64
			streams := tcpStreams{}
			for i, fr := range frames {
				got := parseFrame(t, fr)
				var msgs [][]byte
				switch {
				case got.isDNSTCP():
					segments++
					msgs = streams.segment(t, uint64(i+1), got)
					tcpMessages += uint64(len(msgs))
				case got.isDNSPort():
					msgs = [][]byte{got.payload}
				default:
					nonDNS++
				}
				want := byFrame[uint64(i+1)]
				if len(msgs) != len(want) {
					t.Fatalf("frame %d: %d DNS messages, %d expected", i+1, len(msgs), len(want))
				}
				for j, m := range msgs {
					checkMessage(t, want[j], fr, got, m)
				}
			}
			if nonDNS != st.NonDNS || segments != st.TCPSegments || tcpMessages != st.TCP {
				t.Errorf("%d non-DNS frames, %d TCP segments, %d TCP messages; "+
					"stats say %d, %d, %d",
					nonDNS, segments, tcpMessages, st.NonDNS, st.TCPSegments, st.TCP)
			}
			if st.TCP == 0 {
				t.Error("no DNS message over TCP")
			}
			streams.checkClosed(t)
		})
	}
}

// frame is one packet read back from a capture.
type frame struct {
	data []byte
	time int64
	link layers.LinkType
}

func readCapture(tb testing.TB, raw []byte, f Format) []frame {
	tb.Helper()
	type reader interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var r reader
	var ng *pcapgo.NgReader
	var err error
	if f == Pcapng {
		ng, err = pcapgo.NewNgReader(bytes.NewReader(raw), pcapgo.NgReaderOptions{WantMixedLinkType: true})
		r = ng
	} else {
		r, err = pcapgo.NewReader(bytes.NewReader(raw))
	}
	if err != nil {
		tb.Fatalf("open capture: %v", err)
	}
	var frames []frame
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return frames
		}
		if err != nil {
			tb.Fatalf("read packet %d: %v", len(frames)+1, err)
		}
		link := layers.LinkTypeEthernet
		if ng != nil {
			iface, err := ng.Interface(ci.InterfaceIndex)
			if err != nil {
				tb.Fatal(err)
			}
			link = iface.LinkType
		}
		frames = append(frames, frame{bytes.Clone(data), ci.Timestamp.UnixNano(), link})
	}
}

// decoded is what the test sees in a frame.
type decoded struct {
	vlans        []uint16
	ipVersion    uint8
	src, dst     netip.Addr
	sport, dport uint16
	udp, tcp     bool
	seq, ack     uint32 // TCP only
	flags        uint8  // TCP only
	payload      []byte
}

func (d decoded) isDNSTCP() bool { return d.tcp && (d.sport == 53 || d.dport == 53) }

func (d decoded) isDNSPort() bool {
	for _, p := range []uint16{53, 5353, 5355} {
		if d.udp && (d.sport == p || d.dport == p) {
			return true
		}
	}
	return false
}

// parseFrame walks the link header by hand (gopacket knows no 0x9100 tag),
// then lets gopacket decode IP and above, and checks every checksum.
func parseFrame(tb testing.TB, fr frame) decoded {
	tb.Helper()
	var d decoded
	var etherType uint16
	off := 0
	switch fr.link {
	case layers.LinkTypeLinuxSLL2:
		etherType, off = binary.BigEndian.Uint16(fr.data), 20
	case layers.LinkTypeEthernet:
		etherType, off = binary.BigEndian.Uint16(fr.data[12:]), 14
		for etherType == 0x8100 || etherType == 0x88a8 || etherType == 0x9100 {
			d.vlans = append(d.vlans, binary.BigEndian.Uint16(fr.data[off:])&0x0fff)
			etherType, off = binary.BigEndian.Uint16(fr.data[off+2:]), off+4
		}
		if len(fr.data) < 60 {
			tb.Errorf("Ethernet frame of %d bytes, shorter than 60", len(fr.data))
		}
	default:
		tb.Fatalf("unexpected link type %v", fr.link)
	}
	first := layers.LayerTypeIPv4
	switch etherType {
	case 0x0806:
		return d
	case 0x86dd:
		first = layers.LayerTypeIPv6
	}
	d.decodeIP(tb, first, fr.data[off:])
	return d
}

// decodeIP decodes IP and the transport header with gopacket, leaving DNS
// alone: gopacket's DNS layer rejects the malformed payloads on purpose.
func (d *decoded) decodeIP(tb testing.TB, first gopacket.LayerType, data []byte) {
	var (
		ip4       layers.IPv4
		ip6       layers.IPv6
		udp       layers.UDP
		tcp       layers.TCP
		icmp4     layers.ICMPv4
		icmp6     layers.ICMPv6
		payload   gopacket.Payload
		seen      []gopacket.LayerType
		pseudo    []byte
		transport []byte
		proto     layers.IPProtocol
	)
	p := gopacket.NewDecodingLayerParser(first, &ip4, &ip6, &udp, &tcp, &icmp4, &icmp6, &payload)
	p.IgnoreUnsupported = true
	if err := p.DecodeLayers(data, &seen); err != nil {
		tb.Fatalf("decode: %v", err)
	}
	switch seen[0] {
	case layers.LayerTypeIPv4:
		ip := &ip4
		d.ipVersion, proto, transport = 4, ip.Protocol, ip.Payload
		if onesSum(ip.Contents) != 0xffff {
			tb.Errorf("bad IPv4 header checksum")
		}
		pseudo = append(append(pseudo, ip.SrcIP...), ip.DstIP...)
		d.src, _ = netip.AddrFromSlice(ip.SrcIP.To4())
		d.dst, _ = netip.AddrFromSlice(ip.DstIP.To4())
	case layers.LayerTypeIPv6:
		ip := &ip6
		d.ipVersion, proto, transport = 6, ip.NextHeader, ip.Payload
		pseudo = append(append(pseudo, ip.SrcIP...), ip.DstIP...)
		d.src, _ = netip.AddrFromSlice(ip.SrcIP)
		d.dst, _ = netip.AddrFromSlice(ip.DstIP)
	}
	pseudo = append(pseudo, 0, byte(proto), byte(len(transport)>>8), byte(len(transport)))
	if proto != layers.IPProtocolICMPv4 {
		if onesSum(pseudo, transport) != 0xffff {
			tb.Errorf("bad %v checksum", proto)
		}
	} else if onesSum(transport) != 0xffff {
		tb.Errorf("bad ICMP checksum")
	}
	switch proto {
	case layers.IPProtocolUDP:
		d.udp, d.sport, d.dport, d.payload = true, uint16(udp.SrcPort), uint16(udp.DstPort), udp.Payload
	case layers.IPProtocolTCP:
		d.tcp, d.sport, d.dport, d.payload = true, uint16(tcp.SrcPort), uint16(tcp.DstPort), tcp.Payload
		d.seq, d.ack, d.flags = tcp.Seq, tcp.Ack, tcp.Contents[13]
	}
}

// onesSum is the RFC 1071 sum of the concatenated parts, the plain way.
func onesSum(parts ...[]byte) uint16 {
	b := bytes.Join(parts, nil)
	if len(b)%2 == 1 {
		b = append(b, 0)
	}
	var s uint32
	for i := 0; i < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

// checkMessage holds the DNS message payload, found in frame fr, against e.
func checkMessage(tb testing.TB, e Expected, fr frame, got decoded, payload []byte) {
	tb.Helper()
	if e.TCP != got.tcp {
		tb.Fatalf("frame %d: expected TCP %v, frame has TCP %v", e.Frame, e.TCP, got.tcp)
	}
	if e.Time != fr.time {
		tb.Errorf("frame %d: time %d, file says %d", e.Frame, e.Time, fr.time)
	}
	if !equalVLANs(e.VLANs, got.vlans) || e.IPVersion != got.ipVersion ||
		e.Src != got.src || e.Dst != got.dst || e.SrcPort != got.sport || e.DstPort != got.dport {
		tb.Fatalf("frame %d: expected %v %d %v:%d>%v:%d, frame has %v %d %v:%d>%v:%d", e.Frame,
			e.VLANs, e.IPVersion, e.Src, e.SrcPort, e.Dst, e.DstPort,
			got.vlans, got.ipVersion, got.src, got.sport, got.dst, got.dport)
	}
	var m dns.Msg
	err := m.Unpack(payload)
	if e.Malformed {
		if err == nil {
			tb.Errorf("frame %d: malformed message unpacks", e.Frame)
		}
		if id := binary.BigEndian.Uint16(payload); id != e.ID || payload[2]&0x80 != 0 != e.QR {
			tb.Errorf("frame %d: header of malformed message does not match", e.Frame)
		}
		return
	}
	if err != nil {
		tb.Fatalf("frame %d: unpack: %v\n% x", e.Frame, err, payload)
	}
	var qname string
	var qtype uint16
	if len(m.Question) > 0 {
		qname, qtype = strings.TrimSuffix(m.Question[0].Name, "."), m.Question[0].Qtype
	}
	if m.Id != e.ID || m.Response != e.QR || m.Rcode != int(e.RCode) ||
		qname != e.QName || qtype != e.QType || len(m.Answer) != e.Answers {
		tb.Errorf("frame %d: expected %+v, message is\n%v", e.Frame, e, &m)
	}
	if e.DstPort == 53 && !m.RecursionDesired {
		tb.Errorf("frame %d: a stub's query without RD", e.Frame)
	}
}

func equalVLANs(a, b []uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
