package main

import (
	"bufio"
	"bytes"
	endian "encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/pcapload/pcapload/internal/captest"
	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/internal/testenv"
	"github.com/pcapload/pcapload/rotate"
)

// TestLive_Netns captures, with the default DNS filter, generated frames
// sent through a veth pair inside a network namespace of its own, and
// checks the files hold exactly the sent frames the filter keeps.
func TestLive_Netns(t *testing.T) {
	bin := binary(t)
	ns := newNetns(t)
	frames := genFrames(t, 3000)
	want := filtered(t, frames)
	if len(want) == len(frames) || len(want) < len(frames)/2 {
		t.Fatalf("filter keeps %d of %d frames: the input exercises nothing", len(want), len(frames))
	}

	tests := []struct {
		name   string
		prefix []string
		fanout int
	}{
		{"fanout 1", []string{bin}, 1},
		{"fanout 2", []string{bin}, 2},
		{"CAP_NET_RAW only, fanout 2, promiscuous", netRawOnly(t, bin), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := openDir(t)
			stop := startCapture(t, tt.prefix, ns, "vb", dir, "--fanout", fmt.Sprint(tt.fanout),
				"--max-packets", "1000", "--promisc")
			if err := sendInNetns(ns, "va", frames); err != nil {
				t.Fatalf("send: %v", err)
			}
			time.Sleep(500 * time.Millisecond) // past the ring's block timeout and the poll timeout
			stop()

			var got [][]byte
			files := finished(t, dir)
			for i, s := range sidecars(t, files) {
				ps := captest.ReadFile(t, files[i])
				if s.Packets != uint64(len(ps)) || s.Drops != 0 || s.LinkType != 1 || s.Snaplen != 65535 {
					t.Errorf("%s: sidecar %+v for %d packets", files[i], s, len(ps))
				}
				for _, p := range ps {
					got = append(got, p.Data)
				}
			}
			if tt.fanout > 1 {
				// Sockets of a fanout group are merged in arrival order.
				got, want := sorted(got), sorted(want)
				equalFrames(t, got, want)
				return
			}
			equalFrames(t, got, want)
		})
	}
}

// TestLive_startWindow starts captures while frames pour in, half of them
// ones the filter rejects, half DNS frames each sent once. A socket
// receives from the moment it is bound, before its filter is set or it
// joins its fanout group: nothing of that window may reach the files, no
// rejected frame and no frame twice.
func TestLive_startWindow(t *testing.T) {
	bin := binary(t)
	ns := newNetns(t)
	for _, fanout := range []int{1, 2} {
		t.Run(fmt.Sprintf("fanout %d", fanout), func(t *testing.T) {
			dir := openDir(t)
			done := make(chan struct{})
			var sent int
			errc := make(chan error, 1)
			go func() {
				errc <- streamInNetns(ns, "va", func(i int) []byte {
					select {
					case <-done:
						return nil
					default:
					}
					sent = i + 1
					port := uint16(53)
					if i%2 == 1 {
						port = 80
					}
					return udpFrame(uint32(i), port)
				})
			}()
			stop := startCapture(t, []string{bin}, ns, "vb", dir, "--fanout", fmt.Sprint(fanout), "--promisc")
			time.Sleep(50 * time.Millisecond) // frames after the start too
			close(done)
			if err := <-errc; err != nil {
				t.Fatalf("send: %v", err)
			}
			time.Sleep(300 * time.Millisecond)
			stop()

			seen := map[string]bool{}
			var kept, rejected, twice int
			for _, f := range finished(t, dir) {
				for _, p := range captest.ReadFile(t, f) {
					if endian.BigEndian.Uint16(p.Data[36:]) != 53 {
						rejected++
					}
					if seen[string(p.Data)] {
						twice++
					}
					seen[string(p.Data)] = true
					kept++
				}
			}
			t.Logf("sent %d frames, captured %d", sent, kept)
			if kept == 0 || rejected > 0 || twice > 0 {
				t.Fatalf("captured %d frames: %d the filter rejects, %d a second time", kept, rejected, twice)
			}
		})
	}
}

// udpFrame returns an Ethernet IPv4 UDP frame to port carrying seq, so
// that every frame differs.
func udpFrame(seq uint32, port uint16) []byte {
	f := make([]byte, 14+20+8+4)
	copy(f, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00})
	ip := f[14:]
	ip[0], ip[8], ip[9] = 0x45, 64, 17
	endian.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
	copy(ip[12:], []byte{192, 0, 2, 1, 192, 0, 2, 2})
	udp := ip[20:]
	endian.BigEndian.PutUint16(udp[0:], 40000)
	endian.BigEndian.PutUint16(udp[2:], port)
	endian.BigEndian.PutUint16(udp[4:], uint16(len(udp)))
	endian.BigEndian.PutUint32(udp[8:], seq)
	return f
}

// netRawOnly returns the command prefix that runs bin as nobody with
// CAP_NET_RAW as its only capability, as deploy/rotate.service does.
func netRawOnly(t *testing.T, bin string) []string {
	t.Helper()
	if _, err := exec.LookPath("setpriv"); err != nil {
		testenv.Missing(t, "setpriv (util-linux) to drop privileges: "+err.Error())
	}
	return []string{
		"setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
		"--inh-caps", "-all,+net_raw", "--ambient-caps", "-all,+net_raw", "--bounding-set", "-all,+net_raw",
		bin,
	}
}

