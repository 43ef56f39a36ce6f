package tcpdns

import (
	"net/netip"
	"unsafe"
)

// TCP flag bits as they appear in the flags byte of the TCP header
// (RFC 9293 section 3.1).
const (
	FlagFIN uint8 = 0x01
	FlagSYN uint8 = 0x02
	FlagRST uint8 = 0x04
	FlagACK uint8 = 0x10
)

// Defaults for the zero Config.
const (
	// DefaultMaxFlows is arbitrary: enough for a busy resolver's TCP
	// connections at ~100 bytes each when idle.
	DefaultMaxFlows = 65536

	// DefaultMaxBuffered holds two maximum-size messages with their
	// prefixes: a partial message plus the largest possible segment always
	// fit, so in-order data never hits the bound.
	DefaultMaxBuffered = 2 * (2 + maxMessage)

	// DefaultMaxTotal bounds the large buffers of all directions together:
	// MaxBuffered times MaxFlows would be 8 GiB. Real traffic holds a few
	// partial messages at a time; beyond the budget the least recently
	// active directions are evicted.
	DefaultMaxTotal = 16 << 20

	// DefaultTimeout is 60 s of packet time, in nanoseconds; resolvers close
	// idle TCP connections well before that (RFC 7766 section 6.2.3).
	DefaultTimeout = 60_000_000_000
)

const (
	maxMessage = 65535 // the length prefix is 16 bits

	// maxBackward is how far before the expected sequence number a segment
	// may start and still be taken for a retransmission; anything earlier is
	// a new byte stream on the same ports. 16 MiB is arbitrary: it is above
	// the send windows seen in practice, and far below 2^31.
	maxBackward = 1 << 24
)

// Config bounds a Reassembler. The zero value uses the defaults.
type Config struct {
	// MaxFlows is how many directions are tracked at once; beyond it the
	// least recently active one is evicted.
	MaxFlows int

	// MaxBuffered is the bytes held per direction, in order and out of
	// order. Values below DefaultMaxBuffered are raised to it.
	MaxBuffered int

	// Timeout is the packet time, in ns, after which an idle direction is
	// dropped.
	Timeout int64

	// MaxTotal is the bytes of buffers larger than a drained direction
	// keeps, over all directions; beyond it the least recently active
	// directions are evicted. Values below MaxBuffered are raised to it.
	MaxTotal int
}

// Key names one direction of a TCP connection: the sender is Src.
type Key struct {
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
}

// Stats counts what a Reassembler did since the last Flush. Segments and
// messages are counted once each; the other counters say why data was
// held, dropped or guessed at.
type Stats struct {
	Segments uint64 // segments passed to Segment, with or without payload
	Messages uint64 // messages delivered to emit

	// Retransmitted counts segments carrying bytes already received,
	// wholly or in part.
	Retransmitted uint64
	// OutOfOrder counts segments held because they arrived beyond a hole.
	OutOfOrder uint64
	// LateFilled counts segments that arrived in a hole already declared a
	// gap and were delivered after the messages that followed them.
	LateFilled uint64

	// Gaps counts holes given up on (bytes the capture never had) and
	// jumps in sequence numbers (a new stream without its SYN).
	Gaps uint64
	// GapBytes counts the sequence numbers skipped over by gaps; jumps add 0.
	GapBytes uint64
	// Resyncs counts guessed message boundaries: at a mid-stream start,
	// after a gap, and after a prefix that did not look like DNS.
	Resyncs uint64
	// SkippedBytes counts bytes received but dropped while looking for a
	// message boundary.
	SkippedBytes uint64
	// Incomplete counts messages whose start was received but never their
	// end: cut by a gap, FIN, RST, timeout, eviction or Flush.
	Incomplete uint64

	Midstream uint64 // directions first seen without their SYN
	Evicted   uint64 // directions dropped to stay within Config.MaxFlows or MaxTotal, or by EvictOldest
	TimedOut  uint64 // directions dropped after Config.Timeout without a segment
}

