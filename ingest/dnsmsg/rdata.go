package dnsmsg

import "encoding/binary"

// rdReader walks the RDATA of one record. The first read that does not fit
// sets bad, and every later read is then a no-op, so a formatter can read
// its fields in a row and the caller checks once at the end.
type rdReader struct {
	msg []byte // the whole message: names in RDATA may point anywhere in it
	off int
	end int // end of the RDATA
	bad bool

	names *nameCache // names already written for this message
}

// take returns the next n octets of the RDATA, or nil when they are not there.
func (r *rdReader) take(n int) []byte {
	if r.bad || n > r.end-r.off {
		r.bad = true
		return nil
	}
	b := r.msg[r.off : r.off+n]
	r.off += n
	return b
}

func (r *rdReader) u8() uint8 {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *rdReader) u16() uint16 {
	if b := r.take(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *rdReader) u32() uint32 {
	if b := r.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

// rest returns the octets up to the end of the RDATA.
func (r *rdReader) rest() []byte {
	if r.bad {
		return nil
	}
	b := r.msg[r.off:r.end]
	r.off = r.end
	return b
}

// name appends the presentation form of a domain name. Pointers are followed
// in every type, not only in those RFC 3597 section 4 allows to be
// compressed, as miekg/dns does; a name must end inside the RDATA.
func (r *rdReader) name(dst []byte) []byte {
	if r.bad {
		return dst
	}
	if name, ok := r.names.lookup(r.msg[:r.end], r.off); ok {
		r.off += 2
		return append(dst, name...)
	}
	start := len(dst)
	dst, next, hops, fault := appendName(dst, r.msg, r.off)
	if fault != "" || next > r.end {
		r.bad = true
		return dst
	}
	r.names.add(r.off, hops, dst[start:len(dst):len(dst)])
	r.off = next
	return dst
}

// str appends one character-string (RFC 1035 section 3.3), quoted.
func (r *rdReader) str(dst []byte) []byte {
	n := r.u8()
	s := r.take(int(n))
	if r.bad {
		return dst
	}
	return appendQuoted(dst, s)
}

// rdataFunc appends the presentation form of the RDATA r walks to dst.
// It leaves r.bad set, or r.off short of r.end, when the RDATA does not fit
// the type; the caller then discards what it appended.
type rdataFunc func(dst []byte, r *rdReader) []byte

// formatters maps an RR type to its formatter; nil means RFC 3597 form.
//
// TODO(rdata): LOC, APL, CERT, IPSECKEY, HIP, AMTRELAY, EUI48/64, NID, L32/L64
// and WKS fall back to RFC 3597 form; formatters for them (RFC 1876, 3123,
// 4398, 4025, 8005, 8777, 7043, 6742, 1035) would match dig.
var formatters = [...]rdataFunc{
	typeA:          fmtA,
	typeNS:         fmtName,
	typeMD:         fmtName,
	typeMF:         fmtName,
	typeCNAME:      fmtName,
	typeSOA:        fmtSOA,
	typeMB:         fmtName,
	typeMG:         fmtName,
	typeMR:         fmtName,
	typePTR:        fmtName,
	typeHINFO:      fmtHINFO,
	typeMINFO:      fmtTwoNames,
	typeMX:         fmtPrefName,
	typeTXT:        fmtTXT,
	typeRP:         fmtTwoNames,
	typeAFSDB:      fmtPrefName,
	typeRT:         fmtPrefName,
	typeNSAPPTR:    fmtName,
	typeSIG:        fmtRRSIG,
	typeKEY:        fmtDNSKEY,
	typeAAAA:       fmtAAAA,
	typeSRV:        fmtSRV,
	typeNAPTR:      fmtNAPTR,
	typeKX:         fmtPrefName,
	typeDNAME:      fmtName,
	typeDS:         fmtDS,
	typeSSHFP:      fmtSSHFP,
	typeRRSIG:      fmtRRSIG,
	typeNSEC:       fmtNSEC,
	typeDNSKEY:     fmtDNSKEY,
	typeDHCID:      fmtBase64,
	typeNSEC3:      fmtNSEC3,
	typeNSEC3PARAM: fmtNSEC3PARAM,
	typeTLSA:       fmtTLSA,
	typeSMIMEA:     fmtTLSA,
	typeNINFO:      fmtTXT,
	typeCDS:        fmtDS,
	typeCDNSKEY:    fmtDNSKEY,
	typeOPENPGPKEY: fmtBase64,
	typeCSYNC:      fmtCSYNC,
	typeZONEMD:     fmtZONEMD,
	typeSVCB:       fmtSVCB,
	typeHTTPS:      fmtSVCB,
	typeSPF:        fmtTXT,
	typeLP:         fmtPrefName,
	typeURI:        fmtURI,
	typeCAA:        fmtCAA,
	typeAVC:        fmtTXT,
	typeRESINFO:    fmtTXT,
}

// formatterFor returns the formatter of type t, or nil.
func formatterFor(t uint16) rdataFunc {
	if int(t) < len(formatters) {
		return formatters[t]
	}
	if t == typeTA || t == typeDLV {
		return fmtDS
	}
	return nil
}

// appendUnknown appends RDATA in the RFC 3597 section 5 form: "\#", the
// length and the octets in hex ("\# 0" when there are none).
func appendUnknown(dst, rdata []byte) []byte {
	dst = appendUint(append(dst, `\# `...), uint16(len(rdata)))
	if len(rdata) == 0 {
		return dst
	}
	return appendHex(append(dst, ' '), rdata)
}

func fmtA(dst []byte, r *rdReader) []byte {
	if a := r.take(4); a != nil {
		dst = appendIPv4(dst, a)
	}
	return dst
}

func fmtAAAA(dst []byte, r *rdReader) []byte {
	if a := r.take(16); a != nil {
		dst = appendIPv6(dst, a)
	}
	return dst
}

func fmtName(dst []byte, r *rdReader) []byte {
	return r.name(dst)
}

// fmtPrefName formats a 16-bit number and a name: MX, AFSDB, RT, KX, LP.
func fmtPrefName(dst []byte, r *rdReader) []byte {
	dst = appendUint(dst, r.u16())
	return r.name(append(dst, ' '))
}

// fmtTwoNames formats two names: MINFO, RP.
func fmtTwoNames(dst []byte, r *rdReader) []byte {
	dst = r.name(dst)
	return r.name(append(dst, ' '))
}

// fmtSOA follows RFC 1035 section 3.3.13.
func fmtSOA(dst []byte, r *rdReader) []byte {
	dst = r.name(dst)
	dst = r.name(append(dst, ' '))
	for range 5 {
		dst = appendUint(append(dst, ' '), r.u32())
	}
	return dst
}

// fmtTXT formats one or more character-strings: TXT, SPF, AVC, NINFO,
// RESINFO (RFC 1035 section 3.3.14).
func fmtTXT(dst []byte, r *rdReader) []byte {
	for i := 0; r.off < r.end && !r.bad; i++ {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = r.str(dst)
	}
	return dst
}

// fmtHINFO follows RFC 1035 section 3.3.2: CPU and OS.
func fmtHINFO(dst []byte, r *rdReader) []byte {
	dst = r.str(dst)
	return r.str(append(dst, ' '))
}

// fmtSRV follows RFC 2782: priority, weight, port, target.
func fmtSRV(dst []byte, r *rdReader) []byte {
	dst = appendUint(dst, r.u16())
	dst = appendUint(append(dst, ' '), r.u16())
	dst = appendUint(append(dst, ' '), r.u16())
	return r.name(append(dst, ' '))
}

// fmtNAPTR follows RFC 3403 section 4.1: order, preference, flags, services,
// regexp, replacement.
func fmtNAPTR(dst []byte, r *rdReader) []byte {
	dst = appendUint(dst, r.u16())
	dst = appendUint(append(dst, ' '), r.u16())
	for range 3 {
		dst = r.str(append(dst, ' '))
	}
	return r.name(append(dst, ' '))
}

// fmtCAA follows RFC 8659 section 4.1.1: flags, tag, and the value, which is
// not a character-string but the rest of the RDATA, written quoted.
func fmtCAA(dst []byte, r *rdReader) []byte {
	dst = appendUint(dst, r.u8())
	tag := r.take(int(r.u8()))
	if r.bad || len(tag) == 0 {
		r.bad = true
		return dst
	}
	dst = appendEscaped(append(dst, ' '), tag, &textEscape)
	return appendQuoted(append(dst, ' '), r.rest())
}

// fmtURI follows RFC 7553 section 4.5: priority, weight, quoted target.
func fmtURI(dst []byte, r *rdReader) []byte {
	dst = appendUint(dst, r.u16())
	dst = appendUint(append(dst, ' '), r.u16())
	return appendQuoted(append(dst, ' '), r.rest())
}

// fmtDS follows RFC 4034 section 5.3: key tag, algorithm, digest type and
// the digest in hex. Also CDS, DLV and TA.
func fmtDS(dst []byte, r *rdReader) []byte {
	dst = appendUint(dst, r.u16())
	dst = appendUint(append(dst, ' '), r.u8())
	dst = appendUint(append(dst, ' '), r.u8())
	return appendHexUpper(append(dst, ' '), r.nonEmptyRest())
}

// fmtDNSKEY follows RFC 4034 section 2.2: flags, protocol, algorithm and
// the key in base64. Also CDNSKEY and KEY.
func fmtDNSKEY(dst []byte, r *rdReader) []byte {
	dst = appendUint(dst, r.u16())
	dst = appendUint(append(dst, ' '), r.u8())
	dst = appendUint(append(dst, ' '), r.u8())
	return appendBase64(append(dst, ' '), r.nonEmptyRest())
}

// fmtSSHFP follows RFC 4255 section 3.2.
func fmtSSHFP(dst []byte, r *rdReader) []byte {
	dst = appendUint(dst, r.u8())
	dst = appendUint(append(dst, ' '), r.u8())
	return appendHexUpper(append(dst, ' '), r.nonEmptyRest())
}

// fmtTLSA follows RFC 6698 section 2.2: usage, selector, matching type and
// the data in hex. Also SMIMEA.
func fmtTLSA(dst []byte, r *rdReader) []byte {
	dst = appendUint(dst, r.u8())
	dst = appendUint(append(dst, ' '), r.u8())
	dst = appendUint(append(dst, ' '), r.u8())
	return appendHex(append(dst, ' '), r.nonEmptyRest())
}

// fmtZONEMD follows RFC 8976 section 2.3.
func fmtZONEMD(dst []byte, r *rdReader) []byte {
	dst = appendUint(dst, r.u32())
	dst = appendUint(append(dst, ' '), r.u8())
	dst = appendUint(append(dst, ' '), r.u8())
	return appendHex(append(dst, ' '), r.nonEmptyRest())
}

// fmtBase64 formats RDATA that is one base64 blob: DHCID, OPENPGPKEY.
func fmtBase64(dst []byte, r *rdReader) []byte {
	return appendBase64(dst, r.rest())
}

// nonEmptyRest is rest for fields that the type requires to be present.
func (r *rdReader) nonEmptyRest() []byte {
	b := r.rest()
	if len(b) == 0 {
		r.bad = true
	}
	return b
}

// fmtRRSIG follows RFC 4034 section 3.2. Also SIG (RFC 2535 section 4.1).
func fmtRRSIG(dst []byte, r *rdReader) []byte {
	dst = appendType(dst, r.u16())
	dst = appendUint(append(dst, ' '), r.u8())
	dst = appendUint(append(dst, ' '), r.u8())
	dst = appendUint(append(dst, ' '), r.u32())
	dst = appendTime(append(dst, ' '), r.u32())
	dst = appendTime(append(dst, ' '), r.u32())
	dst = appendUint(append(dst, ' '), r.u16())
	dst = r.name(append(dst, ' '))
	return appendBase64(append(dst, ' '), r.nonEmptyRest())
}

// fmtNSEC follows RFC 4034 section 4.2: next name and type bitmap.
func fmtNSEC(dst []byte, r *rdReader) []byte {
	return appendTypeBitmap(r.name(dst), r)
}

// fmtCSYNC follows RFC 7477 section 2.1.1.
func fmtCSYNC(dst []byte, r *rdReader) []byte {
	dst = appendUint(dst, r.u32())
	dst = appendUint(append(dst, ' '), r.u16())
	return appendTypeBitmap(dst, r)
}

// fmtNSEC3 follows RFC 5155 section 3.3: hash algorithm, flags, iterations,
// salt ("-" when empty), next hashed owner in base32hex, type bitmap.
func fmtNSEC3(dst []byte, r *rdReader) []byte {
	dst = fmtNSEC3PARAM(dst, r)
	next := r.take(int(r.u8()))
	if r.bad || len(next) == 0 {
		r.bad = true
		return dst
	}
	dst = base32Hex.AppendEncode(append(dst, ' '), next)
	return appendTypeBitmap(dst, r)
}

// fmtNSEC3PARAM follows RFC 5155 section 4.3.
func fmtNSEC3PARAM(dst []byte, r *rdReader) []byte {
	dst = appendUint(dst, r.u8())
	dst = appendUint(append(dst, ' '), r.u8())
	dst = appendUint(append(dst, ' '), r.u16())
	salt := r.take(int(r.u8()))
	if len(salt) == 0 {
		return append(dst, " -"...)
	}
	return appendHexUpper(append(dst, ' '), salt)
}

// appendTypeBitmap formats the type bitmap that ends NSEC, NSEC3 and CSYNC
// RDATA (RFC 4034 section 4.1.2): windows in increasing order, each of 1 to
// 32 octets, every set bit one type mnemonic.
func appendTypeBitmap(dst []byte, r *rdReader) []byte {
	last := -1
	for r.off < r.end && !r.bad {
		window, n := int(r.u8()), int(r.u8())
		bits := r.take(n)
		if r.bad || window <= last || n == 0 || n > 32 {
			r.bad = true
			return dst
		}
		last = window
		for i, c := range bits {
			dst = appendBits(dst, uint16(window<<8|i<<3), c)
		}
	}
	return dst
}

// appendBits appends the mnemonics of the types whose bits are set in c, the
// most significant bit standing for type base.
func appendBits(dst []byte, base uint16, c byte) []byte {
	for t := base; c != 0; t, c = t+1, c<<1 {
		if c&0x80 != 0 {
			dst = appendType(append(dst, ' '), t)
		}
	}
	return dst
}
