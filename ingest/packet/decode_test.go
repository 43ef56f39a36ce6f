package packet

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/pcapload/pcapload/ingest/capture"
)

var (
	src4 = netip.MustParseAddr("192.0.2.1")
	dst4 = netip.MustParseAddr("198.51.100.53")
	src6 = netip.MustParseAddr("2001:db8::1")
	dst6 = netip.MustParseAddr("2001:db8::53")
	dns  = []byte{0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1}
)

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func udp(sport, dport uint16, payload []byte) []byte {
	return cat(be16(sport), be16(dport), be16(uint16(8+len(payload))), be16(0), payload)
}

// ipv4 builds an IPv4 header with opts (a multiple of 4 bytes) around body.
func ipv4(proto uint8, flagsOff uint16, opts, body []byte) []byte {
	hl := 20 + len(opts)
	h := cat([]byte{0x40 | byte(hl/4), 0}, be16(uint16(hl+len(body))), be16(0x1234), be16(flagsOff),
		[]byte{64, proto, 0, 0}, src4.AsSlice(), dst4.AsSlice(), opts)
	return cat(h, body)
}

func ipv6(next uint8, body []byte) []byte {
	return cat([]byte{0x60, 0, 0, 0}, be16(uint16(len(body))), []byte{next, 64}, src6.AsSlice(), dst6.AsSlice(), body)
}

func ether(typ uint16, body []byte) []byte {
	return cat(make([]byte, 12), be16(typ), body)
}

func vlan(tpid, id uint16) []byte { return cat(be16(tpid), be16(id)) }

