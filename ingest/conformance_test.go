package ingest_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/internal/corpus"
	"github.com/pcapload/pcapload/schema"
)

// decodeAs mirrors the -d options tshark was given for corpus files that
// carry DNS on another port (corpus/SOURCES.md).
var decodeAs = map[string]uint16{
	"tcpdump/dns_udp_8053.pcap":                     8053,
	"suricata-verify/dns-truncated-rname/poc2.pcap": 1053,
}

// message is the fields of one DNS message that the conformance test
// compares with tshark's, printed as tshark prints them.
type message map[string]string

func decodeCorpusFile(t testing.TB, dir, rel string) (map[string][]message, *ingest.FileStats) {
	t.Helper()
	ports := append([]uint16(nil), ingest.DefaultPorts...)
	if p, ok := decodeAs[rel]; ok {
		ports = append(ports, p)
	}
	d := ingest.NewDecoder(ingest.Config{Ports: ports})
	var st ingest.FileStats
	got := make(map[string][]message)
	err := d.DecodeFile(ingest.Input{Path: filepath.Join(dir, rel)}, &st, nil, func(r *schema.Row) error {
		frame := fmt.Sprint(r.Frame)
		got[frame] = append(got[frame], tsharkView(r))
		return nil
	})
	if err != nil {
		t.Fatalf("decode %s: %v", rel, err)
	}
	if st.Reasons.Total() != st.Packets {
		t.Errorf("%s: reasons sum to %d, want %d packets", rel, st.Reasons.Total(), st.Packets)
	}
	return got, &st
}

func tsharkView(r *schema.Row) message {
	m := message{
		"time":      fmt.Sprintf("%d.%09d", r.Time/1e9, r.Time%1e9),
		"src":       r.Net.Src.String(),
		"dst":       r.Net.Dst.String(),
		"sport":     fmt.Sprint(r.Net.SrcPort),
		"id":        fmt.Sprintf("0x%04x", r.DNS.ID),
		"qr":        "0",
		"vlan":      vlanView(r),
		"malformed": string(r.DNS.Malformed),
	}
	if r.DNS.QR {
		m["qr"] = "1"
		m["rcode"] = fmt.Sprint(r.DNS.RCode & 0xf) // tshark shows the header bits only
	}
	var names, types []string
	for _, q := range r.DNS.Questions {
		n := string(q.Name)
		if n == "." {
			n = "<Root>"
		}
		names = append(names, n)
		types = append(types, fmt.Sprint(q.Type))
	}
	m["qname"], m["qtype"] = strings.Join(names, "|"), strings.Join(types, "|")
	return m
}

// vlanView prints the tags as tshark joins them; pcapload keeps the
// outermost and innermost only, so deeper stacks compare by those two.
func vlanView(r *schema.Row) string {
	switch r.Net.VLANDepth {
	case 0:
		return ""
	case 1:
		return fmt.Sprint(r.Net.VLANOuter)
	}
	return fmt.Sprintf("%d|%d", r.Net.VLANOuter, r.Net.VLANInner)
}

// referenceMessages splits a reference frame into its messages: a TCP
// segment can complete several, and tshark joins their values with "|".
// Each message of such a frame is taken to ask one question, which holds
// for every TCP capture of the corpus; the header rcode appears for
// responses only.
func referenceMessages(f corpus.Frame) []message {
	ids := strings.Split(f["dns.id"], "|")
	base := referenceView(f)
	if len(ids) == 1 {
		return []message{base}
	}
	qrs := strings.Split(f["dns.flags.response"], "|")
	rcodes := strings.Split(f["dns.flags.rcode"], "|")
	names := strings.Split(f["dns.qry.name"], "|")
	types := strings.Split(f["dns.qry.type"], "|")
	out := make([]message, len(ids))
	r := 0
	for i := range ids {
		m := make(message, len(base))
		for k, v := range base {
			m[k] = v
		}
		m["id"], m["qr"], m["qname"], m["qtype"] = ids[i], at(qrs, i), at(names, i), at(types, i)
		delete(m, "rcode")
		if m["qr"] == "1" {
			m["rcode"] = at(rcodes, r)
			r++
		}
		out[i] = m
	}
	return out
}

func referenceView(f corpus.Frame) message {
	m := message{
		"time":  f["frame.time_epoch"],
		"src":   f["ip.src"] + f["ipv6.src"],
		"dst":   f["ip.dst"] + f["ipv6.dst"],
		"sport": f["udp.srcport"] + f["tcp.srcport"],
		"id":    f["dns.id"],
		"qr":    f["dns.flags.response"],
		"qname": f["dns.qry.name"],
		"qtype": f["dns.qry.type"],
	}
	if f["dns.flags.rcode"] != "" {
		m["rcode"] = f["dns.flags.rcode"]
	}
	if v := strings.Split(f["vlan.id"], "|"); len(v) > 2 {
		m["vlan"] = v[0] + "|" + v[len(v)-1]
	} else {
		m["vlan"] = f["vlan.id"]
	}
	return m
}

