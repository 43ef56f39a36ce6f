package rotate

import (
	"strings"
	"testing"
	"time"
)

func TestName(t *testing.T) {
	start := time.Date(2026, 11, 2, 8, 0, 0, 999_999_999, time.UTC).UnixNano()
	tests := []struct {
		name   string
		sensor string
		seq    uint64
		f      Format
		c      Compression
		want   string
	}{
		{"default", "SENSOR", 1, FormatPcapng, CompressZstd, "SENSOR-20261102T080000Z-000001.pcapng.zst"},
		{"pcap gzip", "dns-1", 42, FormatPcap, CompressGzip, "dns-1-20261102T080000Z-000042.pcap.gz"},
		{"plain", "s", 999999, FormatPcapng, CompressNone, "s-20261102T080000Z-999999.pcapng"},
		{"wide sequence", "s", 1234567, FormatPcap, CompressNone, "s-20261102T080000Z-1234567.pcap"},
		{"dotted sensor", "ns1.example-eth1.100", 7, FormatPcap, CompressZstd,
			"ns1.example-eth1.100-20261102T080000Z-000007.pcap.zst"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Name(tt.sensor, start, tt.seq, tt.f, tt.c)
			if got != tt.want {
				t.Fatalf("Name = %q, want %q", got, tt.want)
			}
			n, ok := parseName(got)
			if !ok {
				t.Fatalf("parseName(%q) failed", got)
			}
			if n.sensor != tt.sensor || n.seq != tt.seq || n.format != tt.f || n.comp != tt.c ||
				n.start.Unix() != start/1e9 {
				t.Fatalf("parseName(%q) = %+v", got, n)
			}
		})
	}
}

func TestParseName_Rejects(t *testing.T) {
	for _, name := range []string{
		"s-20261102T080000Z-000001.pcapng.zst.part",
		"s-20261102T080000Z-000001.pcapng.zst.json",
		"s-20261102T080000Z-000001.pcapng.zst.rec.part",
		"s-20261102T080000Z-000001.pcapng.xz",
		"s-2026-000001.pcapng",
		"20261102T080000Z-000001.pcapng",
		"s-20261102T080000Z-x.pcapng",
		"notes.txt",
		"s-20261102T080000Z-000001.pcapng.zst.json.part",
		"s.pcap-20261102T080000Z-000001.json",
	} {
		if n, ok := parseName(name); ok {
			t.Errorf("parseName(%q) = %+v, want rejection", name, n)
		}
	}
}

func TestConfig_Sensor(t *testing.T) {
	if _, err := New(Config{Dir: t.TempDir(), Sensor: strings.Repeat("y", 210)}); err != nil {
		t.Errorf("a 210-byte sensor refused: %v", err)
	}
	for _, s := range []string{"", ".a", "a/b", `a\b`, "a=b", "a%b", "tap\x01", strings.Repeat("y", 211)} {
		if _, err := New(Config{Dir: t.TempDir(), Sensor: s}); err == nil {
			t.Errorf("sensor %q accepted", s)
		}
	}
}

// FuzzParseName checks that parseName never panics and that what it
// accepts survives a round trip through Name.
func FuzzParseName(f *testing.F) {
	f.Add("SENSOR-20261102T080000Z-000001.pcapng.zst")
	f.Add("a-b-20261102T080000Z-1234567.pcap.gz.part")
	f.Add("--.pcap")
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := parseName(s)
		if !ok {
			return
		}
		again, ok := parseName(Name(n.sensor, n.start.UnixNano(), n.seq, n.format, n.comp))
		if !ok || again != n {
			t.Fatalf("%q parsed as %+v, round trip gives %+v (%v)", s, n, again, ok)
		}
	})
}
