package dnsmsg

// Message is one decoded DNS message (RFC 1035 section 4.1).
//
// A Message is meant to be reused: Unpack resets it and keeps the capacity of
// its slices. Every []byte in it points into storage owned by the Message and
// is valid only until the next Unpack; callers that keep one must copy it.
type Message struct {
	// Header. RCode holds the 4 header bits, extended by the upper 8 bits
	// carried in the OPT record when there is one (RFC 6891 section 6.1.3).
	ID      uint16
	QR      bool
	Opcode  uint8
	AA      bool
	TC      bool
	RD      bool
	RA      bool
	Z       bool
	AD      bool
	CD      bool
	RCode   uint16
	QDCount uint16
	ANCount uint16
	NSCount uint16
	ARCount uint16

	// Sections, in wire order. The OPT pseudo-record is not in Additional;
	// its fields are in EDNS.
	Questions  []Question
	Answer     []RR
	Authority  []RR
	Additional []RR

	EDNS EDNS

	// Size is the length of the message on the wire, in bytes.
	Size int

	// Malformed is empty when the whole message parsed; otherwise it names
	// the first fault. After a framing fault (Reason.Framing) parsing
	// stopped and the fields above hold what parsed before it; after a
	// content fault every record is present and only the part named is
	// wrong (see the Reason constants).
	Malformed Reason

	arena []byte   // backing store of the []byte fields
	rd    rdReader // reused: a local one would escape through formatters
	names nameCache
}

// Question is one entry of the question section.
type Question struct {
	Name  []byte // presentation form, escaped, no trailing dot; "." for the root
	Type  uint16
	Class uint16
}

// RR is one resource record of the answer, authority or additional section.
type RR struct {
	Name  []byte // presentation form, escaped, no trailing dot; "." for the root
	Type  uint16
	Class uint16
	TTL   uint32
	Data  []byte // RDATA in presentation form; RFC 3597 "\# len hex" for unknown types
}

// EDNS holds the fields of the OPT pseudo-record (RFC 6891) and of the
// options the product stores.
type EDNS struct {
	Present bool
	UDPSize uint16
	Version uint8
	DO      bool
	Options []uint16 // option codes, in wire order

	// Client subnet (RFC 7871). Family is 0 when the option is absent.
	ECSFamily       uint16
	ECSSourcePrefix uint8
	ECSScopePrefix  uint8
	ECSAddress      []byte // presentation form of the (zero-padded) address

	ClientCookie []byte // raw bytes (RFC 7873)
	ServerCookie []byte
	NSID         []byte // raw bytes (RFC 5001)

	// Extended DNS errors (RFC 8914), one entry per option.
	EDECodes []uint16
	EDETexts [][]byte
}

// Reason says why a message did not parse whole. The values are stable
// identifiers stored in the database; the empty Reason means no fault.
type Reason string
