package packet

import (
	"encoding/binary"
	"fmt"
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

func gre(flags, proto uint16, extra int, body []byte) []byte {
	return cat(be16(flags), be16(proto), make([]byte, extra), body)
}

// TestDecoder_Tunnels: what is under an encapsulation decodes as if it
// arrived plain, with the inner addresses.
func TestDecoder_Tunnels(t *testing.T) {
	inner4 := ipv4(17, 0, nil, udp(40000, 53, dns))
	inner6 := ipv6(17, udp(40000, 53, dns))
	innerEth := cat(make([]byte, 12), vlan(0x8100, 42), be16(0x0800), inner4)
	tests := []struct {
		name  string
		data  []byte // raw IP link
		ipver uint8
		vlan  uint16
	}{
		{"gre ipv4", ipv4(47, 0, nil, gre(0, 0x0800, 0, inner4)), 4, 0},
		{"gre key and sequence ipv6", ipv4(47, 0, nil, gre(0x3000, 0x86dd, 8, inner6)), 6, 0},
		{"erspan type I", ipv4(47, 0, nil, gre(0, 0x88be, 0, innerEth)), 4, 42},
		{"erspan type II", ipv4(47, 0, nil, gre(0x1000, 0x88be, 4, cat(make([]byte, 8), innerEth))), 4, 42},
		{"erspan type III", ipv4(47, 0, nil, gre(0x1000, 0x22eb, 4, cat(make([]byte, 12), innerEth))), 4, 42},
		{"erspan type III subheader", ipv4(47, 0, nil, gre(0x1000, 0x22eb, 4,
			cat(make([]byte, 11), []byte{1}, make([]byte, 8), innerEth))), 4, 42},
		{"gre ethernet", ipv6(47, gre(0, 0x6558, 0, innerEth)), 4, 42},
		{"vxlan", ipv4(17, 0, nil, udp(55555, 4789, cat([]byte{8, 0, 0, 0, 0, 0, 1, 0}, innerEth))), 4, 42},
		{"geneve with option", ipv6(17, udp(55555, 6081, cat([]byte{1, 0, 0x65, 0x58, 0, 0, 1, 0}, make([]byte, 4), innerEth))), 4, 42},
		{"ipv4 in ipv4", ipv4(4, 0, nil, inner4), 4, 0},
		{"ipv6 in ipv4", ipv4(41, 0, nil, inner6), 6, 0},
		{"ipv4 in ipv6", ipv6(4, inner4), 4, 0},
		{"ipv6 in ipv6", ipv6(41, inner6), 6, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f Frame
			if r := NewDecoder([]uint16{53}).Decode(capture.LinkRaw, tt.data, 0, &f); r != DNS {
				t.Fatalf("reason %v, want %v", r, DNS)
			}
			if f.IPVersion != tt.ipver || f.VLANInner != tt.vlan || f.SrcPort != 40000 || len(f.Payload) != len(dns) {
				t.Errorf("ip %d vlan %d port %d payload %d", f.IPVersion, f.VLANInner, f.SrcPort, len(f.Payload))
			}
			if tt.ipver == 4 && f.Src != src4 || tt.ipver == 6 && f.Src != src6 {
				t.Errorf("source %v is not the inner packet's", f.Src)
			}
		})
	}
	ethTests := []struct {
		name string
		data []byte
	}{
		{"mpls two labels", ether(0x8847, cat([]byte{0, 1, 0, 64}, []byte{0, 2, 1, 64}, inner4))},
		{"mpls pseudowire", ether(0x8847, cat([]byte{0, 2, 1, 64}, make([]byte, 4), innerEth))},
		{"pppoe", ether(0x8864, cat([]byte{0x11, 0, 0, 1}, be16(uint16(len(inner4)+2)), be16(0x0021), inner4))},
	}
	for _, tt := range ethTests {
		t.Run(tt.name, func(t *testing.T) {
			var f Frame
			if r := NewDecoder([]uint16{53}).Decode(capture.LinkEthernet, tt.data, 0, &f); r != DNS {
				t.Fatalf("reason %v, want %v", r, DNS)
			}
			if f.Src != src4 || f.SrcPort != 40000 {
				t.Errorf("source %v port %d", f.Src, f.SrcPort)
			}
		})
	}
}

