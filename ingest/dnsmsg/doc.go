// Package dnsmsg decodes DNS messages (RFC 1035 section 4) into a flat,
// reusable Message: the header and every flag, every question, the answer,
// authority and additional records with their RDATA in presentation form, and
// the EDNS(0) fields of the OPT record (RFC 6891) that pcapload stores.
//
// # Vocabulary
//
// A message is one DNS message as carried by one UDP datagram or one
// length-prefixed TCP frame. Its sections are the question, answer, authority
// and additional sections; a record is a resource record (RR). The spellings
// are Go's: ID, QR, RCode, QDCount, TTL. RCode is the full 12-bit RCODE: the
// header's 4 bits extended by the OPT record's 8 (RFC 6891 section 6.1.3), so
// BADVERS reads 16 and BADCOOKIE 23.
//
// # Presentation form
//
// Names are written as in a master file (RFC 1035 section 5.1) without the
// trailing dot, "." for the root: the dot and the backslash inside a label
// are escaped with a backslash, as are the space, the quote, the apostrophe
// and the characters @ ; ( ) that end or change a token in a master file, and
// octets outside printable ASCII are written \DDD.
// RDATA is written as dig and miekg/dns print it after the owner, TTL, class
// and type: domain names inside it follow the same rule as owner names,
// character-strings are quoted. Types the package does not format, and RDATA
// that does not parse for its type, are written in the RFC 3597 form
// "\# length hex". The cross-check test against miekg/dns lists the
// deliberate differences.
//
// # Faults
//
// Unpack never fails. Message.Malformed names the first fault as a Reason,
// a stable snake_case string meant for storage: framing faults (truncation,
// hostile names in the question or owner names) stop parsing, content faults
// (bad RDATA, bad OPT record, trailing octets) do not. Compression pointers
// may point forward but are bounded to 126 per name, and names to 255 octets,
// so time is linear in the message size.
//
// # Ownership
//
// A Message owns every []byte it holds and reuses that storage on the next
// Unpack; a caller that keeps a field past that must copy it.
//
// # Limitations
//
// LOC, APL, CERT, IPSECKEY, HIP, AMTRELAY, NULL, WKS and the other types not
// listed in rdata.go are written in RFC 3597 form. Names in RDATA are
// decompressed for every type, whereas RFC 3597 section 4 allows compression
// only in the RDATA of the RFC 1035 types.
package dnsmsg
