package gen

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

// tcpStreams follows each direction of the generated DNS-over-TCP
// connections strictly, as the generator promises them: a SYN first, every
// segment at the next sequence number, every ACK acknowledging all the
// other side sent, FIN last.
type tcpStreams map[tcpKey]*tcpDir

type tcpKey struct {
	src, dst     netip.Addr
	sport, dport uint16
}

type tcpDir struct {
	next uint32 // next sequence number expected
	buf  []byte // stream bytes not yet framed into messages
	fin  bool
}

// segment follows one segment, found in frame n, and returns the DNS
// messages it completes, without their length prefixes.
func (s tcpStreams) segment(tb testing.TB, n uint64, d decoded) [][]byte {
	tb.Helper()
	k := tcpKey{d.src, d.dst, d.sport, d.dport}
	dir := s[k]
	switch {
	case d.flags&tcpSYN != 0:
		if dir != nil && !dir.fin {
			tb.Fatalf("frame %d: SYN on a live direction", n)
		}
		if len(d.payload) > 0 {
			tb.Fatalf("frame %d: SYN with data", n)
		}
		dir = &tcpDir{next: d.seq + 1}
		s[k] = dir
	case dir == nil:
		tb.Fatalf("frame %d: segment outside a connection", n)
	case dir.fin && (len(d.payload) > 0 || d.flags&tcpFIN != 0):
		tb.Fatalf("frame %d: data or FIN after FIN", n)
	case d.seq != dir.next:
		tb.Fatalf("frame %d: seq %d, want %d", n, d.seq, dir.next)
	}
	if d.flags&tcpACK != 0 {
		peer := s[tcpKey{d.dst, d.src, d.dport, d.sport}]
		if peer == nil || d.ack != peer.next {
			tb.Fatalf("frame %d: ack %d does not acknowledge all the peer sent", n, d.ack)
		}
	} else if d.flags != tcpSYN {
		tb.Fatalf("frame %d: flags %#x without ACK", n, d.flags)
	}
	if d.flags&tcpSYN == 0 {
		dir.next += uint32(len(d.payload))
		dir.buf = append(dir.buf, d.payload...)
	}
	var msgs [][]byte
	for len(dir.buf) >= 2 {
		l := int(binary.BigEndian.Uint16(dir.buf))
		if len(dir.buf) < 2+l {
			break
		}
		msgs = append(msgs, dir.buf[2:2+l])
		dir.buf = dir.buf[2+l:]
	}
	if d.flags&tcpFIN != 0 {
		if len(dir.buf) > 0 {
			tb.Fatalf("frame %d: FIN with %d bytes of a message pending", n, len(dir.buf))
		}
		dir.next++
		dir.fin = true
	}
	return msgs
}

// checkClosed checks that every connection was closed both ways.
func (s tcpStreams) checkClosed(tb testing.TB) {
	tb.Helper()
	for k, dir := range s {
		if !dir.fin {
			tb.Errorf("%v:%d > %v:%d never closed", k.src, k.sport, k.dst, k.dport)
		}
	}
}

// TestWrite_TCP checks the shape of the generated connections: some
// queries split over two segments, some pipelined two to a connection, some
// segments completing two queries, and larger responses than over UDP.
func TestWrite_TCP(t *testing.T) {
	cfg := Config{Seed: 14, Messages: 40000, TCP: 0.1}
	raw, all, st := generate(t, cfg, Pcap)
	var split, both, pipe int
	streams := tcpStreams{}
	for i, fr := range readCapture(t, raw, Pcap) {
		if d := parseFrame(t, fr); d.isDNSTCP() {
			switch n := len(streams.segment(t, uint64(i+1), d)); {
			case n == 0 && len(d.payload) > 0:
				split++
			case n == 2:
				both++
			}
		}
	}
	var answers, responses [2]int
	queries := map[tcpKey]int{}
	for _, e := range all {
		k := 0
		if e.TCP {
			k = 1
			if !e.QR {
				queries[tcpKey{e.Src, e.Dst, e.SrcPort, e.DstPort}]++
			}
		}
		if e.QR && e.SrcPort == 53 {
			responses[k]++
			answers[k] += e.Answers
		}
	}
	for _, n := range queries {
		if n == 2 {
			pipe++
		}
	}
	t.Logf("%d TCP messages in %d segments; %d queries split, %d connections carry two, "+
		"%d segments complete two; answers per response %.2f (UDP %.2f)",
		st.TCP, st.TCPSegments, split, pipe, both,
		ratio(answers[1], responses[1]), ratio(answers[0], responses[0]))
	if split == 0 || pipe == 0 || both == 0 {
		t.Error("want split queries, pipelined queries and segments completing two messages")
	}
	if ratio(answers[1], responses[1]) < 1.5*ratio(answers[0], responses[0]) {
		t.Error("TCP responses are not larger than UDP ones")
	}
}
