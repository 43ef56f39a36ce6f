package tcpdns

import "encoding/binary"

const (
	// maxSpans bounds the out-of-order ranges held per direction; more
	// distinct holes than this is a lossy capture, not reordering.
	maxSpans = 8

	// reorderSegments is how many segments may arrive beyond a hole before
	// it is declared a gap: TCP takes three duplicate ACKs as loss
	// (RFC 5681 section 3.2).
	reorderSegments = 3

	// maxStarts bounds the segment starts a direction without a known
	// boundary keeps as the places a message may begin (see hunt).
	maxStarts = 16

	// keepCap is the buffer capacity a drained direction keeps; larger
	// buffers are released so idle directions stay small. Arbitrary.
	keepCap = 4096
)

// span is a range of window offsets [s, e) holding received bytes.
type span struct{ s, e int }

// hole is a range of sequence numbers given up on at a message boundary,
// kept so that the data can still be delivered if it arrives late.
type hole struct {
	start, end uint32
	ok         bool
}

// flow is one direction. Its window win holds the bytes from sequence
// number base on: win[:have] arrived in order, spans beyond it arrived out
// of order, and bytes between spans are junk.
type flow struct {
	key  Key
	base uint32
	win  []byte
	have int

	spans   [maxSpans]span
	nspans  int
	beyond  int            // segments held beyond the first hole since it opened
	synced  bool           // win[0] is a message boundary
	starts  [maxStarts]int // window offsets where segments began, sorted: unsynced or beyond a hole
	nstarts int
	trusted bool // boundaries known from the SYN: prefixes are not checked
	closed  bool // FIN or RST seen: base is the end of the stream
	late    hole

	last       int64 // packet time of the latest segment
	prev, next *flow // activity list, most recent first

	held *int // the Reassembler's count of large buffers' capacity
	caps *int // the Reassembler's count of all buffers' capacity
}

// large is the capacity counted in flow.held: buffers a drained direction
// would not keep.
func large(c int) int {
	if c > keepCap {
		return c
	}
	return 0
}

// reset empties f and starts it at sequence number base.
func (f *flow) reset(base uint32) {
	f.base = base
	f.win = f.win[:0]
	f.have, f.nspans, f.beyond, f.nstarts = 0, 0, 0, 0
	f.synced, f.trusted, f.closed = false, false, false
	f.late = hole{}
}

// release drops a large buffer so an idle direction holds little memory.
func (f *flow) release() {
	if cap(f.win) > keepCap {
		f.free()
	}
	f.win = f.win[:0]
}

// free drops the buffer, whatever its size: a direction closed or dropped
// keeps none, so that every buffer of a direction was grown by its own
// file's bytes (see Reassembler.Held).
func (f *flow) free() {
	*f.held -= large(cap(f.win))
	*f.caps -= cap(f.win)
	f.win = nil
}

// data adds the payload p, which starts at sequence number seq, to f.
func (r *Reassembler) data(f *flow, seq uint32, p []byte, emit func([]byte)) {
	off, p := r.trim(f, seq, p, emit)
	if len(p) == 0 {
		return
	}

	// The common case: whole messages at the expected position are
	// delivered straight from the payload, without a copy.
	if off == 0 && f.have == 0 && f.nspans == 0 && f.trusted {
		n := r.frames(p, emit)
		f.base += uint32(n)
		if p = p[n:]; len(p) == 0 {
			return
		}
	}

	// Room beyond a hole is made by giving the hole up.
	for off > f.have && (off+len(p) > r.cfg.MaxBuffered || !f.fits(off, off+len(p))) {
		t := off
		if f.nspans > 0 && f.spans[0].s < off {
			t = f.spans[0].s
		}
		r.gapTo(f, t)
		off = int(int32(seq - f.base))
	}
	if off > f.have {
		r.stats.OutOfOrder++
		f.beyond++
	}
	if (!f.synced || off > f.have) && int32(seq-f.base) == int32(off) {
		// The segment's first byte (not one trim cut to), where a
		// message may begin: kept beyond a hole too, for after a gap.
		f.addStart(off)
	}
	f.store(off, p, r.cfg.MaxBuffered)
	r.drain(f, emit)
	r.settle(f, emit)
}

// trim cuts the bytes of p already received and returns the window offset
// of what is left. Data wholly in the past may fill a late hole.
func (r *Reassembler) trim(f *flow, seq uint32, p []byte, emit func([]byte)) (int, []byte) {
	d := int32(seq - f.base)
	switch {
	case d <= -maxBackward:
		// A new byte stream on the same ports (the SYN was not captured).
		r.stats.Gaps++
		r.discard(f)
		f.reset(seq)
		return 0, p
	case d < 0 && int(-d) >= len(p):
		if !r.lateFill(f, seq, p, emit) {
			r.stats.Retransmitted++
		}
		return 0, nil
	case d < 0:
		r.stats.Retransmitted++
		return 0, p[-d:]
	case int(d) < f.have:
		r.stats.Retransmitted++
	}
	return int(d), p
}

