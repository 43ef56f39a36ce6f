package ingest

import (
	"bytes"
	"errors"
	"hash/maphash"

	"github.com/pcapload/pcapload/ingest/dnsmsg"
	"github.com/pcapload/pcapload/ingest/packet"
)

// Pairing bounds. A resolver answers within milliseconds or gives up within
// a few seconds; 5 s of packet time waits for slow upstreams without holding
// much. The pending bound caps memory (about 200 bytes a query, 50 MiB at
// most) when a capture is full of unanswered queries.
const (
	DefaultPairTimeout = 5e9
	maxPending         = 1 << 18
)

// PairStats counts the outcome of pairing in one file.
type PairStats struct {
	Paired      uint64 // queries matched with a response
	Unanswered  uint64 // queries with no response within the timeout or the file
	Unsolicited uint64 // responses that matched no held query
	Evicted     uint64 // queries reported unanswered early because too many were held
}

// pending is a query held until its response arrives or time runs out. It
// keeps the query's bytes rather than its decoded form: decoding a query
// again costs about 100 ns, copying a decoded Message much more.
type pending struct {
	key   uint64
	time  int64
	frame uint64
	net   packet.Frame
	msg   []byte
	live  bool
}

// pairer matches queries with responses by client and server address and
// port, transport, ID and first question (RFC 5452 section 9.1's match).
// Queries are held back, in arrival order, and emitted with their outcome;
// responses are emitted at once. All timing is packet time.
type pairer struct {
	timeout int64
	seed    maphash.Seed
	index   map[uint64]int // key to slot in ring
	ring    []pending
	head, n int
	stats   PairStats
}

func newPairer(timeout int64) *pairer {
	if timeout <= 0 {
		timeout = DefaultPairTimeout
	}
	return &pairer{timeout: timeout, seed: maphash.MakeSeed(), index: make(map[uint64]int)}
}

// key hashes what a query and its response share. A collision of two
// 64-bit hashes among the queries held at one time is what it would take
// to mispair, and the question is compared again on match.
func (p *pairer) key(f *packet.Frame, m *dnsmsg.Message) uint64 {
	client, server, cport, sport := f.Src, f.Dst, f.SrcPort, f.DstPort
	if m.QR {
		client, server, cport, sport = f.Dst, f.Src, f.DstPort, f.SrcPort
	}
	var h maphash.Hash
	h.SetSeed(p.seed)
	ca, sa := client.As16(), server.As16()
	h.Write(ca[:])
	h.Write(sa[:])
	q := &m.Questions[0]
	h.Write([]byte{byte(cport >> 8), byte(cport), byte(sport >> 8), byte(sport), f.Protocol,
		byte(m.ID >> 8), byte(m.ID), byte(q.Type >> 8), byte(q.Type), byte(q.Class >> 8), byte(q.Class)})
	h.Write(q.Name)
	return h.Sum64()
}

// full reports whether no more queries can be held.
func (p *pairer) full() bool { return p.n == maxPending }

// hold keeps a query under key; the caller has taken any held query with
// the same key and made room.
func (p *pairer) hold(key uint64, ts int64, frame uint64, f *packet.Frame) {
	if p.n == len(p.ring) {
		p.grow()
	}
	slot := (p.head + p.n) % len(p.ring)
	p.n++
	e := &p.ring[slot]
	e.key, e.time, e.frame, e.net, e.live = key, ts, frame, *f, true
	e.msg = append(e.msg[:0], f.Payload...)
	e.net.Payload = e.msg
	p.index[key] = slot
}

// take removes and returns the held query with key. The entry stays valid
// until the next hold.
func (p *pairer) take(key uint64) (*pending, bool) {
	slot, ok := p.index[key]
	if !ok {
		return nil, false
	}
	delete(p.index, key)
	e := &p.ring[slot]
	e.live = false
	return e, true
}

// expired returns the oldest held query if it is older than the timeout at
// ts (or any, when ts is -1), removing it; dead slots are skipped.
func (p *pairer) expired(ts int64) (*pending, bool) {
	for p.n > 0 {
		e := &p.ring[p.head]
		if e.live && ts >= 0 && ts-e.time <= p.timeout {
			return nil, false
		}
		slot := p.popOldest()
		if e.live {
			delete(p.index, e.key)
			e.live = false
			return &p.ring[slot], true
		}
	}
	return nil, false
}

