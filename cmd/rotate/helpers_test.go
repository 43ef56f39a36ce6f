package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pcapload/pcapload/ingest/capture"
	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/rotate"
)

// pkt is a packet kept past Next.
type pkt struct {
	ts   int64
	data []byte
	orig uint32
}

// genCapture returns a generated capture of n DNS messages.
func genCapture(tb testing.TB, n int, f gen.Format, cfg gen.Config) []byte {
	tb.Helper()
	cfg.Messages = n
	var b bytes.Buffer
	if _, err := gen.Write(&b, cfg, f, nil); err != nil {
		tb.Fatalf("generate: %v", err)
	}
	return b.Bytes()
}

// readAll reads every packet of a capture stream, failing on damage.
func readAll(tb testing.TB, r io.Reader) []pkt {
	tb.Helper()
	f, err := capture.OpenFile(r)
	if err != nil {
		tb.Fatalf("open capture: %v", err)
	}
	defer f.Close()
	var out []pkt
	var p capture.Packet
	for {
		err := f.Next(&p)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			tb.Fatalf("read capture: %v", err)
		}
		out = append(out, pkt{ts: p.Timestamp, data: slices.Clone(p.Data), orig: p.OrigLen})
	}
}

// readPath reads every packet of the capture file at path.
func readPath(tb testing.TB, path string) []pkt {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	return readAll(tb, f)
}

// finished returns the finished capture files in dir in sequence order.
func finished(tb testing.TB, dir string) []string {
	tb.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if strings.HasSuffix(n, ".part") || strings.HasSuffix(n, ".json") {
			continue
		}
		out = append(out, filepath.Join(dir, n))
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(seqOf(a), seqOf(b)) })
	return out
}

// seqOf returns the sequence part of a file name Name wrote.
func seqOf(path string) string {
	base, _, _ := strings.Cut(filepath.Base(path), ".")
	return base[strings.LastIndexByte(base, '-')+1:]
}

// equalPackets fails unless got and want are the same packets in order.
func equalPackets(tb testing.TB, got, want []pkt) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("got %d packets, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.ts != w.ts || g.orig != w.orig || !bytes.Equal(g.data, w.data) {
			tb.Fatalf("packet %d differs: got ts %d len %d, want ts %d len %d", i, g.ts, len(g.data), w.ts, len(w.data))
		}
	}
}

// runCmd runs the command line in-process.
func runCmd(tb testing.TB, stdin []byte, args ...string) (stdout, stderr string, err error) {
	tb.Helper()
	var out, errOut bytes.Buffer
	e := env{stdin: bytes.NewReader(stdin), stdout: &out, stderr: &errOut}
	err = run(context.Background(), args, e)
	return out.String(), errOut.String(), err
}

// sidecars reads the sidecar of each file.
func sidecars(tb testing.TB, files []string) []rotate.Sidecar {
	tb.Helper()
	var out []rotate.Sidecar
	for _, f := range files {
		s, err := rotate.ReadSidecar(f)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}
