package craft

import "encoding/binary"

// Classic pcap layout (tcpdump.org pcap-savefile(5)): a 24-octet file
// header, then per packet a 16-octet record header (seconds, fraction,
// captured length, original length) and the captured bytes.
const (
	pcapFileHeaderLen   = 24
	pcapRecordHeaderLen = 16
)

// Mutate returns a damaged copy of a classic pcap capture, the same for
// the same seed and capture: about three packets in eight get one to three
// bits flipped, one in eight is truncated at a random length (its captured
// length lowered, its original length kept), and at least one packet
// changes when any has data. The file header and every record header stay
// valid, so a reader still walks every packet; only the packet data is
// damaged. Half the bit flips fall in the second half of a packet, where
// the DNS message usually is.
//
// Mutate does not modify capture. A capture that is not a classic pcap,
// or whose records do not add up, is returned as an unchanged copy.
func Mutate(seed int64, capture []byte) []byte {
	order, ok := pcapOrder(capture)
	if !ok {
		return append([]byte(nil), capture...)
	}
	rng := splitMix(uint64(seed))
	out := append([]byte(nil), capture[:pcapFileHeaderLen]...)
	changed, last := false, -1
	for off := pcapFileHeaderLen; off < len(capture); {
		hdr := capture[off : off+pcapRecordHeaderLen]
		n := int(order.Uint32(hdr[8:]))
		data := append([]byte(nil), capture[off+pcapRecordHeaderLen:off+pcapRecordHeaderLen+n]...)
		off += pcapRecordHeaderLen + n

		data, c := mutatePacket(&rng, data)
		changed = changed || c
		out = appendPcapRecord(out, order, hdr, data)
		if n > 0 {
			last = len(out) - len(data)
		}
	}
	if !changed && last >= 0 {
		flipBits(&rng, out[last:last+int(order.Uint32(out[last-8:]))])
	}
	return out
}

// pcapOrder returns the byte order of a classic pcap file, and whether
// capture is one whose records exactly fill it.
func pcapOrder(capture []byte) (binary.ByteOrder, bool) {
	if len(capture) < pcapFileHeaderLen {
		return nil, false
	}
	var order binary.ByteOrder
	switch binary.LittleEndian.Uint32(capture) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		order = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		order = binary.BigEndian
	default:
		return nil, false
	}
	off := pcapFileHeaderLen
	for off+pcapRecordHeaderLen <= len(capture) {
		off += pcapRecordHeaderLen + int(order.Uint32(capture[off+8:]))
	}
	return order, off == len(capture)
}

// appendPcapRecord appends a record header copied from hdr, with the captured
// length of data, followed by data.
func appendPcapRecord(out []byte, order binary.ByteOrder, hdr, data []byte) []byte {
	at := len(out)
	out = append(out, hdr...)
	order.PutUint32(out[at+8:], uint32(len(data)))
	return append(out, data...)
}

// mutatePacket damages data in place or truncates it, or leaves it, and
// reports whether it changed.
func mutatePacket(rng *splitMix, data []byte) ([]byte, bool) {
	if len(data) == 0 {
		return data, false
	}
	switch rng.next() % 8 {
	case 0, 1, 2:
		flipBits(rng, data)
		return data, true
	case 3:
		return data[:rng.next()%uint64(len(data))], true
	}
	return data, false
}

// flipBits flips one to three bits of data, which must not be empty.
func flipBits(rng *splitMix, data []byte) {
	for range 1 + rng.next()%3 {
		pos := rng.next() % uint64(len(data))
		if rng.next()%2 == 0 {
			pos = uint64(len(data))/2 + pos/2
		}
		data[pos] ^= 1 << (rng.next() % 8)
	}
}

// splitMix is SplitMix64 (Steele, Lea and Flood, 2014): tiny, and its
// sequence for a seed is fixed here rather than by a library's version.
type splitMix uint64

// next returns the next 64 random bits.
func (s *splitMix) next() uint64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
