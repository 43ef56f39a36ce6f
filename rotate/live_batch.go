package rotate

import (
	"errors"
	"fmt"
	"time"

	"github.com/gopacket/gopacket/afpacket"
)

// batch carries packets copied out of a ring to Next: copying frees the
// ring slot at once, and batching keeps channel operations off the
// per-packet path.
type batch struct {
	buf  []byte
	meta []meta
}

// meta locates one packet in batch.buf.
type meta struct {
	ts   int64
	off  int
	n    int
	orig uint32
}

// Batch limits, arbitrary: big enough that channel costs vanish, small
// enough that a batch fills within a block timeout at DNS rates.
const (
	batchPackets = 256
	batchBytes   = 1 << 20
)

// read copies packets from h into batches until Live closes or the socket
// fails.
func (l *Live) read(h *afpacket.TPacket) {
	b := l.batch()
	for !l.closing.Load() {
		data, ci, err := h.ZeroCopyReadPacketData()
		if errors.Is(err, afpacket.ErrTimeout) {
			b = l.send(b)
			continue
		}
		if err != nil {
			l.fail(fmt.Errorf("read packet: %w", err))
			return
		}
		if len(data) > l.cfg.Snaplen {
			data = data[:l.cfg.Snaplen]
		}
		m := meta{ts: ci.Timestamp.UnixNano(), off: len(b.buf), n: len(data), orig: uint32(ci.Length)}
		b.meta = append(b.meta, m)
		b.buf = append(b.buf, data...)
		if len(b.meta) >= batchPackets || len(b.buf) >= batchBytes {
			b = l.send(b)
		}
	}
	l.keep(b)
}

// send hands a non-empty batch to Next and returns an empty one. When Live
// is stopping and Next does not take it, the batch is kept for Next to
// drain after the readers are gone.
func (l *Live) send(b *batch) *batch {
	if len(b.meta) == 0 {
		return b
	}
	for !l.closing.Load() {
		select {
		case l.batches <- b:
			return l.batch()
		case <-time.After(pollTimeout):
		}
	}
	l.keep(b)
	return l.batch()
}

// keep puts a batch aside for Next to drain after Stop.
func (l *Live) keep(b *batch) {
	if len(b.meta) == 0 {
		return
	}
	l.errMu.Lock()
	defer l.errMu.Unlock()
	l.left = append(l.left, b)
}

// leftover takes the next batch put aside, or nil.
func (l *Live) leftover() *batch {
	l.errMu.Lock()
	defer l.errMu.Unlock()
	if len(l.left) == 0 {
		return nil
	}
	b := l.left[0]
	l.left = l.left[1:]
	return b
}

// batch returns an empty batch, reused when one is free.
func (l *Live) batch() *batch {
	select {
	case b := <-l.free:
		return b
	default:
		return &batch{buf: make([]byte, 0, batchBytes+65536), meta: make([]meta, 0, batchPackets)}
	}
}

// recycle returns a consumed batch to the free list.
func (l *Live) recycle(b *batch) {
	b.buf, b.meta = b.buf[:0], b.meta[:0]
	select {
	case l.free <- b:
	default:
	}
}

func (l *Live) fail(err error) {
	l.errMu.Lock()
	defer l.errMu.Unlock()
	if l.err == nil {
		l.err = err
	}
}
