package rotate

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pcapload/pcapload/ingest/capture"
	"github.com/pcapload/pcapload/internal/gen"
)

// pkt is a packet kept past Next.
type pkt struct {
	ts   int64
	data []byte
	orig uint32
	link capture.LinkType
}

// genCapture returns a generated capture of about n DNS messages.
func genCapture(tb testing.TB, n int, f gen.Format, cfg gen.Config) []byte {
	tb.Helper()
	cfg.Messages = n
	var b bytes.Buffer
	if _, err := gen.Write(&b, cfg, f, nil); err != nil {
		tb.Fatalf("generate: %v", err)
	}
	return b.Bytes()
}

// readPackets reads every packet of a capture stream and the error that
// ended it (nil at a clean end).
func readPackets(tb testing.TB, r io.Reader) ([]pkt, *capture.File, error) {
	tb.Helper()
	f, err := capture.OpenFile(r)
	if err != nil {
		return nil, nil, err
	}
	var out []pkt
	var p capture.Packet
	for {
		err := f.Next(&p)
		if errors.Is(err, io.EOF) {
			return out, f, nil
		}
		if err != nil {
			return out, f, err
		}
		out = append(out, pkt{ts: p.Timestamp, data: slices.Clone(p.Data), orig: p.OrigLen, link: p.LinkType})
	}
}

// readFile reads every packet of a finished capture file, failing on damage.
func readFile(tb testing.TB, path string) []pkt {
	tb.Helper()
	fh, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer fh.Close()
	ps, _, err := readPackets(tb, fh)
	if err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	return ps
}

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
		out[i] = pkt{ts: start + int64(i)*1e9, data: d, orig: uint32(len(d)), link: capture.LinkEthernet}
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
		p := capture.Packet{Timestamp: q.ts, Data: q.data, OrigLen: q.orig, LinkType: q.link}
		if err := r.WritePacket(&p); err != nil {
			tb.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		tb.Fatal(err)
	}
	return r
}

// equalPackets fails unless got and want are the same packets in order.
func equalPackets(tb testing.TB, got, want []pkt) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("got %d packets, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.ts != w.ts || g.orig != w.orig || g.link != w.link || !bytes.Equal(g.data, w.data) {
			tb.Fatalf("packet %d: got ts %d orig %d link %d len %d, want ts %d orig %d link %d len %d",
				i, g.ts, g.orig, g.link, len(g.data), w.ts, w.orig, w.link, len(w.data))
		}
	}
}

// baseNames returns the base names of paths, for messages.
func baseNames(paths []string) string {
	var b []string
	for _, p := range paths {
		b = append(b, filepath.Base(p))
	}
	return strings.Join(b, " ")
}
