package ingest_test

import (
	"bufio"
	"errors"
	"fmt"
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

// TestDecoder_stoppedFileHoldsNothing stops a file part-way by the
// callback's error (a loader leaving a duplicate out), then decodes
// another: its rows are its own messages, none of the first file's held
// queries.
func TestDecoder_stoppedFileHoldsNothing(t *testing.T) {
	dir := t.TempDir()
	first, second := filepath.Join(dir, "first.pcap"), filepath.Join(dir, "second.pcap")
	for i, path := range []string{first, second} {
		cfg := gen.Config{Seed: int64(i + 1), Messages: 5000, Unanswered: 0.2}
		if _, err := gen.WriteFile(path, cfg, gen.Pcap); err != nil {
			t.Fatal(err)
		}
	}
	stop := errors.New("stop")
	d := ingest.NewDecoder(ingest.Config{})
	var st ingest.FileStats
	n := 0
	err := d.DecodeFile(ingest.Input{Path: first}, &st, nil, func(*schema.Row) error {
		if n++; n == 2000 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("first file: %v, want the callback's error", err)
	}
	var rows uint64
	err = d.DecodeFile(ingest.Input{Path: second}, &st, nil, func(r *schema.Row) error {
		if r.File != second {
			return fmt.Errorf("a row of %s while decoding %s", r.File, second)
		}
		rows++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rows != st.Messages() {
		t.Errorf("%d rows from the second file, %d messages", rows, st.Messages())
	}
}
