package gen

import (
	"cmp"
	"encoding/binary"
	"slices"
)

// TCP flags (RFC 9293 section 3.1).
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpPSH = 0x08
	tcpACK = 0x10
)

// conn is one DNS-over-TCP connection (RFC 7766) from a client's ephemeral
// port to its resolver, written as a script of segments fixed when the
// connection opens. Sequence and acknowledgement numbers are worked out as
// the segments are written: each side acknowledges everything the other
// has sent so far.
type conn struct {
	txns   [2]txn    // the queries, pipelined when n is 2
	n      int       // queries on the connection
	cut    int       // where the first query's segment is cut; 0 when it is not
	seq    [2]uint32 // next sequence number of the client and of the server
	script []seg
	next   int // script index of the next segment
}

// seg is one scripted segment.
type seg struct {
	at     int64
	server bool // sent by the resolver
	flags  uint8
	data   segData
	i      int // which query or response
}

// segData is what a scripted segment carries, each DNS message framed with
// its two-byte length (RFC 1035 section 4.2.2).
type segData uint8

const (
	noData     segData = iota
	queryHead          // query i up to the cut
	queryTail          // query i from the cut
	queryWhole         // query i
	queryBoth          // queries 0 and 1, pipelined in one segment
	response           // response i
)

// connKey names a connection by its client end, so that two live
// connections never share one.
type connKey struct {
	client *host
	port   uint16
}

// A connection carries a second, pipelined query one time in pipelined;
// tcpPackets is about how many packets a connection makes: handshake,
// query, response, the two FINs and the last ACK, and now and then a split
// query, a pure ACK or a second transaction.
const (
	pipelined  = 8
	tcpPackets = 8.5
)

// tcpQuery opens a connection that carries one query, or now and then two
// pipelined ones, and schedules its segments. Every TCP query is answered,
// well formed, and carries the larger answers TCP is used for. There is no
// budget for a connection below two messages: a UDP query is sent instead.
func (g *generator) tcpQuery() {
	if g.budget < 2 {
		g.query()
		return
	}
	c := &g.w.clients[g.r.IntN(len(g.w.clients))]
	cn := &conn{n: 1, seq: [2]uint32{g.r.Uint32(), g.r.Uint32()}}
	if g.budget >= 4 && g.r.IntN(pipelined) == 0 {
		cn.n = 2
	}
	sport := g.tcpPort(c)
	cn.txns[0] = g.tcpTxn(c, sport)
	if cn.n == 2 {
		// glibc's stub asks for A and AAAA together, in one write when it
		// can.
		cn.txns[0].qtype = typeA
		cn.txns[1] = cn.txns[0]
		cn.txns[1].qtype = typeAAAA
		// RFC 7766 section 7: IDs differ on one connection.
		cn.txns[1].id = cn.txns[0].id + 1 + uint16(g.r.IntN(0xfffe))
	}
	g.budget -= 2 * cn.n
	cn.script = g.tcpScript(cn)
	g.busy[connKey{c, sport}] = true
	g.tcpSegment(cn)
}

// tcpPort picks a Linux ephemeral port (32768–60999) that no live
// connection of the client holds.
func (g *generator) tcpPort(c *host) uint16 {
	for {
		p := 32768 + uint16(g.r.IntN(28232))
		if !g.busy[connKey{c, p}] {
			return p
		}
	}
}

// tcpTxn draws a TCP transaction: names and outcomes as over UDP, but
// types whose responses tend to be large.
func (g *generator) tcpTxn(c *host, sport uint16) txn {
	t := txn{
		kind:   unicast,
		client: c,
		id:     uint16(g.r.Uint32()),
		sport:  sport,
		nm:     &g.w.names[g.zipf.Uint64()],
		big:    true,
	}
	if g.r.Float64() < g.cfg.NXDomain {
		t.nm = g.w.nxName(t.nm.zone, g.r)
		t.rcode = rcodeNXDomain
	}
	switch x := g.r.IntN(10); {
	case x < 4:
		t.qtype = typeTXT
	case x < 7:
		t.qtype = typeA
	case x < 9:
		t.qtype = typeAAAA
	default:
		t.qtype = typeMX
	}
	t.opt = g.edns()
	g.decideRCode(&t)
	return t
}

