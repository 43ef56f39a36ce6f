package rotate

import (
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// framer is a compressing writer that can end the current frame, so that
// everything written before the end decodes without what follows.
type framer interface {
	io.Writer
	// EndFrame completes the current frame and starts a new one lazily.
	EndFrame() error
	// Close completes the last frame.
	Close() error
}

// newFramer returns a framer writing c to w.
func newFramer(w io.Writer, c Compression) (framer, error) {
	switch c {
	case CompressZstd:
		// One goroutine per encoder: the sensor writes one file at a time
		// and the capture threads need the other cores.
		enc, err := zstd.NewWriter(w,
			zstd.WithEncoderConcurrency(1),
			zstd.WithEncoderLevel(zstd.SpeedDefault),
		)
		if err != nil {
			return nil, fmt.Errorf("start zstd frame: %w", err)
		}
		return &zstdFramer{enc: enc, w: w}, nil
	case CompressGzip:
		return &gzipFramer{zw: gzip.NewWriter(w), w: w}, nil
	}
	return nopFramer{w}, nil
}

// zstdFramer writes one zstd frame per EndFrame.
type zstdFramer struct {
	enc   *zstd.Encoder
	w     io.Writer
	dirty bool // bytes written since the frame began
}

func (z *zstdFramer) Write(p []byte) (int, error) {
	z.dirty = true
	return z.enc.Write(p)
}

func (z *zstdFramer) EndFrame() error {
	if !z.dirty {
		return nil
	}
	if err := z.enc.Close(); err != nil {
		return fmt.Errorf("end zstd frame: %w", err)
	}
	z.enc.Reset(z.w)
	z.dirty = false
	return nil
}

func (z *zstdFramer) Close() error { return z.EndFrame() }

// gzipFramer writes one gzip member per EndFrame.
type gzipFramer struct {
	zw    *gzip.Writer
	w     io.Writer
	dirty bool
}

func (g *gzipFramer) Write(p []byte) (int, error) {
	g.dirty = true
	return g.zw.Write(p)
}

func (g *gzipFramer) EndFrame() error {
	if !g.dirty {
		return nil
	}
	if err := g.zw.Close(); err != nil {
		return fmt.Errorf("end gzip member: %w", err)
	}
	g.zw.Reset(g.w)
	g.dirty = false
	return nil
}

func (g *gzipFramer) Close() error { return g.EndFrame() }

// nopFramer writes uncompressed; every byte is its own frame.
type nopFramer struct{ io.Writer }

func (nopFramer) EndFrame() error { return nil }
func (nopFramer) Close() error    { return nil }
