package packet

// Reason says what became of one packet. Every packet gets exactly one.
type Reason uint8

// Reasons, in the order they are reported.
const (
	DNS             Reason = iota // a DNS message over UDP on a DNS port
	LinkUnsupported               // a link type the decoder does not know
	NotIP                         // ARP, LLDP and other non-IP frames
	Truncated                     // headers cut by the snaplen or the record end
	BadHeader                     // an IP or UDP header that is not valid
	Fragment                      // an IP fragment held for, or dropped from, reassembly
	TCP                           // a TCP segment on a DNS port, handed to stream reassembly
	Tunnel                        // an encapsulation of an unknown kind, or nested too deep
	OtherProtocol                 // ICMP, IGMP and other IP protocols
	OtherPort                     // UDP or TCP not on a DNS port
	EmptyPayload                  // UDP on a DNS port with no payload
	numReasons
)

var reasonNames = [numReasons]string{
	DNS:             "dns",
	LinkUnsupported: "unsupported_link",
	NotIP:           "not_ip",
	Truncated:       "truncated",
	BadHeader:       "bad_header",
	Fragment:        "ip_fragment",
	TCP:             "tcp",
	Tunnel:          "tunnel",
	OtherProtocol:   "other_protocol",
	OtherPort:       "other_port",
	EmptyPayload:    "empty_payload",
}

// String returns the reason's stable snake_case name.
func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return "unknown"
}

// Reasons returns every Reason in reporting order.
func Reasons() []Reason {
	rs := make([]Reason, numReasons)
	for i := range rs {
		rs[i] = Reason(i)
	}
	return rs
}

// Counts holds a packet count per Reason.
type Counts [numReasons]uint64

// Total returns the number of packets counted.
func (c *Counts) Total() uint64 {
	var n uint64
	for _, v := range c {
		n += v
	}
	return n
}

// Add adds o into c.
func (c *Counts) Add(o *Counts) {
	for i, v := range o {
		c[i] += v
	}
}

// Map returns the non-zero counts keyed by reason name.
func (c *Counts) Map() map[string]uint64 {
	m := make(map[string]uint64)
	for i, v := range c {
		if v != 0 {
			m[Reason(i).String()] = v
		}
	}
	return m
}
