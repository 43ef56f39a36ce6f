package ingest_test

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/schema"
)

// TestDecoder_Pairing loads generated resolver traffic whose ground truth
// is known: every response answers a query, some queries go unanswered.
func TestDecoder_Pairing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pairs.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	cfg := gen.Config{Seed: 7, Messages: 20000, Multicast: -1, Malformed: -1, Unanswered: 0.05}
	truth, err := gen.Write(w, cfg, gen.Pcap, nil)
	if err != nil || w.Flush() != nil || f.Close() != nil {
		t.Fatal(err)
	}

	type side struct{ paired, unpaired int }
	var queries, responses side
	// A TCP segment can complete two queries: a message is its frame and ID.
	type message struct {
		frame uint64
		id    uint16
	}
	frames := make(map[message]uint64) // message -> pair frame
	d := ingest.NewDecoder(ingest.Config{})
	var st ingest.FileStats
	err = d.DecodeFile(ingest.Input{Path: path}, &st, nil, func(r *schema.Row) error {
		s := &queries
		if r.DNS.QR {
			s = &responses
		}
		if !r.Paired {
			s.unpaired++
			return nil
		}
		s.paired++
		frames[message{r.Frame, r.DNS.ID}] = r.PairFrame
		if r.Latency < 50_000 || r.Latency > 30_000_000 {
			t.Errorf("frame %d: latency %d ns outside the generator's 50 µs to 30 ms", r.Frame, r.Latency)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if queries.paired != int(truth.Responses) || responses.paired != int(truth.Responses) || responses.unpaired != 0 {
		t.Errorf("paired %d queries and %d responses (%d unpaired); generated %d responses",
			queries.paired, responses.paired, responses.unpaired, truth.Responses)
	}
	if queries.unpaired != int(truth.Unanswered) || st.Pairs.Unanswered != truth.Unanswered {
		t.Errorf("%d unanswered queries (stats %d), generated %d", queries.unpaired, st.Pairs.Unanswered, truth.Unanswered)
	}
	for m, other := range frames {
		if back := frames[message{other, m.id}]; back != m.frame {
			t.Fatalf("frame %d pairs with %d, which pairs with %d", m.frame, other, back)
		}
	}
	if uint64(queries.paired+queries.unpaired+responses.paired+responses.unpaired) != st.Messages() {
		t.Errorf("rows %d, messages %d: pairing lost or added rows", queries.paired+queries.unpaired+responses.paired+responses.unpaired, st.Messages())
	}
}
