package craft

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pcapload/pcapload/internal/testenv"
)

// tsharkFields are the fields the tshark test prints, in order. tshark
// names an 802.1ad tag ieee8021ad.id and an 802.1Q tag vlan.id;
// dns.count.answers is ANCOUNT from the header. The address and port
// fields list the outer packet of a tunnel first.
var tsharkFields = []string{
	"frame.number", "dns.id", "dns.flags.response", "dns.qry.name", "dns.qry.type",
	"ieee8021ad.id", "vlan.id", "dns.count.answers", "frame.time_epoch",
	"ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "udp.srcport", "udp.dstport", "tcp.srcport", "tcp.dstport",
}

// tshark runs tshark on pcap with the options of issue #4 plus extra, and
// returns its lines by frame number.
func tshark(tb testing.TB, pcap []byte, extra []string, filter string, fields []string) map[string]string {
	tb.Helper()
	bin, err := exec.LookPath("tshark")
	if err != nil {
		testenv.Missing(tb, "tshark (apt-get install tshark)")
	}
	path := filepath.Join(tb.TempDir(), "c.pcap")
	if err := os.WriteFile(path, pcap, 0o600); err != nil {
		tb.Fatal(err)
	}
	args := append([]string{"-n", "-r", path, "-o", "tcp.desegment_tcp_streams:TRUE"}, extra...)
	args = append(args, "-Y", filter, "-T", "fields", "-E", "separator=,",
		"-E", "occurrence=a", "-E", "aggregator=|")
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		tb.Fatalf("tshark: %v", err)
	}
	lines := map[string]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		if line != "" {
			lines[strings.SplitN(line, ",", 2)[0]] = line
		}
	}
	return lines
}

// TestCase_Tshark reads every case with tshark, the project's reference
// decoder. A frame of well-formed messages must read exactly as its rows
// say; a frame with a malformed message must agree on ID and direction,
// and what tshark shows is logged (the README records it). tshark must see
// DNS in exactly the frames that have rows.
func TestCase_Tshark(t *testing.T) {
	for _, c := range Cases() {
		t.Run(c.Name, func(t *testing.T) {
			seen := tshark(t, c.Pcap(), c.DecodeAs, "dns or mdns or llmnr", tsharkFields)
			want, malformed := frameViews(c.rows)
			for frame, w := range want {
				line, ok := seen[frame]
				if !ok {
					t.Errorf("frame %s: tshark sees no DNS, want %+v", frame, w)
					continue
				}
				got := parseTshark(line)
				if malformed[frame] {
					t.Logf("frame %s is malformed: tshark shows %q", frame, line)
					got = tsharkView{ids: got.ids, qrs: got.qrs, time: got.time, flow: got.flow}
					w = tsharkView{ids: w.ids, qrs: w.qrs, time: w.time, flow: w.flow}
				}
				if got != w {
					t.Errorf("frame %s: tshark says %+v, want %+v", frame, got, w)
				}
			}
			if len(seen) != len(want) {
				t.Errorf("tshark sees DNS in %d frames, want %d: %v", len(seen), len(want), seen)
			}
		})
	}
}

// tsharkView is one frame as tshark prints it, messages of the frame
// joined by the aggregator, with the VLAN tags reduced to the outermost
// and the innermost, and the innermost addresses and ports.
type tsharkView struct {
	ids, qrs, names, types, answers string
	outer, inner                    string
	time                            string // seconds.nanoseconds
	flow                            string // "transport src.port > dst.port"
}

// parseTshark reads a line printed with tsharkFields.
func parseTshark(line string) tsharkView {
	f := strings.Split(line, ",")
	if len(f) != len(tsharkFields) {
		return tsharkView{ids: "unparsed: " + line}
	}
	v := tsharkView{ids: f[1], qrs: f[2], names: f[3], types: f[4], answers: f[7]}
	tags := strings.FieldsFunc(f[5]+"|"+f[6], func(r rune) bool { return r == '|' })
	if len(tags) > 0 {
		v.outer, v.inner = tags[0], tags[len(tags)-1]
	}
	v.time = f[8]
	src, dst := last(f[9]), last(f[10])
	if f[11] != "" {
		src, dst = last(f[11]), last(f[12])
	}
	v.flow = fmt.Sprintf("udp %s.%s > %s.%s", src, f[13], dst, f[14])
	if f[15] != "" {
		v.flow = fmt.Sprintf("tcp %s.%s > %s.%s", src, f[15], dst, f[16])
	}
	return v
}

// last returns the last of the values tshark aggregated in s.
func last(s string) string { return s[strings.LastIndexByte(s, '|')+1:] }

// frameViews returns the view of each frame that has rows, and which of
// them hold a malformed message.
func frameViews(rows []Row) (views map[string]tsharkView, malformed map[string]bool) {
	byFrame := map[string][]Row{}
	malformed = map[string]bool{}
	for _, r := range rows {
		f := strconv.Itoa(r.Frame)
		byFrame[f] = append(byFrame[f], r)
		malformed[f] = malformed[f] || r.Malformed
	}
	views = map[string]tsharkView{}
	for f, rs := range byFrame {
		views[f] = rowsView(rs)
	}
	return views, malformed
}

// rowsView returns the view of the rows of one frame.
func rowsView(rows []Row) tsharkView {
	var ids, qrs, names, types, answers []string
	for _, r := range rows {
		ids = append(ids, fmt.Sprintf("0x%04x", r.ID))
		qrs = append(qrs, map[bool]string{false: "0", true: "1"}[r.QR])
		names = append(names, r.QNames...)
		for _, q := range r.QTypes {
			types = append(types, strconv.Itoa(int(q)))
		}
		answers = append(answers, strconv.Itoa(r.Answers))
	}
	v := tsharkView{ids: join(ids), qrs: join(qrs), names: join(names), types: join(types), answers: join(answers)}
	r := rows[0]
	if r.VLANOuter != 0 {
		v.outer, v.inner = strconv.Itoa(int(r.VLANOuter)), strconv.Itoa(int(r.VLANInner))
	}
	v.time = fmt.Sprintf("%d.%09d", r.Time/1e9, r.Time%1e9)
	v.flow = fmt.Sprintf("%s %s.%d > %s.%d", r.Transport, r.Src, r.SrcPort, r.Dst, r.DstPort)
	return v
}

func join(s []string) string { return strings.Join(s, "|") }

// TestCase_TsharkChecksums has tshark verify every IPv4 header, UDP and
// TCP checksum: no fault of a case may be a checksum fault. Status 0 is
// bad, 1 good, 2 unverified (as for the packet cut by the snaplen).
func TestCase_TsharkChecksums(t *testing.T) {
	opts := []string{"-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
		"-o", "tcp.check_checksum:TRUE"}
	bad := "ip.checksum.status == 0 or udp.checksum.status == 0 or tcp.checksum.status == 0"
	good := "udp.checksum.status == 1 or tcp.checksum.status == 1"
	for _, c := range Cases() {
		t.Run(c.Name, func(t *testing.T) {
			if frames := tshark(t, c.Pcap(), opts, bad, []string{"frame.number"}); len(frames) > 0 {
				t.Errorf("bad checksums in frames %v", frames)
			}
			if len(tshark(t, c.Pcap(), opts, good, []string{"frame.number"})) == 0 {
				t.Errorf("tshark verified no UDP or TCP checksum")
			}
		})
	}
}