// Reassembler turns TCP segments into DNS messages. It is not safe for
// concurrent use. Its memory is reused across segments and files.
type Reassembler struct {
	cfg   Config
	flows map[Key]*flow
	lru   flow    // sentinel: lru.next is the most recently active direction
	free  []*flow // reset directions kept for reuse
	now   int64   // latest packet time seen
	held  int     // capacity of the directions' large buffers (see flow.held)
	caps  int     // capacity of all the directions' buffers (see Held)
	stats Stats
}

// flowCost is what a direction takes beside its buffer: its state and its
// entry in the table.
var flowCost = int(unsafe.Sizeof(flow{})) + 64

// Held is the bytes the directions being followed take: their state and
// their buffers. A direction lets its buffer go when it is closed or
// dropped, so every buffer was grown by the current file's bytes alone:
// Held comes out the same whichever files the Reassembler read before,
// and a decision made on it the same on a rerun.
func (r *Reassembler) Held() int { return len(r.flows)*flowCost + r.caps }

// EvictOldest drops the least recently active direction, counting it
// evicted and what it held incomplete. It reports whether there was one.
// It must not be called from emit.
func (r *Reassembler) EvictOldest() bool {
	if r.lru.prev == &r.lru {
		return false
	}
	r.stats.Evicted++
	r.drop(r.lru.prev)
	return true
}

// New returns a Reassembler bounded by cfg.
func New(cfg Config) *Reassembler {
	if cfg.MaxFlows <= 0 {
		cfg.MaxFlows = DefaultMaxFlows
	}
	if cfg.MaxBuffered < DefaultMaxBuffered {
		cfg.MaxBuffered = DefaultMaxBuffered
	}
	// Window offsets are ints computed from 32-bit sequence differences;
	// keeping the window far below 2^31 keeps them unambiguous.
	cfg.MaxBuffered = min(cfg.MaxBuffered, 1<<28)
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxTotal <= 0 {
		cfg.MaxTotal = DefaultMaxTotal
	}
	cfg.MaxTotal = max(cfg.MaxTotal, cfg.MaxBuffered)
	r := &Reassembler{cfg: cfg, flows: make(map[Key]*flow)}
	r.lru.prev, r.lru.next = &r.lru, &r.lru
	return r
}

// Segment adds one segment of direction k, captured at ts (ns of packet
// time). seq is the sequence number in the TCP header: for a SYN the payload
// starts at seq+1. flags is the TCP flags byte.
//
// For every DNS message the segment completes, in stream order, Segment
// calls emit with the message without its length prefix. The slice aliases
// either payload or the Reassembler's buffer: it is valid only during the
// call, and emit must not call back into the Reassembler. In a direction
// whose SYN was seen every prefix is trusted, so a message may be shorter
// than a DNS header; the DNS decoder reports it as malformed.
func (r *Reassembler) Segment(
	k Key,
	ts int64,
	seq uint32,
	flags uint8,
	payload []byte,
	emit func(msg []byte),
) {
	r.stats.Segments++
	r.advance(ts)
	f := r.flows[k]
	if flags&FlagRST != 0 {
		// RST data is diagnostic text, not stream data (RFC 9293 3.5.3).
		if f != nil && !f.closed {
			r.close(f, seq, emit)
		}
		return
	}
	if flags&FlagSYN != 0 {
		seq++
		f = r.syn(k, f, seq)
	} else if f, payload = r.find(k, f, seq, payload); f == nil {
		return
	}
	r.touch(f, ts)

	// A payload above 64 KiB cannot come from IPv4 or IPv6 without
	// jumbograms; feeding it in pieces keeps every piece within the bound.
	for len(payload) > 0 {
		n := min(len(payload), maxMessage)
		r.data(f, seq, payload[:n], emit)
		seq += uint32(n)
		payload = payload[n:]
	}
	if flags&FlagFIN != 0 {
		r.close(f, seq+1, emit)
	}
	for r.held > r.cfg.MaxTotal && r.lru.prev != f && r.lru.prev != &r.lru {
		r.stats.Evicted++
		r.drop(r.lru.prev)
	}
}

