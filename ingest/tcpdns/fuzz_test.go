package tcpdns

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"unsafe"
)

// checkState asserts the invariants that keep a Reassembler bounded and its
// windows consistent.
func checkState(tb testing.TB, r *Reassembler) {
	tb.Helper()
	if len(r.flows) > r.cfg.MaxFlows {
		tb.Fatalf("%d directions, bound %d", len(r.flows), r.cfg.MaxFlows)
	}
	n := 0
	for f := r.lru.next; f != &r.lru; f = f.next {
		n++
		checkFlow(tb, f, r.cfg.MaxBuffered)
	}
	if n != len(r.flows) {
		tb.Fatalf("activity list has %d directions, table %d", n, len(r.flows))
	}
}

func checkFlow(tb testing.TB, f *flow, bound int) {
	tb.Helper()
	if len(f.win) > bound || f.have > len(f.win) || f.nspans > maxSpans {
		tb.Fatalf("window %d bytes (bound %d), in order %d, spans %d",
			len(f.win), bound, f.have, f.nspans)
	}
	prev := f.have
	for _, sp := range f.spans[:f.nspans] {
		if sp.s <= prev || sp.e <= sp.s || sp.e > len(f.win) {
			tb.Fatalf("spans %v after %d bytes in order, window %d",
				f.spans[:f.nspans], f.have, len(f.win))
		}
		prev = sp.e
	}
}

// prefixOf returns the two bytes before msg in its backing array: the
// length prefix it was framed by. A non-empty msg always comes from a
// buffer that holds its prefix, so the pointer stays in the same allocation.
func prefixOf(msg []byte) uint16 {
	p := unsafe.Add(unsafe.Pointer(unsafe.SliceData(msg)), -2)
	return binary.BigEndian.Uint16(unsafe.Slice((*byte)(p), 2))
}

// FuzzSegment feeds random segment sequences: the input is a list of
// operations (direction, flags, sequence offset, length) over a virtual
// byte stream per direction made of DNS-like messages mixed with the input's
// own bytes.
func FuzzSegment(f *testing.F) {
	f.Add([]byte{0, 0x02, 0, 0, 0, 0, 0, 0x10, 0, 1, 0, 40, 0, 0x10, 0, 41, 0, 200})
	f.Add([]byte{1, 0x10, 0, 50, 0, 60, 1, 0x10, 0, 0, 0, 50, 1, 0x11, 0, 110, 0, 0})
	f.Add([]byte{0, 0x10, 0x80, 0, 0, 90, 0, 0x10, 0x7f, 0xf0, 0, 90, 2, 0x04, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		r := New(Config{MaxFlows: 2})
		streams := [3][]byte{virtualStream(ops, 0), virtualStream(ops, 1), virtualStream(ops, 2)}
		keys := [3]Key{fuzzKey(0), fuzzKey(1), fuzzKey(2)}
		emit := func(msg []byte) {
			// An empty slice has no defined address to look before.
			if len(msg) > 0 && int(prefixOf(msg)) != len(msg) {
				t.Fatalf("message of %d bytes framed by prefix %d", len(msg), prefixOf(msg))
			}
		}
		var ts int64
		for len(ops) >= 6 {
			d, flags := int(ops[0])%3, ops[1]
			off := int(binary.BigEndian.Uint16(ops[2:]))
			n := int(binary.BigEndian.Uint16(ops[4:]))
			ops = ops[6:]
			s := streams[d]
			from, to := min(off, len(s)), min(off+n, len(s))
			// The top flag bits advance packet time, up to ~22 s a step,
			// and the top bit also jumps the sequence number by 2^31.
			ts += int64(flags&0xe0) * 1e8
			seq := 7 + uint32(off) + uint32(flags&0x80)<<24
			r.Segment(keys[d], ts, seq, flags&0x1f, s[from:to], emit)
			checkState(t, r)
		}
		st := r.Flush()
		if len(r.flows) != 0 || st.Messages > st.Segments*maxMessage {
			t.Fatalf("after Flush: %d directions, stats %+v", len(r.flows), st)
		}
	})
}

// virtualStream builds direction d's bytes: framed queries, with the
// input's bytes spliced in as junk so that boundaries must be searched for.
func virtualStream(junk []byte, d int) []byte {
	var b []byte
	for i := range 40 {
		m := []byte{byte(i), byte(d), 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0}
		m = append(m, 3, 'f', 'o', 'o', 0, 0, 1, 0, 1)
		b = binary.BigEndian.AppendUint16(b, uint16(len(m)))
		b = append(b, m...)
		if i%7 == d && len(junk) > 0 {
			b = append(b, junk[:min(len(junk), i+d)]...)
		}
	}
	return b
}

func fuzzKey(d int) Key {
	return Key{
		Src:     netip.AddrFrom4([4]byte{10, 0, 0, byte(d)}),
		Dst:     netip.AddrFrom4([4]byte{10, 0, 0, 53}),
		SrcPort: 1000, DstPort: 53,
	}
}

func TestReassembler_Bounded(t *testing.T) {
	// Ascending segments with a hole before each: spans accumulate faster
	// than the reordering rule gives them up, until the span limit does.
	r := New(Config{})
	k := fuzzKey(0)
	r.Segment(k, 0, 0, FlagSYN, nil, func([]byte) {})
	for i := range 40 {
		r.Segment(k, 0, uint32(1+i*10+5), FlagACK, []byte{0xff, 0xff, 0xff}, func([]byte) {
			t.Fatal("junk delivered as a message")
		})
		checkState(t, r)
	}
	st := r.Flush()
	if st.Gaps == 0 || st.OutOfOrder == 0 {
		t.Errorf("stats %+v, want gaps and out-of-order segments", st)
	}
}