// TestDecoder_TunnelNesting: encapsulations nested without end stop at a
// bound instead of recursing.
func TestDecoder_TunnelNesting(t *testing.T) {
	p := ipv4(17, 0, nil, udp(40000, 53, dns))
	for range 50 {
		p = ipv4(4, 0, nil, p)
	}
	var f Frame
	if r := NewDecoder([]uint16{53}).Decode(capture.LinkRaw, p, 0, &f); r != Tunnel {
		t.Fatalf("reason %v, want %v", r, Tunnel)
	}
}

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
		{"mpls without bottom", capture.LinkEthernet, ether(0x8847, make([]byte, 28)), Truncated, [3]uint16{}, 0, 0, 0, false},
		{"gre unknown payload", capture.LinkRaw, ipv4(47, 0, nil, make([]byte, 8)), Tunnel, [3]uint16{}, 4, 0, 0, false},
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

// counting returns n bytes counting up from 0, wrapping: a payload whose
// pieces differ, so that reassembly in the wrong order shows.
func counting(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func TestDecoder_Reassembly(t *testing.T) {
	payload := counting(1400)
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
	f.Add(uint16(capture.LinkRaw), ipv4(47, 0, nil, gre(0x1000, 0x88be, 4, cat(make([]byte, 8), ether(0x0800, v4)))))
	f.Add(uint16(capture.LinkRaw), ipv4(17, 0, nil, udp(1, 6081, cat([]byte{1, 0, 0x65, 0x58}, make([]byte, 8), ether(0x0800, v4)))))
	f.Add(uint16(capture.LinkEthernet), ether(0x8847, cat([]byte{0, 2, 1, 64}, make([]byte, 4), ether(0x86dd, ipv6(4, v4)))))
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

// TestDecoder_ReassemblyBounds: a datagram cut into more pieces than a real
// one ever is, and a flood of one duplicate piece, cost bounded work.
func TestDecoder_ReassemblyBounds(t *testing.T) {
	dgram := udp(53, 40000, make([]byte, 2000))
	d := NewDecoder([]uint16{53})
	var f Frame
	frags := fragments4(dgram, 8)
	for _, fr := range frags[:len(frags)-1] {
		d.Decode(capture.LinkIPv4, fr, 0, &f)
	}
	if r := d.Decode(capture.LinkIPv4, frags[len(frags)-1], 0, &f); r != Fragment {
		t.Fatalf("last of %d tiny fragments: %v, want %v", len(frags), r, Fragment)
	}
	if st := d.EndFile(); st.Inconsistent == 0 || st.Reassembled != 0 {
		t.Errorf("stats %+v, want the datagram dropped", st)
	}
	big := fragments4(dgram, 1000)
	for range 10000 {
		d.Decode(capture.LinkIPv4, big[0], 0, &f)
	}
	if r := d.Decode(capture.LinkIPv4, big[1], 0, &f); r != Fragment {
		t.Fatalf("after duplicates: %v", r)
	}
	if r := d.Decode(capture.LinkIPv4, big[2], 0, &f); r != DNS {
		t.Fatalf("last piece after 10000 duplicates: %v, want %v", r, DNS)
	}
}

// setID gives IPv4 packets the identification id, making them pieces of
// another datagram.
func setID(pieces [][]byte, id uint16) {
	for _, p := range pieces {
		binary.BigEndian.PutUint16(p[4:], id)
	}
}

// heldBytes is the capacity of the buffers the reassembler holds.
func heldBytes(r *reassembler) int {
	n := 0
	for _, d := range r.pending {
		n += cap(d.data)
	}
	for _, d := range r.free {
		n += cap(d.data)
	}
	if r.done != nil {
		n += cap(r.done.data)
	}
	return n
}

// TestDecoder_ReassemblyMemory: thousands of 64 KiB datagrams that never
// complete, in one piece or in many, hold no more than heldMax of buffers,
// and datagrams still complete among them.
func TestDecoder_ReassemblyMemory(t *testing.T) {
	big := udp(53, 40000, make([]byte, 65000))
	whole := fragments4(big, len(big)-16) // one piece of 64 KiB, and the last
	pieces := fragments4(big, 1480)       // the same cut at Ethernet's MTU
	payload := counting(3000)
	small := fragments4(udp(53, 40000, payload), 1480)
	d := NewDecoder([]uint16{53})
	var f Frame
	ts := int64(0)
	decode := func(p []byte) Reason {
		ts += 1e3
		return d.Decode(capture.LinkIPv4, p, ts, &f)
	}
	complete := func(id uint16) {
		t.Helper()
		setID(small, id)
		for _, p := range small[:len(small)-1] {
			decode(p)
		}
		// Two hundred large datagrams begin before the last piece: fewer
		// than fit in heldMax, so this one is not evicted.
		for i := range 200 {
			setID(whole, uint16(10000+i))
			decode(whole[0])
		}
		if r := decode(small[len(small)-1]); r != DNS || string(f.Payload) != string(payload) {
			t.Fatalf("datagram %d among large ones: %v, %d bytes", id, r, len(f.Payload))
		}
	}
	const n = 3000
	for i := range n {
		if i%2 == 0 {
			setID(whole, uint16(i))
			decode(whole[0])
		} else {
			setID(pieces, uint16(i))
			for _, p := range pieces[:len(pieces)-1] {
				decode(p)
			}
		}
		// Datagrams are evicted by the sizes their pieces call for; Go
		// rounds a buffer up by an eighth at most.
		if got, limit := heldBytes(d.frag), heldMax+heldMax/8; got > limit {
			t.Fatalf("after %d datagrams the reassembler holds %d bytes of buffers, over %d", i+1, got, limit)
		}
		if i == n/2 {
			complete(60000)
		}
	}
	complete(60001)
	if got := heldBytes(d.frag); got != d.frag.held {
		t.Errorf("held counts %d bytes of buffers; they are %d", d.frag.held, got)
	}
	if st := d.EndFile(); st.Reassembled != 2 || st.Expired != n+400 || st.Inconsistent != 0 {
		t.Errorf("stats %+v, want 2 reassembled, %d expired", st, n+400)
	}
}

// TestDecoder_ReassemblyConcurrent: as many datagrams of a resolver's
// sizes as pendingMax allows are pending at once, and all complete.
func TestDecoder_ReassemblyConcurrent(t *testing.T) {
	payload := counting(4096)
	pieces := fragments4(udp(53, 40000, payload), 1480)
	d := NewDecoder([]uint16{53})
	var f Frame
	for _, p := range pieces[:len(pieces)-1] {
		for id := range pendingMax {
			setID([][]byte{p}, uint16(id))
			if r := d.Decode(capture.LinkIPv4, p, int64(id), &f); r != Fragment {
				t.Fatalf("datagram %d: %v, want %v", id, r, Fragment)
			}
		}
	}
	last := pieces[len(pieces)-1]
	for id := range pendingMax {
		setID([][]byte{last}, uint16(id))
		if r := d.Decode(capture.LinkIPv4, last, 1e6, &f); r != DNS || string(f.Payload) != string(payload) {
			t.Fatalf("datagram %d: %v, %d bytes", id, r, len(f.Payload))
		}
	}
	if st := d.EndFile(); st.Reassembled != pendingMax || st.Expired != 0 {
		t.Errorf("stats %+v, want %d reassembled", st, pendingMax)
	}
}

// TestDecoder_ReassemblySameAfterOtherFiles: which datagrams are evicted
// past heldMax, and so which complete, depends on the file alone. 64
// datagrams begin with one piece, then 250 with all but their last: their
// sizes take 16.5 MB, within heldMax, and all 314 complete. A decoder
// whose free datagrams keep 64 KiB buffers from an earlier file gives them
// to the first 64; reckoned by capacity, those took 4 MiB more and were
// evicted.
func TestDecoder_ReassemblySameAfterOtherFiles(t *testing.T) {
	payload := counting(65000)
	pieces := fragments4(udp(53, 40000, payload), 1480)
	last := len(pieces) - 1
	// run returns the datagrams completed, in order.
	run := func(d *Decoder) []uint16 {
		var f Frame
		var done []uint16
		decode := func(p []byte) {
			if d.Decode(capture.LinkIPv4, p, 1e6, &f) == DNS {
				if string(f.Payload) != string(payload) {
					t.Fatalf("datagram of %d bytes reassembled wrong", len(f.Payload))
				}
				done = append(done, binary.BigEndian.Uint16(p[4:]))
			}
		}
		for i := range 314 {
			setID(pieces, uint16(i))
			n := last
			if i < 64 {
				n = 1
			}
			for _, p := range pieces[:n] {
				decode(p)
			}
		}
		for i := range 314 {
			setID(pieces, uint16(i))
			n := last
			if i < 64 {
				n = 1
			}
			for _, p := range pieces[n:] {
				decode(p)
			}
		}
		d.EndFile()
		return done
	}
	want := run(NewDecoder([]uint16{53}))

	used := NewDecoder([]uint16{53})
	var f Frame
	for _, part := range [][][]byte{pieces[:last], pieces[last:]} {
		for i := range freeMax {
			setID(pieces, uint16(1000+i))
			for _, p := range part {
				used.Decode(capture.LinkIPv4, p, 1e6, &f)
			}
		}
	}
	used.EndFile()
	if len(used.frag.free) != freeMax-1 || used.frag.done == nil { // the last to complete is freed at the next piece
		t.Fatalf("the earlier file left %d free datagrams, want %d and one done", len(used.frag.free), freeMax-1)
	}
	got := run(used)
	if len(want) != 314 {
		t.Errorf("a new decoder completed %d of 314 datagrams", len(want))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after another file, %d datagrams completed:\n%v\nfrom a new decoder, %d:\n%v", len(got), got, len(want), want)
	}
}

// TestDecoder_ReassemblySweepPerFile: a file's datagrams time out by its
// own packets. One datagram's last piece comes 30.15 s after its first,
// other datagrams' fragments every 0.7 s between: read alone, the expiry
// sweeps (at most one a second) fall so that it completes. After a file
// whose last fragment came 0.5 s before, the sweeps went on in that
// file's phase, one fell at 30.1 s, and the datagram expired.
func TestDecoder_ReassemblySweepPerFile(t *testing.T) {
	long := fragments4(udp(53, 40000, counting(3000)), 1480)
	setID(long, 1)
	other := fragments4(udp(53, 40001, counting(2000)), 1480)
	const t0 = int64(1_700_000_000e9)
	run := func(d *Decoder) FragmentStats {
		var f Frame
		d.Decode(capture.LinkIPv4, long[0], t0, &f)
		ts := t0
		for i := range 43 {
			ts += 700e6
			setID(other, uint16(100+i))
			for _, p := range other {
				d.Decode(capture.LinkIPv4, p, ts, &f)
			}
		}
		for _, p := range long[1:] {
			d.Decode(capture.LinkIPv4, p, t0+30_150e6, &f)
		}
		return d.EndFile()
	}
	want := run(NewDecoder([]uint16{53}))
	d := NewDecoder([]uint16{53})
	var f Frame
	setID(other, 99)
	for _, p := range other[:1] {
		d.Decode(capture.LinkIPv4, p, t0-500e6, &f)
	}
	d.EndFile()
	if want.Reassembled != 44 {
		t.Fatalf("alone: %+v, want 44 datagrams reassembled", want)
	}
	if got := run(d); got != want {
		t.Errorf("after another file: %+v; alone: %+v", got, want)
	}
}
