package rotate

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/pcapload/pcapload/ingest/capture"
	"github.com/pcapload/pcapload/internal/captest"
	"github.com/pcapload/pcapload/internal/gen"
)

// boundary is where a compressed frame ended: bytes on disk and packets in
// the file at that point.
type boundary struct {
	size    int64
	packets int
}

// writeFramed writes ps into one file with small frames and returns the
// finished path and the frame boundaries.
func writeFramed(tb testing.TB, c Compression, ps []pkt) (string, []boundary) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), Name("s", start0, 1, FormatPcapng, c))
	l := layout{format: FormatPcapng, comp: c, snaplen: 65535, frameBytes: 4 << 10}
	o, err := createFile(path, path+".part", l, capture.LinkEthernet)
	if err != nil {
		tb.Fatal(err)
	}
	var bs []boundary
	for i, q := range ps {
		if err := o.write(capture.LinkEthernet, q.Time, q.Data, q.OrigLen); err != nil {
			tb.Fatal(err)
		}
		if o.frameBytes == 0 {
			bs = append(bs, boundary{o.size(), i + 1})
		}
	}
	if _, err := o.finish(ps[len(ps)-1].Time, 0, 0, 0); err != nil {
		tb.Fatal(err)
	}
	return path, bs
}

// TestFramer_Independence truncates finished files in the middle of each
// frame and checks that every packet of the frames before still decodes.
func TestFramer_Independence(t *testing.T) {
	data := captest.Generate(t, 2000, gen.PcapNano, gen.Config{})
	ps, _, err := captest.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []Compression{CompressZstd, CompressGzip} {
		t.Run(c.String(), func(t *testing.T) {
			path, bs := writeFramed(t, c, ps)
			if len(bs) < 10 {
				t.Fatalf("only %d frames", len(bs))
			}
			whole, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i+1 < len(bs); i++ {
				cut := bs[i].size + (bs[i+1].size-bs[i].size)/2
				got, _, err := captest.Read(bytes.NewReader(whole[:cut]))
				if err == nil {
					t.Fatalf("cut at %d of %d: no error", cut, len(whole))
				}
				if len(got) < bs[i].packets {
					t.Fatalf("cut in frame %d: %d packets decoded, want at least %d", i+2, len(got), bs[i].packets)
				}
				captest.Equal(t, got, ps[:len(got)])
			}
		})
	}
}
