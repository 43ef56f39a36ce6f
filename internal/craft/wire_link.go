package craft

// EtherTypes (IEEE 802 numbers).
const (
	etherIPv4   = 0x0800
	etherIPv6   = 0x86dd
	ether8021Q  = 0x8100 // C-tag
	ether8021AD = 0x88a8 // S-tag
	etherERSPAN = 0x88be // ERSPAN type II, as a GRE protocol type
)

// minFrame is the shortest Ethernet frame without its FCS: captures taken
// on a receiving host show shorter packets padded to it.
const minFrame = 60

// tag is one 802.1Q or 802.1ad tag: its TPID and VLAN ID (priority and
// DEI zero).
type tag struct {
	tpid uint16
	vid  uint16
}

// ethernet returns an Ethernet II frame from src to dst with the tags,
// outermost first, then etherType and payload, padded to minFrame.
func ethernet(dst, src [6]byte, tags []tag, etherType uint16, payload []byte) []byte {
	b := append(dst[:], src[:]...)
	for _, t := range tags {
		b = be.AppendUint16(b, t.tpid)
		b = be.AppendUint16(b, t.vid)
	}
	b = be.AppendUint16(b, etherType)
	b = append(b, payload...)
	if len(b) < minFrame {
		b = append(b, make([]byte, minFrame-len(b))...)
	}
	return b
}

// SLL2 packet types, as in the Linux sll_pkttype field.
const (
	sllHost     = 0 // to us
	sllOutgoing = 4 // from us
)

// sll2 returns a Linux cooked v2 header (LINKTYPE_LINUX_SLL2, 20 octets:
// protocol, reserved, interface index, ARPHRD type, packet type, address
// length, 8 octets of address) before payload.
func sll2(proto uint16, ifIndex uint32, pktType uint8, addr [6]byte, payload []byte) []byte {
	b := be.AppendUint16(nil, proto)
	b = be.AppendUint16(b, 0)
	b = be.AppendUint32(b, ifIndex)
	b = be.AppendUint16(b, 1) // ARPHRD_ETHER
	b = append(b, pktType, 6)
	b = append(b, addr[:]...)
	b = append(b, 0, 0)
	return append(b, payload...)
}

// greERSPAN returns a GRE header with a sequence number (RFC 2890), protocol
// type 0x88BE, and an ERSPAN type II header before the mirrored frame.
//
// ERSPAN II (draft-foschiano-erspan-03 section 4.1), 8 octets: version (4
// bits, 1), VLAN (12), COS (3), encapsulation type En (2, 0: the frame was
// untagged), truncated T (1), session ID (10), reserved (12), index (20).
func greERSPAN(seq uint32, session uint16, frame []byte) []byte {
	b := be.AppendUint16(nil, 0x1000) // S bit: a sequence number follows
	b = be.AppendUint16(b, etherERSPAN)
	b = be.AppendUint32(b, seq)
	b = be.AppendUint16(b, 1<<12)
	b = be.AppendUint16(b, session&0x3ff)
	b = be.AppendUint32(b, 0)
	return append(b, frame...)
}
