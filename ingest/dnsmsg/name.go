package dnsmsg

// Limits on names (RFC 1035 sections 2.3.4 and 4.1.4).
const (
	// maxNameWire is the longest a name may be in its uncompressed wire
	// form, length octets and the terminating zero included.
	maxNameWire = 255

	// maxPointers bounds the compression pointers followed for one name.
	// A name of at most 255 octets has at most 127 labels, so an encoder
	// that points once per label (the most any sane one does) needs fewer
	// pointers than that; miekg/dns uses the same bound. Without a bound a
	// pointer loop never ends, and a long pointer-to-pointer chain shared by
	// thousands of records would cost quadratic time.
	maxPointers = maxNameWire/2 - 1

	// nameTruncated is an internal result of appendName: the name ran off
	// the end of the message. Callers turn it into the Reason of the place
	// the name was in; it is never stored.
	nameTruncated Reason = "name_truncated"
)

// appendName appends the presentation form of the name at msg[off:] to dst:
// labels escaped as in an RFC 1035 master file, joined by dots, without the
// trailing dot, and "." for the root. It returns the offset just after the
// name where it starts (after its first pointer when it is compressed) and
// the number of pointers followed.
//
// Forward pointers are followed: RFC 1035 section 4.1.4 says a pointer refers
// to a prior occurrence, but tshark and miekg/dns accept forward ones, and
// the pointer and length bounds make them harmless.
//
// On a fault the returned Reason is set and dst may hold a partial name that
// the caller must discard. The function is the wire-format state machine of
// RFC 1035 section 4.1.4 in one loop, kept whole because it is the hot path.
func appendName(dst, msg []byte, off int) ([]byte, int, int, Reason) {
	start := len(dst)
	next := -1 // offset after the name in place, set at the first pointer
	wire := 1  // the terminating zero octet
	hops := 0
	for {
		if off >= len(msg) {
			return dst, 0, 0, nameTruncated
		}
		c := int(msg[off])
		switch c & 0xC0 {
		case 0x00:
			if c == 0 {
				if next < 0 {
					next = off + 1
				}
				if len(dst) == start {
					dst = append(dst, '.')
				}
				return dst, next, hops, ""
			}
			off++
			if off+c > len(msg) {
				return dst, 0, 0, nameTruncated
			}
			if wire += c + 1; wire > maxNameWire {
				return dst, 0, 0, NameTooLong
			}
			if len(dst) > start {
				dst = append(dst, '.')
			}
			dst = appendEscaped(dst, msg[off:off+c], &labelEscape)
			off += c
		case 0xC0:
			if off+1 >= len(msg) {
				return dst, 0, 0, nameTruncated
			}
			if next < 0 {
				next = off + 2
			}
			if hops++; hops > maxPointers {
				return dst, 0, 0, NamePointerLoop
			}
			off = (c&0x3F)<<8 | int(msg[off+1])
			if off >= len(msg) {
				return dst, 0, 0, NameBadPointer
			}
		default:
			return dst, 0, 0, BadLabelType
		}
	}
}

// nameCache remembers the names already written for this message by the
// offset they start at. Responses point at the QNAME and at CNAME targets
// again and again; a hit returns the earlier slice instead of writing the name
// anew. Small and linear on purpose: most messages have a handful of names.
type nameCache struct {
	n       int
	entries [8]cachedName
}

type cachedName struct {
	off  int    // where the name starts in the message
	hops int    // pointers followed to read it
	name []byte // its presentation form, in the arena
}

// lookup returns the name a pointer at msg[off:] refers to, if it was
// written before and one more pointer keeps it within maxPointers.
func (c *nameCache) lookup(msg []byte, off int) ([]byte, bool) {
	if off+1 >= len(msg) || msg[off]&0xC0 != 0xC0 {
		return nil, false
	}
	target := int(msg[off]&0x3F)<<8 | int(msg[off+1])
	for i := range c.entries[:c.n] {
		if e := &c.entries[i]; e.off == target && e.hops < maxPointers {
			return e.name, true
		}
	}
	return nil, false
}

// add remembers a name read from off with hops pointers, while there is room.
func (c *nameCache) add(off, hops int, name []byte) {
	if c.n < len(c.entries) {
		// Field by field: a composite literal is built on the stack and
		// copied in 16-byte loads the processor cannot forward from the
		// narrower stores just made (1% of a Parquet export).
		e := &c.entries[c.n]
		e.off, e.hops, e.name = off, hops, name
		c.n++
	}
}
