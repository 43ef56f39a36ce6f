package dnsmsg

import "strconv"

// Resource record types the decoder names or formats (IANA "Resource Record
// (RR) TYPEs" registry).
const (
	typeA          = 1
	typeNS         = 2
	typeMD         = 3
	typeMF         = 4
	typeCNAME      = 5
	typeSOA        = 6
	typeMB         = 7
	typeMG         = 8
	typeMR         = 9
	typePTR        = 12
	typeHINFO      = 13
	typeMINFO      = 14
	typeMX         = 15
	typeTXT        = 16
	typeRP         = 17
	typeAFSDB      = 18
	typeRT         = 21
	typeNSAPPTR    = 23
	typeSIG        = 24
	typeKEY        = 25
	typeAAAA       = 28
	typeSRV        = 33
	typeNAPTR      = 35
	typeKX         = 36
	typeDNAME      = 39
	typeOPT        = 41
	typeDS         = 43
	typeSSHFP      = 44
	typeRRSIG      = 46
	typeNSEC       = 47
	typeDNSKEY     = 48
	typeDHCID      = 49
	typeNSEC3      = 50
	typeNSEC3PARAM = 51
	typeTLSA       = 52
	typeSMIMEA     = 53
	typeNINFO      = 56
	typeCDS        = 59
	typeCDNSKEY    = 60
	typeOPENPGPKEY = 61
	typeCSYNC      = 62
	typeZONEMD     = 63
	typeSVCB       = 64
	typeHTTPS      = 65
	typeSPF        = 99
	typeLP         = 107
	typeURI        = 256
	typeCAA        = 257
	typeAVC        = 258
	typeRESINFO    = 261
	typeTA         = 32768
	typeDLV        = 32769
)

// typeNames holds the mnemonics of the registry's types up to 264, which
// covers every assigned type but TA and DLV.
var typeNames = [...]string{
	1: "A", 2: "NS", 3: "MD", 4: "MF", 5: "CNAME", 6: "SOA", 7: "MB", 8: "MG",
	9: "MR", 10: "NULL", 11: "WKS", 12: "PTR", 13: "HINFO", 14: "MINFO", 15: "MX",
	16: "TXT", 17: "RP", 18: "AFSDB", 19: "X25", 20: "ISDN", 21: "RT", 22: "NSAP",
	23: "NSAP-PTR", 24: "SIG", 25: "KEY", 26: "PX", 27: "GPOS", 28: "AAAA",
	29: "LOC", 30: "NXT", 31: "EID", 32: "NIMLOC", 33: "SRV", 34: "ATMA",
	35: "NAPTR", 36: "KX", 37: "CERT", 38: "A6", 39: "DNAME", 40: "SINK",
	41: "OPT", 42: "APL", 43: "DS", 44: "SSHFP", 45: "IPSECKEY", 46: "RRSIG",
	47: "NSEC", 48: "DNSKEY", 49: "DHCID", 50: "NSEC3", 51: "NSEC3PARAM",
	52: "TLSA", 53: "SMIMEA", 55: "HIP", 56: "NINFO", 57: "RKEY", 58: "TALINK",
	59: "CDS", 60: "CDNSKEY", 61: "OPENPGPKEY", 62: "CSYNC", 63: "ZONEMD",
	64: "SVCB", 65: "HTTPS", 66: "DSYNC", 99: "SPF", 100: "UINFO", 101: "UID",
	102: "GID", 103: "UNSPEC", 104: "NID", 105: "L32", 106: "L64", 107: "LP",
	108: "EUI48", 109: "EUI64", 128: "NXNAME", 249: "TKEY", 250: "TSIG",
	251: "IXFR", 252: "AXFR", 253: "MAILB", 254: "MAILA", 255: "ANY", 256: "URI",
	257: "CAA", 258: "AVC", 259: "DOA", 260: "AMTRELAY", 261: "RESINFO",
	262: "WALLET", 263: "CLA", 264: "IPN",
}

// TypeName returns the mnemonic of an RR type ("A", "NSEC3PARAM"), or the
// RFC 3597 section 5 form "TYPE" followed by the number for types without one.
func TypeName(t uint16) string {
	if s := typeName(t); s != "" {
		return s
	}
	return "TYPE" + strconv.Itoa(int(t))
}

// typeName returns the mnemonic of t, or "" when it has none.
func typeName(t uint16) string {
	switch {
	case int(t) < len(typeNames):
		return typeNames[t]
	case t == typeTA:
		return "TA"
	case t == typeDLV:
		return "DLV"
	}
	return ""
}

// appendType appends TypeName(t) without allocating.
func appendType(dst []byte, t uint16) []byte {
	if s := typeName(t); s != "" {
		return append(dst, s...)
	}
	return appendUint(append(dst, "TYPE"...), t)
}
