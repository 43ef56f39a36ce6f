package ingest

import (
	"cmp"
	"os"
	"path/filepath"
	"testing"

	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/internal/hostile"
	"github.com/pcapload/pcapload/schema"
)

// stateFile writes a capture that fills what a decoder holds from three
// sides, none past its own bound: 2,500 TCP directions each holding part
// of a message (15 MB), 400 datagrams of which only the last fragment came
// (up to their 16 MiB), then 20,000 unanswered queries of 600 bytes (up to
// their 16 MiB). Together they pass stateMax. tcp and segments, when not
// 0, change the directions and the 1,400-byte segments each sends (3).
func stateFile(t *testing.T, seed uint64, tcp, segments int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.pcap")
	b := hostile.Bounds{Seed: seed, TCP: cmp.Or(tcp, 2500), TCPSegments: segments, Fragments: 400, Queries: 20000}
	if err := hostile.Write(path, b); err != nil {
		t.Fatal(err)
	}
	return path
}

// stateTrace is what decoding a file shows of the decoder's state: the
// frame of each row, and what the decoder held when it was made.
type stateTrace struct {
	frames []uint64
	state  []int
	st     FileStats
}

func traceState(t *testing.T, d *Decoder, path string) stateTrace {
	t.Helper()
	var tr stateTrace
	err := d.DecodeFile(Input{Path: path}, &tr.st, nil, func(r *schema.Row) error {
		tr.frames = append(tr.frames, r.Frame)
		tr.state = append(tr.state, d.StateBytes())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestDecoder_stateShared: the waiting queries, the unfinished datagrams
// and the TCP directions share stateMax. Each stays within its own bound
// here, so without the shared one the decoder held 47 MiB; with it, the
// largest gives up its oldest (TCP directions are evicted), and every
// query still makes its row.
func TestDecoder_stateShared(t *testing.T) {
	tr := traceState(t, NewDecoder(Config{}), stateFile(t, 1, 0, 0))
	most := 0
	for _, n := range tr.state {
		most = max(most, n)
	}
	// A row is made in the middle of a packet, before the decoder sheds
	// what that packet added: at most one query's charge.
	if limit := stateMax + charge(1<<16); most > limit {
		t.Errorf("the decoder held %d bytes, want at most %d", most, limit)
	}
	if tr.st.TCP.Evicted == 0 {
		t.Errorf("no TCP direction evicted: %+v", tr.st.TCP)
	}
	if uint64(len(tr.frames)) != tr.st.Messages() || tr.st.Pairs.Unanswered != 20000 {
		t.Errorf("%d rows and %d unanswered of %d messages, want 20,000", len(tr.frames), tr.st.Pairs.Unanswered,
			tr.st.Messages())
	}
}

// TestDecoder_stateSameAfterOtherFiles: what a decoder holds, and so where
// the loader ends batches and which queries are evicted when, depends on
// the file alone. A decoder that read other files first (typical traffic
// with TCP, and another hostile file of 4,000 directions holding 2,800
// bytes each) leaves buffers in its reused TCP
// directions, datagrams and query slots; the file's rows and the state at
// each must come out as from a new decoder.
func TestDecoder_stateSameAfterOtherFiles(t *testing.T) {
	path := stateFile(t, 1, 0, 0)
	want := traceState(t, NewDecoder(Config{}), path)

	typical := filepath.Join(t.TempDir(), "typical.pcap")
	if _, err := gen.WriteFile(typical, gen.Config{Seed: 9, Messages: 50_000}, gen.Pcap); err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(Config{})
	traceState(t, d, typical)
	// More directions than the file has, each with a buffer a drained
	// direction may keep.
	traceState(t, d, stateFile(t, 2, 4000, 2))
	traceState(t, d, typical)
	got := traceState(t, d, path)

	if len(got.frames) != len(want.frames) {
		t.Fatalf("%d rows after other files, %d from a new decoder", len(got.frames), len(want.frames))
	}
	for i := range want.frames {
		if got.frames[i] != want.frames[i] || got.state[i] != want.state[i] {
			t.Fatalf("row %d: frame %d with %d bytes held after other files, frame %d with %d from a new decoder",
				i, got.frames[i], got.state[i], want.frames[i], want.state[i])
		}
	}
}

// TestDecoder_stateLessBesideLargeWindow: a file whose decompressor holds
// a 64 MiB window (zstd --long=26) leaves its decoder minStateMax.
func TestDecoder_stateLessBesideLargeWindow(t *testing.T) {
	plain, err := os.ReadFile(stateFile(t, 1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	long, err := hostile.LongWindow(plain)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "state.pcap.zst")
	if err := os.WriteFile(path, long, 0o644); err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(Config{})
	tr := traceState(t, d, path)
	if d.WindowBytes() != 64<<20 {
		t.Fatalf("window %d, want 64 MiB", d.WindowBytes())
	}
	most := 0
	for _, n := range tr.state {
		most = max(most, n)
	}
	if limit := minStateMax + charge(1<<16); most > limit {
		t.Errorf("beside a 64 MiB window the decoder held %d bytes, want at most %d", most, limit)
	}
	if uint64(len(tr.frames)) != tr.st.Messages() || tr.st.Pairs.Unanswered != 20000 {
		t.Errorf("%d rows and %d unanswered of %d messages, want 20,000", len(tr.frames), tr.st.Pairs.Unanswered,
			tr.st.Messages())
	}
}
