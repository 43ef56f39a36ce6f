package packet

import (
	"encoding/binary"
	"net/netip"

	"github.com/pcapload/pcapload/ingest/capture"
)

// Frame is what Decode found in one packet. Decode overwrites every field.
type Frame struct {
	// VLAN tags, outermost first: VLANOuter is the first tag's ID, VLANInner
	// the last one's; both are 0 without tags, equal with one tag.
	VLANOuter uint16
	VLANInner uint16
	VLANDepth uint8

	IPVersion uint8 // 4 or 6; 0 when the packet is not IP
	Src       netip.Addr
	Dst       netip.Addr
	Protocol  uint8 // IP protocol number of the transport (17 for UDP)
	SrcPort   uint16
	DstPort   uint16

	// Payload is the transport payload: the DNS message for Reason DNS. It
	// aliases the packet's data.
	Payload []byte

	// Snapped is true when the payload is shorter than its header says,
	// because the capture cut the packet at the snaplen.
	Snapped bool

	// TCP segment fields, for Reason TCP: the sequence number of the
	// payload's first byte and the flags byte (FIN 0x01, SYN 0x02, RST 0x04).
	TCPSeq   uint32
	TCPFlags uint8
}

// Ethertypes and IP protocol numbers the decoder dispatches on.
const (
	etherIPv4   = 0x0800
	etherARP    = 0x0806
	etherVLAN   = 0x8100 // 802.1Q customer tag
	etherQinQ   = 0x88a8 // 802.1ad service tag
	etherQinQv1 = 0x9100 // pre-standard service tag, still seen on switches
	etherIPv6   = 0x86dd
	etherMPLS   = 0x8847
	etherMPLSm  = 0x8848
	etherPPPoE  = 0x8864

	protoICMP = 1
	protoIPIP = 4
	protoTCP  = 6
	protoUDP  = 17
	protoIPv6 = 41
	protoGRE  = 47
)

// Decoder turns packets into Frames. Its zero value knows no DNS port; use
// NewDecoder.
type Decoder struct {
	Ports PortSet // UDP and TCP ports that carry DNS

	frag  *reassembler
	ts    int64 // packet time of the packet being decoded
	depth int   // encapsulations peeled from the packet being decoded
}

// NewDecoder returns a Decoder for DNS on the given ports.
func NewDecoder(ports []uint16) *Decoder {
	d := &Decoder{frag: newReassembler()}
	for _, p := range ports {
		d.Ports.Add(p)
	}
	return d
}

// Decode decodes one packet of the given link type, captured at ts
// (nanoseconds), into f and says what it is. It never fails. IP fragments
// are held until their datagram is complete: the fragment that completes
// it decodes as the whole datagram would, and the others are Fragment.
// f.Payload is valid until the next call.
func (d *Decoder) Decode(link capture.LinkType, data []byte, ts int64, f *Frame) Reason {
	*f = Frame{}
	d.ts, d.depth = ts, 0
	switch link {
	case capture.LinkEthernet:
		return d.ethernet(data, f)
	case capture.LinkLinuxSLL:
		if len(data) < 16 {
			return Truncated
		}
		return d.ethertype(binary.BigEndian.Uint16(data[14:]), data[16:], f)
	case capture.LinkLinuxSLL2:
		if len(data) < 20 {
			return Truncated
		}
		return d.ethertype(binary.BigEndian.Uint16(data), data[20:], f)
	case capture.LinkRaw:
		return d.rawIP(data, f)
	case capture.LinkIPv4:
		return d.ipv4(data, f)
	case capture.LinkIPv6:
		return d.ipv6(data, f)
	case capture.LinkNull, capture.LinkLoop:
		return d.null(data, f)
	case capture.LinkPPP:
		return d.ppp(data, f)
	case capture.LinkNFLog:
		return d.nflog(data, f)
	}
	return LinkUnsupported
}

// FragmentBytes is what the datagrams waiting for the rest of their
// fragments take, reckoned from the sizes their pieces call for rather than
// from their buffers, which may be earlier files' (see reassembler.bytes).
func (d *Decoder) FragmentBytes() int { return d.frag.bytes() }

// EvictFragment forgets the datagram begun first among those waiting,
// counting it as expired. It reports whether there was one.
func (d *Decoder) EvictFragment() bool { return d.frag.evictOldest(nil) }

