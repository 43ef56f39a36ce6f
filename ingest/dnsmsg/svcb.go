package dnsmsg

import "encoding/binary"

// SvcParamKeys of RFC 9460 section 14.3.2 and RFC 9461, 9540.
const (
	svcMandatory     = 0
	svcALPN          = 1
	svcNoDefaultALPN = 2
	svcPort          = 3
	svcIPv4Hint      = 4
	svcECH           = 5
	svcIPv6Hint      = 6
	svcDoHPath       = 7
	svcOHTTP         = 8
	svcInvalid       = 65535
)

// svcKeyNames holds the presentation names of the registered keys.
var svcKeyNames = [...]string{
	"mandatory", "alpn", "no-default-alpn", "port", "ipv4hint", "ech",
	"ipv6hint", "dohpath", "ohttp",
}

// fmtSVCB follows RFC 9460 section 2.1: priority, target and the parameters,
// each as key="value" (quoted always, as miekg/dns writes them). Keys must
// come in increasing order (section 2.2) and values must fit their key.
func fmtSVCB(dst []byte, r *rdReader) []byte {
	dst = appendUint(dst, r.u16())
	dst = r.name(append(dst, ' '))
	last := -1
	for r.off < r.end && !r.bad {
		key := r.u16()
		val := r.take(int(r.u16()))
		if r.bad || int(key) <= last || key == svcInvalid {
			r.bad = true
			return dst
		}
		last = int(key)
		dst = appendSvcKey(append(dst, ' '), key)
		dst = append(dst, '=', '"')
		dst = appendSvcValue(dst, key, val, r)
		dst = append(dst, '"')
	}
	return dst
}

// appendSvcKey appends the name of an SvcParamKey, "key" and the number for
// unregistered ones (RFC 9460 section 2.1).
func appendSvcKey(dst []byte, key uint16) []byte {
	if int(key) < len(svcKeyNames) {
		return append(dst, svcKeyNames[key]...)
	}
	return appendUint(append(dst, "key"...), key)
}

// appendSvcValue appends the presentation form of one SvcParamValue, without
// the quotes. It sets r.bad when the value does not fit its key.
func appendSvcValue(dst []byte, key uint16, val []byte, r *rdReader) []byte {
	ok := true
	switch key {
	case svcMandatory:
		dst, ok = appendSvcMandatory(dst, val)
	case svcALPN:
		dst, ok = appendSvcALPN(dst, val)
	case svcNoDefaultALPN, svcOHTTP:
		ok = len(val) == 0
	case svcPort:
		ok = len(val) == 2
		if ok {
			dst = appendUint(dst, binary.BigEndian.Uint16(val))
		}
	case svcIPv4Hint:
		dst, ok = appendAddrList(dst, val, 4)
	case svcIPv6Hint:
		dst, ok = appendAddrList(dst, val, 16)
	case svcECH:
		dst = appendBase64(dst, val)
	default:
		dst = appendEscaped(dst, val, &svcbEscape)
	}
	if !ok {
		r.bad = true
	}
	return dst
}

// appendSvcMandatory appends a comma-separated list of key names.
func appendSvcMandatory(dst, val []byte) ([]byte, bool) {
	if len(val) == 0 || len(val)%2 != 0 {
		return dst, false
	}
	for i := 0; i < len(val); i += 2 {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendSvcKey(dst, binary.BigEndian.Uint16(val[i:]))
	}
	return dst, true
}

// appendSvcALPN appends a comma-separated list of alpn-ids. A comma or a
// backslash inside an id is escaped twice (RFC 9460 appendix A.1): once for
// the value list and once for the master file.
func appendSvcALPN(dst, val []byte) ([]byte, bool) {
	for i := 0; i < len(val); {
		n := int(val[i])
		i++
		if i+n > len(val) {
			return dst, false
		}
		if i > 1 {
			dst = append(dst, ',')
		}
		dst = appendALPNID(dst, val[i:i+n])
		i += n
	}
	return dst, true
}

// appendALPNID appends one alpn-id.
func appendALPNID(dst, id []byte) []byte {
	for _, c := range id {
		switch c {
		case ',':
			dst = append(dst, `\\\044`...)
		case '\\':
			dst = append(dst, `\\\092`...)
		default:
			dst = appendEscapedByte(dst, c, &svcbEscape)
		}
	}
	return dst
}

// appendAddrList appends a comma-separated list of addresses of size octets.
// IPv4-mapped addresses are refused in ipv6hint, as miekg/dns does, since
// RFC 9460 section 7.3 says clients must ignore them there.
func appendAddrList(dst, val []byte, size int) ([]byte, bool) {
	if len(val) == 0 || len(val)%size != 0 {
		return dst, false
	}
	for i := 0; i < len(val); i += size {
		if i > 0 {
			dst = append(dst, ',')
		}
		a := val[i : i+size]
		if size == 4 {
			dst = appendIPv4(dst, a)
			continue
		}
		if isV4Mapped(a) {
			return dst, false
		}
		dst = appendIPv6(dst, a)
	}
	return dst, true
}

// isV4Mapped reports whether a 16-octet address is ::ffff:a.b.c.d.
func isV4Mapped(a []byte) bool {
	for _, c := range a[:10] {
		if c != 0 {
			return false
		}
	}
	return a[10] == 0xff && a[11] == 0xff
}
