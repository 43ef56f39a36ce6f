package gen

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

var update = flag.Bool("update", false, "rewrite the testdata captures")

// testdataFiles are the project's checked-in captures and how gencap makes
// them; testdata/README.md lists the same commands.
var testdataFiles = []struct {
	name     string
	cfg      Config
	format   Format
	compress string
}{
	{"resolver.pcap", Config{Seed: 1, Messages: 1000}, Pcap, "none"},
	{"resolver-ns.pcapng.zst", Config{Seed: 2, Messages: 2000}, Pcapng, "zstd"},
	{"resolver-vlan.pcap.gz", Config{Seed: 3, Messages: 1000, VLAN: 0.4, QinQ: 0.3}, PcapNano, "gzip"},
}

// TestTestdata regenerates every checked-in capture and compares it, once
// decompressed, byte for byte: the files must be what the generator makes
// today. The compressed bytes are not compared, so that an upgrade of the
// compression library does not fail it.
func TestTestdata(t *testing.T) {
	for _, tf := range testdataFiles {
		t.Run(tf.name, func(t *testing.T) {
			path := filepath.Join("..", "..", "testdata", tf.name)
			want, _, _ := generate(t, tf.cfg, tf.format)
			if *update {
				writeTestdata(t, path, want, tf.compress)
			}
			got := readTestdata(t, path, tf.compress)
			if !bytes.Equal(got, want) {
				t.Fatalf("%s differs from what the generator makes (%d bytes, want %d); "+
					"regenerate it with the command in testdata/README.md", path, len(got), len(want))
			}
		})
	}
}

func writeTestdata(t *testing.T, path string, raw []byte, compress string) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := Compress(f, compress)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func readTestdata(t *testing.T, path, compress string) []byte {
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open testdata (regenerate with testdata/README.md): %v", err)
	}
	defer f.Close()
	var r io.Reader = f
	switch compress {
	case "gzip":
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case "zstd":
		zr, err := zstd.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return b
}