// fits reports whether storing [s, e) beyond the in-order data needs no more
// than maxSpans spans.
func (f *flow) fits(s, e int) bool {
	if f.nspans < maxSpans {
		return true
	}
	for _, sp := range f.spans[:f.nspans] {
		if s <= sp.e && e >= sp.s {
			return true
		}
	}
	return false
}

// store copies p to window offset off and records the bytes as received.
// A later copy of the same bytes overwrites the earlier one.
func (f *flow) store(off int, p []byte, limit int) {
	end := off + len(p)
	if end > len(f.win) {
		f.grow(end, limit)
	}
	copy(f.win[off:end], p)
	if off <= f.have {
		f.have = max(f.have, end)
	} else {
		f.insert(span{off, end})
	}
	f.absorb()
}

// grow extends the window to n bytes, doubling capacity to amortise copies
// but never beyond limit.
func (f *flow) grow(n, limit int) {
	if n <= cap(f.win) {
		f.win = f.win[:n]
		return
	}
	w := make([]byte, n, max(n, min(2*cap(f.win), limit), 512))
	copy(w, f.win)
	*f.held += large(cap(w)) - large(cap(f.win))
	*f.caps += cap(w) - cap(f.win)
	f.win = w
}

// insert merges sp into the sorted, disjoint out-of-order spans.
func (f *flow) insert(sp span) {
	var tmp [maxSpans + 1]span
	n := 0
	placed := false
	for _, x := range f.spans[:f.nspans] {
		switch {
		case x.e < sp.s:
			tmp[n] = x
			n++
		case x.s > sp.e:
			if !placed {
				tmp[n] = sp
				n++
				placed = true
			}
			tmp[n] = x
			n++
		default:
			sp = span{min(sp.s, x.s), max(sp.e, x.e)}
		}
	}
	if !placed {
		tmp[n] = sp
		n++
	}
	// fits has ruled out a ninth span.
	f.nspans = copy(f.spans[:], tmp[:n])
}

// absorb moves the spans that now touch the in-order data into it.
func (f *flow) absorb() {
	i := 0
	for i < f.nspans && f.spans[i].s <= f.have {
		f.have = max(f.have, f.spans[i].e)
		i++
	}
	if i > 0 {
		f.nspans = copy(f.spans[:], f.spans[i:f.nspans])
		if f.nspans == 0 {
			f.beyond = 0
		}
	}
}

// shift drops the first n window bytes and moves base past them.
func (f *flow) shift(n int) {
	if n == 0 {
		return
	}
	if n < len(f.win) {
		f.win = f.win[:copy(f.win, f.win[n:])]
	} else {
		f.win = f.win[:0]
	}
	f.base += uint32(n)
	f.have = max(f.have-n, 0)
	for i := range f.spans[:f.nspans] {
		f.spans[i].s -= n
		f.spans[i].e -= n
	}
	k := 0
	for _, s := range f.starts[:f.nstarts] {
		if s >= n {
			f.starts[k] = s - n
			k++
		}
	}
	f.nstarts = k
	f.absorb()
}

// addStart records window offset off as a segment's start, keeping the
// starts sorted; past maxStarts the latest is not kept.
func (f *flow) addStart(off int) {
	i := 0
	for i < f.nstarts && f.starts[i] < off {
		i++
	}
	if i < f.nstarts && f.starts[i] == off || f.nstarts == maxStarts {
		return
	}
	copy(f.starts[i+1:f.nstarts+1], f.starts[i:f.nstarts])
	f.starts[i] = off
	f.nstarts++
}

// frames delivers the complete messages at the start of b, which begins at
// a trusted boundary, and returns the bytes they took.
func (r *Reassembler) frames(b []byte, emit func([]byte)) int {
	n := 0
	for len(b)-n >= 2 {
		l := int(binary.BigEndian.Uint16(b[n:]))
		if n+2+l > len(b) {
			break
		}
		r.deliver(b[n+2:n+2+l:n+2+l], emit)
		n += 2 + l
	}
	return n
}

// deliver hands one message to emit.
func (r *Reassembler) deliver(msg []byte, emit func([]byte)) {
	r.stats.Messages++
	emit(msg)
}

// drain delivers the complete messages of the in-order data, finding a
// boundary first if f has none, then drops what it used from the window.
func (r *Reassembler) drain(f *flow, emit func([]byte)) {
	rd := 0
	for {
		if !f.synced && !r.hunt(f, &rd) {
			break
		}
		b := f.win[rd:f.have]
		if len(b) < 2 {
			break
		}
		if !f.trusted {
			v := plausible(b)
			if v == verdictMore {
				break
			}
			if v == verdictNo {
				f.synced = false
				continue
			}
		}
		l := int(binary.BigEndian.Uint16(b))
		if 2+l > len(b) {
			break
		}
		r.deliver(b[2:2+l:2+l], emit)
		rd += 2 + l
	}
	f.shift(rd)
	if len(f.win) == 0 {
		f.release()
	}
}

