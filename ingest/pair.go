package ingest

import (
	"bytes"
	"errors"
	"hash/maphash"
	"unsafe"

	"github.com/pcapload/pcapload/ingest/dnsmsg"
	"github.com/pcapload/pcapload/ingest/packet"
)

// Pairing bounds. A resolver answers within milliseconds or gives up within
// a few seconds; 5 s of packet time waits for slow upstreams without holding
// much. maxHeldBytes caps what the held queries take, by their charge, when
// a capture is full of unanswered ones (a one-way tap, a flood): about
// 36,000 queries of 60 bytes, or 12,000 of 600, before the oldest are
// reported unanswered early (PairStats.Evicted); at 5 s a query, 7,000
// unanswered queries a second. The decoder's own bound (stateMax) may
// evict them sooner, when fragments and TCP streams take their share. A
// bound of 262,144 queries, whatever their size, let a decoder hold 118
// MiB of 80-byte queries, and 250 MiB of 600-byte ones.
const (
	DefaultPairTimeout = 5e9
	maxHeldBytes       = 16 << 20

	// keptQuery is the largest buffer a slot keeps for a query of less
	// than half its size, and newQuery the least a slot is given: queries
	// are tens of bytes.
	keptQuery = 256
	newQuery  = 128
)

// slotCost is what a slab slot takes beside its buffer: its entry, and the
// index's slots for it (the index is at most half full, and grows twofold).
var slotCost = int(unsafe.Sizeof(pending{})) + 4*int(unsafe.Sizeof(uint64(0))+unsafe.Sizeof(int32(0)))

// charge is what a held query of n bytes counts against maxHeldBytes: its
// slot, and the most its buffer may take, since hold keeps a buffer within
// max(keptQuery, 2n). Which query is evicted, and so where its row falls,
// is decided on charges and not on the buffers' capacities: those depend
// on the queries the slots held before, in earlier files too, and a rerun
// of a file read after other files must cut its rows as the first run did.
func charge(n int) int { return slotCost + max(keptQuery, 2*n) }

// PairStats counts the outcome of pairing in one file.
type PairStats struct {
	Paired      uint64 // queries matched with a response
	Unanswered  uint64 // queries with no response within the timeout or the file
	Unsolicited uint64 // responses that matched no held query
	Evicted     uint64 // queries reported unanswered early: the held ones, or the decoder's state, took their bound
}

// pending is a query held until its response arrives or time runs out. It
// keeps the query's bytes rather than its decoded form: decoding a query
// again costs about 100 ns, copying a decoded Message much more.
type pending struct {
	key        uint64
	time       int64
	frame      uint64
	net        packet.Frame
	msg        []byte
	prev, next int32 // arrival order; -1 ends the list
}

// pairer matches queries with responses by client and server address and
// port, transport, ID and first question (RFC 5452 section 9.1's match).
// Queries are held back and emitted with their outcome; responses are
// emitted at once. Held queries sit in a slab, indexed by key and linked in
// arrival order so that the oldest expire first; a matched query leaves at
// once, so memory follows the queries actually waiting. All timing is
// packet time.
type pairer struct {
	timeout    int64
	seed       maphash.Seed
	index      pairIndex
	slab       []pending
	free       []int32
	head, tail int32 // oldest and newest held; -1 when none
	keyBuf     []byte

	// mem is what the slab takes, its slots and their buffers, held or
	// free: freed slots keep their buffers for the next queries.
	// freeBufs is the part in the free slots' buffers. charged is the held
	// queries' charges (see charge), at least what they take.
	mem, freeBufs, charged int
}

func newPairer(timeout int64) *pairer {
	if timeout <= 0 {
		timeout = DefaultPairTimeout
	}
	return &pairer{timeout: timeout, seed: maphash.MakeSeed(), head: -1, tail: -1}
}

// key hashes what a query and its response share. A collision of two
// 64-bit hashes among the queries held at one time is what it would take
// to mispair, and the question is compared again on match.
func (p *pairer) key(f *packet.Frame, m *dnsmsg.Message) uint64 {
	client, server, cport, sport := f.Src, f.Dst, f.SrcPort, f.DstPort
	if m.QR {
		client, server, cport, sport = f.Dst, f.Src, f.DstPort, f.SrcPort
	}
	q := &m.Questions[0]
	b := packet.AppendAddr16(p.keyBuf[:0], client)
	b = packet.AppendAddr16(b, server)
	b = append(b, byte(cport>>8), byte(cport), byte(sport>>8), byte(sport), f.Protocol,
		byte(m.ID>>8), byte(m.ID), byte(q.Type>>8), byte(q.Type), byte(q.Class>>8), byte(q.Class))
	b = append(b, q.Name...)
	p.keyBuf = b[:0]
	return maphash.Bytes(p.seed, b)
}

