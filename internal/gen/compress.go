package gen

import (
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Compress wraps w in a compressor named "none", "gzip" or "zstd". The
// caller must Close the result to flush it; closing does not close w. The
// settings are fixed (one zstd encoder thread, default levels, no gzip
// name or time) so that the same input gives the same compressed bytes
// with the same library version.
func Compress(w io.Writer, name string) (io.WriteCloser, error) {
	switch name {
	case "none", "":
		return nopCloser{w}, nil
	case "gzip":
		return gzip.NewWriter(w), nil
	case "zstd":
		zw, err := zstd.NewWriter(w, zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("start zstd: %w", err)
		}
		return zw, nil
	}
	return nil, fmt.Errorf("unknown compression %q", name)
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// ParseFormat returns the Format gencap names "pcap", "pcap-ns" or
// "pcapng".
func ParseFormat(s string) (Format, error) {
	for _, f := range []Format{Pcap, PcapNano, Pcapng} {
		if f.String() == s {
			return f, nil
		}
	}
	return 0, fmt.Errorf("unknown capture format %q", s)
}