// script collects the segments of a connection, in any order.
type script []seg

func (s *script) add(at int64, server bool, flags uint8, data segData, i int) {
	*s = append(*s, seg{at: at, server: server, flags: flags, data: data, i: i})
}

// tcpScript times the segments of a connection as a capture in front of
// the resolver sees them: the resolver's kernel turns a segment around in
// 10–40 µs, the client in one round trip of 0.2–3 ms.
func (g *generator) tcpScript(cn *conn) []seg {
	const push = tcpPSH | tcpACK
	rtt := 200e3 + g.r.Int64N(2.8e6)
	turn := func() int64 { return 10e3 + g.r.Int64N(30e3) }
	var s script

	t := g.now
	s.add(t, false, tcpSYN, noData, 0)
	t += turn()
	s.add(t, true, tcpSYN|tcpACK, noData, 0)
	t += rtt
	s.add(t, false, tcpACK, noData, 0)
	done := g.scriptQueries(cn, &s, t+5e3+g.r.Int64N(20e3))

	// Responses may come in any order (RFC 7766 section 7). A resolver
	// that recurses acknowledges the query before it answers.
	last := int64(0)
	for i := range cn.n {
		cn.txns[i].at = done[i] + g.latency()
		s.add(cn.txns[i].at, true, push, response, i)
		last = max(last, cn.txns[i].at)
	}
	if cn.txns[0].at-done[0] > 1e6 {
		s.add(done[0]+turn(), true, tcpACK, noData, 0)
	}

	// The client closes once it has its answers (RFC 7766 section 6.2.1).
	t = last + rtt
	s.add(t, false, tcpFIN|tcpACK, noData, 0)
	t += turn()
	s.add(t, true, tcpFIN|tcpACK, noData, 0)
	s.add(t+rtt, false, tcpACK, noData, 0)
	slices.SortStableFunc(s, func(a, b seg) int { return cmp.Compare(a.at, b.at) })
	return s
}

// scriptQueries adds the query segments, the first at t, and returns when
// each query is complete. Some stubs write the length and the message
// apart, and a retransmission may be cut elsewhere: a fifth of first
// queries come in two segments.
func (g *generator) scriptQueries(cn *conn, s *script, t int64) [2]int64 {
	const push = tcpPSH | tcpACK
	var done [2]int64
	second := cn.n == 2
	switch {
	case g.r.IntN(5) == 0:
		cn.cut = 2
		if g.r.IntN(2) == 0 {
			cn.cut += 1 + g.r.IntN(headerLen+len(cn.txns[0].nm.wire))
		}
		s.add(t, false, push, queryHead, 0)
		t += 20e3 + g.r.Int64N(200e3)
		s.add(t, false, push, queryTail, 0)
	case second && g.r.IntN(2) == 0:
		s.add(t, false, push, queryBoth, 0)
		done[1], second = t, false
	default:
		s.add(t, false, push, queryWhole, 0)
	}
	done[0] = t
	if second {
		done[1] = t + 10e3 + g.r.Int64N(100e3)
		s.add(done[1], false, push, queryWhole, 1)
	}
	return done
}

// tcpSegment writes the next segment of cn, reports the messages it
// completes, and schedules the one after.
func (g *generator) tcpSegment(cn *conn) {
	s := &cn.script[cn.next]
	cn.next++
	t := &cn.txns[0]
	p := packet{
		via: t.client, cooked: g.cooked(t.client),
		srcMAC: t.client.mac, dstMAC: g.w.gateway,
		src: t.client.addr, dst: t.client.server,
		sport: t.sport, dport: 53, ttl: 64,
	}
	side := 0
	if s.server {
		p, side = g.fromServer(t), 1
	}
	data, done := g.tcpData(cn, s)
	seq, ack := cn.seq[side], cn.seq[1-side]
	if s.flags&tcpACK == 0 {
		ack = 0
	}
	cn.seq[side] += uint32(len(data))
	if s.flags&(tcpSYN|tcpFIN) != 0 {
		cn.seq[side]++
	}
	g.frame = p.tcp(g.frame[:0], g.nextID(), tcpHeader{seq, ack, s.flags, side}, data)
	frame, ts := g.write(s.at, &p)
	g.st.TCPSegments++
	for _, e := range done {
		g.expect(&p, frame, ts, e)
	}

	if cn.next < len(cn.script) {
		g.push(txn{kind: tcpNext, at: cn.script[cn.next].at, conn: cn})
	} else {
		delete(g.busy, connKey{t.client, t.sport})
	}
}