// syn starts direction k at isn1, the sequence number after the SYN, unless
// the SYN is a retransmission of the one that started it.
func (r *Reassembler) syn(k Key, f *flow, isn1 uint32) *flow {
	if f != nil && !f.closed {
		d := int32(isn1 - f.base)
		if f.trusted && d <= 0 && d > -maxBackward {
			r.stats.Retransmitted++
			return f
		}
	}
	return r.open(k, f, isn1, true)
}

// find returns the direction a segment without SYN belongs to, opening one
// mid-stream for data not seen before. It returns nil when there is nothing
// to do, and may trim the payload.
func (r *Reassembler) find(k Key, f *flow, seq uint32, p []byte) (*flow, []byte) {
	if len(p) == 0 {
		return f, nil
	}
	if f != nil && !f.closed {
		return f, p
	}
	if f != nil {
		// Data behind a closed direction's end is a late retransmission.
		d := int32(seq - f.base)
		if d < 0 && d > -maxBackward {
			r.stats.Retransmitted++
			return nil, nil
		}
	}
	r.stats.Midstream++
	return r.open(k, f, seq, false), p
}

// open (re)starts direction k at sequence number base, reusing f if given.
// A trusted direction starts at a message boundary.
func (r *Reassembler) open(k Key, f *flow, base uint32, trusted bool) *flow {
	if f == nil {
		f = r.alloc(k)
	} else {
		r.discard(f)
	}
	f.reset(base)
	f.synced, f.trusted = trusted, trusted
	return f
}

// alloc adds direction k, evicting the least recently active one if the
// table is full.
func (r *Reassembler) alloc(k Key) *flow {
	if len(r.flows) >= r.cfg.MaxFlows {
		r.stats.Evicted++
		r.drop(r.lru.prev)
	}
	var f *flow
	if n := len(r.free); n > 0 {
		f, r.free = r.free[n-1], r.free[:n-1]
	} else {
		f = &flow{held: &r.held, caps: &r.caps}
	}
	f.key = k
	r.flows[k] = f
	f.prev, f.next = &r.lru, r.lru.next
	f.prev.next, f.next.prev = f, f
	return f
}

// drop forgets direction f, counting what it still held.
func (r *Reassembler) drop(f *flow) {
	r.discard(f)
	f.prev.next, f.next.prev = f.next, f.prev
	f.prev, f.next = nil, nil
	delete(r.flows, f.key)
	f.key, f.last = Key{}, 0 // a later file's times may be earlier
	f.free()
	r.free = append(r.free, f)
}

// touch marks f as the most recently active direction.
func (r *Reassembler) touch(f *flow, ts int64) {
	f.last = max(f.last, ts)
	f.prev.next, f.next.prev = f.next, f.prev
	f.prev, f.next = &r.lru, r.lru.next
	f.prev.next, f.next.prev = f, f
}

// advance moves packet time to ts and drops the directions idle for longer
// than the timeout. Only the least recently active need checking.
func (r *Reassembler) advance(ts int64) {
	r.now = max(r.now, ts)
	for f := r.lru.prev; f != &r.lru && r.now-f.last > r.cfg.Timeout; f = r.lru.prev {
		if !f.closed {
			r.stats.TimedOut++
		}
		r.drop(f)
	}
}

// Flush ends a capture file: data never completed is counted, every
// direction is forgotten, and the stats since the last Flush are returned.
func (r *Reassembler) Flush() Stats {
	for r.lru.prev != &r.lru {
		r.drop(r.lru.prev)
	}
	r.now = 0
	st := r.stats
	r.stats = Stats{}
	return st
}
