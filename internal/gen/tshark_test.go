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
			raw, all, _ := generate(t, Config{Seed: 21, Messages: 3000, Malformed: 0.01}, f)
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
			for _, e := range all {
				got, want := seen[strconv.FormatUint(e.Frame, 10)], tsharkLine(e)
				if !matchTshark(got, want, e.Malformed) {
					t.Errorf("tshark says %q, want %q", got, want)
				}
			}
			if len(seen) != len(all) {
				t.Errorf("tshark sees %d DNS messages, want %d", len(seen), len(all))
			}
		})
	}
}

// tsharkLine formats e as the tshark command above prints it. tshark names
// an 802.1ad tag apart and an 802.1Q or 0x9100 tag as vlan.id; the test
// does not know which outer tag a frame has, so it joins the two fields.
func tsharkLine(e Expected) string {
	vlans := make([]string, len(e.VLANs))
	for i, v := range e.VLANs {
		vlans[i] = strconv.Itoa(int(v))
	}
	qr, qtype := "0", ""
	if e.QR {
		qr = "1"
	}
	if e.QType != 0 {
		qtype = strconv.Itoa(int(e.QType))
	}
	return fmt.Sprintf("%d|%s|0x%04x|%s|%s|%s|%d",
		e.Frame, strings.Join(vlans, ","), e.ID, qr, e.QName, qtype, e.Answers)
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
