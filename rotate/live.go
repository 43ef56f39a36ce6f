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
	for range cfg.Fanout {
		h, err := l.openSocket()
		if err != nil {
			l.closeHandles()
			return nil, fmt.Errorf("open capture on %s: %w", cfg.Interface, err)
		}
		l.handles = append(l.handles, h)
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

// openSocket opens one TPACKET_V3 socket with the filter and fanout set.
// TODO(live): the socket receives from bind until it joins the fanout
// group, so with Fanout > 1 a packet arriving in that window can be
// captured twice; attaching a drop-all filter first and the real one after
// the join would close it.
func (l *Live) openSocket() (*afpacket.TPacket, error) {
	h, err := afpacket.NewTPacket(
		afpacket.OptInterface(l.cfg.Interface),
		afpacket.TPacketVersion3,
		afpacket.OptFrameSize(1<<16),
		afpacket.OptBlockSize(blockBytes),
		afpacket.OptNumBlocks(l.cfg.RingBytes/blockBytes),
		afpacket.OptPollTimeout(pollTimeout),
		afpacket.OptAddVLANHeader(true),
	)
	if err != nil {
		return nil, err
	}
	if err := l.configure(h); err != nil {
		h.Close()
		return nil, err
	}
	return h, nil
}

// configure sets the filter, promiscuous mode and fanout group of h.
func (l *Live) configure(h *afpacket.TPacket) error {
	if len(l.cfg.Filter) > 0 {
		if err := h.SetBPF(l.cfg.Filter); err != nil {
			return fmt.Errorf("set filter: %w", err)
		}
	}
	if l.cfg.Promisc {
		if err := h.SetPromiscuous(true); err != nil {
			return fmt.Errorf("set promiscuous: %w", err)
		}
	}
	if l.cfg.Fanout > 1 {
		if err := h.SetFanout(afpacket.FanoutHash, uint16(l.cfg.FanoutID)); err != nil {
			return fmt.Errorf("join fanout group: %w", err)
		}
	}
	return nil
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
