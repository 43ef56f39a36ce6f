package gen

import (
	"math"
	"slices"
	"testing"
)

// TestWrite_Mix checks the shares of a large default generation against
// the defaults documented on Config.
func TestWrite_Mix(t *testing.T) {
	const n = 200000
	var (
		v6, tagged, qinq, nx, servfail, badCookie, malformed int
		mdns, llmnr, responses, queries                      int
		tcpQueries                                           int
		answers                                              [5]int
		names                                                = map[string]int{}
	)
	st, err := Write(discard{}, Config{Seed: 11, Messages: n}, Pcapng, func(e Expected) {
		if e.IPVersion == 6 {
			v6++
		}
		switch len(e.VLANs) {
		case 1:
			tagged++
		case 2:
			tagged++
			qinq++
		}
		if e.Malformed {
			malformed++
		}
		switch {
		case e.DstPort == 5353 || e.SrcPort == 5353:
			mdns++
			return
		case e.DstPort == 5355 || e.SrcPort == 5355:
			llmnr++
			return
		case !e.QR:
			queries++
			names[e.QName]++
			if e.TCP {
				tcpQueries++
			}
			return
		}
		responses++
		switch e.RCode {
		case rcodeNXDomain:
			nx++
		case rcodeServFail:
			servfail++
		case rcodeBadCookie:
			badCookie++
		}
		if e.TCP {
			return // larger answers, checked by TestWrite_TCP
		}
		if e.Answers > 4 {
			t.Fatalf("frame %d: %d answers, want at most 4", e.Frame, e.Answers)
		}
		answers[e.Answers]++
	})
	if err != nil {
		t.Fatal(err)
	}

	shares := []struct {
		what      string
		got, want float64
		tolerance float64
	}{
		// Per-client choices over 300 clients: wider tolerances.
		{"IPv6 messages", ratio(v6, n), 0.3, 0.08},
		{"tagged messages", ratio(tagged, n), 0.2, 0.08},
		{"QinQ messages", ratio(qinq, n), 0.05, 0.03},
		{"NXDOMAIN responses", ratio(nx, responses), 0.06, 0.01},
		{"SERVFAIL responses", ratio(servfail, responses), 0.01 * 0.94, 0.003},
		{"malformed messages", ratio(malformed, n), 0.002, 0.0007},
		{"non-DNS packets", ratio(int(st.NonDNS), int(st.Packets)), 0.02, 0.003},
		{"multicast messages", ratio(mdns+llmnr, n), 0.005, 0.002},
		{"unanswered unicast queries", 1 - ratio(responses, queries), 0.022, 0.004},
		{"unicast queries over TCP", ratio(tcpQueries, queries), 0.02, 0.003},
	}
	for _, s := range shares {
		t.Logf("%s: %.4f", s.what, s.got)
		if math.Abs(s.got-s.want) > s.tolerance {
			t.Errorf("%s: share %.4f, want %.4f ± %.4f", s.what, s.got, s.want, s.tolerance)
		}
	}
	if mdns == 0 || llmnr == 0 || badCookie == 0 {
		t.Errorf("got %d mDNS, %d LLMNR, %d BADCOOKIE messages, want some of each",
			mdns, llmnr, badCookie)
	}
	for k, c := range answers {
		if c == 0 {
			t.Errorf("no response with %d answers", k)
		}
	}
	checkPopularity(t, names, queries)
}

// checkPopularity holds the name counts to a power law: a head that takes a
// real share and a long tail.
func checkPopularity(t *testing.T, names map[string]int, queries int) {
	counts := make([]int, 0, len(names))
	for _, c := range names {
		counts = append(counts, c)
	}
	slices.Sort(counts)
	slices.Reverse(counts)
	top, top10 := ratio(counts[0], queries), 0.0
	for _, c := range counts[:10] {
		top10 += ratio(c, queries)
	}
	t.Logf("top name %.3f, top 10 %.3f, first/100th %d/%d, %d names",
		top, top10, counts[0], counts[99], len(names))
	if top < 0.03 || top > 0.12 || top10 < 0.2 || counts[0] < 20*counts[99] {
		t.Errorf("top name %.3f, top 10 %.3f, first/100th %d/%d: not a power law",
			top, top10, counts[0], counts[99])
	}
	if len(names) < 5000 {
		t.Errorf("%d distinct names, want a long tail", len(names))
	}
}

func ratio(a, b int) float64 { return float64(a) / float64(b) }

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

// TestWrite_Timing checks that packet times never go back, that every
// unicast response follows its query by 50 µs to 30 ms (over TCP, the
// segments that complete them), and that frames are numbered in order.
func TestWrite_Timing(t *testing.T) {
	type key struct {
		client string
		port   uint16
		id     uint16
	}
	asked := map[key]int64{}
	var last Expected
	_, err := Write(discard{}, Config{Seed: 12, Messages: 50000}, Pcap, func(e Expected) {
		// Only a TCP segment completes two messages.
		sameFrame := e.Frame == last.Frame && e.TCP && last.TCP
		if e.Time < last.Time || e.Frame < last.Frame || e.Frame == last.Frame && !sameFrame {
			t.Fatalf("frame %d at %d follows frame %d at %d", e.Frame, e.Time, last.Frame, last.Time)
		}
		last = e
		switch {
		case e.DstPort == 53:
			asked[key{e.Src.String(), e.SrcPort, e.ID}] = e.Time
		case e.SrcPort == 53:
			q, ok := asked[key{e.Dst.String(), e.DstPort, e.ID}]
			if lat := e.Time - q; !ok || lat < 49e3 || lat > 30e6 {
				t.Fatalf("frame %d: response %d ns after its query (found: %v)", e.Frame, lat, ok)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if last.Time%1000 != 0 {
		t.Errorf("microsecond pcap reports time %d", last.Time)
	}
}