// openDir returns a new directory anyone may write, for a rotate that runs
// as nobody; t.TempDir's parent admits only its owner.
func openDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "rotate-live")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	return dir
}

// newNetns creates a network namespace holding a veth pair va–vb, both up,
// and removes it when the test ends.
func newNetns(t testing.TB) string {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.Missing(t, "root, to create a network namespace")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		testenv.Missing(t, "the ip command (iproute2): "+err.Error())
	}
	ns := fmt.Sprintf("rotatetest%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		testenv.Missing(t, fmt.Sprintf("permission to add a network namespace: %v: %s", err, out))
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	for _, args := range [][]string{
		{"link", "add", "va", "type", "veth", "peer", "name", "vb"},
		{"link", "set", "va", "up"},
		{"link", "set", "vb", "up"},
	} {
		if out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	return ns
}

// startCapture starts rotate on iface inside ns, waits until it captures,
// and returns a function that stops it with SIGTERM and waits. The command
// line starts with prefix, which ends with the binary.
func startCapture(t testing.TB, prefix []string, ns, iface, dir string, flags ...string) func() {
	t.Helper()
	args := append([]string{"netns", "exec", ns}, prefix...)
	args = append(args, "-i", iface, "-w", dir, "--sensor", "live", "--stats-every", "0")
	cmd := exec.Command("ip", append(args, flags...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	var log bytes.Buffer
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "capture started") {
				close(started)
			}
		}
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("rotate did not start:\n%s", log.String())
	}
	return func() {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("rotate: %v\n%s", err, log.String())
		}
	}
}

// sendInNetns sends frames out of iface in ns through an AF_PACKET socket,
// pausing every 100 frames to stay under the receive backlog
// (netdev_max_backlog, 1000).
func sendInNetns(ns, iface string, frames [][]byte) error {
	return streamInNetns(ns, iface, func(i int) []byte {
		if i > 0 && i%100 == 0 {
			time.Sleep(time.Millisecond)
		}
		if i == len(frames) {
			return nil
		}
		return frames[i]
	})
}

// streamInNetns sends frame(0), frame(1), … out of iface in ns until frame
// returns nil, from a thread that enters the namespace. The thread is never
// unlocked, so it ends with its goroutine and never runs other code in the
// namespace.
func streamInNetns(ns, iface string, frame func(i int) []byte) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		errc <- streamFrames(ns, iface, frame)
	}()
	return <-errc
}

func streamFrames(ns, iface string, frame func(i int) []byte) error {
	f, err := os.Open("/var/run/netns/" + ns)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("enter namespace: %w", err)
	}
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return err
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	to := &unix.SockaddrLinklayer{Ifindex: ifi.Index}
	for i := 0; ; i++ {
		fr := frame(i)
		if fr == nil {
			return nil
		}
		if err := unix.Sendto(fd, fr, 0, to); err != nil {
			return fmt.Errorf("frame %d: %w", i, err)
		}
	}
}

// genFrames returns the frames of a generated capture: DNS over IPv4 and
// IPv6, untagged, 802.1Q and QinQ, with some non-DNS.
func genFrames(t testing.TB, n int) [][]byte {
	t.Helper()
	ps := captest.ReadAll(t, bytes.NewReader(captest.Generate(t, n, gen.PcapNano, gen.Config{Seed: 4, NonDNS: 0.2})))
	var out [][]byte
	for _, p := range ps {
		out = append(out, p.Data)
	}
	return out
}

// filtered returns the frames the default filter keeps.
func filtered(t *testing.T, frames [][]byte) [][]byte {
	t.Helper()
	raw, err := rotate.DNSFilter(rotate.DNSPorts)
	if err != nil {
		t.Fatal(err)
	}
	prog, _ := bpf.Disassemble(raw)
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, f := range frames {
		if n, err := vm.Run(f); err == nil && n > 0 {
			out = append(out, f)
		}
	}
	return out
}

func sorted(fs [][]byte) [][]byte {
	return slices.SortedFunc(slices.Values(fs), bytes.Compare)
}

// equalFrames fails unless got and want hold the same frames in order.
// On a difference in count it names the frames captured but not sent and
// those sent but not captured, so a flake says what it caught.
func equalFrames(t *testing.T, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		extra, missing := diffFrames(got, want)
		t.Fatalf("captured %d frames, want %d\nnot sent (%d):%s\nnot captured (%d):%s",
			len(got), len(want), len(extra), hexFrames(extra), len(missing), hexFrames(missing))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("frame %d:\n got % x\nwant % x", i, got[i], want[i])
		}
	}
}

// diffFrames returns the frames of got beyond those of want, and those of
// want beyond got, counting repeats.
func diffFrames(got, want [][]byte) (extra, missing [][]byte) {
	n := map[string]int{}
	for _, f := range want {
		n[string(f)]++
	}
	for _, f := range got {
		if n[string(f)] == 0 {
			extra = append(extra, f)
			continue
		}
		n[string(f)]--
	}
	for _, f := range want {
		if n[string(f)] > 0 {
			n[string(f)]--
			missing = append(missing, f)
		}
	}
	return extra, missing
}

func hexFrames(fs [][]byte) string {
	var b strings.Builder
	for i, f := range fs {
		if i == 5 {
			fmt.Fprintf(&b, "\n  … %d more", len(fs)-i)
			break
		}
		fmt.Fprintf(&b, "\n  % x", f)
	}
	return b.String()
}
