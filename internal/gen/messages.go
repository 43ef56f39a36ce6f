package gen

import "encoding/binary"

// kind is the protocol of a transaction.
type kind uint8

const (
	unicast kind = iota // a stub resolver asking a recursive resolver, port 53
	mdns                // multicast DNS, RFC 6762, port 5353
	llmnr               // link-local multicast name resolution, RFC 4795, port 5355
	tcpNext             // not a transaction: a pending TCP connection's next segment
)

// txn is one transaction: everything needed to build its query and its
// response, so that a pending response costs no buffer.
type txn struct {
	at     int64 // time of the response
	seq    uint64
	kind   kind
	client *host
	peer   *host // the answering host of an mDNS or LLMNR query
	nm     *name
	qtype  uint16
	id     uint16
	sport  uint16
	rcode  uint16
	opt    edns
	authNS bool  // list the zone's NS records in the authority section
	bad    bool  // the response is malformed
	big    bool  // a large response, as over TCP: more records per RRset
	conn   *conn // the connection of a pending tcpNext
}

func buildQuery(b []byte, t *txn) []byte {
	m := msg{b: b}
	flags := uint16(flagRD)
	if t.kind != unicast {
		flags = 0 // RFC 6762 section 18.6 and RFC 4795 section 2.1.1: RD is zero
	}
	m.header(t.id, flags)
	m.question(t.nm.wire, t.qtype)
	if t.opt.on {
		m.opt(t.opt, 0, t.client, false, 0)
	}
	return m.finish()
}

// buildResponse builds the response of a unicast transaction and returns it
// with the number of answer records.
func buildResponse(b []byte, t *txn) ([]byte, int) {
	m := msg{b: b}
	m.header(t.id, flagQR|flagRD|flagRA|t.rcode&0xf)
	m.question(t.nm.wire, t.qtype)
	switch t.rcode {
	case 0:
		m.answer(t)
	case rcodeNXDomain:
		m.soa(t.nm)
	}
	if t.opt.on {
		var ede uint16
		if t.rcode == rcodeServFail {
			ede = 22 // RFC 8914 section 4.23: No Reachable Authority
		}
		e := t.opt
		e.size = 1232
		m.opt(e, t.rcode, t.client, true, ede)
	}
	return m.finish(), int(m.an)
}

func (m *msg) answer(t *txn) {
	nm := t.nm
	switch t.qtype {
	case typeA, typeAAAA:
		m.addresses(nm, t.qtype, t.big)
	case typeMX:
		m.mx(nm, t.big)
	case typeTXT:
		m.txt(nm, t.big)
	case typeNS:
		m.nsRecords(nm, qnameOff)
		m.an, m.ns = m.ns, 0
		return
	}
	if t.authNS && m.an > 0 && len(nm.cnames) == 0 {
		m.nsRecords(nm, qnameOff+nm.apexOff)
	}
}

// addresses answers A or AAAA through the name's CNAME chain; a name with no
// address of that type gets a NODATA response (RFC 2308 section 2.2). A big
// response lists 4–8 addresses, as a load-balanced service does.
func (m *msg) addresses(nm *name, qtype uint16, big bool) {
	n := nm.nA
	if qtype == typeAAAA {
		n = nm.nAAAA
	}
	if n == 0 {
		m.soa(nm)
		return
	}
	if big {
		n = 4 + int(nm.key>>32%5)
	}
	owner := qnameOff
	for _, target := range nm.cnames {
		rd := m.rr(owner, typeCNAME, classIN, nm.ttl)
		owner = len(m.b)
		m.b = append(m.b, target...)
		m.end(rd)
		m.an++
	}
	for k := range n {
		rd := m.rr(owner, qtype, classIN, nm.ttl)
		a := mix(nm.key + uint64(k))
		if qtype == typeA {
			// 198.18.0.0/15, the benchmarking range: never a real host.
			m.b = append(m.b, 198, 18|byte(a&1), byte(a>>8), byte(a>>16))
		} else {
			m.b = append(m.b, 0x20, 0x01, 0x0d, 0xb8, 0xa0, 0x00)
			m.b = binary.BigEndian.AppendUint64(m.b, a)
			m.b = binary.BigEndian.AppendUint16(m.b, uint16(a>>7))
		}
		m.end(rd)
		m.an++
	}
}

// host appends a one-label host name under the name at offset apex.
func (m *msg) host(label string, apex int) {
	m.b = append(m.b, byte(len(label)))
	m.b = append(m.b, label...)
	m.b = appendPtr(m.b, apex)
}

