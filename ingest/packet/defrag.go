package packet

import (
	"bytes"
	"net/netip"
)

// Reassembly bounds. A datagram is at most 64 KiB by the IP length fields;
// the number held at once, the bytes their buffers take and the timeout are
// arbitrary but generous: a resolver's fragmented responses (1,232 to 4,096
// bytes) complete within milliseconds, and pendingMax of them take 4 MiB.
// The bounds only cap what a hostile or lossy capture can make the loader
// hold: heldMax of buffers (256 datagrams of 64 KiB) and the spans of
// pendingMax datagrams (1 KiB each at worst), about 17 MiB a decoder. The
// loader has a decoder a worker and must stay within 256 MiB: when
// pendingMax datagrams of 64 KiB were held, and the buffers their growth
// let go waited for the collector, a load of two files of them alone, two
// workers writing nothing, peaked at 205–209 MiB.
const (
	pendingMax    = 1024
	heldMax       = 16 << 20
	freeMax       = 64   // datagrams kept for reuse
	fragTimeout   = 30e9 // nanoseconds of packet time, as Linux's ipfrag_time
	maxDatagram   = 65535
	sweepInterval = 1e9

	// maxFragments bounds the pieces of one datagram: 64 KiB cut at the
	// smallest IPv6 MTU is 52 fragments. More is hostile, and checking
	// coverage and overlaps costs time with every piece.
	maxFragments = 64
)

// FragmentStats counts what became of fragmented datagrams.
type FragmentStats struct {
	Reassembled  uint64 // datagrams completed
	Inconsistent uint64 // datagrams dropped: fragments overlapped with other bytes, or overran 64 KiB
	Expired      uint64 // datagrams never completed: timed out, evicted, or pending at the end
}

type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
}

type span struct{ from, to int }

type datagram struct {
	first int64  // packet time of the first fragment seen
	order uint64 // when it was first seen, in the reassembler's count
	data  []byte
	have  []span
	total int // payload length, known once the last fragment is seen; -1 before
	size  int // the buffer its pieces call for (see grow); its buffer may be larger
	bad   bool
}

// reassembler rebuilds IPv4 and IPv6 datagrams from fragments (RFC 791,
// RFC 8200 section 4.5). Fragments that overlap with different bytes are
// not trusted: the datagram is dropped and counted (RFC 5722 makes that
// the rule for IPv6). All timing is packet time.
type reassembler struct {
	pending   map[fragKey]*datagram
	free      []*datagram
	done      *datagram // returned last; recycled at the next call
	held      int       // capacity of the buffers of pending, free and done datagrams
	sized     int       // the pending datagrams' sizes (see grow)
	lastSweep int64
	swept     bool   // lastSweep is this file's
	seen      uint64 // datagrams begun, to order them
	stats     FragmentStats
}

func newReassembler() *reassembler {
	return &reassembler{pending: make(map[fragKey]*datagram)}
}

// add records the fragment at byte offset off of the datagram k. It
// returns the whole payload when this fragment completes it; the slice is
// valid until the next call.
func (r *reassembler) add(k fragKey, ts int64, off int, more bool, payload []byte) ([]byte, bool) {
	if r.done != nil {
		r.recycle(r.done)
		r.done = nil
	}
	r.sweep(ts)
	d := r.pending[k]
	if d == nil {
		if len(r.pending) >= pendingMax {
			r.evictOldest(nil)
		}
		d = r.get(ts)
		r.pending[k] = d
	}
	r.insert(d, off, more, payload)
	if d.bad {
		r.stats.Inconsistent++
		r.forget(k, d)
		r.recycle(d)
		return nil, false
	}
	if !d.complete() {
		return nil, false
	}
	r.forget(k, d)
	r.stats.Reassembled++
	r.done = d
	return d.data[:d.total], true
}

// datagramCost is what bytes counts for a pending datagram beside its
// size: its spans, its entry and its struct.
const datagramCost = 1024

// bytes is what the pending datagrams take, reckoned from what the capture
// put in them: their sizes (see grow) and datagramCost each. held counts
// the buffers' capacities, which depend on the datagrams of earlier files;
// this does not, so that a decision made on it comes out the same whichever
// files a worker read first.
func (r *reassembler) bytes() int { return r.sized + len(r.pending)*datagramCost }

// forget removes the pending datagram k, d.
func (r *reassembler) forget(k fragKey, d *datagram) {
	delete(r.pending, k)
	r.sized -= d.size
}

// insert copies the fragment into d, or marks d bad.
func (r *reassembler) insert(d *datagram, off int, more bool, payload []byte) {
	end := off + len(payload)
	if end > maxDatagram || !more && d.total >= 0 && d.total != end || more && len(payload)%8 != 0 {
		d.bad = true
		return
	}
	if !more {
		d.total = end
	}
	// The bytes between the pieces may be a former datagram's: they are
	// never read, since a datagram is only returned once pieces cover it.
	if len(d.data) < end {
		if d.size < end {
			r.grow(d, end)
		}
		d.data = d.data[:end]
	}
	for _, s := range d.have {
		from, to := max(s.from, off), min(s.to, end)
		if from < to && !bytes.Equal(d.data[from:to], payload[from-off:to-off]) {
			d.bad = true
			return
		}
		if s.from <= off && end <= s.to {
			return // a duplicate: nothing new
		}
	}
	if len(d.have) == maxFragments {
		d.bad = true
		return
	}
	copy(d.data[off:], payload)
	d.have = append(d.have, span{off, end})
}

