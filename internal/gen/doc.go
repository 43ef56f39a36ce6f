// Package gen generates deterministic, realistic passive-DNS capture files:
// the traffic a SPAN port in front of a few recursive resolvers would see.
//
// It exists to give the decoder a ground truth (every DNS message written is
// reported as an Expected value), to feed benchmarks with millions of
// messages in seconds, and to write the project's own testdata captures.
//
// Words used here: a packet is one record of the capture file, DNS or not; a
// message is one DNS message, query or response; a transaction is a query
// and the response to it, if any.
//
// # What is generated
//
// A few hundred clients (IPv4 and IPv6, some behind one 802.1Q tag, some
// behind two tags with an 802.1ad or 0x9100 outer tag) send queries with RD
// set, mostly with an EDNS OPT record (UDP size 1232 or 4096, DO sometimes,
// client subnet sometimes, cookies sometimes), to a few resolvers on UDP port
// 53. Names follow a Zipf popularity so that "top names" is meaningful.
// Responses come 50–500 µs later (a tenth of them, cache misses, 1–30 ms
// later) with 1–4 answers: A and AAAA records behind CNAME chains, MX, TXT,
// NS; NS records in the authority section sometimes; SOA in the authority
// section for NXDOMAIN and NODATA. A share of queries is never answered, a
// share is answered with NXDOMAIN, SERVFAIL (with an extended DNS error) or,
// rarely, the extended rcode BADCOOKIE.
//
// A small share of transactions goes over TCP (RFC 7766): a connection from
// an ephemeral port with its three-way handshake, the query framed by its
// two-byte length (now and then split over two segments, or an A query
// pipelined with an AAAA one as glibc asks, half of those times in the same
// segment), each response in its own segment with more records than over
// UDP (4–8 addresses, several TXT records, four MX hosts), and a FIN from
// each side. Sequence and acknowledgement numbers are exact; a message
// belongs to the segment that completes it. TCP queries are always answered
// and never malformed.
//
// A few mDNS (5353) and LLMNR (5355) exchanges, a small share of non-DNS
// packets (ARP, ICMP and ICMPv6 echo, NTP, QUIC-like UDP, TCP SYN to port
// 443) and a tiny share of malformed DNS payloads (truncated, reserved label
// type, compression loop) are mixed in. Frames shorter than 60 bytes are
// padded as on the wire, so a decoder must trust the IP length, not the
// frame length. All checksums are correct.
//
// The same Config, format included, always gives the same bytes.
//
// # Limitations
//
// IP fragments, IPv6 extension headers, IPv4 options, MPLS and tunnels are
// not generated, nor TCP loss, retransmission, reordering or RST, nor the
// truncated UDP response (TC) that usually precedes a retry over TCP. Names
// never need escaping in presentation form (the rdata of mDNS answers does:
// instance names contain spaces). Classic pcap files are always
// little-endian.
package gen
