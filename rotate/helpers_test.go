package rotate

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pcapload/pcapload/ingest/capture"
	"github.com/pcapload/pcapload/internal/captest"
)

// pkt is a packet kept past Next.
type pkt = captest.Packet

// finishedFiles lists the finished capture files of sensor "s" in dir in
// sequence order.
func finishedFiles(tb testing.TB, dir string) []string {
	tb.Helper()
	files, err := listFinished(dir, "s")
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, f := range files {
		out = append(out, f.path)
	}
	return out
}

// dirNames lists every name in dir, sorted.
func dirNames(tb testing.TB, dir string) []string {
	tb.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// synthetic returns n Ethernet packets, one per second from start, each
// with distinct bytes of the given size.
func synthetic(n int, start int64, size int) []pkt {
	out := make([]pkt, n)
	for i := range out {
		d := bytes.Repeat([]byte{byte(i), byte(i >> 8)}, size/2)
		out[i] = pkt{Time: start + int64(i)*1e9, Data: d, OrigLen: uint32(len(d)), LinkType: capture.LinkEthernet}
	}
	return out
}

// writeAll writes ps through a new Rotator on cfg and closes it.
func writeAll(tb testing.TB, cfg Config, ps []pkt) *Rotator {
	tb.Helper()
	r, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	for _, q := range ps {
		p := q.Capture()
		if err := r.WritePacket(&p); err != nil {
			tb.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		tb.Fatal(err)
	}
	return r
}

// baseNames returns the base names of paths, for messages.
func baseNames(paths []string) string {
	var b []string
	for _, p := range paths {
		b = append(b, filepath.Base(p))
	}
	return strings.Join(b, " ")
}
