package craft

import (
	"bytes"

	"github.com/pcapload/pcapload/ingest/capture"
)

// start is the time of every case's first packet: 2026-11-02T08:00:00Z
// plus an odd fraction, so that a reader that loses nanoseconds shows it.
const start = 1793606400*int64(1e9) + 123_456_789

// defaultSnaplen is the snaplen of every case but the snaplen case, the
// value tcpdump has used since 4.0.
const defaultSnaplen = 262144

// Case is one crafted capture and the rows it must decode to.
type Case struct {
	Name    string           // file name without extension, kebab-case
	About   string           // what the case exercises, one sentence
	Tshark  string           // how tshark 4.0 reads it, one sentence
	Link    capture.LinkType // link type of the file
	Snaplen uint32

	// DecodeAs are extra tshark options the case needs (-d, -o).
	DecodeAs []string

	packets []packet
	rows    []Row
}

// packet is one record of a case's capture file.
type packet struct {
	ts      int64
	data    []byte
	origLen int
}

// Pcap returns the case as a classic pcap file with nanosecond timestamps.
func (c *Case) Pcap() []byte {
	var buf bytes.Buffer
	w, err := capture.NewPcapWriter(&buf, c.Link, c.Snaplen, true)
	if err != nil {
		panic(err) // a bytes.Buffer does not fail
	}
	for _, p := range c.packets {
		if err := w.WritePacket(p.ts, p.data, uint32(p.origLen)); err != nil {
			panic(err) // times and sizes are fixed above, in range
		}
	}
	return buf.Bytes()
}

// Rows returns the rows a decoder must report for the case. The caller
// owns the slice but not the strings and slices inside the rows.
func (c *Case) Rows() []Row {
	return append([]Row(nil), c.rows...)
}

// Packets returns the number of packets in the capture.
func (c *Case) Packets() int { return len(c.packets) }

// builder appends packets and rows to a Case.
type builder struct {
	c    *Case
	now  int64
	ipID uint16
}

// newBuilder starts a case on the Ethernet link type.
func newBuilder(name, about, tshark string) *builder {
	c := &Case{Name: name, About: about, Tshark: tshark, Link: capture.LinkEthernet, Snaplen: defaultSnaplen}
	return &builder{c: c, now: start, ipID: 0x3a00}
}

// add appends a packet gap nanoseconds after the previous one (the first
// packet is at start whatever its gap) and returns its frame number. The
// packet is cut to the case's snaplen.
func (b *builder) add(gap int64, data []byte) int {
	if len(b.c.packets) > 0 {
		b.now += gap
	}
	p := packet{ts: b.now, data: data, origLen: len(data)}
	if len(data) > int(b.c.Snaplen) {
		p.data = data[:b.c.Snaplen]
	}
	b.c.packets = append(b.c.packets, p)
	return len(b.c.packets)
}

// nextID returns a fresh IPv4 identification.
func (b *builder) nextID() uint16 {
	b.ipID++
	return b.ipID
}

// row records the message mi, completed by frame, sent on f towards the
// server when toServer is set.
func (b *builder) row(frame int, f *flow, toServer bool, mi msgInfo) {
	src, dst := f.client, f.server
	if !toServer {
		src, dst = dst, src
	}
	r := Row{
		Frame: frame, Time: b.c.packets[frame-1].ts,
		IPVersion: 4,
		Src:       src.addr.String(), Dst: dst.addr.String(),
		SrcPort: src.port, DstPort: dst.port,
		Transport: "udp",
		ID:        mi.id, QR: mi.qr, RCode: mi.rcode,
		QNames: mi.qnames, QTypes: mi.qtypes, Answers: mi.answers,
		Malformed: mi.malformed, Snapped: mi.snapped,
	}
	if src.addr.Is6() {
		r.IPVersion = 6
	}
	if f.tcp {
		r.Transport = "tcp"
	}
	if len(f.tags) > 0 {
		r.VLANOuter, r.VLANInner = f.tags[0].vid, f.tags[len(f.tags)-1].vid
	}
	b.c.rows = append(b.c.rows, r)
}

// done returns the finished case.
func (b *builder) done() Case { return *b.c }
