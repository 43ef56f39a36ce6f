package gen

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
)

// Write generates the capture cfg describes, in format f, into w. When each
// is not nil it is called with the ground truth of every DNS message, in
// file order, before Write returns; this costs no memory, unlike WritePcap
// and WritePcapng, so it suits captures of millions of messages. Write
// buffers its own output.
func Write(w io.Writer, cfg Config, f Format, each func(Expected)) (Stats, error) {
	cfg = cfg.withDefaults()
	bw := bufio.NewWriterSize(w, 1<<18)
	g := newGenerator(cfg, f, each)
	switch f {
	case Pcap, PcapNano:
		g.out = newPcapWriter(bw, f == PcapNano)
	case Pcapng:
		g.out = newPcapngWriter(bw)
	default:
		return Stats{}, fmt.Errorf("write capture: unknown format %d", f)
	}
	g.run()
	if err := g.out.finish(&g.st); err != nil {
		return g.st, fmt.Errorf("write capture: %w", err)
	}
	return g.st, nil
}

// WriteFile generates the capture cfg describes, in format f, into a new
// file at path: what tests and benchmarks that need a capture on disk do.
func WriteFile(path string, cfg Config, f Format) (Stats, error) {
	file, err := os.Create(path)
	if err != nil {
		return Stats{}, err
	}
	st, err := Write(file, cfg, f, nil)
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return st, fmt.Errorf("generate %s: %w", path, err)
	}
	return st, nil
}

// WritePcap writes a classic pcap file (Ethernet link type, microsecond
// timestamps or nanosecond ones when nano is true) and returns the ground
// truth of every DNS message in it.
func WritePcap(w io.Writer, cfg Config, nano bool) ([]Expected, error) {
	f := Pcap
	if nano {
		f = PcapNano
	}
	return collect(w, cfg, f)
}

// WritePcapng writes a pcapng file with an Ethernet and a Linux SLL2
// interface and returns the ground truth of every DNS message in it.
func WritePcapng(w io.Writer, cfg Config) ([]Expected, error) {
	return collect(w, cfg, Pcapng)
}

func collect(w io.Writer, cfg Config, f Format) ([]Expected, error) {
	var all []Expected
	_, err := Write(w, cfg, f, func(e Expected) { all = append(all, e) })
	return all, err
}

// generator holds the state of one generation. One random stream drives
// everything, in a fixed order, which is what makes the output
// deterministic; the format changes only how packets are framed.
type generator struct {
	cfg     Config
	format  Format
	each    func(Expected)
	r       *rand.Rand
	zipf    *rand.Zipf
	w       *world
	out     capWriter
	st      Stats
	now     int64
	budget  int   // messages still to emit or reserve
	pending []txn // responses and TCP segments to come, a min-heap on (at, seq)
	seq     uint64
	pNonDNS float64
	pTCP    float64
	ipID    uint16
	payload []byte
	frame   []byte

	busy    map[connKey]bool // client ends of the live TCP connections
	stream  []byte           // the payload of a TCP segment
	done    []Expected       // the messages a TCP segment completes
	answers int              // answers of the latest response framed for TCP
}

func newGenerator(cfg Config, f Format, each func(Expected)) *generator {
	r := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x7063_6170_6c6f_6164))
	g := &generator{
		cfg:     cfg,
		format:  f,
		each:    each,
		r:       r,
		w:       newWorld(cfg, r),
		now:     cfg.Start,
		budget:  cfg.Messages,
		payload: make([]byte, 0, 4096),
		frame:   make([]byte, 0, 4096),
		stream:  make([]byte, 0, 4096),
		busy:    make(map[connKey]bool),
		st:      Stats{First: cfg.Start},
	}
	// Popularity exponent 1.1: close to the α ≈ 1 measured at resolvers,
	// and rand.Zipf needs more than 1. The offset 3 flattens the head so
	// that the top name takes about 6% of the queries, not 15%.
	g.zipf = rand.NewZipf(r, 1.1, 3, uint64(cfg.Names-1))
	// A unicast step opens a connection at this probability; as some
	// connections carry two transactions, it gives cfg.TCP as a share of
	// transactions.
	conns := cfg.TCP / (1 + (1-cfg.TCP)/pipelined)
	// A step that is not a non-DNS packet makes about two DNS packets, or
	// tcpPackets for a connection, so this probability gives cfg.NonDNS as
	// a share of packets.
	m := 2 + conns*(tcpPackets-2)
	g.pNonDNS = m * cfg.NonDNS / (1 - cfg.NonDNS + m*cfg.NonDNS)
	g.pTCP = conns * (1 - g.pNonDNS - cfg.Multicast)
	return g
}

