package ingest_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/schema"
)

// TestDecoder_Progress checks that Progress, which the progress bar reads,
// ends at every packet and byte of the files decoded, though the decoder
// counts packets into it a few hundred at a time.
func TestDecoder_Progress(t *testing.T) {
	files := []string{"resolver.pcap", "resolver-vlan.pcap.gz", "resolver-ns.pcapng.zst"}
	d := ingest.NewDecoder(ingest.Config{})
	var prog ingest.Progress
	var packets uint64
	var bytes int64
	for _, name := range files {
		path := filepath.Join("..", "testdata", name)
		var st ingest.FileStats
		if err := d.DecodeFile(ingest.Input{Path: path}, &st, &prog, func(*schema.Row) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if st.Packets%256 == 0 {
			t.Fatalf("%s: %d packets, a multiple of the step: pick another file", name, st.Packets)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		packets += st.Packets
		bytes += fi.Size()
		if got := prog.Packets.Load(); got != packets {
			t.Errorf("after %s: progress counts %d packets, want %d", name, got, packets)
		}
		if got := prog.Bytes.Load(); got != bytes {
			t.Errorf("after %s: progress counts %d bytes, want %d", name, got, bytes)
		}
	}
}
