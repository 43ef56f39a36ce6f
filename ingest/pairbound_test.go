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

// TestPairer_evictsByCharge: which held query room evicts, and when, is
// decided by the queries' charges alone. A pairer whose slots keep the
// buffers of earlier queries (of 60,000 bytes, then of 200) evicts the same
// queries at the same points as a new one; so a file read after others
// makes its rows in the same order as on its own. The held queries'
// buffers stay within their charges, and a slot keeps no large buffer for
// a small query.
func TestPairer_evictsByCharge(t *testing.T) {
	frame := func(n int) *packet.Frame { return &packet.Frame{Payload: make([]byte, n)} }
	// evictions holds count queries of n bytes from key first on, and
	// returns the keys evicted and before which query.
	evictions := func(p *pairer, first, count int, f *packet.Frame) [][2]int {
		var out [][2]int
		for i := first; i < first+count; i++ {
			for {
				e, ok := p.room(len(f.Payload))
				if !ok {
					break
				}
				out = append(out, [2]int{int(e.key), i})
			}
			p.hold(uint64(i), 0, uint64(i), f)
		}
		return out
	}
	take := func(p *pairer, first, count int) {
		for i := first; i < first+count; i++ {
			if _, ok := p.take(uint64(i)); !ok {
				t.Fatalf("query %d not held", i)
			}
		}
	}
	used := newPairer(0)
	large := maxHeldBytes / charge(60_000)
	evictions(used, 0, large, frame(60_000))
	take(used, 0, large)
	evictions(used, 0, 5000, frame(200))
	take(used, 0, 5000)

	fresh := newPairer(0)
	const n = 50_000
	want := evictions(fresh, 0, n, frame(60))
	got := evictions(used, 0, n, frame(60))
	if len(want) == 0 || len(got) != len(want) {
		t.Fatalf("%d queries evicted by a new pairer, %d by one with buffers left", len(want), len(got))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("eviction %d: query %d before %d, a new pairer evicted %d before %d",
				i, got[i][0], got[i][1], want[i][0], want[i][1])
		}
	}
	for _, p := range []*pairer{fresh, used} {
		if p.charged > maxHeldBytes {
			t.Errorf("held queries charged %d bytes, want at most %d", p.charged, maxHeldBytes)
		}
		if got := p.retained(); got != p.mem {
			t.Errorf("the slab keeps %d bytes, counted %d", got, p.mem)
		}
		inUse := p.mem - p.freeBufs - (len(p.free) * slotCost)
		if inUse > p.charged {
			t.Errorf("held queries take %d bytes, more than their charges, %d", inUse, p.charged)
		}
	}

	// Large buffers left free are not kept for small queries.
	p := newPairer(0)
	evictions(p, 0, large, frame(60_000))
	take(p, 0, large)
	evictions(p, 0, large, frame(60))
	if got := p.retained(); got > large*(slotCost+keptQuery) {
		t.Errorf("the slab keeps %d bytes after %d small queries took the large ones' slots", got, large)
	}
}
