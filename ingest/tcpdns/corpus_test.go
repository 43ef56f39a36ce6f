package tcpdns_test

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/pcapload/pcapload/ingest/tcpdns"
	"github.com/pcapload/pcapload/internal/corpus"
)

// emitted maps a frame number to the IDs of the messages completed by that
// frame, as tshark prints them: "0x1a2b|0x3c4d".
type emitted map[string]string

// replay feeds the segments of one corpus file to a fresh Reassembler. It
// returns the IDs per frame and copies of the messages per frame.
func replay(tb testing.TB, segs []segment) (emitted, map[string][][]byte, tcpdns.Stats) {
	tb.Helper()
	r := tcpdns.New(tcpdns.Config{})
	got := emitted{}
	msgs := map[string][][]byte{}
	for _, s := range segs {
		frame := fmt.Sprint(s.frame)
		r.Segment(s.key, s.ts, s.seq, s.flags, s.payload, func(msg []byte) {
			msgs[frame] = append(msgs[frame], append([]byte(nil), msg...))
			id := "short"
			if len(msg) >= 2 {
				id = fmt.Sprintf("0x%04x", binary.BigEndian.Uint16(msg))
			}
			if got[frame] != "" {
				got[frame] += "|"
			}
			got[frame] += id
		})
	}
	return got, msgs, r.Flush()
}

// tcpFrames returns tshark's frames that carry DNS over TCP.
func tcpFrames(frames []corpus.Frame) emitted {
	want := emitted{}
	for _, f := range frames {
		if f["tcp.srcport"] != "" {
			want[f["frame.number"]] = f["dns.id"]
		}
	}
	return want
}

func TestReassembler_Corpus(t *testing.T) {
	dir := corpus.Dir(t)
	tests := []struct {
		file  string
		ports []uint16
		extra int          // messages tshark does not show (see below)
		stats tcpdns.Stats // fields checked: Gaps, Resyncs, Incomplete, Midstream
	}{
		{file: "tcpdump/dns_tcp.pcap", ports: []uint16{53}},
		{file: "dnscap/dnsotcp-many1pkt.pcap", ports: []uint16{53}},
		{file: "suricata-verify/dns-incomplete/input.pcap", ports: []uint16{53, 5353}},
		{file: "suricata-verify/dns-truncated-rname/poc2.pcap", ports: []uint16{1053}},
		{
			// Every segment is a lone server response picked up mid-stream.
			file: "zeek/dns-edns-ecs.pcap", ports: []uint16{53},
			stats: tcpdns.Stats{Resyncs: 9, Midstream: 9},
		},
		{
			// Both directions lose data. tshark resumes on the server side
			// only; the client side resumes too once the third segment past
			// the hole arrives (frame 25), so its 35 later queries are extra.
			file: "dnscap/dnso1tcp-bighole.pcap", ports: []uint16{53}, extra: 35,
			stats: tcpdns.Stats{Gaps: 2, Resyncs: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			segs := readSegments(t, filepath.Join(dir, tt.file), tt.ports...)
			got, msgs, st := replay(t, segs)
			want := tcpFrames(corpus.Reference(t, dir, tt.file))
			if len(want) == 0 {
				t.Fatal("reference decode has no DNS over TCP")
			}
			for frame, ids := range want {
				if got[frame] != ids {
					t.Errorf("frame %s: got IDs %q, want %q", frame, got[frame], ids)
				}
			}
			extra := extraMessages(got, want)
			if len(extra) != tt.extra {
				t.Errorf("got %d messages tshark does not show, want %d: %v",
					len(extra), tt.extra, extra)
			}
			for frame := range got {
				if _, ok := want[frame]; !ok {
					checkQueries(t, frame, msgs[frame])
				}
			}
			checkStats(t, st, tt.stats)
			t.Logf("%s: %d messages (tshark %d), stats %+v", tt.file, st.Messages, count(want), st)
		})
	}
}

// checkQueries asserts that messages tshark does not show are whole DNS
// queries for the names the bighole client asks about, not bytes framed at
// a wrong boundary.
func checkQueries(t *testing.T, frame string, msgs [][]byte) {
	t.Helper()
	for _, b := range msgs {
		var m dns.Msg
		if err := m.Unpack(b); err != nil {
			t.Errorf("frame %s: extra message does not parse: %v", frame, err)
			continue
		}
		if m.Response || len(m.Question) != 1 {
			t.Errorf("frame %s: extra message is not a query: %v", frame, m.MsgHdr)
			continue
		}
		switch m.Question[0].Name {
		case "google.com.", "206.218.58.216.in-addr.arpa.":
		default:
			t.Errorf("frame %s: extra query for %q", frame, m.Question[0].Name)
		}
	}
}

// extraMessages lists the frames and IDs emitted where tshark shows none.
func extraMessages(got, want emitted) []string {
	var out []string
	for frame, ids := range got {
		if _, ok := want[frame]; !ok {
			for _, id := range strings.Split(ids, "|") {
				out = append(out, frame+":"+id)
			}
		}
	}
	sort.Strings(out)
	return out
}

func count(e emitted) int {
	n := 0
	for _, ids := range e {
		n += strings.Count(ids, "|") + 1
	}
	return n
}

// checkStats compares the counters a corpus file pins down.
func checkStats(t *testing.T, got, want tcpdns.Stats) {
	t.Helper()
	pairs := []struct {
		name      string
		got, want uint64
	}{
		{"Gaps", got.Gaps, want.Gaps},
		{"Resyncs", got.Resyncs, want.Resyncs},
		{"Incomplete", got.Incomplete, want.Incomplete},
		{"Midstream", got.Midstream, want.Midstream},
	}
	for _, p := range pairs {
		if p.got != p.want {
			t.Errorf("Stats.%s = %d, want %d", p.name, p.got, p.want)
		}
	}
}
