package chdb

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestServeArgs(t *testing.T) {
	tests := []struct {
		name string
		cfg  ServeConfig
		want []string // nil: an error
	}{
		{"both", ServeConfig{TCP: "127.0.0.1:9000", HTTP: "127.0.0.1:8123"},
			[]string{"pcapload", "--tcp_port=9000", "--http_port=8123", "--listen_host=127.0.0.1"}},
		{"tcp only", ServeConfig{TCP: "[::1]:9000"},
			[]string{"pcapload", "--tcp_port=9000", "--listen_host=::1"}},
		{"none", ServeConfig{}, nil},
		{"any address", ServeConfig{TCP: "0.0.0.0:9000"}, nil},
		{"public address", ServeConfig{HTTP: "192.0.2.1:8123"}, nil},
		{"two hosts", ServeConfig{TCP: "127.0.0.1:9000", HTTP: "[::1]:8123"}, nil},
		{"port 0", ServeConfig{TCP: "127.0.0.1:0"}, nil},
		{"host name", ServeConfig{TCP: "localhost:9000"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := serveArgs(tt.cfg)
			if tt.want == nil {
				if err == nil {
					t.Errorf("serveArgs(%+v) = %q, want an error", tt.cfg, got)
				}
				return
			}
			if err != nil || len(got) != len(tt.want) {
				t.Fatalf("serveArgs(%+v) = %q, %v, want %q", tt.cfg, got, err, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("arg %d = %q, want %q", i, got[i], tt.want[i])
				}
			}
		})
	}
	if _, err := serveArgs(ServeConfig{TCP: "0.0.0.0:9000"}); !errors.Is(err, ErrNotLoopback) {
		t.Errorf("serveArgs(0.0.0.0) = %v, want ErrNotLoopback", err)
	}
}

// TestListen_busy asks to serve on an address in use: Listen fails in one
// line naming it, before the engine starts.
func TestListen_busy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	_, err = Listen(t.TempDir(), ServeConfig{HTTP: addr})
	if err == nil || !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "address already in use") ||
		strings.Contains(err.Error(), "\n") {
		t.Errorf("Listen on %s in use = %v, want one line naming it in use", addr, err)
	}
}

// TestServer_Close serves in a child process: the engine starts once per
// process, and this package's other tests start it with Open.
func TestServer_Close(t *testing.T) {
	if os.Getenv("CHDB_TEST_SERVE") == "1" {
		serveAndClose(t)
		return
	}
	requireLibrary(t)
	var out []byte
	var err error
	// freeAddr's ports are free when picked; another test process can
	// take one before the child listens on it: that try is done again.
	for try := 0; try < 3; try++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestServer_Close$", "-test.v")
		cmd.Env = append(os.Environ(), "CHDB_TEST_SERVE=1")
		out, err = cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "Address already in use") {
			break
		}
	}
	if err != nil {
		t.Fatalf("serving child failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestServer_Close") {
		t.Fatalf("serving child did not pass:\n%s", out)
	}
}

func serveAndClose(t *testing.T) {
	requireLibrary(t)
	tcp, httpAddr := freeAddr(t), freeAddr(t)
	s, err := Listen(t.TempDir(), ServeConfig{TCP: tcp, HTTP: httpAddr})
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	if got := httpQuery(t, httpAddr, "SELECT 1 + 1"); got != "2\n" {
		t.Errorf("HTTP SELECT 1 + 1 = %q, want 2", got)
	}
	if !answers(tcp) {
		t.Errorf("native listener on %s does not answer", tcp)
	}
	if _, err := Listen(t.TempDir(), ServeConfig{TCP: freeAddr(t)}); !errors.Is(err, ErrServing) {
		t.Errorf("second Listen = %v, want ErrServing", err)
	}
	if _, err := Open(t.TempDir()); !errors.Is(err, ErrOtherPath) {
		t.Errorf("Open(other path) while serving = %v, want ErrOtherPath", err)
	}

	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case <-s.Done():
	default:
		t.Error("Done not closed after Close")
	}
	for _, addr := range []string{tcp, httpAddr} {
		if answers(addr) {
			t.Errorf("%s still answers after Close", addr)
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

func httpQuery(t *testing.T, addr, query string) string {
	t.Helper()
	// No connection may stay open: the engine ends the process when
	// clients are still connected after it stops (see Server).
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Post("http://"+addr+"/", "text/plain", strings.NewReader(query))
	if err != nil {
		t.Fatalf("HTTP query: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("HTTP query: %v", err)
	}
	return string(b)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestServer_nudge: a reader that opens the stop pipe after its writer was
// closed, as the engine may after a quick Close, is let go by nudge.
func TestServer_nudge(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "stop"), 0o600); err != nil {
		t.Fatal(err)
	}
	read := make(chan error, 1)
	go func() {
		f, err := os.Open(filepath.Join(dir, "stop")) // waits for a writer
		if err == nil {
			_, err = io.ReadAll(f)
			f.Close()
		}
		read <- err
	}()
	s := &Server{tmp: dir}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case err := <-read:
			if err != nil {
				t.Fatal(err)
			}
			return
		case <-deadline:
			t.Fatal("the reader still waits on the stop pipe")
		case <-time.After(nudgeEvery):
			s.nudge()
		}
	}
}
