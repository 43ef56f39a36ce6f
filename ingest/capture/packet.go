package capture

import "strconv"

// LinkType is a LINKTYPE_ value from the tcpdump.org registry: the header
// that starts every packet of an interface.
type LinkType uint16

// Link types the decoder understands. The numbers are LINKTYPE_ values, not
// the DLT_ values some platforms use for the same headers.
const (
	LinkNull      LinkType = 0   // BSD loopback: 4-byte host-order address family
	LinkEthernet  LinkType = 1   // Ethernet II / 802.3
	LinkPPP       LinkType = 9   // PPP (RFC 1661)
	LinkRaw       LinkType = 101 // raw IPv4 or IPv6, version from the first nibble
	LinkLoop      LinkType = 108 // OpenBSD loopback: 4-byte network-order family
	LinkLinuxSLL  LinkType = 113 // Linux cooked capture v1
	LinkIPv4      LinkType = 228 // raw IPv4 only
	LinkIPv6      LinkType = 229 // raw IPv6 only
	LinkNFLog     LinkType = 239 // Linux netfilter log
	LinkLinuxSLL2 LinkType = 276 // Linux cooked capture v2
)

// Packet is one record of a capture file.
//
// Data is owned by the Reader and is valid only until the next call to Next;
// callers that keep it must copy it.
type Packet struct {
	Data      []byte   // captured bytes (at most the snaplen)
	OrigLen   uint32   // length of the packet on the wire
	Timestamp int64    // nanoseconds since the Unix epoch, UTC
	LinkType  LinkType // link type of the interface that captured it
	Interface uint32   // index into File.Interfaces (all pcapng sections); 0 for pcap
	Frame     uint64   // 1-based record number in the file, as tshark's frame.number
	Offset    int64    // byte offset of the record in the decompressed stream

	// NoTimestamp marks a packet whose record carries no time (a pcapng
	// Simple Packet Block). Its Timestamp is that of the packet before it
	// in the file, or 0 for the first.
	NoTimestamp bool
}

// set fills every field of p. It assigns them one by one rather than as
// *p = Packet{...}: Go builds such a literal on the stack and copies it in
// 16-byte loads from 8-byte and narrower stores just made, which the
// processor cannot forward; that stall was 60% of reading a pcap record
// and 2.6% of a Parquet export.
func (p *Packet) set(data []byte, orig uint32, ts int64, noTS bool, link LinkType, iface uint32, frame uint64, off int64) {
	p.Data, p.OrigLen, p.Timestamp, p.NoTimestamp = data, orig, ts, noTS
	p.LinkType, p.Interface, p.Frame, p.Offset = link, iface, frame, off
}

// Reader reads the packets of one capture stream in order.
type Reader interface {
	// Next fills p with the next packet. It returns io.EOF after the last
	// packet and a *FormatError when the stream is damaged.
	Next(p *Packet) error
}

// linkNames names the link types the decoder reads and the ones a capture
// the decoder cannot read most often has, for messages.
var linkNames = map[LinkType]string{
	LinkNull: "NULL", LinkEthernet: "ETHERNET", LinkPPP: "PPP", LinkRaw: "RAW", LinkLoop: "LOOP",
	LinkLinuxSLL: "LINUX_SLL", LinkIPv4: "IPV4", LinkIPv6: "IPV6", LinkNFLog: "NFLOG",
	LinkLinuxSLL2: "LINUX_SLL2", 6: "IEEE802_5", 50: "PPP_HDLC", 51: "PPP_ETHER",
	104: "C_HDLC", 105: "IEEE802_11", 107: "FRELAY", 119: "PRISM_HEADER", 127: "IEEE802_11_RADIOTAP",
	163: "IEEE802_11_AVS", 192: "PPI", 195: "IEEE802_15_4_WITHFCS", 201: "BLUETOOTH_HCI_H4_WITH_PHDR",
	215: "IEEE802_15_4_NONASK_PHY", 220: "USB_LINUX_MMAPPED", 230: "IEEE802_15_4_NOFCS",
	249: "USBPCAP", 252: "WIRESHARK_UPPER_PDU", 263: "DOCSIS", 283: "IEEE802_15_4_TAP",
}

// String returns the registry name, LINKTYPE_ETHERNET for 1, or the number
// when the name is not known here.
func (l LinkType) String() string {
	if n, ok := linkNames[l]; ok {
		return "LINKTYPE_" + n
	}
	return "LINKTYPE " + strconv.Itoa(int(l))
}