func TestDecoder_Decode(t *testing.T) {
	query := udp(40000, 53, dns)
	v4 := ipv4(17, 0, nil, query)
	tests := []struct {
		name   string
		link   capture.LinkType
		data   []byte
		want   Reason
		vlans  [3]uint16 // outer, inner, depth
		ipver  uint8
		sport  uint16
		plen   int
		snaped bool
	}{
		{"ethernet ipv4", capture.LinkEthernet, ether(0x0800, v4), DNS, [3]uint16{}, 4, 40000, len(dns), false},
		{"ethernet padding", capture.LinkEthernet, cat(ether(0x0800, v4), make([]byte, 20)), DNS, [3]uint16{}, 4, 40000, len(dns), false},
		{"three tags", capture.LinkEthernet,
			cat(make([]byte, 12), vlan(0x88a8, 30), vlan(0x8100, 20), vlan(0x8100, 0x2000|10), be16(0x0800), v4),
			DNS, [3]uint16{30, 10, 3}, 4, 40000, len(dns), false},
		{"0x9100 tag", capture.LinkEthernet, cat(make([]byte, 12), vlan(0x9100, 7), be16(0x86dd), ipv6(17, query)),
			DNS, [3]uint16{7, 7, 1}, 6, 40000, len(dns), false},
		{"ipv4 options", capture.LinkRaw, ipv4(17, 0, []byte{1, 1, 1, 0}, query), DNS, [3]uint16{}, 4, 40000, len(dns), false},
		{"ipv6 hop-by-hop and dest opts", capture.LinkIPv6,
			ipv6(0, cat([]byte{60, 0, 1, 4, 0, 0, 0, 0}, []byte{17, 0, 1, 4, 0, 0, 0, 0}, query)),
			DNS, [3]uint16{}, 6, 40000, len(dns), false},
		{"atomic fragment", capture.LinkIPv6, ipv6(44, cat([]byte{17, 0, 0, 0, 0, 0, 0, 9}, query)),
			DNS, [3]uint16{}, 6, 40000, len(dns), false},
		{"sll", capture.LinkLinuxSLL, cat(make([]byte, 14), be16(0x0800), v4), DNS, [3]uint16{}, 4, 40000, len(dns), false},
		{"sll2", capture.LinkLinuxSLL2, cat(be16(0x86dd), make([]byte, 18), ipv6(17, query)), DNS, [3]uint16{}, 6, 40000, len(dns), false},
		{"null little-endian", capture.LinkNull, cat([]byte{2, 0, 0, 0}, v4), DNS, [3]uint16{}, 4, 40000, len(dns), false},
		{"null big-endian ipv6", capture.LinkNull, cat([]byte{0, 0, 0, 30}, ipv6(17, query)), DNS, [3]uint16{}, 6, 40000, len(dns), false},
		{"loop", capture.LinkLoop, cat([]byte{0, 0, 0, 2}, v4), DNS, [3]uint16{}, 4, 40000, len(dns), false},
		{"ipv4 link", capture.LinkIPv4, v4, DNS, [3]uint16{}, 4, 40000, len(dns), false},
		{"ppp", capture.LinkPPP, cat([]byte{0xff, 0x03, 0x00, 0x21}, v4), DNS, [3]uint16{}, 4, 40000, len(dns), false},
		{"snap llc", capture.LinkEthernet, cat(make([]byte, 12), be16(100), []byte{0xaa, 0xaa, 3, 0, 0, 0}, be16(0x0800), v4),
			DNS, [3]uint16{}, 4, 40000, len(dns), false},
		{"udp length wins", capture.LinkRaw, ipv4(17, 0, nil, cat(be16(1), be16(53), be16(8), be16(0), dns)),
			EmptyPayload, [3]uint16{}, 4, 1, 0, false},
		{"cut by snaplen", capture.LinkRaw, v4[:len(v4)-5], DNS, [3]uint16{}, 4, 40000, len(dns) - 5, true},
		{"arp", capture.LinkEthernet, ether(0x0806, make([]byte, 28)), NotIP, [3]uint16{}, 0, 0, 0, false},
		{"mpls", capture.LinkEthernet, ether(0x8847, make([]byte, 28)), Tunnel, [3]uint16{}, 0, 0, 0, false},
		{"gre", capture.LinkRaw, ipv4(47, 0, nil, make([]byte, 8)), Tunnel, [3]uint16{}, 4, 0, 0, false},
		{"icmp", capture.LinkRaw, ipv4(1, 0, nil, make([]byte, 8)), OtherProtocol, [3]uint16{}, 4, 0, 0, false},
		{"other port", capture.LinkRaw, ipv4(17, 0, nil, udp(1000, 2000, dns)), OtherPort, [3]uint16{}, 4, 1000, 0, false},
		{"tcp on 53", capture.LinkRaw, ipv4(6, 0, nil, cat(be16(53), be16(999), make([]byte, 8), []byte{0x50, 0x18}, make([]byte, 6), dns)),
			TCP, [3]uint16{}, 4, 53, len(dns), false},
		{"short ethernet", capture.LinkEthernet, make([]byte, 10), Truncated, [3]uint16{}, 0, 0, 0, false},
		{"short vlan", capture.LinkEthernet, cat(make([]byte, 12), be16(0x8100), []byte{0}), Truncated, [3]uint16{1: 0}, 0, 0, 0, false},
		{"ipv4 bad version", capture.LinkIPv4, cat([]byte{0x65}, v4[1:]), BadHeader, [3]uint16{}, 0, 0, 0, false},
		{"ipv4 bad total", capture.LinkIPv4, cat(v4[:2], be16(10), v4[4:]), BadHeader, [3]uint16{}, 0, 0, 0, false},
		{"udp bad length", capture.LinkRaw, ipv4(17, 0, nil, cat(be16(53), be16(53), be16(4), be16(0))), BadHeader, [3]uint16{}, 4, 53, 0, false},
		{"unknown link", capture.LinkType(147), v4, LinkUnsupported, [3]uint16{}, 0, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder([]uint16{53})
			var f Frame
			got := d.Decode(tt.link, tt.data, 0, &f)
			if got != tt.want {
				t.Fatalf("reason %v, want %v", got, tt.want)
			}
			if vl := [3]uint16{f.VLANOuter, f.VLANInner, uint16(f.VLANDepth)}; tt.want == DNS && vl != tt.vlans {
				t.Errorf("vlans %v, want %v", vl, tt.vlans)
			}
			if f.IPVersion != tt.ipver || f.SrcPort != tt.sport || len(f.Payload) != tt.plen || f.Snapped != tt.snaped {
				t.Errorf("ip %d sport %d payload %d snapped %v; want %d %d %d %v",
					f.IPVersion, f.SrcPort, len(f.Payload), f.Snapped, tt.ipver, tt.sport, tt.plen, tt.snaped)
			}
			if tt.want == DNS && f.IPVersion == 4 && (f.Src != src4 || f.Dst != dst4) {
				t.Errorf("addresses %v > %v", f.Src, f.Dst)
			}
		})
	}
}

// fragments4 splits an IPv4 UDP datagram into pieces of size bytes.
func fragments4(dgram []byte, size int) [][]byte {
	var out [][]byte
	for off := 0; off < len(dgram); off += size {
		end, mf := min(off+size, len(dgram)), uint16(0x2000)
		if end == len(dgram) {
			mf = 0
		}
		out = append(out, ipv4(17, mf|uint16(off/8), nil, dgram[off:end]))
	}
	return out
}

