package ingest_test

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
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

// TestDecoder_timesBefore1970: a capture whose packets are all before the
// epoch (a pcapng interface with a negative if_tsoffset) is recorded with
// its first and last packet times, not a last time of the epoch itself,
// later than every packet (a hostile run).
func TestDecoder_timesBefore1970(t *testing.T) {
	le := binary.LittleEndian
	block := func(b []byte, typ uint32, body []byte) []byte {
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		n := uint32(12 + len(body))
		b = le.AppendUint32(le.AppendUint32(b, typ), n)
		return le.AppendUint32(append(b, body...), n)
	}
	shb := le.AppendUint64(le.AppendUint16(le.AppendUint16(le.AppendUint32(nil, 0x1a2b3c4d), 1), 0), ^uint64(0))
	idb := le.AppendUint32(le.AppendUint16(le.AppendUint16(nil, 1), 0), 65535)             // Ethernet
	idb = append(le.AppendUint16(le.AppendUint16(idb, 9), 1), 9, 0, 0, 0)                  // if_tsresol: ns
	idb = le.AppendUint64(le.AppendUint16(le.AppendUint16(idb, 14), 8), uint64(1<<64-100)) // if_tsoffset: -100 s
	idb = le.AppendUint32(idb, 0)
	b := block(block(nil, 0x0a0d0d0a, shb), 1, idb)
	frame := make([]byte, 60)
	for _, ts := range []uint64{30e9, 10e9, 20e9} { // -70, -90 and -80 s
		epb := le.AppendUint32(le.AppendUint32(le.AppendUint32(nil, 0), uint32(ts>>32)), uint32(ts))
		epb = le.AppendUint32(le.AppendUint32(epb, uint32(len(frame))), uint32(len(frame)))
		b = block(b, 6, append(epb, frame...))
	}
	path := filepath.Join(t.TempDir(), "1969.pcapng")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var st ingest.FileStats
	if err := ingest.NewDecoder(ingest.Config{}).DecodeFile(ingest.Input{Path: path}, &st, nil,
		func(*schema.Row) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if st.Packets != 3 || st.First != -90e9 || st.Last != -70e9 {
		t.Errorf("%d packets from %d to %d ns; want 3 from %d to %d", st.Packets, st.First, st.Last, int64(-90e9), int64(-70e9))
	}
}

// TestDecoder_longName: a capture whose name leaves no room for a
// sidecar's ".json" (251 bytes or more) has no sidecar, and loads (a
// hostile run failed it on the sidecar's "file name too long").
func TestDecoder_longName(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "resolver.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), strings.Repeat("n", 250)+".pcap")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var st ingest.FileStats
	err = ingest.NewDecoder(ingest.Config{}).DecodeFile(ingest.Input{Path: path}, &st, nil,
		func(*schema.Row) error { return nil })
	if err != nil || st.Messages() == 0 {
		t.Errorf("decoding a capture of a 255-byte name: %v, %d messages", err, st.Messages())
	}
}
