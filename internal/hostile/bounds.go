// Package hostile writes captures made to fill the loader's bounds, for
// tests: what a decoder holds for messages still to come, and what a batch
// holds, all at once.
package hostile

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/klauspost/compress/zstd"
)

// Bounds says how much of each kind a capture holds. Everything is sent
// within a second of packet time, so no query times out and no TCP
// direction goes idle before the file ends.
type Bounds struct {
	Seed uint64 // varies the clients' addresses and the random bytes

	// TCP directions, each with its SYN and TCPSegments (3 if 0)
	// 1,400-byte segments of a message whose prefix says 65,535 bytes:
	// never completed.
	TCP, TCPSegments int

	// Fragments: datagrams of 65,000 bytes of which only the last 1,000
	// came.
	Fragments int

	// Queries of 600 bytes that are never answered: a name of four
	// 60-byte labels and an EDNS record of 330 bytes of padding.
	Queries int

	// Responses of 65,000 bytes, sent last: the even ones of about 4,000
	// distinct address records (as a zone transfer), the odd ones random
	// bytes (malformed, kept whole).
	Responses int

	// ZoneTransfers are responses of 65,000 bytes of address records
	// alone, sent after Responses.
	ZoneTransfers int
}

// AllAtOnce fills each of a decoder's bounds alone, and batches of 64 KiB
// rows after them (see the load package's doc on memory).
var AllAtOnce = Bounds{TCP: 8000, Fragments: 1000, Queries: 30000, Responses: 1000}

// Write writes the capture b describes to path, as pcap over Ethernet and
// IPv4.
func Write(path string, b Bounds) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := &writer{buf: bufio.NewWriterSize(f, 1<<20), rng: rand.New(rand.NewPCG(b.Seed, 1)), seed: byte(b.Seed)}
	w.pw = pcapgo.NewWriter(w.buf)
	w.err = w.pw.WriteFileHeader(262144, layers.LinkTypeEthernet)
	w.all(b)
	if err := w.buf.Flush(); w.err == nil {
		w.err = err
	}
	return errors.Join(w.err, f.Close())
}

// writer writes packets, keeping the first error.
type writer struct {
	buf  *bufio.Writer
	pw   *pcapgo.Writer
	rng  *rand.Rand
	seed byte
	n    int
	err  error
}

var (
	start  = time.Unix(1700000000, 0)
	server = net.IPv4(192, 0, 2, 53)
)

func (w *writer) client(i int) net.IP { return net.IPv4(10, w.seed, byte(i>>8), byte(i)) }

func (w *writer) random(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(w.rng.Uint32())
	}
	return b
}

// put writes one packet, a microsecond after the last.
func (w *writer) put(ls ...gopacket.SerializableLayer) {
	if w.err != nil {
		return
	}
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2},
		EthernetType: layers.EthernetTypeIPv4}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if w.err = gopacket.SerializeLayers(buf, opts, append([]gopacket.SerializableLayer{eth}, ls...)...); w.err != nil {
		return
	}
	w.n++
	ci := gopacket.CaptureInfo{Timestamp: start.Add(time.Duration(w.n) * time.Microsecond),
		CaptureLength: len(buf.Bytes()), Length: len(buf.Bytes())}
	w.err = w.pw.WritePacket(ci, buf.Bytes())
}

func ipv4(src, dst net.IP, proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: src, DstIP: dst}
}

func (w *writer) tcp(src net.IP, l4 *layers.TCP, payload []byte) {
	l3 := ipv4(src, server, layers.IPProtocolTCP)
	if err := l4.SetNetworkLayerForChecksum(l3); err != nil && w.err == nil {
		w.err = err
	}
	w.put(l3, l4, gopacket.Payload(payload))
}

func (w *writer) udp(src, dst net.IP, sport, dport int, msg []byte) {
	l3 := ipv4(src, dst, layers.IPProtocolUDP)
	l4 := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	if err := l4.SetNetworkLayerForChecksum(l3); err != nil && w.err == nil {
		w.err = err
	}
	w.put(l3, l4, gopacket.Payload(msg))
}

func (w *writer) all(b Bounds) {
	for i := range b.TCP {
		port := layers.TCPPort(20000 + i%30000)
		w.tcp(w.client(i), &layers.TCP{SrcPort: port, DstPort: 53, SYN: true, Window: 65535}, nil)
		for s := range cmp.Or(b.TCPSegments, 3) {
			payload := w.random(1400)
			if s == 0 {
				binary.BigEndian.PutUint16(payload, 65535)
			}
			w.tcp(w.client(i), &layers.TCP{SrcPort: port, DstPort: 53, Seq: uint32(1 + 1400*s), ACK: true,
				Window: 65535}, payload)
		}
	}
	for i := range b.Fragments {
		l3 := ipv4(server, w.client(i), layers.IPProtocolUDP)
		l3.Id, l3.FragOffset = uint16(i), 64000/8
		w.put(l3, gopacket.Payload(w.random(1000)))
	}
	for i := range b.Queries {
		msg := []byte{byte(i >> 8), byte(i), 1, 0, 0, 1, 0, 0, 0, 0, 0, 1}
		for range 4 {
			msg = append(msg, 60)
			for range 60 {
				msg = append(msg, 'a'+byte(w.rng.IntN(26)))
			}
		}
		// The root label, type A, class IN; OPT: root, type 41, 4096
		// bytes, rdlength 334: option 12 (padding), 330 bytes.
		msg = append(msg, 0, 0, 1, 0, 1, 0, 0, 41, 0x10, 0, 0, 0, 0, 0, 1, 78, 0, 12, 1, 74)
		msg = append(msg, make([]byte, 330)...)
		w.udp(w.client(i), server, 1024+i%60000, 53, msg)
	}
	for i := range b.Responses {
		if i%2 == 0 {
			w.udp(server, w.client(i), 53, 1024+i, w.zoneTransfer(i))
			continue
		}
		msg := w.random(65000)
		msg[2], msg[3] = 0x84, 0
		w.udp(server, w.client(i), 53, 1024+i, msg)
	}
	for i := range b.ZoneTransfers {
		w.udp(server, w.client(i), 53, 1024+i%60000, w.zoneTransfer(i))
	}
}

// zoneTransfer returns response id of 65,000 bytes: about 4,000 address
// records of random addresses, each owner a pointer to the question's name.
func (w *writer) zoneTransfer(id int) []byte {
	msg := []byte{byte(id >> 8), byte(id), 0x84, 0, 0, 1, 0, 0, 0, 0, 0, 0,
		7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1}
	records := 0
	for ; len(msg)+16 <= 65000; records++ {
		msg = append(msg, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4)
		msg = binary.BigEndian.AppendUint32(msg, w.rng.Uint32())
	}
	binary.BigEndian.PutUint16(msg[6:], uint16(records))
	return msg
}

// LongWindow compresses b with zstd and a window of 64 MiB declared in
// its frame header, as zstd --long=26 writes: a decompressor holds 64 MiB
// for it, however small b is.
func LongWindow(b []byte) ([]byte, error) {
	var out bytes.Buffer
	w, err := zstd.NewWriter(&out, zstd.WithWindowSize(64<<20))
	if err != nil {
		return nil, err
	}
	for len(b) > 0 { // in pieces, so that the frame does not declare its size
		n := min(len(b), 1<<20)
		if _, err := w.Write(b[:n]); err != nil {
			return nil, err
		}
		b = b[n:]
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
