// Package craft builds the small hand-made capture files of
// testdata/crafted (issue #4): one classic pcap per hard case of DNS
// decoding, each with the rows a decoder must produce from it.
//
// Every byte is laid down here, from the link header to the DNS message, so
// that a case can be exactly as odd as it needs to be: three VLAN tags, an
// SLL2 header, two DNS messages in one TCP segment, a message across three
// TCP segments out of order, IPv4 and IPv6 fragments, compression loops and
// forward pointers, a label over 63 octets, a packet cut by the snaplen, mDNS,
// ERSPAN type II, a name of 255 octets. IPv4 header, UDP and TCP checksums
// are correct in every case; none of the faults is a checksum fault.
//
// # Main types
//
// Cases lists every Case; Files renders them as the files craftcap writes
// (NAME.pcap, NAME.rows.jsonl and README.md). A Row is one expected DNS
// message, written as one JSON object per line. Mutate makes deterministic
// damaged copies of a capture for differential tests.
//
// # Conventions of the rows
//
// A Row is one DNS message, malformed or not, in file order. Frame is the
// 1-based number of the packet that completes the message: the last IP
// fragment or TCP segment needed, in capture order. VLANOuter is the
// outermost tag and VLANInner the innermost (equal with one tag, both 0
// untagged), as in package schema; tags of a frame inside a tunnel are not
// counted. Src, Dst and the ports are those of the innermost IP packet.
// For a malformed message the fields hold what parses before the first
// fault: QNames and QTypes the questions read whole, Answers the answer
// records read whole (not ANCOUNT). Snapped marks a message cut by the
// snaplen; such a message is also Malformed, since its bytes do not parse
// whole.
//
// # Limitations
//
// Captures are classic little-endian pcap with nanosecond timestamps only.
// Mutate understands classic pcap only and returns a plain copy of
// anything else.
package craft
