package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pcapload/pcapload/ingest/capture"
	"github.com/pcapload/pcapload/internal/captest"
)

// TestLive_Overload sends DNS-sized frames into a veth pair from several
// unpaced threads, faster than rotate with one-block rings takes them, and
// checks that every frame the filter keeps is accounted for: captured in a
// finished file or counted as a kernel drop.
//
// The count is exact because of where each counter stands. A frame the
// veth's receive backlog refuses never reaches the capture socket, and
// sendto then fails with ENOBUFS; the sender sends that frame again, so
// every frame is delivered to vb exactly once. The socket's filter runs
// before the ring, and the kernel counts tp_packets (isb_ifrecv) and
// tp_drops (isb_ifdrop) only for frames the filter kept, so ifrecv equals
// the frames the filter keeps. Every frame the ring took is captured once
// rotate has drained the ring, which the wait after sending allows.
func TestLive_Overload(t *testing.T) {
	bin := binary(t)
	ns := newNetns(t)
	frames := genFrames(t, 20000)
	want := filtered(t, frames)
	if len(want) == len(frames) || len(want) < len(frames)/2 {
		t.Fatalf("filter keeps %d of %d frames: the input exercises nothing", len(want), len(frames))
	}
	var all, keep [][]byte
	for range 10 {
		all = append(all, frames...)
		keep = append(keep, want...)
	}
	kept := len(keep)

	for _, fanout := range []int{1, 2} {
		t.Run(fmt.Sprintf("fanout %d", fanout), func(t *testing.T) {
			dir := openDir(t)
			stop := startCapture(t, []string{bin}, ns, "vb", dir, "--ring-size", "1M", "--fanout", fmt.Sprint(fanout))
			start := time.Now()
			resent, err := sendParallel(ns, "va", all, 2, 0)
			if err != nil {
				stop()
				t.Fatalf("send: %v", err)
			}
			elapsed := time.Since(start)
			// Past the block timeout (64 ms) and the poll timeout
			// (100 ms): rotate reads what the rings hold before
			// SIGTERM, as Stop does not.
			time.Sleep(time.Second)
			stop()

			var captured, sideDrops uint64
			var last capture.InterfaceStats
			pool := multiset(keep)
			files := finished(t, dir)
			for i, s := range sidecars(t, files) {
				ps, stats := readWithStats(t, files[i])
				if s.Packets != uint64(len(ps)) {
					t.Errorf("%s: sidecar says %d packets, file holds %d", files[i], s.Packets, len(ps))
				}
				for _, p := range ps {
					if pool[string(p.Data)] == 0 {
						t.Fatalf("%s: captured a frame not sent, or more often than sent: % x", files[i], p.Data)
					}
					pool[string(p.Data)]--
				}
				captured += uint64(len(ps))
				sideDrops += s.Drops
				last = stats
			}
			t.Logf("sent %d frames (%d kept by the filter) in %v, %d resent after ENOBUFS; %d files, captured %d, "+
				"isb_ifrecv %d, isb_ifdrop %d, sidecar drops %d",
				len(all), kept, elapsed, resent, len(files), captured, last.Received, last.Dropped, sideDrops)

			if !last.HasReceived || !last.HasDropped {
				t.Fatalf("last file's statistics block lacks isb_ifrecv or isb_ifdrop: %+v", last)
			}
			if last.Received != uint64(kept) {
				t.Errorf("isb_ifrecv = %d, want the %d frames the filter keeps", last.Received, kept)
			}
			if captured+last.Dropped != uint64(kept) {
				t.Errorf("captured %d + isb_ifdrop %d = %d, want the %d frames the filter keeps",
					captured, last.Dropped, captured+last.Dropped, kept)
			}
			if last.Dropped == 0 {
				t.Errorf("no kernel drops: the sender did not overload rotate, and the test shows nothing")
			}
			// Each file records the drops since the previous one
			// finished, so the sidecars add up to the kernel's count.
			if sideDrops != last.Dropped {
				t.Errorf("sidecars record %d drops, isb_ifdrop %d", sideDrops, last.Dropped)
			}
		})
	}
}

// readWithStats reads every packet of the capture file at path and the
// statistics of its first interface.
func readWithStats(tb testing.TB, path string) ([]pkt, capture.InterfaceStats) {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	ps := captest.ReadAll(tb, bytes.NewReader(data))
	f, err := capture.OpenFile(bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var p capture.Packet
	for {
		err := f.Next(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
	}
	ifs := f.Interfaces()
	if len(ifs) != 1 {
		tb.Fatalf("%s: %d interfaces, want 1", path, len(ifs))
	}
	return ps, ifs[0].Stats
}

// multiset counts the frames.
func multiset(frames [][]byte) map[string]int {
	m := make(map[string]int, len(frames))
	for _, f := range frames {
		m[string(f)]++
	}
	return m
}

// sendParallel sends frames out of iface in ns from workers threads, each
// with its own AF_PACKET socket and every workers-th frame, at rate frames
// a second in all, or as fast as they can when rate is 0. A
// frame the veth refuses (ENOBUFS: its peer's receive backlog is full) is
// sent again, so that every frame is delivered once; resent counts those.
func sendParallel(ns, iface string, frames [][]byte, workers int, rate float64) (resent int, err error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	for w := range workers {
		wg.Go(func() {
			// Never unlocked: the thread ends with the goroutine and
			// runs nothing else in the namespace.
			runtime.LockOSThread()
			n, e := sendShare(ns, iface, frames, w, workers, rate/float64(workers))
			mu.Lock()
			defer mu.Unlock()
			resent += n
			err = errors.Join(err, e)
		})
	}
	wg.Wait()
	return resent, err
}

// sendShare sends frames w, w+step, w+2*step ... from the calling thread,
// at rate frames a second unless rate is 0.
func sendShare(ns, iface string, frames [][]byte, w, step int, rate float64) (resent int, err error) {
	f, err := os.Open("/var/run/netns/" + ns)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
		return 0, fmt.Errorf("enter namespace: %w", err)
	}
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return 0, err
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	to := &unix.SockaddrLinklayer{Ifindex: ifi.Index}
	start := time.Now()
	for n, i := 0, w; i < len(frames); n, i = n+1, i+step {
		if rate > 0 && n%64 == 0 {
			// Sleep until the frame is due; sleeps are coarse, so
			// check every 64 frames and catch up in bursts.
			due := start.Add(time.Duration(float64(n) / rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
		}
		for {
			err := unix.Sendto(fd, frames[i], 0, to)
			if err == nil {
				break
			}
			if !errors.Is(err, unix.ENOBUFS) || resent > len(frames) {
				return resent, fmt.Errorf("frame %d: %w", i, err)
			}
			resent++
			runtime.Gosched()
		}
	}
	return resent, nil
}
