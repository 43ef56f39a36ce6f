package rotate

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"golang.org/x/net/bpf"

	"github.com/pcapload/pcapload/ingest/capture"
)

// ErrIdle is returned by Live.Next when no packet arrived for a while, so
// that the caller can rotate on time and notice signals; call Next again.
var ErrIdle = errors.New("no packet")

// LiveConfig says what Live captures.
type LiveConfig struct {
	Interface string
	Snaplen   int  // bytes kept of each packet (default 65535)
	RingBytes int  // ring buffer per socket, a multiple of 1 MiB (default 64 MiB)
	Fanout    int  // sockets in a PACKET_FANOUT hash group, each with its own reader (default 1)
	FanoutID  int  // fanout group ID (default derived from the process ID)
	Promisc   bool // put the interface in promiscuous mode

	// Filter is the BPF program; nil means DNSFilter(DNSPorts), an empty
	// non-nil slice means no filter.
	Filter []bpf.RawInstruction
}

// blockBytes is the TPACKET_V3 block size: a packet must fit in one block,
// so it bounds the snaplen. 1 MiB is arbitrary above 64 KiB; larger blocks
// only make the block timeout matter more.
const blockBytes = 1 << 20

// pollTimeout bounds how long a reader waits in poll before it looks at
// whether Live is closing, and so how long a partly filled batch waits.
const pollTimeout = 100 * time.Millisecond

// blockTimeout is how long the kernel may keep a partly filled block
// (tp_retire_blk_tov): afpacket's default, named because drain depends on it.
const blockTimeout = 64 * time.Millisecond

// Live captures packets from an interface with AF_PACKET TPACKET_V3 rings.
// With Fanout > 1 several sockets share the traffic by flow hash and their
// packets are merged, in arrival order, by Next.
type Live struct {
	cfg     LiveConfig
	handles []*afpacket.TPacket
	batches chan *batch
	free    chan *batch
	cur     *batch
	next    int
	closing atomic.Bool
	wg      sync.WaitGroup
	stopped bool // Stop returned: batches is closed

	errMu sync.Mutex // guards err and left
	err   error
	left  []*batch // batches the readers could not send while stopping
}

var _ capture.Reader = (*Live)(nil)

// OpenLive opens the sockets and starts one reader per socket.
func OpenLive(cfg LiveConfig) (*Live, error) {
	cfg = cfg.withDefaults()
	if cfg.Filter == nil {
		f, err := DNSFilter(DNSPorts)
		if err != nil {
			return nil, err
		}
		cfg.Filter = f
	}
	l := &Live{cfg: cfg, batches: make(chan *batch, 4*cfg.Fanout), free: make(chan *batch, 8*cfg.Fanout)}
	if err := l.open(); err != nil {
		l.closeHandles()
		return nil, fmt.Errorf("open capture on %s: %w", cfg.Interface, err)
	}
	for _, h := range l.handles {
		l.wg.Go(func() { l.read(h) })
	}
	return l, nil
}

func (cfg LiveConfig) withDefaults() LiveConfig {
	if cfg.Snaplen <= 0 {
		cfg.Snaplen = 65535
	}
	if cfg.RingBytes < blockBytes {
		cfg.RingBytes = 64 << 20
	}
	if cfg.Fanout <= 0 {
		cfg.Fanout = 1
	}
	if cfg.FanoutID == 0 {
		// Fanout groups are per network namespace, not per process: two
		// sensors with the same ID would share one group's traffic.
		cfg.FanoutID = os.Getpid() & 0xffff
	}
	return cfg
}

// open opens cfg.Fanout sockets so that none holds a packet from before
// the filter and the fanout group were in place. A packet socket receives
// from the moment it is bound (inside afpacket.NewTPacket), unfiltered and
// on its own, so each socket first gets a filter that rejects everything,
// has what reached its ring before that drained and thrown away, joins the
// group, has its counters cleared, and only then gets the real filter.
// Without this, frames the filter rejects (the kernel's own IPv6 router
// solicitations when an interface comes up) were written, and with fanout
// a frame could be captured by two sockets. libpcap closes the same window
// by filtering the ring's first blocks in user space.
func (l *Live) open() error {
	for range l.cfg.Fanout {
		h, err := l.openSocket()
		if err != nil {
			return err
		}
		l.handles = append(l.handles, h)
	}
	errs := make([]error, len(l.handles))
	var wg sync.WaitGroup
	for i, h := range l.handles {
		wg.Go(func() { errs[i] = drain(h, time.Now()) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, h := range l.handles {
		if l.cfg.Fanout > 1 {
			if err := h.SetFanout(afpacket.FanoutHash, uint16(l.cfg.FanoutID)); err != nil {
				return fmt.Errorf("join fanout group: %w", err)
			}
		}
	}
	for _, h := range l.handles {
		if err := h.InitSocketStats(); err != nil {
			return fmt.Errorf("clear counters: %w", err)
		}
		if err := h.SetBPF(l.cfg.Filter); err != nil { // an empty filter detaches
			return fmt.Errorf("set filter: %w", err)
		}
	}
	return nil
}

// rejectAll is a BPF program that keeps no packet.
var rejectAll = func() []bpf.RawInstruction {
	raw, err := bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: 0}})
	if err != nil {
		panic(err) // a constant program
	}
	return raw
}()

