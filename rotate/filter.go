package rotate

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// DNSPorts are the UDP and TCP ports DNSFilter keeps: DNS, mDNS and LLMNR.
var DNSPorts = []uint32{53, 5353, 5355}

// Ethernet and IP constants of the filter.
const (
	etherTypeIPv4  = 0x0800
	etherTypeIPv6  = 0x86dd
	etherType8021Q = 0x8100
	etherType8021D = 0x88a8
	etherTypeQinQ  = 0x9100 // pre-standard outer tag, still seen on old switches
	protoTCP       = 6
	protoUDP       = 17
	ipv6Fragment   = 44
	acceptLen      = 0x40000 // keep the whole packet; the ring's snaplen cuts it
)

// DNSFilter returns a classic BPF program for Ethernet frames that keeps
// IPv4 and IPv6 UDP and TCP packets from or to one of ports, untagged or
// behind one or two VLAN tags (802.1Q, 802.1ad, 0x9100), and every IP
// fragment but the first, which carry no ports (first fragments carry them
// and are matched like whole packets). The kernel removes the outer VLAN tag
// before a packet socket's filter runs, so the in-band tags the program
// walks are the ones left.
//
// Layout: X holds the bytes of VLAN tags before the EtherType, then the
// IPv4 header length; loads are X-relative, so one program serves every
// tagging. Offsets are from the start of the Ethernet header.
//
// Limits: IPv6 extension headers other than a Fragment header hide the
// ports and the packet is dropped.
// TODO(filter): walk hop-by-hop, routing and destination options headers;
// a bounded unrolled walk like the VLAN one would do.
func DNSFilter(ports []uint32) ([]bpf.RawInstruction, error) {
	var a asm
	a.vlanTags()
	a.label("etype")
	a.jeq(etherTypeIPv4, "ipv4")
	a.jeq(etherTypeIPv6, "ipv6")
	a.drop()
	a.ipv4()
	a.ports(ports, 14)
	a.label("ipv6")
	a.ins(bpf.LoadIndirect{Off: 20, Size: 1})
	a.jeq(ipv6Fragment, "accept")
	a.jeq(protoUDP, "ports6")
	a.jeq(protoTCP, "ports6")
	a.drop()
	a.label("ports6")
	a.ports(ports, 54)
	a.label("accept")
	a.ins(bpf.RetConstant{Val: acceptLen})
	prog, err := a.resolve()
	if err != nil {
		return nil, err
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, fmt.Errorf("assemble filter: %w", err)
	}
	return raw, nil
}

// vlanTags loads the EtherType into A, skipping up to two VLAN tags, with
// their length in X.
func (a *asm) vlanTags() {
	a.ins(bpf.LoadConstant{Dst: bpf.RegX, Val: 0})
	a.ins(bpf.LoadAbsolute{Off: 12, Size: 2})
	for i, next := range []string{"tag1", "tag2"} {
		a.jeq(etherType8021Q, next)
		a.jeq(etherType8021D, next)
		a.jeq(etherTypeQinQ, next)
		a.jump("etype")
		a.label(next)
		a.ins(bpf.LoadAbsolute{Off: uint32(16 + 4*i), Size: 2})
		a.ins(bpf.LoadConstant{Dst: bpf.RegX, Val: uint32(4 + 4*i)})
	}
}

// ipv4 accepts fragments, drops what is neither UDP nor TCP, and leaves X
// at the VLAN tags plus the IPv4 header length.
func (a *asm) ipv4() {
	a.label("ipv4")
	a.ins(bpf.LoadIndirect{Off: 20, Size: 2}) // flags and fragment offset
	a.jset(0x1fff, "accept")                  // not the first fragment
	a.ins(bpf.LoadIndirect{Off: 23, Size: 1}) // protocol
	a.jeq(protoUDP, "ports4")
	a.jeq(protoTCP, "ports4")
	a.drop()
	a.label("ports4")
	a.ins(bpf.LoadIndirect{Off: 14, Size: 1})
	a.ins(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0x0f})
	a.ins(bpf.ALUOpConstant{Op: bpf.ALUOpShiftLeft, Val: 2})
	a.ins(bpf.ALUOpX{Op: bpf.ALUOpAdd})
	a.ins(bpf.TAX{})
}

// ports accepts a packet whose source or destination port, at X+off and
// X+off+2, is one of ports, and drops it otherwise.
func (a *asm) ports(ports []uint32, off uint32) {
	for _, o := range []uint32{off, off + 2} {
		a.ins(bpf.LoadIndirect{Off: o, Size: 2})
		for _, p := range ports {
			a.jeq(p, "accept")
		}
	}
	a.drop()
}
