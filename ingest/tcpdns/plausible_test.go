package tcpdns

import (
	"encoding/binary"
	"testing"
)

// framed returns a length prefix of l, then a header with the given flags
// and counts, then rest.
func framed(l int, flags uint16, qd, an, ns, ar uint16, rest ...byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(l))
	b = append(b, 0xab, 0xcd)
	for _, v := range []uint16{flags, qd, an, ns, ar} {
		b = binary.BigEndian.AppendUint16(b, v)
	}
	return append(b, rest...)
}

// question for "foo", type A and the given class.
func foo(class uint16) []byte {
	return binary.BigEndian.AppendUint16([]byte{3, 'f', 'o', 'o', 0, 0, 1}, class)
}

func TestPlausible(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want verdict
	}{
		{"query", framed(21, 0x0100, 1, 0, 0, 0, foo(1)...), verdictYes},
		{"response without question", framed(12, 0x8183, 0, 0, 0, 0), verdictYes},
		{"mdns unicast class", framed(21, 0, 1, 0, 0, 0, foo(0x8001)...), verdictYes},
		{"one byte", []byte{0}, verdictMore},
		{"header cut", framed(21, 0x0100, 1, 0, 0, 0)[:10], verdictMore},
		{"name cut", framed(21, 0x0100, 1, 0, 0, 0, 3, 'f'), verdictMore},
		{"shorter than a header", framed(11, 0, 0, 0, 0, 0), verdictNo},
		{"opcode 3", framed(21, 3<<11, 1, 0, 0, 0, foo(1)...), verdictNo},
		{"z bit", framed(21, 0x0040, 1, 0, 0, 0, foo(1)...), verdictNo},
		{"rcode in a query", framed(21, 0x0002, 1, 0, 0, 0, foo(1)...), verdictNo},
		{"two questions", framed(60, 0, 2, 0, 0, 0, foo(1)...), verdictNo},
		{"records do not fit", framed(30, 0x8000, 1, 2, 0, 0, foo(1)...), verdictNo},
		{"pointer first", framed(21, 0, 1, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1), verdictNo},
		{"label type 0x40", framed(21, 0, 1, 0, 0, 0, 0x41, 'a', 0, 0, 1, 0, 1), verdictNo},
		{"name past the message", framed(14, 0, 1, 0, 0, 0, foo(1)...), verdictNo},
		{"class 2", framed(21, 0, 1, 0, 0, 0, foo(2)...), verdictNo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := plausible(tt.b); got != tt.want {
				t.Errorf("plausible(% x) = %d, want %d", tt.b, got, tt.want)
			}
		})
	}
}
