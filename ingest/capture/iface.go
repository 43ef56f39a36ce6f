package capture

// Interface describes one capture interface: the pcap file header, or a
// pcapng Interface Description Block together with the statistics of the
// latest Interface Statistics Block that named it.
type Interface struct {
	Section  int      // 0-based pcapng section; 0 for pcap
	ID       uint32   // interface ID within its section, as EPBs refer to it
	LinkType LinkType // link type of every packet of the interface
	Snaplen  uint32   // maximum captured length; 0 means no limit
	Name     string   // if_name option; empty when absent and for pcap
	FCSLen   uint8    // bytes of frame check sequence ending each packet, when known
	Stats    InterfaceStats
}

// InterfaceStats holds the counters of an Interface Statistics Block. pcapng
// counters are cumulative from the start of the capture, so the latest block
// wins. Has* tell a zero count from an absent option.
type InterfaceStats struct {
	Blocks      int    // Interface Statistics Blocks seen for the interface
	Timestamp   int64  // time of the latest block, ns since the epoch
	Received    uint64 // isb_ifrecv: packets received by the interface
	Dropped     uint64 // isb_ifdrop: packets dropped by the interface or OS for lack of resources
	OSDropped   uint64 // isb_osdrop: packets dropped by the operating system
	HasReceived bool
	HasDropped  bool
	HasOSDrop   bool
}