// hunt looks for a message boundary in the in-order data from *rd on,
// dropping the bytes before it. It reports whether it found one.
//
// A message is looked for at a segment's first byte only, as a server
// writes one message a send and tshark dissects a segment it has no state
// for: a message found anywhere in the bytes, the first version, was a
// forgery waiting to happen, a framed "www.victim.example A 6.6.6.6" in a
// TXT record read as a response after a gap (a hostile run).
func (r *Reassembler) hunt(f *flow, rd *int) bool {
	skip := func(to int) {
		r.stats.SkippedBytes += uint64(to - *rd)
		*rd = to
	}
	for _, s := range f.starts[:f.nstarts] {
		if s < *rd {
			continue
		}
		if s >= f.have {
			break
		}
		switch plausible(f.win[s:f.have]) {
		case verdictYes:
			skip(s)
			f.synced = true
			r.stats.Resyncs++
			return true
		case verdictMore:
			skip(s)
			return false
		}
	}
	// No segment start in the in-order bytes begins a message: none of
	// them can, as one begins at a later segment's start if at all.
	skip(f.have)
	return false
}

// settle decides whether the first hole is lost, after a segment arrived
// beyond it, and if so moves past it and delivers what follows.
func (r *Reassembler) settle(f *flow, emit func([]byte)) {
	if f.nspans == 0 {
		return
	}
	// TODO(tcp): the peer's ACK beyond the hole would prove the bytes were
	// sent and only the capture lost them; needs the ACK number in
	// packet.Frame and in Segment.
	sp := f.spans[0]
	lost := f.beyond >= reorderSegments
	if !lost && f.synced && f.have == 0 {
		// Whole-message segments are the usual unit of loss: a segment that
		// starts with a complete, plausible message proves little about
		// reordering but is what tshark shows, and a late fill still
		// delivers the missing messages if they come.
		lost = standalone(f.win[sp.s:sp.e])
	}
	if lost {
		r.gapTo(f, sp.s)
		r.drain(f, emit)
	}
}

// gapTo gives up the window bytes before offset t, a hole starting after the
// in-order data, and continues from t without a known boundary.
func (r *Reassembler) gapTo(f *flow, t int) {
	r.stats.Gaps++
	r.stats.GapBytes += uint64(t - f.have)
	f.late = hole{}
	if f.synced && f.have == 0 {
		f.late = hole{start: f.base, end: f.base + uint32(t), ok: true}
	}
	r.pending(f, f.have)
	f.have = 0
	f.shift(t)
	f.synced, f.trusted = false, false
	f.addStart(0) // the first span beyond the hole begins with a segment
	f.beyond = 0
}

// pending counts n in-order bytes about to be dropped: the start of a
// message when f was at a boundary, unframed bytes otherwise.
func (r *Reassembler) pending(f *flow, n int) {
	switch {
	case n == 0:
	case f.synced:
		r.stats.Incomplete++
	default:
		r.stats.SkippedBytes += uint64(n)
	}
}

// lateFill delivers the messages of a segment that lands at the start of
// the late hole, and reports whether it did.
func (r *Reassembler) lateFill(f *flow, seq uint32, p []byte, emit func([]byte)) bool {
	h := &f.late
	if !h.ok || seq != h.start || int32(h.end-seq) < int32(len(p)) {
		return false
	}
	r.stats.LateFilled++
	n := r.frames(p, emit)
	h.start += uint32(len(p))
	if n < len(p) {
		// The rest of that message is in a later segment, which this
		// simple path does not wait for.
		r.stats.Incomplete++
		h.ok = false
	}
	if h.start == h.end {
		h.ok = false
	}
	return true
}

// close ends direction f at sequence number end: bytes held beyond holes
// are delivered as far as they can be, the rest is counted, and f stays as
// a small record so that retransmissions after the end are not new data.
func (r *Reassembler) close(f *flow, end uint32, emit func([]byte)) {
	for f.nspans > 0 {
		r.gapTo(f, f.spans[0].s)
		r.drain(f, emit)
	}
	stop := f.base + uint32(len(f.win))
	r.discard(f)
	f.reset(stop)
	if d := int32(end - stop); d > 0 && d < maxBackward {
		f.base = end
	}
	f.closed = true
	f.free()
}

// discard counts the data f holds as lost.
func (r *Reassembler) discard(f *flow) {
	r.pending(f, f.have)
	if f.nspans > 0 {
		r.stats.Incomplete++
	}
}