var comparedFields = []string{"time", "src", "dst", "sport", "id", "qr", "rcode", "qname", "qtype", "vlan"}

// TestConformance compares every DNS message over UDP that pcapload finds in
// the corpus with tshark's reference decode. Differences must be listed,
// with their reason, in testdata/tshark-differences.txt; listed differences
// that no longer occur fail too, so the list stays true.
func TestConformance(t *testing.T) {
	dir := corpus.Dir(t)
	listed := readDifferences(t, "testdata/tshark-differences.txt")
	seen := make(map[string]bool)
	for _, rel := range corpus.Captures(t, dir) {
		t.Run(rel, func(t *testing.T) {
			got, _ := decodeCorpusFile(t, dir, rel)
			for _, d := range compareFile(t, dir, rel, got) {
				if k, ok := listedKey(listed, d.key); ok {
					seen[k] = true
					continue
				}
				t.Errorf("unlisted difference: %s: %s", d.key, clip(d.detail))
			}
		})
	}
	for k, reason := range listed {
		if !seen[k] {
			t.Errorf("listed difference %q (%s) no longer occurs: remove it", k, reason)
		}
	}
}

type difference struct{ key, detail string }

// clip shortens a detail for the log: hostile names run to kilobytes.
func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

func compareFile(t *testing.T, dir, rel string, got map[string][]message) []difference {
	var diffs []difference
	ref := make(map[string]bool)
	for _, f := range corpus.Reference(t, dir, rel) {
		frame := f["frame.number"]
		ref[frame] = true
		msgs, want := got[frame], referenceMessages(f)
		if len(msgs) != len(want) {
			diffs = append(diffs, difference{fmt.Sprintf("%s %s missing", rel, frame),
				fmt.Sprintf("pcapload found %d messages, tshark %d (%s)", len(msgs), len(want), f)})
			continue
		}
		for i := range want {
			for _, field := range comparedFields {
				if msgs[i][field] != want[i][field] {
					diffs = append(diffs, difference{fmt.Sprintf("%s %s %s", rel, frame, field),
						fmt.Sprintf("pcapload %q, tshark %q", msgs[i][field], want[i][field])})
				}
			}
		}
	}
	for frame := range got {
		if !ref[frame] {
			diffs = append(diffs, difference{fmt.Sprintf("%s %s extra", rel, frame),
				fmt.Sprintf("pcapload found a message tshark did not: %v", got[frame])})
		}
	}
	sort.Slice(diffs, func(i, j int) bool { return diffs[i].key < diffs[j].key })
	return diffs
}

// listedKey finds the listed difference that covers key "FILE FRAME
// FIELD": the key itself, or "FILE * FIELD" for every frame of a file.
func listedKey(listed map[string]string, key string) (string, bool) {
	if _, ok := listed[key]; ok {
		return key, true
	}
	parts := strings.Fields(key)
	if len(parts) == 3 {
		wild := parts[0] + " * " + parts[2]
		if _, ok := listed[wild]; ok {
			return wild, true
		}
	}
	return "", false
}

// readDifferences reads "FILE FRAME FIELD # reason" lines; FRAME may be *.
func readDifferences(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := make(map[string]string)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, reason, ok := strings.Cut(line, "#")
		if !ok || strings.TrimSpace(reason) == "" {
			t.Fatalf("%s:%d: a difference needs a reason after #", path, n)
		}
		out[strings.Join(strings.Fields(key), " ")] = strings.TrimSpace(reason)
	}
	return out
}

// TestCrossCheckInvariant: dns.pcap.gz, dns.pcap.zst and vlan11.pcap hold
// the same 82 messages (corpus/SOURCES.md), only the VLAN differs.
func TestCrossCheckInvariant(t *testing.T) {
	dir := corpus.Dir(t)
	var want []string
	for _, rel := range []string{"dnscap/dns.pcap.gz", "dnscap/dns.pcap.zst", "dnscap/vlan11.pcap"} {
		got, st := decodeCorpusFile(t, dir, rel)
		var keys []string
		for _, msgs := range got {
			for _, m := range msgs {
				keys = append(keys, fmt.Sprint(m["id"], m["qr"], m["qname"], m["qtype"]))
				if wantVLAN := map[bool]string{true: "11", false: ""}[rel == "dnscap/vlan11.pcap"]; m["vlan"] != wantVLAN {
					t.Errorf("%s: vlan %q, want %q", rel, m["vlan"], wantVLAN)
				}
			}
		}
		sort.Strings(keys)
		if len(keys) != 82 || st.Messages() != 82 {
			t.Errorf("%s: %d messages, want 82", rel, len(keys))
		}
		if want == nil {
			want = keys
		} else if strings.Join(keys, ",") != strings.Join(want, ",") {
			t.Errorf("%s: messages differ from dns.pcap.gz's", rel)
		}
	}
}