func fragments6(dgram []byte, size int) [][]byte {
	var out [][]byte
	for off := 0; off < len(dgram); off += size {
		end, m := min(off+size, len(dgram)), uint16(1)
		if end == len(dgram) {
			m = 0
		}
		hdr := cat([]byte{17, 0}, be16(uint16(off)|m), []byte{0, 0, 0, 42})
		out = append(out, ipv6(44, cat(hdr, dgram[off:end])))
	}
	return out
}

func TestDecoder_Reassembly(t *testing.T) {
	payload := make([]byte, 1400)
	for i := range payload {
		payload[i] = byte(i)
	}
	dgram := udp(53, 40000, payload)
	tests := []struct {
		name  string
		link  capture.LinkType
		frags [][]byte
		order []int
		want  Reason // of the last fragment given
	}{
		{"ipv4 in order", capture.LinkIPv4, fragments4(dgram, 512), []int{0, 1, 2}, DNS},
		{"ipv4 out of order", capture.LinkIPv4, fragments4(dgram, 512), []int{2, 0, 1}, DNS},
		{"ipv4 duplicate", capture.LinkIPv4, fragments4(dgram, 512), []int{0, 0, 2, 1}, DNS},
		{"ipv4 missing piece", capture.LinkIPv4, fragments4(dgram, 512), []int{0, 2}, Fragment},
		{"ipv6 out of order", capture.LinkIPv6, fragments6(dgram, 600), []int{1, 2, 0}, DNS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder([]uint16{53})
			var f Frame
			var got Reason
			for i, idx := range tt.order {
				got = d.Decode(tt.link, tt.frags[idx], int64(i)*1e6, &f)
				if i < len(tt.order)-1 && got != Fragment {
					t.Fatalf("fragment %d: %v, want %v", i, got, Fragment)
				}
			}
			if got != tt.want {
				t.Fatalf("last fragment: %v, want %v", got, tt.want)
			}
			if got == DNS && string(f.Payload) != string(payload) {
				t.Errorf("reassembled payload differs (%d bytes)", len(f.Payload))
			}
			st := d.EndFile()
			if tt.want == DNS && st.Reassembled != 1 || tt.want != DNS && st.Expired != 1 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestDecoder_ReassemblyDistrusts(t *testing.T) {
	dgram := udp(53, 40000, make([]byte, 1000))
	frags := fragments4(dgram, 512)
	other := append([]byte(nil), frags[0]...)
	other[len(other)-1] ^= 0xff // same offset, other bytes
	d := NewDecoder([]uint16{53})
	var f Frame
	for _, fr := range [][]byte{frags[0], other, frags[1]} {
		if r := d.Decode(capture.LinkIPv4, fr, 0, &f); r != Fragment {
			t.Fatalf("reason %v, want %v", r, Fragment)
		}
	}
	if st := d.EndFile(); st.Inconsistent != 1 || st.Reassembled != 0 {
		t.Errorf("stats %+v, want one inconsistent datagram", st)
	}
}

func TestDecoder_ReassemblyTimeout(t *testing.T) {
	frags := fragments4(udp(53, 40000, make([]byte, 1000)), 512)
	d := NewDecoder([]uint16{53})
	var f Frame
	d.Decode(capture.LinkIPv4, frags[0], 0, &f)
	if r := d.Decode(capture.LinkIPv4, frags[1], 31e9, &f); r != Fragment {
		t.Fatalf("fragment after the timeout: %v, want %v", r, Fragment)
	}
	if st := d.EndFile(); st.Expired != 2 {
		t.Errorf("stats %+v, want 2 expired", st)
	}
}

func FuzzDecode(f *testing.F) {
	v4 := ipv4(17, 0, nil, udp(40000, 53, dns))
	f.Add(uint16(capture.LinkEthernet), ether(0x0800, v4))
	f.Add(uint16(capture.LinkEthernet), cat(make([]byte, 12), vlan(0x88a8, 30), vlan(0x8100, 20), be16(0x86dd), ipv6(17, udp(1, 53, dns))))
	f.Add(uint16(capture.LinkNFLog), cat([]byte{2, 0, 0, 0}, []byte{byte(4 + len(v4)), 0, 9, 0}, v4))
	for _, fr := range fragments6(udp(53, 1, make([]byte, 100)), 48) {
		f.Add(uint16(capture.LinkIPv6), fr)
	}
	d := NewDecoder([]uint16{53})
	f.Fuzz(func(t *testing.T, link uint16, data []byte) {
		var fr Frame
		r := d.Decode(capture.LinkType(link), data, 0, &fr)
		if r >= numReasons {
			t.Fatalf("reason %d out of range", r)
		}
		if r == DNS && len(fr.Payload) == 0 {
			t.Fatal("DNS with no payload")
		}
	})
}
