package rotate

import (
	"encoding/binary"
	"testing"

	"golang.org/x/net/bpf"
)

// tags are the TPIDs of a frame's VLAN tags, outer first.
type tags = []uint16

// frame builds an Ethernet frame: tags (TPIDs, each followed by a TCI),
// then an IPv4 or IPv6 header and a transport header with the ports.
type frame struct {
	tags     []uint16
	v6       bool
	proto    uint8
	sport    uint16
	dport    uint16
	fragOff  uint16 // IPv4 flags and fragment offset field
	ihlWords uint8  // IPv4 header length in 32-bit words (default 5)
	v6Frag   bool   // an IPv6 Fragment header before the transport header
	etype    uint16 // EtherType instead of IP's, for non-IP frames
}

func (f frame) bytes() []byte {
	b := make([]byte, 12) // MAC addresses
	for _, t := range f.tags {
		b = binary.BigEndian.AppendUint16(b, t)
		b = binary.BigEndian.AppendUint16(b, 100)
	}
	switch {
	case f.etype != 0:
		b = binary.BigEndian.AppendUint16(b, f.etype)
		return append(b, make([]byte, 46)...)
	case f.v6:
		b = binary.BigEndian.AppendUint16(b, etherTypeIPv6)
		next := f.proto
		if f.v6Frag {
			next = ipv6Fragment
		}
		ip := make([]byte, 40)
		ip[0], ip[6] = 0x60, next
		b = append(b, ip...)
		if f.v6Frag {
			b = append(b, f.proto, 0, 0, 8, 0, 0, 0, 1)
		}
	default:
		b = binary.BigEndian.AppendUint16(b, etherTypeIPv4)
		ihl := max(f.ihlWords, 5)
		ip := make([]byte, 4*int(ihl))
		ip[0], ip[9] = 0x40|ihl, f.proto
		binary.BigEndian.PutUint16(ip[6:], f.fragOff)
		b = append(b, ip...)
	}
	b = binary.BigEndian.AppendUint16(b, f.sport)
	b = binary.BigEndian.AppendUint16(b, f.dport)
	return append(b, make([]byte, 16)...)
}

func TestDNSFilter(t *testing.T) {
	const q, ad, old = etherType8021Q, etherType8021D, etherTypeQinQ
	tests := []struct {
		name string
		f    frame
		keep bool
	}{
		{"udp query", frame{proto: protoUDP, sport: 40000, dport: 53}, true},
		{"udp response", frame{proto: protoUDP, sport: 53, dport: 40000}, true},
		{"tcp", frame{proto: protoTCP, sport: 40000, dport: 53}, true},
		{"mdns", frame{proto: protoUDP, sport: 5353, dport: 5353}, true},
		{"llmnr", frame{proto: protoUDP, sport: 40000, dport: 5355}, true},
		{"ntp", frame{proto: protoUDP, sport: 123, dport: 123}, false},
		{"https", frame{proto: protoTCP, sport: 40000, dport: 443}, false},
		{"icmp", frame{proto: 1, sport: 53, dport: 53}, false},
		{"arp", frame{etype: 0x0806}, false},
		{"ipv4 options", frame{proto: protoUDP, sport: 40000, dport: 53, ihlWords: 7}, true},
		{"ipv4 options hide nothing", frame{proto: protoUDP, sport: 40000, dport: 80, ihlWords: 7}, false},
		{"802.1q", frame{tags: tags{q}, proto: protoUDP, sport: 1, dport: 53}, true},
		{"802.1q other port", frame{tags: tags{q}, proto: protoUDP, sport: 1, dport: 2}, false},
		{"qinq 802.1ad", frame{tags: tags{etherType8021D, q}, proto: protoUDP, sport: 53, dport: 1}, true},
		{"qinq 0x9100", frame{tags: tags{etherTypeQinQ, q}, v6: true, proto: protoUDP, sport: 53}, true},
		{"three tags", frame{tags: tags{etherType8021D, etherType8021Q, q}, proto: protoUDP, dport: 53}, false},
		{"ipv4 later fragment", frame{proto: protoUDP, fragOff: 185}, true},
		{"ipv4 later tagged fragment", frame{tags: tags{q}, proto: protoUDP, fragOff: 0x2000 | 185}, true},
		{"ipv4 first fragment dns", frame{proto: protoUDP, sport: 53, fragOff: 0x2000}, true},
		{"ipv4 first fragment other", frame{proto: protoUDP, sport: 80, fragOff: 0x2000}, false},
		{"ipv4 dont fragment", frame{proto: protoUDP, sport: 80, fragOff: 0x4000}, false},
		{"ipv6 udp", frame{v6: true, proto: protoUDP, sport: 40000, dport: 53}, true},
		{"ipv6 tcp other", frame{v6: true, proto: protoTCP, sport: 40000, dport: 443}, false},
		{"ipv6 fragment", frame{v6: true, v6Frag: true, proto: protoUDP}, true},
		{"ipv6 tagged", frame{tags: tags{q}, v6: true, proto: protoUDP, dport: 5353}, true},
	}
	raw, err := DNSFilter(DNSPorts)
	if err != nil {
		t.Fatal(err)
	}
	prog, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatal("filter does not disassemble")
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := vm.Run(tt.f.bytes())
			if err != nil {
				t.Fatal(err)
			}
			if got := n > 0; got != tt.keep {
				t.Fatalf("kept = %v, want %v", got, tt.keep)
			}
		})
	}
}