// openSocket opens one TPACKET_V3 socket that rejects every packet, in
// promiscuous mode when asked.
func (l *Live) openSocket() (*afpacket.TPacket, error) {
	h, err := afpacket.NewTPacket(
		afpacket.OptInterface(l.cfg.Interface),
		afpacket.TPacketVersion3,
		afpacket.OptFrameSize(1<<16),
		afpacket.OptBlockSize(blockBytes),
		afpacket.OptNumBlocks(l.cfg.RingBytes/blockBytes),
		afpacket.OptBlockTimeout(blockTimeout),
		afpacket.OptPollTimeout(pollTimeout),
		afpacket.OptAddVLANHeader(true),
	)
	if err != nil {
		return nil, err
	}
	if err := h.SetBPF(rejectAll); err != nil {
		h.Close()
		return nil, fmt.Errorf("set filter: %w", err)
	}
	if l.cfg.Promisc {
		if err := h.SetPromiscuous(true); err != nil {
			h.Close()
			return nil, fmt.Errorf("set promiscuous: %w", err)
		}
	}
	return h, nil
}

// drain reads and discards what h's ring holds, h having rejected every
// packet since rejecting. The kernel hands a partly filled block over
// within two block timeouts (its retire timer closes the active block when
// it saw it active the time before), so h is empty once a poll timed out
// past that.
func drain(h *afpacket.TPacket, rejecting time.Time) error {
	for {
		_, _, err := h.ZeroCopyReadPacketData()
		switch {
		case errors.Is(err, afpacket.ErrTimeout):
			if time.Since(rejecting) > 2*blockTimeout {
				return nil
			}
		case err != nil:
			return fmt.Errorf("drain ring: %w", err)
		}
	}
}

// Next fills p with the next packet, or returns ErrIdle after a quiet
// pollTimeout, or the error that stopped a reader, or io.EOF once Stop has
// been called and every packet read from the rings has been returned.
// p.Data is valid until the next call.
func (l *Live) Next(p *capture.Packet) error {
	for l.cur == nil || l.next == len(l.cur.meta) {
		if l.cur != nil {
			l.recycle(l.cur)
			l.cur = nil
		}
		if err := l.nextBatch(); err != nil {
			return err
		}
	}
	m := l.cur.meta[l.next]
	l.next++
	*p = capture.Packet{
		Data:      l.cur.buf[m.off : m.off+m.n],
		OrigLen:   m.orig,
		Timestamp: m.ts,
		LinkType:  capture.LinkEthernet,
	}
	return nil
}

// nextBatch waits for the next batch.
func (l *Live) nextBatch() error {
	if l.stopped {
		if l.cur = l.leftover(); l.cur == nil {
			return io.EOF
		}
		l.next = 0
		return nil
	}
	select {
	case b, ok := <-l.batches:
		if !ok {
			l.stopped = true
			return nil
		}
		l.cur, l.next = b, 0
		return nil
	case <-time.After(pollTimeout):
		if err := l.readErr(); err != nil {
			return err
		}
		return ErrIdle
	}
}

// Stop stops the readers; Next then returns the packets already copied out
// of the rings and io.EOF. Packets still in the rings are not read. Stop
// must be called once, before Close.
func (l *Live) Stop() {
	l.closing.Store(true)
	l.wg.Wait()
	close(l.batches)
}

// Stats returns the kernel's cumulative counters summed over the sockets:
// packets that passed the filter (drops included) and packets dropped for
// lack of ring space.
func (l *Live) Stats() (received, dropped uint64) {
	for _, h := range l.handles {
		_, s, err := h.SocketStats()
		if err != nil {
			continue
		}
		received += uint64(s.Packets())
		dropped += uint64(s.Drops())
	}
	return received, dropped
}

// Close closes the sockets, stopping the readers first if Stop was not
// called.
func (l *Live) Close() error {
	if !l.closing.Load() {
		l.Stop()
	}
	l.closeHandles()
	return l.readErr()
}

func (l *Live) closeHandles() {
	for _, h := range l.handles {
		h.Close()
	}
}

func (l *Live) readErr() error {
	l.errMu.Lock()
	defer l.errMu.Unlock()
	return l.err
}