// complete reports whether the spans cover the payload from 0 to total.
func (d *datagram) complete() bool {
	if d.total < 0 {
		return false
	}
	for covered := 0; ; {
		next := covered
		for _, s := range d.have {
			if s.from <= covered && s.to > next {
				next = s.to
			}
		}
		if next >= d.total {
			return true
		}
		if next == covered {
			return false
		}
		covered = next
	}
}

// sweep expires datagrams older than the timeout, at most once a second of
// packet time.
func (r *reassembler) sweep(ts int64) {
	if r.swept && ts-r.lastSweep < sweepInterval {
		return
	}
	r.lastSweep, r.swept = ts, true
	for k, d := range r.pending {
		if ts-d.first > fragTimeout {
			r.stats.Expired++
			r.forget(k, d)
			r.recycle(d)
		}
	}
}

// grow gives d a buffer of at least end bytes, keeping the datagrams'
// sizes within heldMax. A datagram's size is its length once the last
// piece has told it; before that it doubles, up to 64 KiB, so that a
// datagram arriving in order is copied a few times rather than once a
// piece. Past heldMax the oldest of the other datagrams are evicted.
//
// Evictions are decided on the sizes, which the file's pieces alone decide,
// never on the buffers' capacities: a buffer may be one an earlier datagram
// left, of an earlier file too, and a rerun of a file read after others
// must complete the same datagrams. A buffer large enough is kept, or taken
// from a free datagram, so that a flood of large datagrams makes no
// garbage; otherwise a new one is made. The free datagrams' buffers are
// then let go while the buffers held pass heldMax. The buffers held stay
// within heldMax but for Go's rounding of a buffer's size (an eighth at
// most) and those larger than their datagram's size, taken from free ones.
func (r *reassembler) grow(d *datagram, end int) {
	n := min(max(end, 2*d.size), maxDatagram)
	if d.total >= 0 {
		n = max(end, d.total)
	}
	for r.sized+n-d.size > heldMax && r.evictOldest(d) {
	}
	r.sized += n - d.size
	d.size = n
	if cap(d.data) < n && !r.swap(d, n) {
		b := make([]byte, len(d.data), n)
		copy(b, d.data)
		r.held += cap(b) - cap(d.data)
		d.data = b
	}
	// Letting go of free buffers changes no datagram's fate.
	for k := len(r.free); k > 0 && r.held > heldMax; k-- {
		r.held -= cap(r.free[k-1].data)
		r.free[k-1] = nil
		r.free = r.free[:k-1]
	}
}

// swap gives d the buffer of a free datagram if one holds n bytes, leaving
// d's in its place.
func (r *reassembler) swap(d *datagram, n int) bool {
	for _, f := range r.free {
		if cap(f.data) >= n {
			f.data, d.data = d.data, append(f.data[:0], d.data...)
			return true
		}
	}
	return false
}

// evictOldest drops the pending datagram other than keep that was begun
// first, counting it as expired. It goes by the order datagrams were begun
// in rather than their packet times, which may tie or go backwards, and a
// tie was broken by the map's random order. It reports whether there was one.
func (r *reassembler) evictOldest(keep *datagram) bool {
	var oldest fragKey
	var od *datagram
	for k, d := range r.pending {
		if d != keep && (od == nil || d.order < od.order) {
			oldest, od = k, d
		}
	}
	if od == nil {
		return false
	}
	r.stats.Expired++
	r.forget(oldest, od)
	r.recycle(od)
	return true
}

// flush counts every pending datagram as never completed and forgets it.
// The next file sweeps from its own first fragment on: going on from this
// file's last sweep, a datagram of the next file expired or completed
// according to the file read before it (a hostile run: a datagram
// completing 30.7 s after it began did alone, and did not after a file
// whose last fragment came 0.5 s before).
func (r *reassembler) flush() {
	for k, d := range r.pending {
		r.stats.Expired++
		r.forget(k, d)
		r.recycle(d)
	}
	r.swept = false
}

func (r *reassembler) get(ts int64) *datagram {
	var d *datagram
	if n := len(r.free); n > 0 {
		d, r.free = r.free[n-1], r.free[:n-1]
	} else {
		d = &datagram{}
	}
	r.seen++
	d.first, d.order, d.total, d.size, d.bad = ts, r.seen, -1, 0, false
	d.data, d.have = d.data[:0], d.have[:0]
	return d
}

func (r *reassembler) recycle(d *datagram) {
	if len(r.free) < freeMax {
		r.free = append(r.free, d)
	} else {
		r.held -= cap(d.data)
	}
}
