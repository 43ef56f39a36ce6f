package rotate

import (
	"bytes"
	"testing"

	"github.com/pcapload/pcapload/ingest/capture"
	"github.com/pcapload/pcapload/internal/captest"
	"github.com/pcapload/pcapload/internal/gen"
)

// BenchmarkRotator_WritePacket writes generated DNS traffic into rotating
// files; bytes are packet bytes.
func BenchmarkRotator_WritePacket(b *testing.B) {
	ps, _, err := captest.Read(bytes.NewReader(captest.Generate(b, 20000, gen.PcapNano, gen.Config{})))
	if err != nil {
		b.Fatal(err)
	}
	var size int64
	for _, q := range ps {
		size += int64(len(q.Data))
	}
	for _, c := range []Compression{CompressZstd, CompressGzip, CompressNone} {
		b.Run(c.String(), func(b *testing.B) {
			r, err := New(Config{Dir: b.TempDir(), Sensor: "s", Compression: c, MaxBytes: 64 << 20})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(size)
			b.ReportAllocs()
			var p capture.Packet
			for b.Loop() {
				for _, q := range ps {
					p = q.Capture()
					if err := r.WritePacket(&p); err != nil {
						b.Fatal(err)
					}
				}
			}
			if err := r.Close(); err != nil {
				b.Fatal(err)
			}
		})
	}
}
