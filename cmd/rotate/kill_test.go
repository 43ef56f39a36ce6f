package main

import (
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pcapload/pcapload/internal/captest"
	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/internal/testenv"
)

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// TestMain removes the binary the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildPath != "" && buildErr == nil {
		os.RemoveAll(filepath.Dir(buildPath))
	}
	os.Exit(code)
}

// binary builds the rotate command once per test run and returns its path.
func binary(t testing.TB) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		testenv.Missing(t, "the go command to build rotate: "+err.Error())
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "rotate-bin")
		if err != nil {
			buildErr = err
			return
		}
		os.Chmod(dir, 0o755) // the live test runs it as nobody too
		buildPath = filepath.Join(dir, "rotate")
		out, err := exec.Command(gobin, "build", "-o", buildPath, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			buildPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build rotate: %v\n%s", buildErr, buildPath)
	}
	return buildPath
}

// TestRun_KillRecover kills a real rotate process in the middle of a file
// and restarts it: the .part must come back with every packet of its
// completed frames, marked recovered, and no finished file may change.
func TestRun_KillRecover(t *testing.T) {
	bin := binary(t)
	data := captest.Generate(t, 20000, gen.PcapNano, gen.Config{Seed: 3})
	want := captest.ReadAll(t, strings.NewReader(string(data)))
	dir := t.TempDir()

	// Feed 60% of the stream (about 12,000 packets) and hold the pipe
	// open: files 1 and 2 (5,000 packets each) finish, file 3 stays a
	// .part whose 100-packet frames reach the disk.
	cmd := exec.Command(bin, "-r", "-", "-w", dir, "--sensor", "k", "--max-packets", "5000",
		"--frame-packets", "100", "--stats-every", "0")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if _, err := stdin.Write(data[:len(data)*6/10]); err != nil {
		t.Fatal(err)
	}
	part := waitStablePart(t, dir)
	before := snapshot(t, dir)
	if len(before) != 4 {
		t.Fatalf("before the kill: %v, want 2 files and 2 sidecars", dirList(dir))
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	// Restart on an empty capture: recovery only.
	empty := filepath.Join(t.TempDir(), "empty.pcap")
	if err := os.WriteFile(empty, data[:24], 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-r", empty, "-w", dir, "--sensor", "k").CombinedOutput(); err != nil {
		t.Fatalf("restart: %v\n%s", err, out)
	}

	after := snapshot(t, dir)
	for name, sum := range before {
		if after[name] != sum {
			t.Errorf("finished %s changed or vanished", name)
		}
	}
	files := finished(t, dir)
	if len(files) != 3 || filepath.Base(files[2])+".part" != filepath.Base(part) {
		t.Fatalf("files %v, want 2 finished and %s recovered", files, part)
	}
	got := captest.ReadFile(t, files[2])
	side := sidecars(t, files[2:])[0]
	if !side.Recovered || side.Packets != uint64(len(got)) {
		t.Fatalf("sidecar %+v for %d packets", side, len(got))
	}
	// Everything but the frame being written when killed, at most.
	if len(got) < 1000 {
		t.Fatalf("recovered %d packets, want at least 1000", len(got))
	}
	captest.Equal(t, got, want[10000:10000+len(got)])
	t.Logf("recovered %d packets of the %d fed to file 3", len(got), len(want)*6/10-10000)
}

// waitStablePart waits until dir holds two finished files and one .part
// that has stopped growing, and returns the .part's path.
func waitStablePart(t *testing.T, dir string) string {
	t.Helper()
	var last int64 = -1
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		parts, _ := filepath.Glob(filepath.Join(dir, "*.pcapng.zst.part"))
		if len(parts) != 1 || len(finished(t, dir)) != 2 {
			continue
		}
		st, err := os.Stat(parts[0])
		if err != nil {
			continue
		}
		if st.Size() > 0 && st.Size() == last {
			return parts[0]
		}
		last = st.Size()
	}
	t.Fatalf("no stable .part in %s: %v", dir, dirList(dir))
	return ""
}

// snapshot returns the SHA-256 of every finished file and sidecar in dir.
func snapshot(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	m := map[string][32]byte{}
	for _, n := range dirList(dir) {
		if strings.HasSuffix(n, ".part") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		m[n] = sha256.Sum256(b)
	}
	return m
}

func dirList(dir string) []string {
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}
