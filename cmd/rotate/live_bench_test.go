package main

import (
	"fmt"
	"os/exec"
	"testing"
	"time"
)

// BenchmarkLive_Netns sends generated frames through a veth pair as fast
// as two threads can and reports what rotate captured (no filter, zstd)
// and the kernel's drop count. The senders share the two cores with rotate,
// and the veth's receive path runs on the sending threads, so captured/s
// is a floor of what rotate sustains.
func BenchmarkLive_Netns(b *testing.B) {
	bin := binary(b)
	ns := newNetns(b)
	all := benchFrames(b, 400000)
	for b.Loop() {
		r := liveRun(b, bin, ns, all, 0, "--no-filter")
		b.ReportMetric(float64(r.captured)/r.elapsed.Seconds(), "captured/s")
		b.ReportMetric(float64(len(all))/r.elapsed.Seconds(), "sent/s")
		b.ReportMetric(float64(r.drops), "drops")
	}
}

// BenchmarkLive_NetnsSustained reports the highest packet rate, in steps
// of 50,000 a second from 200,000, at which rotate captures two seconds of
// generated DNS-sized frames sent through a veth pair with no kernel drop
// (no filter, zstd), for each ring size and fanout. The rate reported is
// the one achieved; sender_bound is 1 when the two sending threads could
// not go faster, so that rotate's limit lies above it.
func BenchmarkLive_NetnsSustained(b *testing.B) {
	bin := binary(b)
	ns := newNetns(b)
	// No IPv6 router solicitations or MLD reports among the frames
	// counted: the namespace's own setting, not the host's.
	for _, dev := range []string{"all", "va", "vb"} {
		key := "net.ipv6.conf." + dev + ".disable_ipv6=1"
		if out, err := exec.Command("ip", "netns", "exec", ns, "sysctl", "-qw", key).CombinedOutput(); err != nil {
			b.Fatalf("sysctl %s: %v: %s", key, err, out)
		}
	}
	for _, c := range []struct {
		ring   string
		fanout int
	}{
		{"8M", 1}, {"8M", 2}, {"64M", 1},
	} {
		b.Run(fmt.Sprintf("ring=%s/fanout=%d", c.ring, c.fanout), func(b *testing.B) {
			for b.Loop() {
				var best float64
				senderBound := 0.0
				for rate := 200000; rate <= 1000000; rate += 50000 {
					all := benchFrames(b, 2*rate)
					r := liveRun(b, bin, ns, all, float64(rate),
						"--no-filter", "--ring-size", c.ring, "--fanout", fmt.Sprint(c.fanout))
					b.Logf("rate %d: sent %d in %v, captured %d, drops %d", rate, len(all), r.elapsed, r.captured, r.drops)
					if r.drops > 0 || r.captured != uint64(len(all)) {
						break
					}
					best = float64(len(all)) / r.elapsed.Seconds()
					if best < 0.95*float64(rate) {
						// The senders fell behind: the rate is theirs,
						// not rotate's limit.
						senderBound = 1
						break
					}
				}
				b.ReportMetric(best, "pps_no_drop")
				b.ReportMetric(senderBound, "sender_bound")
			}
		})
	}
}

// benchFrames returns n generated frames, repeating 20,000 of them.
func benchFrames(tb testing.TB, n int) [][]byte {
	tb.Helper()
	frames := genFrames(tb, 20000)
	var all [][]byte
	for len(all) < n {
		all = append(all, frames...)
	}
	return all[:n]
}

// liveResult is what one capture of liveRun recorded.
type liveResult struct {
	captured, drops uint64
	elapsed         time.Duration
}

// liveRun captures with rotate on vb while two threads send frames out of
// va at rate frames a second (0: unpaced), and sums the sidecars.
func liveRun(b *testing.B, bin, ns string, frames [][]byte, rate float64, flags ...string) liveResult {
	b.Helper()
	dir := b.TempDir()
	stop := startCapture(b, []string{bin}, ns, "vb", dir, flags...)
	start := time.Now()
	if _, err := sendParallel(ns, "va", frames, 2, rate); err != nil {
		stop()
		b.Fatal(err)
	}
	r := liveResult{elapsed: time.Since(start)}
	time.Sleep(500 * time.Millisecond) // past the block and poll timeouts
	stop()
	for _, s := range sidecars(b, finished(b, dir)) {
		r.captured += s.Packets
		r.drops += s.Drops
	}
	return r
}
