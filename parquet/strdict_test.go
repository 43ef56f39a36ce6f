package parquet

import (
	"strconv"
	"testing"
)

// TestStrDict adds more entries than the table first holds, finds each
// again by its number, and starts over after a reset.
func TestStrDict(t *testing.T) {
	d := newStrDict()
	for round := range 2 {
		const n = 5000 // the table starts at 1,024 slots
		for i := range n {
			s := []byte("name" + strconv.Itoa(i) + ".example.")
			if k := d.index(s); k != uint32(i) {
				t.Fatalf("round %d: new entry %q got number %d, want %d", round, s, k, i)
			}
		}
		if d.index(nil) != n || d.index([]byte{}) != n {
			t.Fatalf("round %d: the empty string is not one entry", round)
		}
		for i := range n {
			s := "name" + strconv.Itoa(i) + ".example."
			if k := d.index([]byte(s)); k != uint32(i) {
				t.Fatalf("round %d: %q found as %d, want %d", round, s, k, i)
			}
			if got := string(d.entry(i)); got != s {
				t.Fatalf("round %d: entry %d = %q, want %q", round, i, got, s)
			}
		}
		if d.len() != n+1 {
			t.Fatalf("round %d: %d entries, want %d", round, d.len(), n+1)
		}
		d.reset()
		if d.len() != 0 {
			t.Fatalf("round %d: %d entries after reset", round, d.len())
		}
	}
}
