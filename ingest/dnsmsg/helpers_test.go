package dnsmsg

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// builder writes DNS messages octet by octet, so that tests can make the
// malformed ones no encoder would.
type builder struct{ b []byte }

// newBuilder starts a message with the given header counts, ID 0x1234 and
// flags QR|RD|RA.
func newBuilder(qd, an, ns, ar uint16) *builder {
	w := &builder{}
	return w.u16(0x1234).u16(0x8180).u16(qd).u16(an).u16(ns).u16(ar)
}

func (w *builder) raw(b ...byte) *builder { w.b = append(w.b, b...); return w }

func (w *builder) u16(v uint16) *builder { w.b = binary.BigEndian.AppendUint16(w.b, v); return w }

func (w *builder) u32(v uint32) *builder { w.b = binary.BigEndian.AppendUint32(w.b, v); return w }

// name writes s as uncompressed labels split at dots, with no escaping: a
// label may hold any octet but a dot. "." is the root.
func (w *builder) name(s string) *builder {
	if s != "." {
		for _, l := range strings.Split(s, ".") {
			w.b = append(append(w.b, byte(len(l))), l...)
		}
	}
	w.b = append(w.b, 0)
	return w
}

// question writes a question with an uncompressed name, class IN.
func (w *builder) question(name string, t uint16) *builder {
	return w.name(name).u16(t).u16(1)
}

// rr writes a record whose owner is a pointer to the first question,
// class IN, TTL 3600.
func (w *builder) rr(t uint16, rdata []byte) *builder {
	w.raw(0xC0, 12).u16(t).u16(1).u32(3600).u16(uint16(len(rdata)))
	return w.raw(rdata...)
}

// cat concatenates its arguments, each a string or a []byte or a byte.
func cat(parts ...any) []byte {
	var out []byte
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			out = append(out, v...)
		case []byte:
			out = append(out, v...)
		case byte:
			out = append(out, v)
		case int:
			out = append(out, byte(v))
		default:
			panic("cat: unsupported part")
		}
	}
	return out
}

// wireName returns s as uncompressed labels, as builder.name writes it.
func wireName(s string) []byte {
	return (&builder{}).name(s).b
}

// u16b returns v as two big-endian octets.
func u16b(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

// u32b returns v as four big-endian octets.
func u32b(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// dump writes every exported field of m, one per line, for comparisons.
func dump(m *Message) string {
	var s strings.Builder
	fmt.Fprintf(&s, "id=%d qr=%v op=%d aa=%v tc=%v rd=%v ra=%v z=%v ad=%v cd=%v rcode=%d\n",
		m.ID, m.QR, m.Opcode, m.AA, m.TC, m.RD, m.RA, m.Z, m.AD, m.CD, m.RCode)
	fmt.Fprintf(&s, "counts=%d/%d/%d/%d size=%d malformed=%q\n",
		m.QDCount, m.ANCount, m.NSCount, m.ARCount, m.Size, m.Malformed)
	for _, q := range m.Questions {
		fmt.Fprintf(&s, "Q %q %d %d\n", q.Name, q.Type, q.Class)
	}
	for i, sec := range [][]RR{m.Answer, m.Authority, m.Additional} {
		for _, rr := range sec {
			fmt.Fprintf(&s, "RR%d %q %d %d %d %q\n", i, rr.Name, rr.Type, rr.Class, rr.TTL, rr.Data)
		}
	}
	fmt.Fprintf(&s, "EDNS %+v\n", m.EDNS)
	return s.String()
}

// diffMessages returns "" when a and b hold the same fields, or both dumps.
func diffMessages(a, b *Message) string {
	da, db := dump(a), dump(b)
	if da == db {
		return ""
	}
	return "got:\n" + da + "want:\n" + db
}