// tcpData builds the payload of segment s into g.stream and returns it
// with the ground truth of the messages it completes.
func (g *generator) tcpData(cn *conn, s *seg) ([]byte, []Expected) {
	b := g.stream[:0]
	done := g.done[:0]
	switch s.data {
	case queryHead, queryTail:
		b = g.framed(b, &cn.txns[s.i], false)
		if s.data == queryHead {
			b = b[:cn.cut]
		} else {
			b = b[cn.cut:]
			done = append(done, tcpExpected(&cn.txns[s.i], false, 0))
		}
	case queryWhole, response:
		qr := s.data == response
		b = g.framed(b, &cn.txns[s.i], qr)
		done = append(done, tcpExpected(&cn.txns[s.i], qr, g.answers))
	case queryBoth:
		for i := range 2 {
			b = g.framed(b, &cn.txns[i], false)
			done = append(done, tcpExpected(&cn.txns[i], false, 0))
		}
	}
	g.stream, g.done = b, done
	return b, done
}

// framed appends the query or, when qr is set, the response of t with its
// length prefix, and leaves the response's answer count in g.answers.
func (g *generator) framed(b []byte, t *txn, qr bool) []byte {
	m := g.payload[:0]
	if qr {
		m, g.answers = buildResponse(m, t)
	} else {
		m = buildQuery(m, t)
	}
	g.payload = m
	b = binary.BigEndian.AppendUint16(b, uint16(len(m)))
	return append(b, m...)
}

func tcpExpected(t *txn, qr bool, answers int) Expected {
	e := Expected{ID: t.id, QR: qr, QName: t.nm.text, QType: t.qtype, TCP: true}
	if qr {
		e.RCode, e.Answers = t.rcode, answers
	}
	return e
}

// tcpHeader is what changes from one segment of a connection to the next.
type tcpHeader struct {
	seq, ack uint32
	flags    uint8
	side     int // 0 for the client, 1 for the resolver
}

// tcp appends a whole TCP segment, headers included (RFC 9293 section
// 3.1). A SYN carries the options Linux sends: MSS, SACK permitted and a
// window scale of 7; later windows are scaled by it.
func (p *packet) tcp(b []byte, id uint16, h tcpHeader, payload []byte) []byte {
	hlen := 20
	if h.flags&tcpSYN != 0 {
		hlen = 32
	}
	b = p.ip(b, protoTCP, hlen+len(payload), id)
	l4 := len(b)
	b = binary.BigEndian.AppendUint16(b, p.sport)
	b = binary.BigEndian.AppendUint16(b, p.dport)
	b = binary.BigEndian.AppendUint32(b, h.seq)
	b = binary.BigEndian.AppendUint32(b, h.ack)
	b = append(b, byte(hlen/4)<<4, h.flags)
	b = binary.BigEndian.AppendUint16(b, tcpWindows[h.side][h.flags&tcpSYN>>1])
	b = append(b, 0, 0, 0, 0) // checksum, urgent pointer
	if h.flags&tcpSYN != 0 {
		mss := uint16(1460)
		if p.src.Is6() {
			mss = 1440
		}
		b = append(b, 2, 4, byte(mss>>8), byte(mss), 4, 2, 1, 3, 3, 7, 1, 1)
	}
	b = append(b, payload...)
	binary.BigEndian.PutUint16(b[l4+16:], fold(p.pseudo(protoTCP, len(b)-l4)+sum(b[l4:], 0)))
	return p.pad(b)
}

// tcpWindows are the advertised windows of the client and the resolver,
// after the handshake and in their SYN: Linux's defaults.
var tcpWindows = [2][2]uint16{{502, 64240}, {509, 65160}}
