package craft

// fragSize is the data carried by every fragment but the last. Real paths
// fragment at 1232 (IPv6) or 1480 (IPv4) octets; 512 keeps the files small,
// and reassembly does not depend on the size.
const fragSize = 512

// fragIPv6 is an EDNS response of 20 AAAA records in two IPv6 fragments.
func fragIPv6() Case {
	b := newBuilder("frag-ipv6-edns",
		"an EDNS query (UDP size 4096) and its 20-AAAA response in two IPv6 fragments "+
			"(Fragment header, 512 octets then the rest), in order; the response completes at frame 3",
		"agrees")
	f := &flow{client: withPort(clientV6, 40016), server: serverV6}
	q := query(0x3001, "big6.example.org", typeAAAA, 4096)
	b.send(f, true, 0, q)

	var answers []record
	for i := range uint16(20) {
		answers = append(answers, aaaaRecord(300, 0x200+i))
	}
	r := reply(q, 0, answers...)
	seg := udp(f.server, f.client, r.pack())
	frags := fragmentsV6(f.server.addr, f.client.addr, protoUDP, 0x5eed0001, seg, fragSize)
	b.add(gapRTT, b.link(f, false, frags[0]))
	n := b.add(gapBurst, b.link(f, false, frags[1]))
	b.row(n, f, false, r.info())
	return b.done()
}

// fragIPv4 is an EDNS response of 40 A records in two IPv4 fragments, the
// last one captured first.
func fragIPv4() Case {
	b := newBuilder("frag-ipv4-edns",
		"an EDNS query (UDP size 4096) and its 40-A response in two IPv4 fragments "+
			"captured last fragment first; the response completes at frame 3",
		"agrees")
	f := &flow{client: withPort(clientV4, 40004), server: serverV4}
	q := query(0x3101, "big4.example.org", typeA, 4096)
	b.send(f, true, 0, q)

	var answers []record
	for i := range byte(40) {
		answers = append(answers, aRecord(300, 198, 51, 100, 100+i))
	}
	r := reply(q, 0, answers...)
	seg := udp(f.server, f.client, r.pack())
	frags := fragmentsV4(f.server.addr, f.client.addr, protoUDP, b.nextID(), seg, fragSize)
	b.add(gapRTT, b.link(f, false, frags[1]))
	n := b.add(gapBurst, b.link(f, false, frags[0]))
	b.row(n, f, false, r.info())
	return b.done()
}