// full reports whether a query of n bytes cannot be held without its
// charge passing maxHeldBytes while queries are held. A lone query always
// can: a message is at most 64 KiB.
func (p *pairer) full(n int) bool { return p.head >= 0 && p.charged+charge(n) > maxHeldBytes }

// room makes room for a query of n bytes. When the slab would pass
// maxHeldBytes with it, it lets go of the free slots' buffers, which
// changes no row; when the held queries' charges are at their bound, it
// removes and returns the oldest held query, for the caller to report
// unanswered and call room again. The entries taken since the last hold
// are the callers' until it: they must be done with them.
func (p *pairer) room(n int) (*pending, bool) {
	if p.freeBufs > 0 && p.mem+charge(n) > maxHeldBytes {
		for _, i := range p.free {
			p.slab[i].msg = nil
		}
		p.mem -= p.freeBufs
		p.freeBufs = 0
	}
	if !p.full(n) {
		return nil, false
	}
	return p.expired(-1)
}

// hold keeps a query under key; the caller has taken any held query with
// the same key and made room.
func (p *pairer) hold(key uint64, ts int64, frame uint64, f *packet.Frame) {
	var i int32
	if n := len(p.free); n > 0 {
		i, p.free = p.free[n-1], p.free[:n-1]
		p.freeBufs -= cap(p.slab[i].msg)
	} else {
		p.slab = append(p.slab, pending{})
		i = int32(len(p.slab) - 1)
		p.mem += slotCost
	}
	e := &p.slab[i]
	e.key, e.time, e.frame, e.net = key, ts, frame, *f
	if n := len(f.Payload); cap(e.msg) < n || cap(e.msg) > max(keptQuery, 2*n) {
		// A large query's buffer is not kept for small ones, and a new
		// one is sized to the query: within its charge.
		was := cap(e.msg)
		e.msg = make([]byte, 0, max(n, newQuery))
		p.mem += cap(e.msg) - was
	}
	e.msg = append(e.msg[:0], f.Payload...)
	p.charged += charge(len(e.msg))
	e.net.Payload = e.msg
	e.prev, e.next = p.tail, -1
	if p.tail >= 0 {
		p.slab[p.tail].next = i
	} else {
		p.head = i
	}
	p.tail = i
	p.index.put(key, i)
}

// take removes and returns the held query with key. The entry stays valid
// until the next hold.
func (p *pairer) take(key uint64) (*pending, bool) {
	i, ok := p.index.get(key)
	if !ok {
		return nil, false
	}
	p.remove(i)
	return &p.slab[i], true
}

// expired removes and returns the oldest held query if it waited longer
// than the timeout at ts, or any oldest one when ts is -1.
func (p *pairer) expired(ts int64) (*pending, bool) {
	if p.head < 0 {
		return nil, false
	}
	i := p.head
	if ts >= 0 && ts-p.slab[i].time <= p.timeout {
		return nil, false
	}
	p.remove(i)
	return &p.slab[i], true
}

// drop forgets every held query.
func (p *pairer) drop() {
	for {
		if _, ok := p.expired(-1); !ok {
			return
		}
	}
}

// remove unlinks entry i and frees its slot.
func (p *pairer) remove(i int32) {
	e := &p.slab[i]
	p.freeBufs += cap(e.msg)
	p.charged -= charge(len(e.msg))
	p.index.del(e.key)
	if e.prev >= 0 {
		p.slab[e.prev].next = e.next
	} else {
		p.head = e.next
	}
	if e.next >= 0 {
		p.slab[e.next].prev = e.prev
	} else {
		p.tail = e.prev
	}
	p.free = append(p.free, i)
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
	for {
		e, ok := d.pair.room(len(d.frame.Payload))
		if !ok {
			break
		}
		d.stats.Pairs.Evicted++
		d.stats.Pairs.Unanswered++
		if err := d.decodeAndEmitHeld(e); err != nil {
			return err
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
