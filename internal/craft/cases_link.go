package craft

import (
	"net/netip"

	"github.com/pcapload/pcapload/ingest/capture"
)

// vlanThreeTags is a transaction behind an 802.1ad tag and two 802.1Q
// tags.
func vlanThreeTags() Case {
	b := newBuilder("vlan-three-tags",
		"an IPv4 query and response behind three tags: 802.1ad 100, 802.1Q 200, 802.1Q 300",
		"agrees: ieee8021ad.id 100, then vlan.id 200 and 300")
	f := &flow{client: clientV4, server: serverV4,
		tags: []tag{{ether8021AD, 100}, {ether8021Q, 200}, {ether8021Q, 300}}}
	q := query(0x1001, "www.example.com", typeA, 1232)
	b.send(f, true, 0, q)
	b.send(f, false, gapRTT, reply(q, 0, aRecord(300, 192, 0, 2, 80)))
	return b.done()
}

// sll2Case is an IPv6 transaction captured on the resolver with the Linux
// "any" device.
func sll2Case() Case {
	b := newBuilder("sll2",
		"an IPv6 query and response on LINKTYPE_LINUX_SLL2 (276), captured on the resolver: "+
			"packet type 0 (to us) then 4 (outgoing)",
		"agrees")
	b.c.Link = capture.LinkLinuxSLL2
	f := &flow{client: clientV6, server: serverV6, frame: sll2Frame}
	q := query(0x1101, "sll2.example.net", typeAAAA, 1232)
	b.send(f, true, 0, q)
	b.send(f, false, gapRTT, reply(q, 0, aaaaRecord(600, 0x80)))
	return b.done()
}

// sll2Frame frames a packet as the resolver's kernel reports it on
// interface 2.
func sll2Frame(_ *builder, f *flow, toServer bool, etherType uint16, ip []byte) []byte {
	if toServer {
		return sll2(etherType, 2, sllHost, f.client.mac, ip)
	}
	return sll2(etherType, 2, sllOutgoing, f.server.mac, ip)
}

// mdnsCase is a multicast DNS query and the announcement that answers it.
func mdnsCase() Case {
	b := newBuilder("mdns",
		"mDNS on 224.0.0.251:5353: a query with the QU bit, ID 0, and a response with "+
			"AA set, no question and one PTR answer",
		"agrees (decoded as mdns by port)")
	group := endpoint{mac: [6]byte{0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb},
		addr: netip.MustParseAddr("224.0.0.251"), port: 5353}
	asker := &flow{client: withPort(clientV4, 5353), server: group}
	printer := endpoint{mac: mac(0x30), addr: netip.MustParseAddr("192.0.2.30"), port: 5353}
	answerer := &flow{client: printer, server: group}

	q := message{questions: []question{{"_ipp._tcp.local", typePTR, classIN | classQU}}}
	b.send(asker, true, 0, q)
	ptr := record{owner: wireName("_ipp._tcp.local"), typ: typePTR, class: classIN, ttl: 4500,
		rdata: append([]byte{7}, "printer\xc0\x0c"...)}
	b.send(answerer, true, gapRTT, message{flags: flagQR | flagAA, answers: []record{ptr}})
	return b.done()
}

// erspanII is a query mirrored by a switch to a collector in ERSPAN type II.
func erspanII() Case {
	b := newBuilder("erspan-ii",
		"an IPv4 query mirrored in ERSPAN type II (GRE with sequence number, protocol 0x88BE, "+
			"session 42) from 203.0.113.1 to 203.0.113.2; the row holds the inner addresses",
		"agrees (GRE protocol 0x88BE is ERSPAN by default)")
	f := &flow{client: clientV4, server: serverV4, frame: erspanFrame()}
	b.send(f, true, 0, query(0x1301, "mirror.example.org", typeA, 1232))
	return b.done()
}

// erspanFrame returns a framer that mirrors each Ethernet frame of a flow
// from a switch to a collector, numbering the GRE packets from 1.
func erspanFrame() func(*builder, *flow, bool, uint16, []byte) []byte {
	var seq uint32
	sw := endpoint{mac: mac(0xe1), addr: netip.MustParseAddr("203.0.113.1")}
	coll := endpoint{mac: mac(0xe2), addr: netip.MustParseAddr("203.0.113.2")}
	return func(b *builder, f *flow, toServer bool, etherType uint16, ip []byte) []byte {
		src, dst := f.ends(toServer)
		inner := ethernet(dst.mac, src.mac, nil, etherType, ip)
		seq++
		h := ipv4Header{src: sw.addr, dst: coll.addr, proto: protoGRE, id: b.nextID(), ttl: 64, flags: 0x4000}
		outer := ipv4(h, greERSPAN(seq, 42, inner))
		return ethernet(coll.mac, sw.mac, nil, etherIPv4, outer)
	}
}
