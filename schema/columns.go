package schema

import "github.com/pcapload/pcapload/ingest/dnsmsg"

// Columns is the column list of the dns_messages table, in table order.
var Columns = []Column{
	// Where the message came from: enough to go back to the packet.
	timestamp("time", "packet time, UTC, to the nanosecond", "r.Time"),
	label("sensor", "sensor that captured the file", "r.Sensor"),
	label("file", "path of the capture file", "r.File"),
	label("file_hash", "hex SHA-256 of the capture file as stored, its identity in capture_files",
		"r.FileHash"),
	u64("frame", "1-based frame number in the capture file", "r.Frame"),

	// Network.
	u16("vlan_outer", "outermost VLAN ID, 0 when untagged", "r.Net.VLANOuter"),
	u16("vlan_inner", "innermost VLAN ID, equal to vlan_outer with one tag",
		"r.Net.VLANInner"),
	u8("vlan_depth", "number of VLAN tags", "r.Net.VLANDepth"),
	u8("ip_version", "4 or 6", "r.Net.IPVersion"),
	addr("src_addr", "source address, IPv4 as ::ffff:a.b.c.d", "r.Net.Src"),
	addr("dst_addr", "destination address, IPv4 as ::ffff:a.b.c.d", "r.Net.Dst"),
	u16("src_port", "source port", "r.Net.SrcPort"),
	u16("dst_port", "destination port", "r.Net.DstPort"),
	label("transport", "udp or tcp", "transportName(r.Net.Protocol)"),
	flag("snapped", "the packet was cut by the snaplen before the message ended",
		"r.Net.Snapped"),

	// Header (RFC 1035 section 4.1.1, RFC 2535, RFC 6891).
	u32("size", "message size in bytes", "uint32(r.DNS.Size)"),
	u16("id", "transaction ID", "r.DNS.ID"),
	flag("qr", "true for a response", "r.DNS.QR"),
	u8("opcode", "opcode", "r.DNS.Opcode"),
	flag("aa", "authoritative answer", "r.DNS.AA"),
	flag("tc", "truncated", "r.DNS.TC"),
	flag("rd", "recursion desired", "r.DNS.RD"),
	flag("ra", "recursion available", "r.DNS.RA"),
	flag("z", "reserved header bit", "r.DNS.Z"),
	flag("ad", "authentic data", "r.DNS.AD"),
	flag("cd", "checking disabled", "r.DNS.CD"),
	u16("rcode", "response code, extended by EDNS", "r.DNS.RCode"),
	u16("qdcount", "question count from the header", "r.DNS.QDCount"),
	u16("ancount", "answer count from the header", "r.DNS.ANCount"),
	u16("nscount", "authority count from the header", "r.DNS.NSCount"),
	u16("arcount", "additional count from the header, OPT included", "r.DNS.ARCount"),

	// Pairing of queries and responses (RFC 5452 section 9.1's match).
	flag("paired", "a query that got a response, or a response that matched a query",
		"r.Paired"),
	i64("latency_ns", "response time minus query time, on both rows of a pair; 0 unpaired",
		"r.Latency"),
	u64("pair_frame", "frame of the other message of the pair; 0 unpaired", "r.PairFrame"),

	// First question.
	text("qname", "first question's name, empty without a question", "firstQ(r).Name"),
	u16("qtype", "first question's type", "firstQ(r).Type"),
	u16("qclass", "first question's class", "firstQ(r).Class"),

	// Every question.
	listText("question_names", "every question's name", "r.DNS.Questions", "e.Name"),
	listU16("question_types", "every question's type", "r.DNS.Questions", "e.Type"),
	listU16("question_classes", "every question's class", "r.DNS.Questions", "e.Class"),
}

func init() {
	Columns = append(Columns, section("answer", "r.DNS.Answer")...)
	Columns = append(Columns, section("authority", "r.DNS.Authority")...)
	Columns = append(Columns, section("additional", "r.DNS.Additional")...)
	Columns = append(Columns, ednsColumns...)
	Columns = append(Columns,
		label("malformed", "why the message did not parse whole; empty when it did",
			"string(r.DNS.Malformed)"),
		blob("raw", "the message's bytes when it is malformed, else empty", "rawOf(r)"),
	)
}

// rawOf returns the message's bytes when it is malformed.
func rawOf(r *Row) []byte {
	if r.DNS.Malformed == "" {
		return nil
	}
	return r.Net.Payload
}

var noQuestion dnsmsg.Question

func firstQ(r *Row) *dnsmsg.Question {
	if len(r.DNS.Questions) == 0 {
		return &noQuestion
	}
	return &r.DNS.Questions[0]
}

// section returns the five parallel array columns of one record section,
// the slice of RRs list.
func section(name, list string) []Column {
	return []Column{
		listText(name+"_names", name+" records' owner names", list, "e.Name"),
		listU16(name+"_types", name+" records' types", list, "e.Type"),
		listU16(name+"_classes", name+" records' classes", list, "e.Class"),
		listU32(name+"_ttls", name+" records' TTLs", list, "e.TTL"),
		listText(name+"_data", name+" records' RDATA in presentation form", list, "e.Data"),
	}
}

// ednsColumns hold the OPT record (RFC 6891) and the options stored.
var ednsColumns = []Column{
	flag("edns", "the message has an OPT record", "r.DNS.EDNS.Present"),
	u16("edns_udp_size", "requestor's UDP payload size", "r.DNS.EDNS.UDPSize"),
	u8("edns_version", "EDNS version", "r.DNS.EDNS.Version"),
	flag("edns_do", "DNSSEC OK bit", "r.DNS.EDNS.DO"),
	listU16("edns_options", "option codes in wire order", "r.DNS.EDNS.Options", "e"),
	u16("ecs_family", "client subnet address family, 0 when absent (RFC 7871)",
		"r.DNS.EDNS.ECSFamily"),
	u8("ecs_source_prefix", "client subnet source prefix length",
		"r.DNS.EDNS.ECSSourcePrefix"),
	u8("ecs_scope_prefix", "client subnet scope prefix length", "r.DNS.EDNS.ECSScopePrefix"),
	text("ecs_address", "client subnet address", "r.DNS.EDNS.ECSAddress"),
	blob("cookie_client", "client cookie (RFC 7873)", "r.DNS.EDNS.ClientCookie"),
	blob("cookie_server", "server cookie (RFC 7873)", "r.DNS.EDNS.ServerCookie"),
	blob("nsid", "name server identifier (RFC 5001)", "r.DNS.EDNS.NSID"),
	listU16("ede_codes", "extended DNS error info-codes (RFC 8914)", "r.DNS.EDNS.EDECodes", "e"),
	listText("ede_texts", "extended DNS error extra texts", "r.DNS.EDNS.EDETexts", "e"),
}
