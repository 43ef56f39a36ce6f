package craft

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/pcapload/pcapload/ingest/capture"
)

// crafted is where craftcap writes, relative to this package.
var crafted = filepath.Join("..", "..", "testdata", "crafted")

// TestFiles_Checked regenerates every file of testdata/crafted in memory
// and compares it byte for byte with the checked-in one: the files must be
// what the package makes today, and nothing else may lie in the directory.
func TestFiles_Checked(t *testing.T) {
	want := map[string]bool{}
	for _, f := range Files() {
		want[f.Name] = true
		t.Run(f.Name, func(t *testing.T) {
			got, err := os.ReadFile(filepath.Join(crafted, f.Name))
			if err != nil {
				t.Fatalf("%v; regenerate with %s", err, Command)
			}
			if !bytes.Equal(got, f.Data) {
				t.Fatalf("%s differs from what package craft makes (%d bytes, want %d); regenerate with %s",
					f.Name, len(got), len(f.Data), Command)
			}
		})
	}

	entries, err := os.ReadDir(crafted)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !want[e.Name()] {
			t.Errorf("%s is in testdata/crafted but package craft does not make it", e.Name())
		}
	}
}

// TestFiles_Deterministic builds every file twice.
func TestFiles_Deterministic(t *testing.T) {
	a, b := Files(), Files()
	for i := range a {
		if a[i].Name != b[i].Name || !bytes.Equal(a[i].Data, b[i].Data) {
			t.Errorf("%s differs between two builds", a[i].Name)
		}
	}
}

// TestCase_Pcap reads every capture back with package capture: the packet
// count, the link type and the time of each row's frame must be right.
func TestCase_Pcap(t *testing.T) {
	for _, c := range Cases() {
		t.Run(c.Name, func(t *testing.T) {
			times := readTimes(t, c.Pcap(), c.Link)
			if len(times) != c.Packets() {
				t.Fatalf("read %d packets, want %d", len(times), c.Packets())
			}
			for _, r := range c.Rows() {
				if r.Frame < 1 || r.Frame > len(times) || times[r.Frame-1] != r.Time {
					t.Errorf("row at frame %d time %d does not match the capture", r.Frame, r.Time)
				}
			}
		})
	}
}

// readTimes returns the packet times of a capture of link type link.
func readTimes(tb testing.TB, pcap []byte, link capture.LinkType) []int64 {
	tb.Helper()
	r, err := capture.Open(bytes.NewReader(pcap))
	if err != nil {
		tb.Fatal(err)
	}
	var times []int64
	for {
		var p capture.Packet
		err := r.Next(&p)
		if errors.Is(err, io.EOF) {
			return times
		}
		if err != nil {
			tb.Fatal(err)
		}
		if p.LinkType != link {
			tb.Fatalf("link type %d, want %d", p.LinkType, link)
		}
		times = append(times, p.Timestamp)
	}
}

// TestReadRows reads back every rows file as written.
func TestReadRows(t *testing.T) {
	for _, c := range Cases() {
		t.Run(c.Name, func(t *testing.T) {
			got, err := ReadRows(bytes.NewReader(encodeRows(c.rows)))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(encodeRows(got), encodeRows(c.rows)) {
				t.Errorf("rows do not survive a round trip")
			}
		})
	}
}
