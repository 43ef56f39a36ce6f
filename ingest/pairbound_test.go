package ingest

import (
	"path/filepath"
	"testing"

	"github.com/pcapload/pcapload/ingest/packet"
	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/schema"
)

// retained returns the bytes the pairer's slab keeps, counted afresh: its
// slots and every buffer, held or free.
func (p *pairer) retained() int {
	n := len(p.slab) * slotCost
	for i := range p.slab {
		n += cap(p.slab[i].msg)
	}
	return n
}

// TestDecoder_heldQueriesBounded decodes 300,000 queries that are never
// answered, sent within a fraction of a second so that none times out:
// the held queries must stay within maxHeldBytes, the oldest reported
// unanswered early, and every query still makes its row.
func TestDecoder_heldQueriesBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queries.pcap")
	cfg := gen.Config{Seed: 5, Messages: 300_000, Rate: 1e7, Unanswered: 1,
		Multicast: -1, Malformed: -1, NonDNS: -1, TCP: -1}
	if _, err := gen.WriteFile(path, cfg, gen.Pcap); err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(Config{})
	var st FileStats
	rows, most := 0, 0
	err := d.DecodeFile(Input{Path: path}, &st, nil, func(*schema.Row) error {
		if rows++; rows%1000 == 0 {
			if got := d.pair.retained(); got != d.pair.mem {
				t.Fatalf("row %d: the slab keeps %d bytes, counted %d", rows, got, d.pair.mem)
			}
			most = max(most, d.pair.mem)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if uint64(rows) != st.Messages() || st.Pairs.Unanswered != st.Messages() {
		t.Errorf("%d rows, %d unanswered, of %d queries", rows, st.Pairs.Unanswered, st.Messages())
	}
	if st.Pairs.Evicted == 0 {
		t.Errorf("no query evicted of %d held at once", st.Messages())
	}
	if most > maxHeldBytes {
		t.Errorf("held queries took %d bytes, want at most %d", most, maxHeldBytes)
	}
}

// TestPairer_roomDropsFreeBuffers: the buffers free slots keep (here of
// queries of 60 KB taking two thirds of the bound, answered, under the
// slots of small ones answered after them) are let go before a held query
// is evicted to make room; and a slot that held a large query keeps no
// large buffer for a small one.
func TestPairer_roomDropsFreeBuffers(t *testing.T) {
	p := newPairer(0)
	frame := func(n int) *packet.Frame { return &packet.Frame{Payload: make([]byte, n)} }
	large := maxHeldBytes * 2 / 3 / 61_440   // the 60,000 bytes take as much
	n := maxHeldBytes / 2 / (slotCost + 416) // of 400 bytes, they take half the bound
	hold := func(first, count int, f *packet.Frame) {
		for i := first; i < first+count; i++ {
			if e, ok := p.room(len(f.Payload)); ok {
				t.Fatalf("query %d evicted (frame %d) with %d bytes of free buffers", i, e.frame, p.freeBufs)
			}
			p.hold(uint64(i), 0, uint64(i), f)
		}
	}
	take := func(first, count int) {
		for i := first; i < first+count; i++ {
			if _, ok := p.take(uint64(i)); !ok {
				t.Fatalf("query %d not held", i)
			}
		}
	}
	hold(0, large, frame(60_000))
	hold(large, n, frame(60))
	take(0, large)
	take(large, n)
	// In the small queries' slots, larger: the held bytes grow past the
	// bound with the large buffers still free.
	hold(large, n, frame(400))
	if got := p.retained(); got != p.mem || got > maxHeldBytes {
		t.Errorf("the slab keeps %d bytes, counted %d, want at most %d", got, p.mem, maxHeldBytes)
	}
	if p.freeBufs != 0 {
		t.Errorf("free slots keep %d bytes of buffers", p.freeBufs)
	}

	// Large buffers left free are not kept for small queries.
	p = newPairer(0)
	hold(0, large, frame(60_000))
	take(0, large)
	hold(0, large, frame(60))
	if got := p.retained(); got > large*(slotCost+keptQuery) {
		t.Errorf("the slab keeps %d bytes after %d small queries took the large ones' slots", got, large)
	}
}