func (p *pairer) popOldest() int {
	slot := p.head
	p.head = (p.head + 1) % len(p.ring)
	p.n--
	return slot
}

// grow doubles the ring, keeping arrival order.
func (p *pairer) grow() {
	size := max(2*len(p.ring), 1024)
	ring := make([]pending, size)
	for i := range p.n {
		ring[i] = p.ring[(p.head+i)%len(p.ring)]
		if ring[i].live {
			p.index[ring[i].key] = i
		}
	}
	p.ring, p.head = ring, 0
}

// sameQuestion reports whether a held query and a response ask the same.
func sameQuestion(q, r *dnsmsg.Message) bool {
	a, b := &q.Questions[0], &r.Questions[0]
	return q.ID == r.ID && a.Type == b.Type && a.Class == b.Class && bytes.Equal(a.Name, b.Name)
}

// pairAndEmit emits the current message as a row, holding it back if it is
// a query, and pairing it with its query if it is a response.
func (d *Decoder) pairAndEmit(ts int64, frame uint64) error {
	if err := d.expire(ts); err != nil {
		return err
	}
	m := &d.msg
	d.row.Time, d.row.Frame = ts, frame
	d.row.Paired, d.row.Latency, d.row.PairFrame = false, 0, 0
	if len(m.Questions) == 0 {
		return d.fn(&d.row) // nothing to pair on
	}
	key := d.pair.key(&d.frame, m)
	if !m.QR {
		return d.holdQuery(key, ts, frame)
	}
	e, ok := d.pair.take(key)
	if !ok {
		d.stats.Pairs.Unsolicited++
		return d.fn(&d.row)
	}
	d.qmsg.Unpack(e.msg)
	if len(d.qmsg.Questions) == 0 || !sameQuestion(&d.qmsg, m) {
		// A hash collision: both stand alone.
		d.stats.Pairs.Unanswered++
		d.stats.Pairs.Unsolicited++
		return errors.Join(d.emitHeld(e, false, 0, 0), d.fn(&d.row))
	}
	d.stats.Pairs.Paired++
	latency := ts - e.time
	d.row.Paired, d.row.Latency, d.row.PairFrame = true, latency, e.frame
	if err := d.emitHeld(e, true, latency, frame); err != nil {
		return err
	}
	return d.fn(&d.row)
}

// holdQuery holds the current query, first emitting as unanswered a
// query it supersedes (a retransmission with the same key) or, when too
// many are held, the oldest.
func (d *Decoder) holdQuery(key uint64, ts int64, frame uint64) error {
	if e, ok := d.pair.take(key); ok {
		d.stats.Pairs.Unanswered++
		if err := d.decodeAndEmitHeld(e); err != nil {
			return err
		}
	}
	if d.pair.full() {
		d.stats.Pairs.Evicted++
		if e, ok := d.pair.expired(-1); ok {
			d.stats.Pairs.Unanswered++
			if err := d.decodeAndEmitHeld(e); err != nil {
				return err
			}
		}
	}
	d.pair.hold(key, ts, frame, &d.frame)
	return nil
}

// expire emits the queries that waited longer than the timeout at ts.
func (d *Decoder) expire(ts int64) error {
	for {
		e, ok := d.pair.expired(ts)
		if !ok {
			return nil
		}
		d.stats.Pairs.Unanswered++
		if err := d.decodeAndEmitHeld(e); err != nil {
			return err
		}
	}
}

// flushPending emits every query still held as unanswered.
func (d *Decoder) flushPending() error {
	return d.expire(-1)
}

func (d *Decoder) decodeAndEmitHeld(e *pending) error {
	d.qmsg.Unpack(e.msg)
	return d.emitHeld(e, false, 0, 0)
}

// emitHeld emits a held query, already decoded into d.qmsg.
func (d *Decoder) emitHeld(e *pending, paired bool, latency int64, pairFrame uint64) error {
	d.qrow.Net = &e.net
	d.qrow.Time, d.qrow.Frame = e.time, e.frame
	d.qrow.Paired, d.qrow.Latency, d.qrow.PairFrame = paired, latency, pairFrame
	return d.fn(&d.qrow)
}
