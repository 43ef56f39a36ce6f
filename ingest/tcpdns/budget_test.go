package tcpdns

import (
	"net/netip"
	"testing"
)

// TestReassembler_totalBudget opens many directions that each hold data
// beyond a hole, the most a direction may buffer: the buffers of all of
// them together stay within MaxTotal, the least recently active ones being
// evicted, and dropping every direction gives back what was counted.
func TestReassembler_totalBudget(t *testing.T) {
	const total = 1 << 20
	r := New(Config{MaxTotal: total})
	data := make([]byte, 1000)
	for i := range 200 {
		k := Key{
			Src: netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), Dst: netip.MustParseAddr("192.0.2.53"),
			SrcPort: uint16(40000 + i), DstPort: 53,
		}
		r.Segment(k, int64(i), 1, FlagSYN, nil, func([]byte) {})
		// 60,000 bytes past the start: a hole the window must span.
		r.Segment(k, int64(i), 60_002, FlagACK, data, func([]byte) {})
		if r.held > total {
			t.Fatalf("direction %d: %d bytes held, budget %d", i, r.held, total)
		}
	}
	st := r.Flush()
	if st.Evicted == 0 {
		t.Errorf("no direction evicted; %+v", st)
	}
	if r.held != 0 {
		t.Errorf("%d bytes counted after Flush, want 0", r.held)
	}
}