func (g *generator) run() {
	for g.budget > 0 {
		g.flush(g.now)
		g.step()
		g.now += 1 + int64(g.r.ExpFloat64()*1e9/g.cfg.Rate)
	}
	g.flush(math.MaxInt64)
}

func (g *generator) step() {
	switch x := g.r.Float64(); {
	case x < g.pNonDNS:
		g.nonDNS()
	case x < g.pNonDNS+g.cfg.Multicast:
		g.multicast()
	case x < g.pNonDNS+g.cfg.Multicast+g.pTCP:
		g.tcpQuery()
	default:
		g.query()
	}
}

// flush sends every pending response due by until.
func (g *generator) flush(until int64) {
	for len(g.pending) > 0 && g.pending[0].at <= until {
		t := g.pop()
		if t.kind == tcpNext {
			g.tcpSegment(t.conn)
			continue
		}
		g.respond(&t)
	}
}

// emitDNS frames a DNS payload in UDP and writes it, completing e with what
// the frame shows.
func (g *generator) emitDNS(at int64, p *packet, payload []byte, e Expected) {
	g.frame = p.udp(g.frame[:0], g.nextID(), payload)
	frame, ts := g.write(at, p)
	g.expect(p, frame, ts, e)
}

// expect completes e with what frame number frame, written at ts with the
// addressing p, shows, counts it and reports it.
func (g *generator) expect(p *packet, frame uint64, ts int64, e Expected) {
	e.Frame, e.Time = frame, ts
	e.VLANs = p.via.vlans
	e.IPVersion = 4
	if p.src.Is6() {
		e.IPVersion = 6
		g.st.IPv6++
	}
	e.Src, e.Dst, e.SrcPort, e.DstPort = p.src, p.dst, p.sport, p.dport

	g.st.Messages++
	if e.TCP {
		g.st.TCP++
	}
	if e.QR {
		g.st.Responses++
	} else {
		g.st.Queries++
	}
	if e.Malformed {
		g.st.Malformed++
	}
	if len(e.VLANs) > 0 {
		g.st.Tagged++
	}
	if g.each != nil {
		g.each(e)
	}
}

// write writes g.frame and returns its frame number and its time at the
// resolution of the file.
func (g *generator) write(at int64, p *packet) (uint64, int64) {
	iface := uint32(0)
	if p.cooked {
		iface = 1
	}
	g.out.packet(at, iface, g.frame)
	g.st.Packets++
	g.st.Last = at
	if g.format == Pcap {
		at -= at % 1e3
	}
	return g.st.Packets, at
}

// nextID numbers IPv4 datagrams as one busy sender would.
func (g *generator) nextID() uint16 {
	g.ipID++
	return g.ipID
}

func (g *generator) push(t txn) {
	g.seq++
	t.seq = g.seq
	g.pending = append(g.pending, t)
	h := g.pending
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h[i].before(&h[parent]) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func (g *generator) pop() txn {
	h := g.pending
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		small, l, r := i, 2*i+1, 2*i+2
		if l < len(h) && h[l].before(&h[small]) {
			small = l
		}
		if r < len(h) && h[r].before(&h[small]) {
			small = r
		}
		if small == i {
			break
		}
		h[i], h[small] = h[small], h[i]
		i = small
	}
	g.pending = h
	return top
}

func (t *txn) before(u *txn) bool {
	return t.at < u.at || t.at == u.at && t.seq < u.seq
}