// EndFile forgets fragments still waiting for the rest of their datagram,
// counting them as expired, and returns the fragment counts since the last
// call. Call it at the end of each capture file.
//
// TODO(defrag): a datagram whose fragments straddle two rotated files is
// lost; carrying the pending state to the next file of the same sensor
// would keep it.
func (d *Decoder) EndFile() FragmentStats {
	d.frag.flush()
	st := d.frag.stats
	d.frag.stats = FragmentStats{}
	return st
}

func (d *Decoder) ethernet(data []byte, f *Frame) Reason {
	if len(data) < 14 {
		return Truncated
	}
	return d.ethertype(binary.BigEndian.Uint16(data[12:]), data[14:], f)
}

// ethertype dispatches on an Ethernet type, peeling VLAN tags of any depth.
func (d *Decoder) ethertype(typ uint16, data []byte, f *Frame) Reason {
	for {
		switch typ {
		case etherIPv4:
			return d.ipv4(data, f)
		case etherIPv6:
			return d.ipv6(data, f)
		case etherVLAN, etherQinQ, etherQinQv1:
			if len(data) < 4 {
				return Truncated
			}
			f.addVLAN(binary.BigEndian.Uint16(data) & 0x0fff)
			typ, data = binary.BigEndian.Uint16(data[2:]), data[4:]
		case etherMPLS, etherMPLSm:
			return d.mpls(data, f)
		case etherPPPoE:
			return d.pppoe(data, f)
		default:
			if typ <= 1500 {
				return d.llc(data, f)
			}
			return NotIP
		}
	}
}

func (f *Frame) addVLAN(id uint16) {
	if f.VLANDepth == 0 {
		f.VLANOuter = id
	}
	f.VLANInner = id
	if f.VLANDepth < 255 {
		f.VLANDepth++
	}
}

// llc handles an 802.3 length field followed by LLC; only SNAP with an
// Ethernet type can carry IP.
func (d *Decoder) llc(data []byte, f *Frame) Reason {
	if len(data) < 8 {
		return Truncated
	}
	if data[0] != 0xaa || data[1] != 0xaa || data[2] != 0x03 {
		return NotIP
	}
	return d.ethertype(binary.BigEndian.Uint16(data[6:]), data[8:], f)
}

func (d *Decoder) rawIP(data []byte, f *Frame) Reason {
	if len(data) < 1 {
		return Truncated
	}
	switch data[0] >> 4 {
	case 4:
		return d.ipv4(data, f)
	case 6:
		return d.ipv6(data, f)
	}
	return NotIP
}

// null handles BSD loopback headers: a 4-byte address family, in the
// capturing host's byte order for LINKTYPE_NULL, so both orders are tried.
// IPv6's value differs between BSDs (24, 28, 30).
func (d *Decoder) null(data []byte, f *Frame) Reason {
	if len(data) < 4 {
		return Truncated
	}
	fam := binary.LittleEndian.Uint32(data)
	if fam > 0xffff {
		fam = binary.BigEndian.Uint32(data)
	}
	switch fam {
	case 2:
		return d.ipv4(data[4:], f)
	case 24, 28, 30:
		return d.ipv6(data[4:], f)
	}
	return NotIP
}

// ppp handles PPP in HDLC-like framing (RFC 1662), with or without the
// address and control bytes.
func (d *Decoder) ppp(data []byte, f *Frame) Reason {
	if len(data) >= 2 && data[0] == 0xff && data[1] == 0x03 {
		data = data[2:]
	}
	if len(data) < 2 {
		return Truncated
	}
	switch binary.BigEndian.Uint16(data) {
	case 0x0021:
		return d.ipv4(data[2:], f)
	case 0x0057:
		return d.ipv6(data[2:], f)
	}
	return NotIP
}

// nflog handles Linux NFLOG: a 4-byte header, then TLVs whose length and
// type are in host byte order (little-endian on every capture seen);
// NFULA_PAYLOAD (9) holds the IP packet. TLVs are padded to 4 bytes.
func (d *Decoder) nflog(data []byte, f *Frame) Reason {
	if len(data) < 4 {
		return Truncated
	}
	for b := data[4:]; len(b) >= 4; {
		n := int(binary.LittleEndian.Uint16(b))
		typ := binary.LittleEndian.Uint16(b[2:]) & 0x7fff
		if n < 4 || n > len(b) {
			return Truncated
		}
		if typ == 9 {
			return d.rawIP(b[4:n], f)
		}
		n = (n + 3) &^ 3
		if n > len(b) {
			break
		}
		b = b[n:]
	}
	return NotIP
}
