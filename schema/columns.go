package schema

import "github.com/pcapload/pcapload/ingest/dnsmsg"

// Columns is the column list of the dns_messages table, in table order.
var Columns = []Column{
	// Where the message came from: enough to go back to the packet.
	timestamp("time", "packet time, UTC, to the nanosecond", func(r *Row) int64 { return r.Time }),
	label("sensor", "sensor that captured the file", func(r *Row) string { return r.Sensor }),
	label("file", "path of the capture file", func(r *Row) string { return r.File }),
	// TODO(speed): the 64-character hash is repeated in every row of a
	// batch, about 64 MB of Arrow per million rows (BenchmarkRun_Embedded
	// allocates 12% more); a dictionary-encoded Arrow column, read into
	// LowCardinality, would carry it once a batch.
	label("file_hash", "hex SHA-256 of the capture file as stored, its identity in capture_files",
		func(r *Row) string { return r.FileHash }),
	u64("frame", "1-based frame number in the capture file", func(r *Row) uint64 { return r.Frame }),

	// Network.
	u16("vlan_outer", "outermost VLAN ID, 0 when untagged", func(r *Row) uint16 { return r.Net.VLANOuter }),
	u16("vlan_inner", "innermost VLAN ID, equal to vlan_outer with one tag",
		func(r *Row) uint16 { return r.Net.VLANInner }),
	u8("vlan_depth", "number of VLAN tags", func(r *Row) uint8 { return r.Net.VLANDepth }),
	u8("ip_version", "4 or 6", func(r *Row) uint8 { return r.Net.IPVersion }),
	addr("src_addr", "source address, IPv4 as ::ffff:a.b.c.d", func(r *Row) [16]byte { return r.Net.Src.As16() }),
	addr("dst_addr", "destination address, IPv4 as ::ffff:a.b.c.d", func(r *Row) [16]byte { return r.Net.Dst.As16() }),
	u16("src_port", "source port", func(r *Row) uint16 { return r.Net.SrcPort }),
	u16("dst_port", "destination port", func(r *Row) uint16 { return r.Net.DstPort }),
	label("transport", "udp or tcp", func(r *Row) string { return transportName(r.Net.Protocol) }),
	flag("snapped", "the packet was cut by the snaplen before the message ended",
		func(r *Row) bool { return r.Net.Snapped }),

	// Header (RFC 1035 section 4.1.1, RFC 2535, RFC 6891).
	u32("size", "message size in bytes", func(r *Row) uint32 { return uint32(r.DNS.Size) }),
	u16("id", "transaction ID", func(r *Row) uint16 { return r.DNS.ID }),
	flag("qr", "true for a response", func(r *Row) bool { return r.DNS.QR }),
	u8("opcode", "opcode", func(r *Row) uint8 { return r.DNS.Opcode }),
	flag("aa", "authoritative answer", func(r *Row) bool { return r.DNS.AA }),
	flag("tc", "truncated", func(r *Row) bool { return r.DNS.TC }),
	flag("rd", "recursion desired", func(r *Row) bool { return r.DNS.RD }),
	flag("ra", "recursion available", func(r *Row) bool { return r.DNS.RA }),
	flag("z", "reserved header bit", func(r *Row) bool { return r.DNS.Z }),
	flag("ad", "authentic data", func(r *Row) bool { return r.DNS.AD }),
	flag("cd", "checking disabled", func(r *Row) bool { return r.DNS.CD }),
	u16("rcode", "response code, extended by EDNS", func(r *Row) uint16 { return r.DNS.RCode }),
	u16("qdcount", "question count from the header", func(r *Row) uint16 { return r.DNS.QDCount }),
	u16("ancount", "answer count from the header", func(r *Row) uint16 { return r.DNS.ANCount }),
	u16("nscount", "authority count from the header", func(r *Row) uint16 { return r.DNS.NSCount }),
	u16("arcount", "additional count from the header, OPT included", func(r *Row) uint16 { return r.DNS.ARCount }),

	// Pairing of queries and responses (RFC 5452 section 9.1's match).
	flag("paired", "a query that got a response, or a response that matched a query",
		func(r *Row) bool { return r.Paired }),
	i64("latency_ns", "response time minus query time, on both rows of a pair; 0 unpaired",
		func(r *Row) int64 { return r.Latency }),
	u64("pair_frame", "frame of the other message of the pair; 0 unpaired", func(r *Row) uint64 { return r.PairFrame }),

	// First question.
	text("qname", "first question's name, empty without a question", func(r *Row) []byte { return firstQ(r).Name }),
	u16("qtype", "first question's type", func(r *Row) uint16 { return firstQ(r).Type }),
	u16("qclass", "first question's class", func(r *Row) uint16 { return firstQ(r).Class }),

	// Every question.
	listText("question_names", "every question's name", func(r *Row, add func([]byte)) {
		for i := range r.DNS.Questions {
			add(r.DNS.Questions[i].Name)
		}
	}),
	listU16("question_types", "every question's type", func(r *Row, add func(uint16)) {
		for i := range r.DNS.Questions {
			add(r.DNS.Questions[i].Type)
		}
	}),
	listU16("question_classes", "every question's class", func(r *Row, add func(uint16)) {
		for i := range r.DNS.Questions {
			add(r.DNS.Questions[i].Class)
		}
	}),
}

