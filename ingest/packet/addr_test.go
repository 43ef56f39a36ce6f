package packet_test

import (
	"net/netip"
	"testing"

	"github.com/pcapload/pcapload/ingest/packet"
)

func TestAppendAddr16(t *testing.T) {
	for _, s := range []string{"192.0.2.1", "0.0.0.0", "2001:db8::53", "fe80::1%eth0", "::ffff:198.51.100.7", "::", ""} {
		var a netip.Addr
		if s != "" {
			a = netip.MustParseAddr(s)
		}
		want := a.As16()
		got := packet.AppendAddr16([]byte("x"), a)
		if string(got) != "x"+string(want[:]) {
			t.Errorf("%q: appended %x, want %x", s, got[1:], want)
		}
	}
}
