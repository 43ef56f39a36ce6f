package capture

import (
	"bytes"
	"errors"
	"io"
	"math"
	"testing"
)

// packetWriter is what both writers offer.
type packetWriter interface {
	WritePacket(ts int64, data []byte, origLen uint32) error
}

func TestWriter_RoundTrip(t *testing.T) {
	in := []Packet{
		{Data: []byte{1, 2, 3}, OrigLen: 3, Timestamp: 1700000000_123456789},
		{Data: nil, OrigLen: 0, Timestamp: 0},
		{Data: bytes.Repeat([]byte{7}, 1501), OrigLen: 9000, Timestamp: 4294967296_000000001},
	}
	tests := []struct {
		name   string
		format Format
		open   func(w io.Writer) (packetWriter, error)
		trunc  int64 // timestamps are truncated to this many ns
	}{
		{"pcap micro", FormatPcap, func(w io.Writer) (packetWriter, error) {
			return NewPcapWriter(w, LinkLinuxSLL2, 65535, false)
		}, 1000},
		{"pcap nano", FormatPcapNano, func(w io.Writer) (packetWriter, error) {
			return NewPcapWriter(w, LinkLinuxSLL2, 65535, true)
		}, 1},
		{"pcapng", FormatPcapng, func(w io.Writer) (packetWriter, error) {
			return NewPcapngWriter(w, LinkLinuxSLL2, 65535, "span0")
		}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := tc.open(&buf)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range in {
				if tc.format != FormatPcapng && p.Timestamp > math.MaxUint32*nanosPerSecond {
					p.Timestamp = 1 // pcap seconds end in 2106
				}
				if err := w.WritePacket(p.Timestamp, p.Data, p.OrigLen); err != nil {
					t.Fatal(err)
				}
			}
			f, got := mustReadAll(t, buf.Bytes())
			if f.Format() != tc.format || len(got) != len(in) {
				t.Fatalf("got %v with %d packets, want %v with %d", f.Format(), len(got), tc.format, len(in))
			}
			for i, p := range got {
				want := in[i].Timestamp
				if tc.format != FormatPcapng && want > math.MaxUint32*nanosPerSecond {
					want = 1
				}
				want -= want % tc.trunc
				if !bytes.Equal(p.Data, in[i].Data) || p.OrigLen != in[i].OrigLen || p.Timestamp != want || p.LinkType != LinkLinuxSLL2 {
					t.Errorf("packet %d: got %+v, want data %v orig %d time %d", i, p, in[i].Data, in[i].OrigLen, want)
				}
			}
			if ifs := f.Interfaces(); ifs[0].Snaplen != 65535 {
				t.Errorf("snaplen %d, want 65535", ifs[0].Snaplen)
			}
		})
	}
}

func TestPcapngWriter_WriteStats(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewPcapngWriter(&buf, LinkEthernet, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []func() error{
		func() error { return w.WritePacket(5, []byte{1}, 1) },
		func() error { return w.WriteStats(10, 100, 3) },
		func() error { return w.WriteStats(20, 200, 4) },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	f, pkts := mustReadAll(t, buf.Bytes())
	want := InterfaceStats{Blocks: 2, Timestamp: 20, Received: 200, Dropped: 4, HasReceived: true, HasDropped: true}
	if got := f.Interfaces()[0]; len(pkts) != 1 || got.Stats != want || got.Name != "" {
		t.Errorf("got %d packets, interface %+v; want 1, stats %+v", len(pkts), got, want)
	}
}

// TestPcapngWriter_UseLink: packets of several link types go into one
// file, each link type on an interface of its own, and read back with
// theirs.
func TestPcapngWriter_UseLink(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewPcapngWriter(&buf, LinkEthernet, 1500, "eth0")
	if err != nil {
		t.Fatal(err)
	}
	links := []LinkType{LinkEthernet, LinkLinuxSLL2, LinkEthernet, LinkLinuxSLL2, LinkRaw}
	for i, link := range links {
		if err := w.UseLink(link, 1500, "eth0"); err != nil {
			t.Fatal(err)
		}
		if err := w.WritePacket(int64(i), []byte{byte(i)}, 1); err != nil {
			t.Fatal(err)
		}
	}
	f, pkts := mustReadAll(t, buf.Bytes())
	if len(f.Interfaces()) != 3 || len(w.Links()) != 3 {
		t.Errorf("%d interfaces read, %d written; want one a link type (3)", len(f.Interfaces()), len(w.Links()))
	}
	for i, p := range pkts {
		if p.LinkType != links[i] || p.Data[0] != byte(i) {
			t.Errorf("packet %d: link %v data %v, want %v [%d]", i, p.LinkType, p.Data, links[i], i)
		}
	}
}

func TestWriter_Errors(t *testing.T) {
	pw, _ := NewPcapWriter(io.Discard, LinkEthernet, 0, false)
	nw, _ := NewPcapngWriter(io.Discard, LinkEthernet, 0, "")
	tests := []struct {
		name string
		w    packetWriter
		ts   int64
		data []byte
		want error
	}{
		{"pcap before epoch", pw, -1, nil, ErrTimestamp},
		{"pcap after 2106", pw, (math.MaxUint32 + 1) * nanosPerSecond, nil, ErrTimestamp},
		{"pcapng before epoch", nw, -1, nil, ErrTimestamp},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.w.WritePacket(tc.ts, tc.data, 0); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
	if err := pw.WritePacket(0, make([]byte, maxCaptureLen+1), 0); err == nil {
		t.Error("oversize packet written")
	}
}
