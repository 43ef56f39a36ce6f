// Package packet decodes the link, network and transport headers of a
// captured packet down to the DNS payload it carries.
//
// Decode handles Ethernet with any depth of 802.1Q, 802.1ad and 0x9100 tags,
// Linux cooked captures (SLL and SLL2), raw IP (LINKTYPE_RAW, _IPV4, _IPV6),
// BSD null and OpenBSD loopback, then IPv4 (with options) and IPv6 (with
// extension headers) and UDP. Every packet gets exactly one Reason, so that a
// file's per-reason counts sum to the packets read.
//
// Decoding is hand-written rather than built on gopacket's layer parser: it
// only has to find one payload, it must be allocation-free, and it records
// why a packet was not DNS, which the layer parser does not report.
//
// Limitations: TCP streams, IP fragments and tunnels (GRE, ERSPAN, VXLAN,
// Geneve, IP-in-IP, MPLS) are recognised and counted under their own Reason
// but not yet decoded (issue #4).
package packet
