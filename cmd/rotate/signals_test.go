package main

import (
	"bytes"
	"io"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/pcapload/pcapload/ingest/capture"
	"github.com/pcapload/pcapload/internal/captest"
	"github.com/pcapload/pcapload/internal/gen"
)

// TestRun_Signals feeds a real `rotate -r -` part of a stream and holds the
// pipe open: SIGHUP must rotate (with the next packets, since a stalled
// stream is not looked at), and SIGTERM must finish the current file with
// every packet fed and exit 0 though the pipe stays open.
func TestRun_Signals(t *testing.T) {
	bin := binary(t)
	data := captest.Generate(t, 6000, gen.PcapNano, gen.Config{Seed: 5})
	offs := recordOffsets(t, data)
	dir := t.TempDir()

	cmd := exec.Command(bin, "-r", "-", "-w", dir, "--sensor", "sig", "--stats-every", "0")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	// 2,000 packets, SIGHUP, 2,000 more: the rotation comes within the
	// next 64 packets.
	feed(t, stdin, data[:offs[2000]])
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGHUP)
	time.Sleep(300 * time.Millisecond)
	feed(t, stdin, data[offs[2000]:offs[4000]])
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("rotate exited with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("rotate did not exit on SIGTERM with its input open")
	}

	side := sidecars(t, finished(t, dir))
	if len(side) != 2 {
		t.Fatalf("%d files, want 2", len(side))
	}
	first, total := side[0].Packets, side[0].Packets+side[1].Packets
	if first < 2000 || first > 2064 || total != 4000 {
		t.Fatalf("files hold %d and %d packets, want about 2000 and 4000 in all", first, total-first)
	}
}

// recordOffsets returns the byte offset of each packet record of a plain
// capture, and the length of the data after the last.
func recordOffsets(t *testing.T, data []byte) []int64 {
	t.Helper()
	f, err := capture.OpenFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var offs []int64
	var p capture.Packet
	for f.Next(&p) == nil {
		offs = append(offs, p.Offset)
	}
	return append(offs, int64(len(data)))
}

func feed(t *testing.T, w io.Writer, b []byte) {
	t.Helper()
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
}
