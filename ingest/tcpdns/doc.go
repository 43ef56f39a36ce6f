// Package tcpdns reassembles DNS messages from the TCP segments of a capture
// file.
//
// DNS over TCP frames every message with a two-byte big-endian length
// (RFC 1035 section 4.2.2, RFC 7766 section 8). A Reassembler follows each
// direction of a connection (a Key) by sequence number, puts segments back in
// order, drops retransmitted bytes, and calls back once for every message it
// completes, in stream order.
//
// Vocabulary: a direction is one half of a TCP connection, named by its Key;
// a hole is a range of sequence numbers not yet seen while later data has
// been; a gap is a hole given up on, because the capture lost those bytes;
// a boundary is the position of a length prefix. A direction whose SYN was
// seen knows its boundaries and trusts every prefix. A direction picked up
// mid-stream, or after a gap, guesses: it resynchronises on the first offset
// that looks like a length prefix followed by a DNS header (see Stats.Resyncs)
// and keeps checking every later prefix the same way.
//
// A hole is given up on when any of these holds: a segment past the hole
// begins with a complete, plausible message while nothing is pending before
// the hole (the common loss of whole-message segments; this matches what
// tshark shows); three segments have arrived beyond it (TCP itself treats
// three duplicate ACKs as loss, RFC 5681 section 3.2, so deeper reordering is
// rare); the buffer bound is reached; or the direction ends (FIN, RST). If
// the missing bytes do arrive after a gap was declared at a message
// boundary, the messages they hold are still delivered (Stats.LateFilled),
// after the later ones.
//
// All state is bounded: Config.MaxFlows directions, each holding at most
// Config.MaxBuffered bytes. Time is packet time only: a direction idle for
// Config.Timeout of packet time is dropped.
//
// Limitations:
//   - Without ACK numbers a hole cannot be proven lost; the rules above are
//     heuristics. Data held beyond a hole when the file ends without FIN or
//     RST is counted, not delivered, because Flush has no callback.
//   - Overlapping bytes that differ (a retransmission with other content) are
//     resolved in favour of the later copy.
//   - Worst-case memory is MaxFlows times MaxBuffered; there is no budget
//     shared across directions.
package tcpdns