func init() {
	Columns = append(Columns, section("answer", func(m *dnsmsg.Message) []dnsmsg.RR { return m.Answer })...)
	Columns = append(Columns, section("authority", func(m *dnsmsg.Message) []dnsmsg.RR { return m.Authority })...)
	Columns = append(Columns, section("additional", func(m *dnsmsg.Message) []dnsmsg.RR { return m.Additional })...)
	Columns = append(Columns, ednsColumns...)
	Columns = append(Columns,
		label("malformed", "why the message did not parse whole; empty when it did",
			func(r *Row) string { return string(r.DNS.Malformed) }),
		blob("raw", "the message's bytes when it is malformed, else empty", func(r *Row) []byte {
			if r.DNS.Malformed == "" {
				return nil
			}
			return r.Net.Payload
		}),
	)
}

var noQuestion dnsmsg.Question

func firstQ(r *Row) *dnsmsg.Question {
	if len(r.DNS.Questions) == 0 {
		return &noQuestion
	}
	return &r.DNS.Questions[0]
}

// section returns the five parallel array columns of one record section.
func section(name string, rrs func(*dnsmsg.Message) []dnsmsg.RR) []Column {
	return []Column{
		listText(name+"_names", name+" records' owner names", func(r *Row, add func([]byte)) {
			for _, rr := range rrs(r.DNS) {
				add(rr.Name)
			}
		}),
		listU16(name+"_types", name+" records' types", func(r *Row, add func(uint16)) {
			for _, rr := range rrs(r.DNS) {
				add(rr.Type)
			}
		}),
		listU16(name+"_classes", name+" records' classes", func(r *Row, add func(uint16)) {
			for _, rr := range rrs(r.DNS) {
				add(rr.Class)
			}
		}),
		listU32(name+"_ttls", name+" records' TTLs", func(r *Row, add func(uint32)) {
			for _, rr := range rrs(r.DNS) {
				add(rr.TTL)
			}
		}),
		listText(name+"_data", name+" records' RDATA in presentation form", func(r *Row, add func([]byte)) {
			for _, rr := range rrs(r.DNS) {
				add(rr.Data)
			}
		}),
	}
}

// ednsColumns hold the OPT record (RFC 6891) and the options stored.
var ednsColumns = []Column{
	flag("edns", "the message has an OPT record", func(r *Row) bool { return r.DNS.EDNS.Present }),
	u16("edns_udp_size", "requestor's UDP payload size", func(r *Row) uint16 { return r.DNS.EDNS.UDPSize }),
	u8("edns_version", "EDNS version", func(r *Row) uint8 { return r.DNS.EDNS.Version }),
	flag("edns_do", "DNSSEC OK bit", func(r *Row) bool { return r.DNS.EDNS.DO }),
	listU16("edns_options", "option codes in wire order", func(r *Row, add func(uint16)) {
		for _, c := range r.DNS.EDNS.Options {
			add(c)
		}
	}),
	u16("ecs_family", "client subnet address family, 0 when absent (RFC 7871)",
		func(r *Row) uint16 { return r.DNS.EDNS.ECSFamily }),
	u8("ecs_source_prefix", "client subnet source prefix length",
		func(r *Row) uint8 { return r.DNS.EDNS.ECSSourcePrefix }),
	u8("ecs_scope_prefix", "client subnet scope prefix length", func(r *Row) uint8 { return r.DNS.EDNS.ECSScopePrefix }),
	text("ecs_address", "client subnet address", func(r *Row) []byte { return r.DNS.EDNS.ECSAddress }),
	blob("cookie_client", "client cookie (RFC 7873)", func(r *Row) []byte { return r.DNS.EDNS.ClientCookie }),
	blob("cookie_server", "server cookie (RFC 7873)", func(r *Row) []byte { return r.DNS.EDNS.ServerCookie }),
	blob("nsid", "name server identifier (RFC 5001)", func(r *Row) []byte { return r.DNS.EDNS.NSID }),
	listU16("ede_codes", "extended DNS error info-codes (RFC 8914)", func(r *Row, add func(uint16)) {
		for _, c := range r.DNS.EDNS.EDECodes {
			add(c)
		}
	}),
	listText("ede_texts", "extended DNS error extra texts", func(r *Row, add func([]byte)) {
		for _, t := range r.DNS.EDNS.EDETexts {
			add(t)
		}
	}),
}
