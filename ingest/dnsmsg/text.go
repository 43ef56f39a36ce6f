package dnsmsg

import (
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// How an octet is written in presentation form (RFC 1035 section 5.1).
const (
	escNone = iota // as itself
	escChar        // as a backslash and itself
	escDDD         // as a backslash and three decimal digits
)

// labelEscape classifies the octets of a name label. Beyond the dot and the
// backslash that RFC 1035 requires, the characters that end or change a token
// in a master file (space, quote, parentheses, semicolon, at sign, apostrophe)
// are escaped too, as miekg/dns and BIND do, so a name reads back unchanged.
var labelEscape = escapeTable(`. '@;()"\`)

// textEscape classifies the octets of a character-string written between
// double quotes (RFC 1035 section 5.1): only the quote and the backslash.
var textEscape = escapeTable(`"\`)

// svcbEscape classifies the octets of an SVCB parameter value written
// between double quotes; RFC 9460 appendix A escapes these four as well.
var svcbEscape = escapeTable(`"; \`)

// escapeTable returns a table that writes the octets in special with a
// backslash, non-printable octets as \DDD and every other octet as itself.
func escapeTable(special string) [256]uint8 {
	var t [256]uint8
	for c := range t {
		if c < ' ' || c > '~' {
			t[c] = escDDD
		}
	}
	for i := 0; i < len(special); i++ {
		t[special[i]] = escChar
	}
	return t
}

// appendEscaped appends src to dst, escaped as table says. Runs of octets that
// need no escape are copied at once, the common case.
func appendEscaped(dst, src []byte, table *[256]uint8) []byte {
	for {
		i := 0
		for i < len(src) && table[src[i]] == escNone {
			i++
		}
		dst = append(dst, src[:i]...)
		if i == len(src) {
			return dst
		}
		dst = appendEscapedByte(dst, src[i], table)
		src = src[i+1:]
	}
}

// appendEscapedByte appends c escaped as table says.
func appendEscapedByte(dst []byte, c byte, table *[256]uint8) []byte {
	switch table[c] {
	case escChar:
		return append(dst, '\\', c)
	case escDDD:
		return appendDDD(dst, c)
	}
	return append(dst, c)
}

// appendDDD appends c as a backslash and three decimal digits.
func appendDDD(dst []byte, c byte) []byte {
	return append(dst, '\\', '0'+c/100, '0'+c/10%10, '0'+c%10)
}

// appendQuoted appends src as one quoted character-string.
func appendQuoted(dst, src []byte) []byte {
	dst = append(dst, '"')
	dst = appendEscaped(dst, src, &textEscape)
	return append(dst, '"')
}

// appendUint appends v in decimal.
func appendUint[T uint8 | uint16 | uint32](dst []byte, v T) []byte {
	return strconv.AppendUint(dst, uint64(v), 10)
}

// appendIPv4 appends a dotted quad; a must hold 4 octets.
func appendIPv4(dst, a []byte) []byte {
	for i, c := range a[:4] {
		if i > 0 {
			dst = append(dst, '.')
		}
		dst = appendDec8(dst, c)
	}
	return dst
}

// appendDec8 appends c in decimal; faster than strconv for the octets of
// an address, the most common number in DNS traffic.
func appendDec8(dst []byte, c byte) []byte {
	switch {
	case c >= 100:
		return append(dst, '0'+c/100, '0'+c/10%10, '0'+c%10)
	case c >= 10:
		return append(dst, '0'+c/10, '0'+c%10)
	}
	return append(dst, '0'+c)
}

// appendIPv6 appends an IPv6 address in RFC 5952 form (IPv4-mapped ones as
// ::ffff:a.b.c.d, as dig prints them); a must hold 16 octets.
func appendIPv6(dst, a []byte) []byte {
	return netip.AddrFrom16([16]byte(a[:16])).AppendTo(dst)
}

// appendHexUpper appends src in upper-case hex, the form dig and miekg/dns
// print DS digests and SSHFP fingerprints in.
func appendHexUpper(dst, src []byte) []byte {
	const digits = "0123456789ABCDEF"
	for _, c := range src {
		dst = append(dst, digits[c>>4], digits[c&0xF])
	}
	return dst
}

// appendHex appends src in lower-case hex.
func appendHex(dst, src []byte) []byte {
	return hex.AppendEncode(dst, src)
}

// appendBase64 appends src in padded base64 (RFC 4648 section 4).
func appendBase64(dst, src []byte) []byte {
	return base64.StdEncoding.AppendEncode(dst, src)
}

// base32Hex is the NSEC3 hash encoding: "base32hex" without padding
// (RFC 5155 section 3.3, RFC 4648 section 7).
var base32Hex = base32.HexEncoding.WithPadding(base32.NoPadding)

// appendTime appends a DNSSEC time stamp as YYYYMMDDHHmmSS in UTC
// (RFC 4034 section 3.2). The 32-bit value is read as seconds since 1970
// with no serial-number wrap, which is right until 2106.
func appendTime(dst []byte, t uint32) []byte {
	return time.Unix(int64(t), 0).UTC().AppendFormat(dst, "20060102150405")
}

// AppendUTF8 appends src as valid UTF-8 for a text column: UTF-8 as it
// is, a backslash as \\, and control characters and bytes that are not
// UTF-8 as \DDD, so that no reader refuses the column and nothing is lost.
// EDE extra texts (RFC 8914 says UTF-8, a hostile server sends anything)
// and capture file names go through it.
func AppendUTF8(dst, src []byte) []byte {
	for len(src) > 0 {
		r, n := utf8.DecodeRune(src)
		switch {
		case r == utf8.RuneError && n == 1, r < 0x20, r == 0x7f:
			dst = appendDDD(dst, src[0])
		case r == '\\':
			dst = append(dst, '\\', '\\')
		default:
			dst = append(dst, src[:n]...)
		}
		src = src[n:]
	}
	return dst
}

// UTF8 returns s through AppendUTF8, s itself when that changes nothing.
func UTF8(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return s
	}
	return string(AppendUTF8(nil, []byte(s)))
}
