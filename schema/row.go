package schema

import (
	"github.com/pcapload/pcapload/ingest/dnsmsg"
	"github.com/pcapload/pcapload/ingest/packet"
)

// Row is the input of one row: a DNS message and the packet it came in.
// A Builder copies what it needs, so the Row may be reused after Append.
type Row struct {
	Time   int64  // packet time, nanoseconds since the epoch, UTC
	Sensor string // name of the sensor that captured the file
	File   string // path of the capture file
	// FileHash is the hex SHA-256 of the capture file as stored: its
	// identity across renames. Empty for standard input.
	FileHash string
	Frame    uint64 // 1-based frame number in the file
	Net      *packet.Frame
	DNS      *dnsmsg.Message

	// Pairing: a query that got a response, or a response that answered a
	// held query, is Paired; Latency is the response's time minus the
	// query's, and PairFrame the other message's frame.
	Paired    bool
	Latency   int64
	PairFrame uint64
}

// Transport names stored in the transport column.
func transportName(proto uint8) string {
	switch proto {
	case 17:
		return "udp"
	case 6:
		return "tcp"
	}
	return "other"
}
