package gen

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestWrite_Tshark holds the ground truth against tshark, the project's
// reference decoder, when it is installed: the same frames are DNS, with
// the same VLANs, ID, direction, question and answer count.
func TestWrite_Tshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	for _, f := range formats {
		t.Run(f.String(), func(t *testing.T) {
			cfg := Config{Seed: 21, Messages: 3000, Malformed: 0.01, TCP: 0.1}
			raw, all, _ := generate(t, cfg, f)
			path := filepath.Join(t.TempDir(), "capture")
			if err := os.WriteFile(path, raw, 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(tshark, "-n", "-r", path, "-Y", "dns || mdns || llmnr",
				"-T", "fields", "-E", "separator=|", "-e", "frame.number",
				"-e", "ieee8021ad.id", "-e", "vlan.id", "-e", "dns.id",
				"-e", "dns.flags.response", "-e", "dns.qry.name", "-e", "dns.qry.type",
				"-e", "dns.count.answers").Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			seen := map[string]string{}
			for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
				f := strings.Split(line, "|")
				tags := strings.Trim(f[1]+","+f[2], ",")
				seen[f[0]] = strings.Join(append([]string{f[0], tags}, f[3:]...), "|")
			}
			var frames [][]Expected
			for _, e := range all {
				if n := len(frames); n > 0 && frames[n-1][0].Frame == e.Frame {
					frames[n-1] = append(frames[n-1], e)
				} else {
					frames = append(frames, []Expected{e})
				}
			}
			var tcp int
			for _, es := range frames {
				got, want := seen[strconv.FormatUint(es[0].Frame, 10)], tsharkLine(es)
				if !matchTshark(got, want, es[0].Malformed) {
					t.Errorf("tshark says %q, want %q", got, want)
				}
				if es[0].TCP {
					tcp++
				}
			}
			if len(seen) != len(frames) || tcp == 0 {
				t.Errorf("tshark sees DNS in %d frames, want %d (%d over TCP)",
					len(seen), len(frames), tcp)
			}
		})
	}
}

// tsharkLine formats the messages of one frame as the tshark command above
// prints them: a TCP segment that completes two messages has two values in
// each DNS field, joined with commas. tshark names an 802.1ad tag apart and
// an 802.1Q or 0x9100 tag as vlan.id; the test does not know which outer
// tag a frame has, so it joins the two fields.
func tsharkLine(es []Expected) string {
	vlans := make([]string, len(es[0].VLANs))
	for i, v := range es[0].VLANs {
		vlans[i] = strconv.Itoa(int(v))
	}
	var ids, qrs, names, qtypes, answers []string
	for _, e := range es {
		qr := "0"
		if e.QR {
			qr = "1"
		}
		ids = append(ids, fmt.Sprintf("0x%04x", e.ID))
		qrs = append(qrs, qr)
		if e.QType != 0 {
			names = append(names, e.QName)
			qtypes = append(qtypes, strconv.Itoa(int(e.QType)))
		}
		answers = append(answers, strconv.Itoa(e.Answers))
	}
	join := func(s []string) string { return strings.Join(s, ",") }
	return fmt.Sprintf("%d|%s|%s|%s|%s|%s|%s", es[0].Frame, join(vlans),
		join(ids), join(qrs), join(names), join(qtypes), join(answers))
}

// matchTshark compares whole lines, or for a malformed message only what
// precedes the question: tshark shows what it salvaged in its own way.
func matchTshark(got, want string, malformed bool) bool {
	if !malformed {
		return got == want
	}
	g, w := strings.Split(got, "|"), strings.Split(want, "|")
	return len(g) == len(w) && strings.Join(g[:4], "|") == strings.Join(w[:4], "|")
}
