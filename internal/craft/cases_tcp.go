package craft

// tcpTwoMessages is a pipelined pair of queries in one segment, answered by
// two responses in one segment.
func tcpTwoMessages() Case {
	b := newBuilder("tcp-two-messages",
		"DNS over TCP on IPv4 after a three-way handshake: two length-prefixed queries "+
			"in one segment (frame 4), then both responses in one segment (frame 5)",
		"agrees: tshark lists both messages of a frame in one line")
	f := &flow{client: withPort(clientV4, 40002), server: serverV4, tcp: true}
	b.handshake(f)

	qa := query(0x2001, "a.example.com", typeA, 0)
	qaaaa := query(0x2002, "a.example.com", typeAAAA, 0)
	n := b.tcpSeg(f, true, gapNext, append(tcpFrame(qa.pack()), tcpFrame(qaaaa.pack())...))
	b.row(n, f, true, qa.info())
	b.row(n, f, true, qaaaa.info())

	ra := reply(qa, 0, aRecord(60, 192, 0, 2, 1))
	raaaa := reply(qaaaa, 0, aaaaRecord(60, 1))
	n = b.tcpSeg(f, false, gapRTT, append(tcpFrame(ra.pack()), tcpFrame(raaaa.pack())...))
	b.row(n, f, false, ra.info())
	b.row(n, f, false, raaaa.info())
	return b.done()
}

// tcpOutOfOrder is a response cut in three segments that arrive first,
// third, second.
func tcpOutOfOrder() Case {
	b := newBuilder("tcp-out-of-order",
		"DNS over TCP on IPv6: a query, then a 6-answer response in three segments "+
			"captured in the order 1, 3, 2; the response completes at frame 7",
		"agrees with -o tcp.reassemble_out_of_order:TRUE (off by default: then tshark shows no response)")
	b.c.DecodeAs = []string{"-o", "tcp.reassemble_out_of_order:TRUE"}
	f := &flow{client: withPort(clientV6, 40007), server: serverV6, tcp: true}
	b.handshake(f)

	q := query(0x2101, "ooo.example.net", typeAAAA, 0)
	b.row(b.tcpSeg(f, true, gapNext, tcpFrame(q.pack())), f, true, q.info())

	var answers []record
	for i := range uint16(6) {
		answers = append(answers, aaaaRecord(120, 0x100+i))
	}
	r := reply(q, 0, answers...)
	data := tcpFrame(r.pack())

	// Cuts at arbitrary points inside the question and the third answer.
	base, cut1, cut2 := f.sseq, 20, 110
	b.tcpSegAt(f, false, gapRTT, base, tcpPSH|tcpACK, data[:cut1])
	b.tcpSegAt(f, false, gapBurst, base+uint32(cut2), tcpPSH|tcpACK, data[cut2:])
	n := b.tcpSegAt(f, false, gapServer, base+uint32(cut1), tcpPSH|tcpACK, data[cut1:cut2])
	f.sseq = base + uint32(len(data))
	b.row(n, f, false, r.info())
	return b.done()
}
