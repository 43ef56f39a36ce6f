package gen

import "net/netip"

// Multicast groups and their MAC addresses (RFC 6762 section 3, RFC 4795
// section 2, RFC 1112 section 6.4, RFC 2464 section 7).
var (
	mdnsGroup4  = netip.AddrFrom4([4]byte{224, 0, 0, 251})
	mdnsGroup6  = netip.MustParseAddr("ff02::fb")
	llmnrGroup4 = netip.AddrFrom4([4]byte{224, 0, 0, 252})
	llmnrGroup6 = netip.MustParseAddr("ff02::1:3")
)

// groupMAC maps an IP multicast group to its Ethernet address.
func groupMAC(group netip.Addr) [6]byte {
	if group.Is6() {
		a := group.As16()
		return [6]byte{0x33, 0x33, a[12], a[13], a[14], a[15]}
	}
	a := group.As4()
	return [6]byte{0x01, 0x00, 0x5e, a[1] & 0x7f, a[2], a[3]}
}

// multicast starts an mDNS or an LLMNR transaction between two clients of
// the same address family. Most mDNS queries and half the LLMNR ones are
// answered, mDNS after the 20–120 ms delay of RFC 6762 section 6.
func (g *generator) multicast() {
	c := &g.w.clients[g.r.IntN(len(g.w.clients))]
	fam := 0
	if c.addr.Is6() {
		fam = 1
	}
	peers := g.w.byFam[fam]
	t := txn{client: c, peer: &g.w.clients[peers[g.r.IntN(len(peers))]]}
	var p packet
	var answered bool
	if g.r.IntN(2) == 0 {
		t.kind, t.qtype, t.sport = mdns, typePTR, 5353
		t.nm = &g.w.services[g.r.IntN(len(g.w.services))]
		p = g.mdnsPacket(c, c)
		answered = g.r.IntN(10) < 7
		t.at = g.now + 20e6 + g.r.Int64N(100e6)
	} else {
		t.kind, t.qtype, t.sport = llmnr, typeA, 49152+uint16(g.r.IntN(16384))
		if fam == 1 {
			t.qtype = typeAAAA
		}
		t.id = uint16(g.r.Uint32())
		t.nm = &g.w.llmnrNames[g.r.IntN(len(g.w.llmnrNames))]
		p = g.llmnrQueryPacket(c, t.sport)
		answered = g.r.IntN(2) == 0
		t.at = g.now + 200e3 + g.r.Int64N(2e6)
	}
	answered = answered && g.budget >= 2
	g.sendQuery(&p, &t, false)
	if answered {
		g.budget--
		g.push(t)
	} else {
		g.st.Unanswered++
	}
}

// mdnsPacket addresses an mDNS message from host from to the group, on the
// link of client c. Queries and responses both go to the group from port
// 5353 with TTL 255 (RFC 6762 section 11).
func (g *generator) mdnsPacket(c, from *host) packet {
	group := mdnsGroup4
	if c.addr.Is6() {
		group = mdnsGroup6
	}
	return packet{
		via: c, cooked: g.cooked(c), pktType: pktMulticast,
		srcMAC: from.mac, dstMAC: groupMAC(group),
		src: from.addr, dst: group,
		sport: 5353, dport: 5353, ttl: 255,
	}
}

// llmnrQueryPacket addresses an LLMNR query to the group with TTL 1 (RFC
// 4795 section 2.5).
func (g *generator) llmnrQueryPacket(c *host, sport uint16) packet {
	group := llmnrGroup4
	if c.addr.Is6() {
		group = llmnrGroup6
	}
	return packet{
		via: c, cooked: g.cooked(c), pktType: pktMulticast,
		srcMAC: c.mac, dstMAC: groupMAC(group),
		src: c.addr, dst: group,
		sport: sport, dport: 5355, ttl: 1,
	}
}

// llmnrResponsePacket addresses the unicast LLMNR response from the peer
// back to the asking port.
func (g *generator) llmnrResponsePacket(t *txn) packet {
	c := t.client
	return packet{
		via: c, cooked: g.cooked(c),
		srcMAC: t.peer.mac, dstMAC: c.mac,
		src: t.peer.addr, dst: c.addr,
		sport: 5355, dport: t.sport, ttl: 64,
	}
}
