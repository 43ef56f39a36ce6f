// Package chtest runs real ClickHouse servers for tests: the pcapload
// binary, built for the test, serving a temporary embedded database on free
// loopback ports.
package chtest

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pcapload/pcapload/internal/procstat"
	"github.com/pcapload/pcapload/internal/syncbuf"
	"github.com/pcapload/pcapload/internal/testenv"
)

// Binary builds the pcapload command with CGO_ENABLED=0 into a temporary
// directory and returns its path.
func Binary(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "pcapload")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/pcapload/pcapload/cmd/pcapload")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("build pcapload: %v\n%s", err, out)
	}
	return bin
}

// Server is a running `pcapload serve`.
type Server struct {
	Bin  string // the pcapload binary
	DB   string // data directory served
	TCP  string // native protocol address
	HTTP string // HTTP interface address
	// Config is the server configuration file serve reads; empty for none.
	Config string

	cmd     *exec.Cmd
	stderr  *syncbuf.Buffer
	exited  chan struct{} // closed when cmd.Wait returned
	waitErr error         // cmd.Wait's result

	once sync.Once
	err  error
}

// startTimeout bounds the wait for the server's listeners.
const startTimeout = 2 * time.Minute

// Start builds pcapload and serves a new database on free loopback ports
// until the test ends. Without the engine it skips, or fails under CI=true.
func Start(tb testing.TB) *Server {
	tb.Helper()
	testenv.RequireCHDB(tb)
	s := &Server{
		Bin: Binary(tb), DB: filepath.Join(tb.TempDir(), "db"),
		TCP: FreeAddr(tb), HTTP: FreeAddr(tb),
	}
	return s.start(tb)
}

// Restart stops s, if it still runs, and serves its database again on the
// same addresses, as a new Server.
func (s *Server) Restart(tb testing.TB) *Server {
	tb.Helper()
	if err := s.Stop(); err != nil {
		tb.Fatalf("stop pcapload serve: %v\n%s", err, s.Stderr())
	}
	n := &Server{Bin: s.Bin, DB: s.DB, TCP: s.TCP, HTTP: s.HTTP, Config: s.Config}
	return n.start(tb)
}

// Kill stops the server with SIGKILL, as a crash would, and waits for it;
// Stop does nothing after it.
func (s *Server) Kill() {
	s.once.Do(func() {
		_ = s.cmd.Process.Kill()
		<-s.exited
	})
}

// start runs serve on s's database and addresses until the test ends.
func (s *Server) start(tb testing.TB) *Server {
	tb.Helper()
	s.stderr = &syncbuf.Buffer{}
	args := []string{"serve", "--db", s.DB, "--tcp", s.TCP, "--http", s.HTTP}
	if s.Config != "" {
		args = append(args, "--config-file", s.Config)
	}
	s.cmd = exec.Command(s.Bin, args...)
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		tb.Fatalf("start pcapload serve: %v", err)
	}
	s.exited = make(chan struct{})
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	tb.Cleanup(func() {
		if err := s.Stop(); err != nil {
			tb.Errorf("stop pcapload serve: %v\n%s", err, s.Stderr())
		}
	})
	s.waitReady(tb)
	return s
}

// waitReady waits for the line serve prints once it listens.
func (s *Server) waitReady(tb testing.TB) {
	tb.Helper()
	deadline := time.Now().Add(startTimeout)
	for !strings.Contains(s.Stderr(), "pcapload: serving ") {
		select {
		case <-s.exited:
			tb.Fatalf("pcapload serve exited before listening:\n%s", s.Stderr())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			tb.Fatalf("pcapload serve not listening after %v:\n%s", startTimeout, s.Stderr())
		}
	}
}

// Stop sends SIGTERM and waits for the server to exit; it returns the
// exit error, nil for a clean exit. It is idempotent.
func (s *Server) Stop() error {
	s.once.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
			s.err = s.waitErr
		case <-time.After(time.Minute):
			_ = s.cmd.Process.Kill()
			<-s.exited
			s.err = errors.New("no exit a minute after SIGTERM")
		}
	})
	return s.err
}

// Stderr returns what the server printed so far.
func (s *Server) Stderr() string { return s.stderr.String() }

// Conn opens a native connection to the server, closed when the test ends.
func (s *Server) Conn(tb testing.TB) driver.Conn {
	tb.Helper()
	conn, err := ch.Open(&ch.Options{Addr: []string{s.TCP}})
	if err != nil {
		tb.Fatalf("connect to %s: %v", s.TCP, err)
	}
	tb.Cleanup(func() { conn.Close() })
	if err := conn.Ping(context.Background()); err != nil {
		tb.Fatalf("ping %s: %v", s.TCP, err)
	}
	return conn
}

// FreeAddr returns a loopback address with a port nothing listens on now.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Silent returns the loopback address of a listener that accepts
// connections and never reads nor answers them: a server that stopped
// answering. It closes them when the test ends.
func Silent(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		var held []net.Conn
		for {
			c, err := l.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, c)
		}
	}()
	tb.Cleanup(func() {
		l.Close()
		<-accepted
	})
	return l.Addr().String()
}

// Usage returns the CPU time the server has used so far, user and system,
// and its peak resident memory in bytes.
func (s *Server) Usage() (cpu time.Duration, peakRSS int64, err error) {
	pid := s.cmd.Process.Pid
	if cpu, err = procstat.CPU(pid); err != nil {
		return 0, 0, err
	}
	peakRSS, err = procstat.PeakRSS(pid)
	return cpu, peakRSS, err
}
