package tcpdns_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/pcapload/pcapload/ingest/tcpdns"
)

// segment is one TCP segment of a capture file, as the packet decoder hands
// it to the reassembler.
type segment struct {
	frame   int // 1-based packet number, as tshark counts
	key     tcpdns.Key
	ts      int64
	seq     uint32
	flags   uint8
	payload []byte
}

// readSegments returns the TCP segments of capture file path that have one
// of ports at either end. It is a test-only extractor for the link types of
// the corpus TCP files (Ethernet, BSD null) over IPv4 and IPv6.
func readSegments(tb testing.TB, path string, ports ...uint16) []segment {
	tb.Helper()
	fh, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer fh.Close()
	rd, err := pcapgo.NewReader(fh)
	if err != nil {
		tb.Fatalf("%s: %v", filepath.Base(path), err)
	}
	var out []segment
	for frame := 1; ; frame++ {
		data, ci, err := rd.ReadPacketData()
		if err != nil {
			break
		}
		pkt := gopacket.NewPacket(data, rd.LinkType(), gopacket.Default)
		if s, ok := tcpSegment(pkt, ports); ok {
			s.frame, s.ts = frame, ci.Timestamp.UnixNano()
			out = append(out, s)
		}
	}
	return out
}

// tcpSegment picks the addresses and TCP fields out of a decoded packet.
func tcpSegment(pkt gopacket.Packet, ports []uint16) (segment, bool) {
	tl, ok := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if !ok || !onPorts(uint16(tl.SrcPort), uint16(tl.DstPort), ports) {
		return segment{}, false
	}
	var s segment
	switch ip := pkt.NetworkLayer().(type) {
	case *layers.IPv4:
		s.key.Src, _ = netip.AddrFromSlice(ip.SrcIP.To4())
		s.key.Dst, _ = netip.AddrFromSlice(ip.DstIP.To4())
	case *layers.IPv6:
		s.key.Src, _ = netip.AddrFromSlice(ip.SrcIP)
		s.key.Dst, _ = netip.AddrFromSlice(ip.DstIP)
	default:
		return segment{}, false
	}
	s.key.SrcPort, s.key.DstPort = uint16(tl.SrcPort), uint16(tl.DstPort)
	s.seq = tl.Seq
	s.payload = tl.Payload
	for _, fl := range []struct {
		set bool
		bit uint8
	}{
		{tl.FIN, tcpdns.FlagFIN}, {tl.SYN, tcpdns.FlagSYN},
		{tl.RST, tcpdns.FlagRST}, {tl.ACK, tcpdns.FlagACK},
	} {
		if fl.set {
			s.flags |= fl.bit
		}
	}
	return s, true
}

func onPorts(src, dst uint16, ports []uint16) bool {
	for _, p := range ports {
		if src == p || dst == p {
			return true
		}
	}
	return false
}
