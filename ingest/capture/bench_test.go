package capture

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// benchCapture writes n DNS-sized packets (80 to 335 bytes) with the
// package's writers, pcap or pcapng.
func benchCapture(tb testing.TB, n int, ng bool) []byte {
	tb.Helper()
	var buf bytes.Buffer
	var w packetWriter
	var err error
	if ng {
		w, err = NewPcapngWriter(&buf, LinkEthernet, 65535, "eth0")
	} else {
		w, err = NewPcapWriter(&buf, LinkEthernet, 65535, true)
	}
	if err != nil {
		tb.Fatal(err)
	}
	data := make([]byte, 512)
	for i := range data {
		data[i] = byte(i * 7)
	}
	for i := range n {
		size := 80 + i%256
		if err := w.WritePacket(int64(1700000000e9+i*1000), data[:size], uint32(size)); err != nil {
			tb.Fatal(err)
		}
	}
	return buf.Bytes()
}

// BenchmarkFile_Next reads packets; one op is one packet, and the stream is
// reopened whenever it ends, so allocations per op show the steady state.
func BenchmarkFile_Next(b *testing.B) {
	const n = 100_000
	pcap := benchCapture(b, n, false)
	pcapng := benchCapture(b, n, true)
	cases := []struct {
		name string
		in   []byte
	}{
		{"pcap", pcap},
		{"pcapng", pcapng},
		{"pcap.gz", compressOne(b, CompressionGzip, pcap)},
		{"pcap.zst", compressOne(b, CompressionZstd, pcap)},
		{"pcap.lz4", compressOne(b, CompressionLZ4, pcap)},
		{"pcap.xz", compressOne(b, CompressionXz, pcap)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(pcap)) / n)
			b.ReportAllocs()
			benchNext(b, c.in)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpkt/s")
		})
	}
}

func benchNext(b *testing.B, in []byte) {
	var f *File
	var p Packet
	br := bytes.NewReader(in)
	for b.Loop() {
		if f == nil {
			br.Reset(in)
			var err error
			if f, err = OpenFile(br); err != nil {
				b.Fatal(err)
			}
		}
		err := f.Next(&p)
		if errors.Is(err, io.EOF) {
			f.Close()
			f = nil
		} else if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPcapngWriter_WritePacket(b *testing.B) {
	w, err := NewPcapngWriter(io.Discard, LinkEthernet, 65535, "")
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 150)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := w.WritePacket(int64(i), data, uint32(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}
