package tcpdns_test

import (
	"path/filepath"
	"testing"

	"github.com/pcapload/pcapload/ingest/tcpdns"
	"github.com/pcapload/pcapload/internal/corpus"
)

func BenchmarkReassembler_Segment(b *testing.B) {
	q := queries(1)
	cuts := []struct {
		name string
		at   []int // segment boundaries within one framed query
	}{
		{"whole", []int{qlen}},
		{"split", []int{10, qlen}},
		{"bytes", everyByte(qlen)},
	}
	for _, c := range cuts {
		b.Run(c.name, func(b *testing.B) {
			r := tcpdns.New(tcpdns.Config{})
			emit := func([]byte) {}
			r.Segment(client, 0, 0, syn, nil, emit)
			seq := uint32(1)
			b.SetBytes(qlen)
			b.ReportAllocs()
			for b.Loop() {
				from := 0
				for _, to := range c.at {
					r.Segment(client, 1, seq+uint32(from), ack, q[from:to], emit)
					from = to
				}
				seq += qlen
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(c.at)), "ns/segment")
		})
	}
}

// everyByte cuts n bytes into one-byte segments.
func everyByte(n int) []int {
	at := make([]int, n)
	for i := range at {
		at[i] = i + 1
	}
	return at
}

func BenchmarkReassembler_Bighole(b *testing.B) {
	dir := corpus.Dir(b)
	segs := readSegments(b, filepath.Join(dir, "dnscap/dnso1tcp-bighole.pcap"), 53)
	r := tcpdns.New(tcpdns.Config{})
	emit := func([]byte) {}
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range segs {
			r.Segment(s.key, s.ts, s.seq, s.flags, s.payload, emit)
		}
		r.Flush()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(segs)), "ns/segment")
}