func (m *msg) mx(nm *name, big bool) {
	apex := qnameOff + nm.apexOff
	hosts := mxHosts[:2]
	if big {
		hosts = mxHosts
	}
	for i, h := range hosts {
		rd := m.rr(qnameOff, typeMX, classIN, nm.ttl)
		m.b = binary.BigEndian.AppendUint16(m.b, uint16(10*(i+1)))
		m.host(h, apex)
		m.end(rd)
		m.an++
	}
}

var mxHosts = []string{"mx1", "mx2", "mx3", "mx4"}

// txt answers with an SPF record and, in a big response, 2–5 site
// verification tokens as well, as busy domains collect them.
func (m *msg) txt(nm *name, big bool) {
	const pre, post = "v=spf1 include:_spf.", " ~all"
	apex := nm.text[nm.apexOff:]
	rd := m.rr(qnameOff, typeTXT, classIN, nm.ttl)
	m.b = append(m.b, byte(len(pre)+len(apex)+len(post)))
	m.b = append(m.b, pre...)
	m.b = append(m.b, apex...)
	m.b = append(m.b, post...)
	m.end(rd)
	m.an++
	if !big {
		return
	}
	for k := range 2 + int(nm.key>>16%4) {
		v := verifiers[k]
		rd := m.rr(qnameOff, typeTXT, classIN, nm.ttl)
		m.b = append(m.b, byte(len(v)+32))
		m.b = append(m.b, v...)
		x := mix(nm.key + uint64(k))
		m.b = appendHex(appendHex(m.b, x), mix(x))
		m.end(rd)
		m.an++
	}
}

// appendHex appends the 16 hex digits of x.
func appendHex(b []byte, x uint64) []byte {
	const digits = "0123456789abcdef"
	for i := 60; i >= 0; i -= 4 {
		b = append(b, digits[x>>i&0xf])
	}
	return b
}

// verifiers are the prefixes of made-up site verification tokens.
var verifiers = []string{
	"site-verification=", "domain-verification=", "mail-verification=",
	"ms-verification=", "app-verification=",
}

// nsRecords appends the zone's NS records, owned by the name at offset
// owner, to the authority section.
func (m *msg) nsRecords(nm *name, owner int) {
	apex := qnameOff + nm.apexOff
	for i := range nm.zone.nsSet {
		rd := m.rr(owner, typeNS, classIN, 86400)
		m.host(nsLabels[i], apex)
		m.end(rd)
		m.ns++
	}
}

var nsLabels = []string{"ns1", "ns2", "ns3", "ns4"}

// soa appends the zone's SOA record to the authority section, as negative
// responses carry it (RFC 2308 section 3).
func (m *msg) soa(nm *name) {
	apex := qnameOff + nm.apexOff
	rd := m.rr(apex, typeSOA, classIN, 900)
	m.host("ns1", apex)
	m.host("hostmaster", apex)
	for _, v := range []uint32{nm.zone.serial, 7200, 3600, 1209600, 300} {
		m.b = binary.BigEndian.AppendUint32(m.b, v)
	}
	m.end(rd)
	m.ns++
}

// buildMDNSResponse answers a PTR question the mDNS way: no question section
// (RFC 6762 section 6), the answers owned by the service name in full.
func buildMDNSResponse(b []byte, t *txn) ([]byte, int) {
	m := msg{b: b}
	m.header(0, flagQR|flagAA)
	n := 1 + int(t.peer.mac[5]&1)
	for i := range n {
		var rd int
		if i == 0 {
			m.b = append(m.b, t.nm.wire...)
			rd = m.rrTail(typePTR, classIN, 4500)
		} else {
			rd = m.rr(qnameOff, typePTR, classIN, 4500)
		}
		m.host(instances[(int(t.peer.mac[4])+i)%len(instances)], qnameOff)
		m.end(rd)
		m.an++
	}
	return m.finish(), int(m.an)
}

// instances are mDNS instance names; their spaces need escaping in
// presentation form.
var instances = []string{"Living Room TV", "Office Printer", "Kitchen Speaker", "Meeting Room 2"}

// buildLLMNRResponse answers with the peer's own address (RFC 4795 section
// 2.3).
func buildLLMNRResponse(b []byte, t *txn) ([]byte, int) {
	m := msg{b: b}
	m.header(t.id, flagQR)
	m.question(t.nm.wire, t.qtype)
	a := t.peer.addr.As16()
	if t.qtype == typeA {
		rd := m.rr(qnameOff, typeA, classIN, 30)
		m.b = append(m.b, a[12:]...)
		m.end(rd)
	} else {
		rd := m.rr(qnameOff, typeAAAA, classIN, 30)
		m.b = append(m.b, a[:]...)
		m.end(rd)
	}
	m.an++
	return m.finish(), 1
}

// mix is SplitMix64's finaliser: it spreads a counter over 64 bits.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
