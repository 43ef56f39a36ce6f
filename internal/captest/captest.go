// Package captest holds the helpers tests of the capture writers share:
// generating a capture, reading its packets back as copies, and comparing
// packet lists; and a capture hopping over many days, for the loaders.
package captest

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pcapload/pcapload/ingest/capture"
	"github.com/pcapload/pcapload/internal/gen"
)

// Packet is a packet kept past capture.Reader.Next, with its own copy of
// the data.
type Packet struct {
	Time     int64
	Data     []byte
	OrigLen  uint32
	LinkType capture.LinkType
}

// Capture returns p as the capture package's Packet.
func (p *Packet) Capture() capture.Packet {
	return capture.Packet{Timestamp: p.Time, Data: p.Data, OrigLen: p.OrigLen, LinkType: p.LinkType}
}

// Generate returns a generated capture of n DNS messages in format f.
func Generate(tb testing.TB, n int, f gen.Format, cfg gen.Config) []byte {
	tb.Helper()
	cfg.Messages = n
	var b bytes.Buffer
	if _, err := gen.Write(&b, cfg, f, nil); err != nil {
		tb.Fatalf("generate: %v", err)
	}
	return b.Bytes()
}

// Read reads every packet of a capture stream, and returns them with the
// open file and the error that ended the stream (nil at a clean end).
func Read(r io.Reader) ([]Packet, *capture.File, error) {
	f, err := capture.OpenFile(r)
	if err != nil {
		return nil, nil, err
	}
	var out []Packet
	var p capture.Packet
	for {
		err := f.Next(&p)
		if errors.Is(err, io.EOF) {
			return out, f, nil
		}
		if err != nil {
			return out, f, err
		}
		out = append(out, Packet{Time: p.Timestamp, Data: slices.Clone(p.Data), OrigLen: p.OrigLen, LinkType: p.LinkType})
	}
}

// ReadAll reads every packet of a capture stream, failing on damage.
func ReadAll(tb testing.TB, r io.Reader) []Packet {
	tb.Helper()
	ps, f, err := Read(r)
	if f != nil {
		f.Close()
	}
	if err != nil {
		tb.Fatalf("read capture: %v", err)
	}
	return ps
}

// ReadFile reads every packet of the capture file at path, failing on
// damage.
func ReadFile(tb testing.TB, path string) []Packet {
	tb.Helper()
	fh, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer fh.Close()
	return ReadAll(tb, fh)
}

// Equal fails unless got and want are the same packets in the same order.
func Equal(tb testing.TB, got, want []Packet) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("got %d packets, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := &got[i], &want[i]
		if g.Time != w.Time || g.OrigLen != w.OrigLen || g.LinkType != w.LinkType || !bytes.Equal(g.Data, w.Data) {
			tb.Fatalf("packet %d: got time %d orig %d link %d len %d, want time %d orig %d link %d len %d",
				i, g.Time, g.OrigLen, g.LinkType, len(g.Data), w.Time, w.OrigLen, w.LinkType, len(w.Data))
		}
	}
}

// Hopping writes a capture of n generated packets that hop to the next of
// days days at every packet into a new folder, and returns its path: a
// capture of many days, cycling through them.
func Hopping(tb testing.TB, days, n int) string {
	tb.Helper()
	pkts := ReadAll(tb, bytes.NewReader(Generate(tb, n, gen.Pcap, gen.Config{Seed: 5})))
	path := filepath.Join(tb.TempDir(), "hop.pcap")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w, err := capture.NewPcapWriter(f, pkts[0].LinkType, 65535, true)
	if err != nil {
		tb.Fatal(err)
	}
	base := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC).UnixNano()
	for i, p := range pkts {
		ts := base + int64(i%days)*int64(24*time.Hour) + int64(i)*int64(time.Microsecond)
		if err := w.WritePacket(ts, p.Data, p.OrigLen); err != nil {
			tb.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}
