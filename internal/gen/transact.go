package gen

// query starts a unicast transaction: a client asks its resolver.
func (g *generator) query() {
	c := &g.w.clients[g.r.IntN(len(g.w.clients))]
	t := txn{
		kind:   unicast,
		client: c,
		id:     uint16(g.r.Uint32()),
		sport:  1024 + uint16(g.r.IntN(64512)),
		nm:     &g.w.names[g.zipf.Uint64()],
	}
	if g.r.Float64() < g.cfg.NXDomain {
		t.nm = g.w.nxName(t.nm.zone, g.r)
		t.rcode = rcodeNXDomain
	}
	t.qtype = g.qtype()
	t.opt = g.edns()
	t.authNS = g.r.IntN(5) == 0
	bad := g.r.Float64() < g.cfg.Malformed
	answered := !bad && g.r.Float64() >= g.cfg.Unanswered && g.budget >= 2
	if answered {
		g.decideRCode(&t)
		t.bad = g.r.Float64() < g.cfg.Malformed
		t.at = g.now + g.latency()
	}

	p := packet{
		via: c, cooked: g.cooked(c),
		srcMAC: c.mac, dstMAC: g.w.gateway,
		src: c.addr, dst: c.server,
		sport: t.sport, dport: 53, ttl: 64,
	}
	g.sendQuery(&p, &t, bad)
	if answered {
		g.budget--
		g.push(t)
	} else {
		g.st.Unanswered++
	}
}

// sendQuery builds and emits a query; a malformed one gets one of two
// faults in its question.
func (g *generator) sendQuery(p *packet, t *txn, bad bool) {
	g.budget--
	b := buildQuery(g.payload[:0], t)
	e := Expected{ID: t.id, QName: t.nm.text, QType: t.qtype}
	if bad {
		if g.r.IntN(2) == 0 {
			b = malformLabel(b)
		} else {
			b = malformLoop(b)
		}
		e.QName, e.QType, e.Malformed = "", 0, true
	}
	g.payload = b
	g.emitDNS(g.now, p, b, e)
}

// decideRCode picks the outcome of a transaction for a name that exists:
// SERVFAIL at the configured share, and, rarely, BADCOOKIE (RFC 7873
// section 5.2.3) when the query carried a cookie.
func (g *generator) decideRCode(t *txn) {
	if t.rcode != 0 {
		return
	}
	if g.r.Float64() < g.cfg.ServFail {
		t.rcode = rcodeServFail
	} else if t.opt.cookie && g.r.IntN(200) == 0 {
		t.rcode = rcodeBadCookie
	}
}

// qtype draws a query type with the weights of a typical stub population.
func (g *generator) qtype() uint16 {
	switch x := g.r.IntN(100); {
	case x < 55:
		return typeA
	case x < 85:
		return typeAAAA
	case x < 90:
		return typeMX
	case x < 95:
		return typeTXT
	}
	return typeNS
}

func (g *generator) edns() edns {
	if g.r.Float64() >= g.cfg.EDNS {
		return edns{}
	}
	e := edns{on: true, size: 1232, do: g.r.IntN(10) < 3}
	if g.r.IntN(10) < 3 {
		e.size = 4096
	}
	e.ecs = g.r.IntN(10) == 0
	e.cookie = g.r.IntN(10) < 3
	return e
}

// latency is the resolver's answer time: a cache hit most of the time, a
// recursion to authoritative servers now and then.
func (g *generator) latency() int64 {
	if g.r.IntN(10) == 0 {
		return 1e6 + g.r.Int64N(29e6)
	}
	return 50e3 + g.r.Int64N(450e3)
}

func (g *generator) cooked(c *host) bool {
	return c.cooked && g.format == Pcapng
}

// respond emits the response of a transaction.
func (g *generator) respond(t *txn) {
	var (
		b  []byte
		an int
		p  packet
	)
	switch t.kind {
	case unicast:
		b, an = buildResponse(g.payload[:0], t)
		p = g.fromServer(t)
	case mdns:
		b, an = buildMDNSResponse(g.payload[:0], t)
		p = g.mdnsPacket(t.client, t.peer)
	case llmnr:
		b, an = buildLLMNRResponse(g.payload[:0], t)
		p = g.llmnrResponsePacket(t)
	}
	e := Expected{ID: t.id, QR: true, RCode: t.rcode, Answers: an}
	if t.kind != mdns {
		e.QName, e.QType = t.nm.text, t.qtype
	}
	if t.bad {
		b = g.malformResponse(b, t, &e)
	}
	g.payload = b
	g.emitDNS(t.at, &p, b, e)
}

// malformResponse cuts the response inside its first record after the
// question or, when there is none, breaks the question's first label.
func (g *generator) malformResponse(b []byte, t *txn, e *Expected) []byte {
	qend := headerLen
	if t.kind != mdns {
		qend += len(t.nm.wire) + 4
	}
	e.Malformed, e.Answers, e.RCode = true, 0, uint16(b[3]&0xf)
	b, ok := malformTruncate(b, qend, 1+g.r.IntN(8))
	if !ok {
		e.QName, e.QType = "", 0
		b = malformLabel(b)
	}
	return b
}

func (g *generator) fromServer(t *txn) packet {
	c := t.client
	return packet{
		via: c, cooked: g.cooked(c), pktType: pktOutgoing,
		srcMAC: g.w.gateway, dstMAC: c.mac,
		src: c.server, dst: c.addr,
		sport: 53, dport: t.sport, ttl: 64,
	}
}
