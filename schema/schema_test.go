package schema_test

import (
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/pcapload/pcapload/ingest/dnsmsg"
	"github.com/pcapload/pcapload/ingest/packet"
	"github.com/pcapload/pcapload/schema"
)

// arrowFor is, independently of the schema package, the Arrow type that
// ClickHouse reads into each ClickHouse type the schema uses.
var arrowFor = map[string]arrow.DataType{
	"UInt8":                  arrow.PrimitiveTypes.Uint8,
	"UInt16":                 arrow.PrimitiveTypes.Uint16,
	"UInt32":                 arrow.PrimitiveTypes.Uint32,
	"UInt64":                 arrow.PrimitiveTypes.Uint64,
	"Int64":                  arrow.PrimitiveTypes.Int64,
	"Bool":                   arrow.FixedWidthTypes.Boolean,
	"String":                 nil, // utf8 or binary
	"LowCardinality(String)": &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String},
	"IPv6":                   &arrow.FixedSizeBinaryType{ByteWidth: 16},
	"DateTime64(9, 'UTC')":   &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"},
	"Array(UInt16)":          arrow.ListOfNonNullable(arrow.PrimitiveTypes.Uint16),
	"Array(UInt32)":          arrow.ListOfNonNullable(arrow.PrimitiveTypes.Uint32),
	"Array(String)":          arrow.ListOfNonNullable(arrow.BinaryTypes.String),
}

var ddlColumn = regexp.MustCompile("^    `([a-z0-9_]+)` (.+?) COMMENT '.*'(?: CODEC\\(.*\\))?,?$")

// TestDDL_MatchesArrow holds the ClickHouse DDL and the Arrow schema equal:
// the same columns, in the same order, with types that convert.
func TestDDL_MatchesArrow(t *testing.T) {
	var names, types []string
	for _, line := range strings.Split(schema.DDL("default"), "\n") {
		if m := ddlColumn.FindStringSubmatch(line); m != nil {
			names, types = append(names, m[1]), append(types, m[2])
		}
	}
	fields := schema.Arrow().Fields()
	if len(names) != len(fields) || len(fields) != len(schema.Columns) {
		t.Fatalf("DDL has %d columns, Arrow %d, Columns %d", len(names), len(fields), len(schema.Columns))
	}
	seen := make(map[string]bool)
	for i, f := range fields {
		if names[i] != f.Name {
			t.Errorf("column %d: DDL %q, Arrow %q", i, names[i], f.Name)
		}
		if seen[f.Name] {
			t.Errorf("column %q twice", f.Name)
		}
		seen[f.Name] = true
		want, ok := arrowFor[types[i]]
		switch {
		case !ok:
			t.Errorf("column %q: ClickHouse type %q has no known Arrow type", f.Name, types[i])
		case want == nil:
			if f.Type.ID() != arrow.STRING && f.Type.ID() != arrow.BINARY {
				t.Errorf("column %q: String from Arrow %s", f.Name, f.Type)
			}
		case !arrow.TypeEqual(want, f.Type):
			t.Errorf("column %q: %s from Arrow %s, want %s", f.Name, types[i], f.Type, want)
		}
	}
}

func TestBuilder_Append(t *testing.T) {
	msg := &dnsmsg.Message{ID: 0xbeef, QR: true, RD: true, RCode: 16, QDCount: 1, ANCount: 2,
		Questions: []dnsmsg.Question{{Name: []byte("example.com"), Type: 1, Class: 1}},
		Answer: []dnsmsg.RR{
			{Name: []byte("example.com"), Type: 5, Class: 1, TTL: 60, Data: []byte("www.example.net")},
			{Name: []byte("www.example.net"), Type: 1, Class: 1, TTL: 30, Data: []byte("192.0.2.1")},
		},
		EDNS: dnsmsg.EDNS{Present: true, UDPSize: 1232, Options: []uint16{10, 15}, EDECodes: []uint16{18}},
		Size: 80,
	}
	frame := &packet.Frame{VLANOuter: 100, VLANInner: 200, VLANDepth: 2, IPVersion: 4,
		Src: netip.MustParseAddr("192.0.2.53"), Dst: netip.MustParseAddr("198.51.100.7"),
		Protocol: 17, SrcPort: 53, DstPort: 40000}
	row := &schema.Row{Time: 1_700_000_000_123_456_789, Sensor: "s1", File: "a.pcap", Frame: 7, Net: frame, DNS: msg}

	b := schema.NewBuilder()
	b.Append(row)
	b.Append(row)
	rec := b.NewRecord()
	defer rec.Release()
	if rec.NumRows() != 2 || b.Len() != 0 {
		t.Fatalf("got %d rows, builder left with %d", rec.NumRows(), b.Len())
	}
	col := func(name string) arrow.Array {
		idx := rec.Schema().FieldIndices(name)
		if len(idx) != 1 {
			t.Fatalf("no column %q", name)
		}
		return rec.Column(idx[0])
	}
	checks := []struct {
		name, got, want string
	}{
		{"time", col("time").ValueStr(1), "2023-11-14T22:13:20.123456789Z"},
		{"id", col("id").ValueStr(0), "48879"},
		{"rcode", col("rcode").ValueStr(0), "16"},
		{"qname", col("qname").ValueStr(0), "example.com"},
		{"vlan_inner", col("vlan_inner").ValueStr(0), "200"},
		{"transport", col("transport").ValueStr(0), "udp"},
		{"answer_data", col("answer_data").ValueStr(0), `["www.example.net","192.0.2.1"]`},
		{"answer_ttls", col("answer_ttls").ValueStr(0), "[60,30]"},
		{"edns_options", col("edns_options").ValueStr(1), "[10,15]"},
		{"ede_codes", col("ede_codes").ValueStr(0), "[18]"},
		{"authority_names", col("authority_names").ValueStr(0), "[]"},
		{"malformed", col("malformed").ValueStr(0), ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	src := col("src_addr").(*array.FixedSizeBinary).Value(0)
	if got := netip.AddrFrom16([16]byte(src)).Unmap(); got != frame.Src {
		t.Errorf("src_addr = %v, want %v", got, frame.Src)
	}
}
