package clickhouse

import (
	"bytes"
	"io"
	"testing"
)

// TestChunks writes across chunk boundaries and reads the same bytes back,
// twice, as a retry does, then again after a reset that keeps keptChunks
// of the chunks for reuse.
func TestChunks(t *testing.T) {
	var c chunks
	want := make([]byte, 2*chunkSize+12345)
	for i := range want {
		want[i] = byte(i * 7)
	}
	for round := range 2 {
		for p := want; len(p) > 0; {
			n := min(len(p), 100_003)
			if k, err := c.Write(p[:n]); k != n || err != nil {
				t.Fatalf("Write = %d, %v", k, err)
			}
			p = p[n:]
		}
		for read := range 2 {
			got, err := io.ReadAll(c.reader())
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("round %d, read %d: %d bytes (%v), want the %d written", round, read, len(got), err, len(want))
			}
		}
		c.reset()
		if c.n != 0 || len(c.bufs) != keptChunks {
			t.Fatalf("reset: %d chunks in use, %d kept; want 0 and %d", c.n, len(c.bufs), keptChunks)
		}
	}
}
