package main

import (
	"testing"
	"time"
)

// BenchmarkLive_Netns sends generated frames through a veth pair as fast
// as one thread can and reports what rotate captured (no filter, zstd) and
// the kernel's drop count. The sender shares the two cores with rotate and
// the veth's receive backlog drops what the kernel cannot take, before any
// capture, so captured/s is a floor of what rotate sustains.
func BenchmarkLive_Netns(b *testing.B) {
	bin := binary(b)
	ns := newNetns(b)
	frames := genFrames(b, 20000)
	const total = 400000
	var all [][]byte
	for len(all) < total {
		all = append(all, frames...)
	}
	all = all[:total]

	for b.Loop() {
		dir := b.TempDir()
		stop := startCapture(b, []string{bin}, ns, "vb", dir, "--no-filter")
		start := time.Now()
		if err := sendInNetns(ns, "va", all, true); err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		time.Sleep(500 * time.Millisecond)
		stop()

		var captured, drops uint64
		for _, s := range sidecars(b, finished(b, dir)) {
			captured += s.Packets
			drops += s.Drops
		}
		b.ReportMetric(float64(captured)/elapsed.Seconds(), "captured/s")
		b.ReportMetric(float64(total)/elapsed.Seconds(), "sent/s")
		b.ReportMetric(float64(drops), "drops")
	}
}
