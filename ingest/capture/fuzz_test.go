package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// FuzzOpen feeds arbitrary bytes to Open and Next. Whatever the input, the
// reader must not panic, must end with io.EOF or a *FormatError, and must
// deliver packets within the bounds it promises.
func FuzzOpen(f *testing.F) {
	f.Add(buildPcap(binary.LittleEndian, false, 1, 65535, rec{ts: 1, data: []byte{1, 2, 3}, orig: 3}))
	f.Add(buildPcap(binary.BigEndian, true, 101, 0, rec{ts: 1, data: []byte{1}}, rec{ts: 2}))
	f.Add(multiSection())
	f.Add((&ngBuilder{}).shb(be64).idb(1, 0, opt{optIfTSResol, []byte{0x80 | 10}}).epb(0, 1, []byte{9}, 1).b)
	f.Add(gzipBytes(f, multiSection()))
	f.Add(zstdBytes(f, multiSection()))
	f.Add(compress(f, CompressionXz, multiSection())) // two streams, read by xzReader
	f.Add(compress(f, CompressionBzip2, bzip2Input()))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := OpenFile(bytes.NewReader(b))
		if err != nil {
			checkFuzzErr(t, err)
			return
		}
		defer r.Close()
		var p Packet
		var frame uint64
		var offset int64 = -1
		for {
			err := r.Next(&p)
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				checkFuzzErr(t, err)
				return
			}
			if len(p.Data) > maxCaptureLen || p.Frame <= frame || p.Offset <= offset {
				t.Fatalf("bad packet: %d bytes, frame %d after %d, offset %d after %d",
					len(p.Data), p.Frame, frame, p.Offset, offset)
			}
			if int(p.Interface) >= len(r.Interfaces()) {
				t.Fatalf("packet of interface %d, %d described", p.Interface, len(r.Interfaces()))
			}
			frame, offset = p.Frame, p.Offset
		}
	})
}

func checkFuzzErr(t *testing.T, err error) {
	t.Helper()
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a FormatError", err, err)
	}
	_ = fe.Error()
}
