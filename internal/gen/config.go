package gen

// defaultStart is 2026-11-02T08:00:00Z in nanoseconds since the epoch.
const defaultStart = 1793606400 * int64(1e9)

// Config says what to generate. The zero value of each field has a sensible
// default, documented on it. A share is a number between 0 and 1; zero means
// the default share and a negative share means none at all.
type Config struct {
	Seed     int64 // same seed, same bytes
	Messages int   // DNS messages to emit, queries and responses counted apart (default 1000)
	Start    int64 // first packet time, ns since the epoch (default 2026-11-02T08:00:00Z)

	// Rate is the mean number of new transactions and non-DNS packets per
	// second, with exponential gaps between them (default 20000).
	Rate float64

	Clients   int // distinct clients (default 300)
	Resolvers int // resolvers the clients talk to (default 3)
	Names     int // distinct popular names, not counting NXDOMAIN names (default 10000)

	IPv6       float64 // share of clients on IPv6 (default 0.3)
	VLAN       float64 // share of clients behind one 802.1Q tag (default 0.15)
	QinQ       float64 // share of clients behind two tags (default 0.05)
	Cooked     float64 // pcapng: share of untagged clients seen on the SLL2 interface (default 0.2)
	EDNS       float64 // share of queries with an OPT record (default 0.85)
	NXDomain   float64 // share of queries for names that do not exist (default 0.06)
	ServFail   float64 // share of responses that are SERVFAIL (default 0.01)
	Unanswered float64 // share of queries never answered (default 0.02)
	Malformed  float64 // share of DNS messages with a malformed payload (default 0.002)
	Multicast  float64 // share of transactions that are mDNS or LLMNR (default 0.005)
	TCP        float64 // share of unicast transactions carried over TCP (default 0.02)
	NonDNS     float64 // share of packets that are not DNS (default 0.02)
}

// withDefaults returns cfg with every zero field replaced by its default and
// every negative share by zero.
func (cfg Config) withDefaults() Config {
	c := cfg
	c.Messages = orInt(c.Messages, 1000)
	c.Start = orInt64(c.Start, defaultStart)
	c.Rate = orShare(c.Rate, 20000)
	c.Clients = orInt(c.Clients, 300)
	c.Resolvers = orInt(c.Resolvers, 3)
	c.Names = orInt(c.Names, 10000)
	c.IPv6 = orShare(c.IPv6, 0.3)
	c.VLAN = orShare(c.VLAN, 0.15)
	c.QinQ = orShare(c.QinQ, 0.05)
	c.Cooked = orShare(c.Cooked, 0.2)
	c.EDNS = orShare(c.EDNS, 0.85)
	c.NXDomain = orShare(c.NXDomain, 0.06)
	c.ServFail = orShare(c.ServFail, 0.01)
	c.Unanswered = orShare(c.Unanswered, 0.02)
	c.Malformed = orShare(c.Malformed, 0.002)
	c.Multicast = orShare(c.Multicast, 0.005)
	c.TCP = orShare(c.TCP, 0.02)
	c.NonDNS = orShare(c.NonDNS, 0.02)
	return c
}

func orInt(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

func orInt64(v, def int64) int64 {
	if v == 0 {
		return def
	}
	return v
}

func orShare(v, def float64) float64 {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// Format is the capture file format to write.
type Format uint8

// Formats Write knows. Classic pcap files have one Ethernet interface;
// pcapng files have an Ethernet interface (0) and a Linux SLL2 interface (1)
// and end with an interface statistics block for each.
const (
	Pcap     Format = iota // classic pcap, microsecond timestamps
	PcapNano               // classic pcap, nanosecond timestamps
	Pcapng                 // pcapng, nanosecond timestamps
)

// String returns the name gencap uses for f.
func (f Format) String() string {
	switch f {
	case Pcap:
		return "pcap"
	case PcapNano:
		return "pcap-ns"
	case Pcapng:
		return "pcapng"
	}
	return "unknown"
}
