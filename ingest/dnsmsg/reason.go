package dnsmsg

// Framing faults. Parsing stops at the first one: the sections hold the
// questions and records decoded before it, and the counts in the header are
// left as they were on the wire.
const (
	// TruncatedHeader means the message is shorter than the 12-octet header
	// (RFC 1035 section 4.1.1).
	TruncatedHeader Reason = "truncated_header"

	// TruncatedQuestion means the message ends inside a question, either in its
	// QNAME or before QTYPE and QCLASS, before QDCOUNT questions were read.
	TruncatedQuestion Reason = "truncated_question"

	// TruncatedRR means the message ends inside the owner name or the fixed
	// fields (type, class, TTL, RDLENGTH) of a resource record, before the
	// section counts were satisfied.
	TruncatedRR Reason = "truncated_rr"

	// TruncatedRData means RDLENGTH runs past the end of the message.
	TruncatedRData Reason = "truncated_rdata"

	// NamePointerLoop means a QNAME or owner name needs more than 126
	// compression pointers to read. Either the pointers loop, or the chain
	// is deeper than any encoder writes; both are hostile.
	NamePointerLoop Reason = "name_pointer_loop"

	// NameBadPointer means a compression pointer in a QNAME or owner name points
	// at or past the end of the message.
	NameBadPointer Reason = "name_bad_pointer"

	// NameTooLong means a QNAME or owner name is longer than 255 octets in its
	// uncompressed wire form (RFC 1035 section 2.3.4).
	NameTooLong Reason = "name_too_long"

	// BadLabelType means a QNAME or owner name has a label whose two top bits are
	// 01 or 10. RFC 6891 section 5 retired the extended label types (0x40)
	// and 0x80 was never assigned, so nothing after such a byte can be read.
	BadLabelType Reason = "bad_label_type"
)

// Content faults. The framing was sound, so every question and record was
// walked and stored; only the part named is wrong. A framing fault found later
// replaces a content fault, since it explains missing records.
const (
	// BadRData means the RDATA of a record does not parse as its type says (a
	// length that does not fit, a name in RDATA with any of the name faults
	// above, a bad type bitmap, ...). The record is kept with its RDATA in the
	// RFC 3597 "\# len hex" form.
	BadRData Reason = "bad_rdata"

	// BadEDNS means the OPT record (RFC 6891 section 6) is wrong: its options
	// overrun its RDATA, an option the package decodes has the wrong length,
	// its owner is not the root, or there is more than one OPT record (the
	// later ones are kept in Additional in RFC 3597 form).
	BadEDNS Reason = "bad_edns"

	// TrailingBytes means octets follow the last record the header counts
	// announce. Everything was decoded; the extra octets are not.
	TrailingBytes Reason = "trailing_bytes"
)

// reasons lists every Reason, in the order of the constants above.
var reasons = [...]Reason{
	TruncatedHeader, TruncatedQuestion, TruncatedRR, TruncatedRData,
	NamePointerLoop, NameBadPointer, NameTooLong, BadLabelType,
	BadRData, BadEDNS, TrailingBytes,
}

// Reasons returns every Reason Unpack can report, for schemas that store them
// as an enumeration. The caller owns the returned slice.
func Reasons() []Reason {
	out := make([]Reason, len(reasons))
	copy(out, reasons[:])
	return out
}

// Framing reports whether r stops parsing, as opposed to a content fault
// after which every record was still decoded.
func (r Reason) Framing() bool {
	switch r {
	case "", BadRData, BadEDNS, TrailingBytes:
		return false
	}
	return true
}
