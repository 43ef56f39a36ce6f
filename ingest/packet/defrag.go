package packet

import (
	"bytes"
	"net/netip"
)

// Reassembly bounds. A datagram is at most 64 KiB by the IP length fields;
// the number held at once and the timeout are arbitrary but generous: a
// resolver's fragmented responses complete within milliseconds, and the
// bounds only cap what a hostile or lossy capture can make the loader hold
// (pendingMax * 64 KiB = 64 MiB at worst).
const (
	pendingMax    = 1024
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
	first int64 // packet time of the first fragment seen
	data  []byte
	have  []span
	total int // payload length, known once the last fragment is seen; -1 before
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
	lastSweep int64
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
			r.evictOldest()
		}
		d = r.get(ts)
		r.pending[k] = d
	}
	d.insert(off, more, payload)
	if d.bad {
		r.stats.Inconsistent++
		delete(r.pending, k)
		r.recycle(d)
		return nil, false
	}
	if !d.complete() {
		return nil, false
	}
	delete(r.pending, k)
	r.stats.Reassembled++
	r.done = d
	return d.data[:d.total], true
}

func (d *datagram) insert(off int, more bool, payload []byte) {
	end := off + len(payload)
	if end > maxDatagram || !more && d.total >= 0 && d.total != end || more && len(payload)%8 != 0 {
		d.bad = true
		return
	}
	if !more {
		d.total = end
	}
	if len(d.data) < end {
		d.data = append(d.data, make([]byte, end-len(d.data))...)
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
	if ts-r.lastSweep < sweepInterval {
		return
	}
	r.lastSweep = ts
	for k, d := range r.pending {
		if ts-d.first > fragTimeout {
			r.stats.Expired++
			delete(r.pending, k)
			r.recycle(d)
		}
	}
}

func (r *reassembler) evictOldest() {
	var oldest fragKey
	var od *datagram
	for k, d := range r.pending {
		if od == nil || d.first < od.first {
			oldest, od = k, d
		}
	}
	r.stats.Expired++
	delete(r.pending, oldest)
	r.recycle(od)
}

// flush counts every pending datagram as never completed and forgets it.
func (r *reassembler) flush() {
	for k, d := range r.pending {
		r.stats.Expired++
		delete(r.pending, k)
		r.recycle(d)
	}
}

func (r *reassembler) get(ts int64) *datagram {
	var d *datagram
	if n := len(r.free); n > 0 {
		d, r.free = r.free[n-1], r.free[:n-1]
	} else {
		d = &datagram{}
	}
	d.first, d.total, d.bad = ts, -1, false
	d.data, d.have = d.data[:0], d.have[:0]
	return d
}

func (r *reassembler) recycle(d *datagram) {
	if len(r.free) < 64 {
		r.free = append(r.free, d)
	}
}
