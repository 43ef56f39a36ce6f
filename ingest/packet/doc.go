// Package packet decodes the link, network and transport headers of a
// captured packet down to the DNS payload it carries.
//
// Decode handles Ethernet with any depth of 802.1Q, 802.1ad and 0x9100 tags,
// Linux cooked captures (SLL and SLL2), raw IP (LINKTYPE_RAW, _IPV4, _IPV6),
// BSD null and OpenBSD loopback, PPP and NFLOG; then IPv4 (with options) and
// IPv6 (with extension headers), reassembling fragments; then UDP, and the
// TCP segment header. Encapsulations are peeled and what they carry decodes
// as if it arrived plain: MPLS, PPPoE, GRE (with ERSPAN types I, II and
// III), VXLAN, Geneve and IP-in-IP. Every packet gets exactly one Reason, so
// that a file's per-reason counts sum to the packets read.
//
// Decoding is hand-written rather than built on gopacket's layer parser: it
// only has to find one payload, it must be allocation-free, and it records
// why a packet was not DNS, which the layer parser does not report.
//
// TCP segments on a DNS port are returned with their sequence number and
// payload; reassembling the stream is the caller's job.
package packet
