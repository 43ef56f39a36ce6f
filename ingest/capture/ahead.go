package capture

import (
	"io"
	"sync"
)

// aheadReader runs a decompressor a chunk ahead of its reader on a
// goroutine of its own, so that a compressed capture inflates on one core
// while its packets are decoded on another. gzip, xz, bzip2 and lz4 have
// no concurrency of their own (zstd has, see newDecompressor): a
// gzip-compressed capture of a million messages took 1.44 times the plain
// file's time to export to Parquet, decompression and decoding one after
// the other.
//
// It is used only on regular files (OpenRegular): Close waits for the
// goroutine, whose read from a pipe or a terminal could block for good.
type aheadReader struct {
	full chan aheadChunk // chunks read, in order; closed after the last
	free chan []byte     // buffers read out, to read into again
	stop chan struct{}   // closed by Close
	done chan struct{}   // closed when the goroutine has returned

	cur  []byte // what is left of the chunk being read out
	buf  []byte // that chunk's whole buffer
	err  error  // the error after the chunks read out, once reached
	bufs [][]byte
}

type aheadChunk struct {
	b   []byte
	err error
}

// aheadChunks chunks of aheadChunkSize bytes are read ahead at most, and
// one more is being read out.
const (
	aheadChunks    = 2
	aheadChunkSize = 256 << 10
)

// aheadBufs recycles chunk buffers from file to file, as readBufs does
// the read buffers.
var aheadBufs sync.Pool

func newAheadReader(r io.Reader) *aheadReader {
	a := &aheadReader{
		full: make(chan aheadChunk, aheadChunks),
		free: make(chan []byte, aheadChunks+1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	for range aheadChunks + 1 {
		b, ok := aheadBufs.Get().(*[]byte)
		if !ok {
			nb := make([]byte, aheadChunkSize)
			b = &nb
		}
		a.bufs = append(a.bufs, *b)
		a.free <- *b
	}
	go a.run(r)
	return a
}

// run reads r into free buffers until it fails or ends, or Close.
func (a *aheadReader) run(r io.Reader) {
	defer close(a.done)
	defer close(a.full)
	for {
		var b []byte
		select {
		case b = <-a.free:
		case <-a.stop:
			return
		}
		n, err := r.Read(b)
		select {
		case a.full <- aheadChunk{b[:n], err}:
		case <-a.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

func (a *aheadReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for len(a.cur) == 0 {
		if a.err != nil {
			return 0, a.err
		}
		if a.buf != nil {
			a.free <- a.buf[:cap(a.buf)]
			a.buf = nil
		}
		c, ok := <-a.full
		if !ok {
			return 0, io.ErrClosedPipe // read after Close
		}
		a.buf, a.cur, a.err = c.b, c.b, c.err
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

// Close stops the goroutine and waits for it; reads after it fail.
func (a *aheadReader) Close() error {
	select {
	case <-a.stop:
		return nil
	default:
	}
	close(a.stop)
	<-a.done
	for _, b := range a.bufs {
		aheadBufs.Put(&b)
	}
	a.bufs, a.cur, a.buf = nil, nil, nil
	a.err = io.ErrClosedPipe
	return nil
}
