package gen

import "net/netip"

// Expected is the ground truth of one generated DNS message, as a decoder
// should report it.
//
// For a malformed message (Malformed true) the fields hold what a decoder can
// parse before the fault: the header always parses, so ID, QR and RCode
// (the 4 header bits only: the OPT record is never reached) are set; QName
// and QType are set when the question parsed; Answers counts only complete
// answer records, which is always 0 for the malformations generated.
//
// A message over TCP belongs to the segment that completes it: Frame and
// Time are that segment's, as tshark and ingest report them, and one
// segment may complete two messages.
type Expected struct {
	Frame     uint64     // 1-based record number in the file, as tshark's frame.number
	Time      int64      // packet time in ns since the epoch, at the file's resolution
	VLANs     []uint16   // VLAN IDs, outermost first; shared between messages, do not modify
	IPVersion uint8      // 4 or 6
	Src, Dst  netip.Addr // IP addresses
	SrcPort   uint16
	DstPort   uint16
	ID        uint16
	QR        bool   // true for a response
	RCode     uint16 // header rcode extended by the OPT record's upper bits
	QName     string // first question's name in presentation form, no trailing dot; "" when none
	QType     uint16 // first question's type; 0 when none
	Answers   int    // records in the answer section
	Malformed bool
	TCP       bool // carried over TCP rather than UDP
}

// Stats summarises what Write generated. Packets is the DNS messages over
// UDP plus TCPSegments plus NonDNS.
type Stats struct {
	Packets    uint64 // records written
	Messages   uint64 // DNS messages, malformed included
	Queries    uint64 // messages with QR clear
	Responses  uint64 // messages with QR set
	Unanswered uint64 // queries, unicast or multicast, that got no response
	Malformed  uint64 // DNS messages with a malformed payload
	NonDNS     uint64 // packets that are not DNS traffic
	IPv6       uint64 // DNS messages over IPv6
	Tagged     uint64 // DNS messages in frames with at least one VLAN tag
	First      int64  // time of the first packet, ns since the epoch
	Last       int64  // time of the last packet

	TCP         uint64 // DNS messages over TCP
	TCPSegments uint64 // packets of DNS-over-TCP connections, with a message or not
}
