package benchtab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pcapload/pcapload/internal/syncbuf"
)

// server is a running `pcapload serve` on loopback.
type server struct {
	http   string // HTTP interface address, 127.0.0.1:PORT
	cmd    *exec.Cmd
	stderr *syncbuf.Buffer
	exited chan struct{} // closed when the process has exited
	err    error         // cmd.Wait's result, once exited is closed
	once   sync.Once
}

// startTimeout bounds the wait for the server's listeners; the engine
// takes a few seconds to start on a busy machine.
const startTimeout = 2 * time.Minute

// startServer serves a new database under dir on free loopback ports and
// waits until it listens.
func startServer(ctx context.Context, cfg *Config, dir string) (*server, error) {
	tcp, err := freeAddr()
	if err != nil {
		return nil, err
	}
	httpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &server{http: httpAddr, stderr: &syncbuf.Buffer{}, exited: make(chan struct{})}
	s.cmd = exec.Command(cfg.Bin, "serve", "--db", dir, "--tcp", tcp, "--http", httpAddr)
	s.cmd.Env = append(os.Environ(), cfg.Env...)
	s.cmd.Stderr = s.stderr
	s.cmd.SysProcAttr = childAttr()
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start pcapload serve: %w", err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(ctx); err != nil {
		return nil, errors.Join(err, s.stop())
	}
	return s, nil
}

// freeAddr returns a loopback address nothing listens on now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// waitReady waits for the line serve prints once it listens.
func (s *server) waitReady(ctx context.Context) error {
	deadline := time.After(startTimeout)
	for !strings.Contains(s.stderr.String(), "pcapload: serving ") {
		select {
		case <-s.exited:
			return fmt.Errorf("pcapload serve exited before listening: %v\n%s", s.err, s.stderr)
		case <-deadline:
			return fmt.Errorf("pcapload serve not listening after %v:\n%s", startTimeout, s.stderr)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// pid returns the server's process ID.
func (s *server) pid() int { return s.cmd.Process.Pid }

// url returns the loader's destination for database db.
func (s *server) url(db string) string { return "http://" + s.http + "/" + db }

// query runs one statement over HTTP and returns its output.
func (s *server) query(ctx context.Context, sql string) (string, error) {
	url := "http://" + s.http + "/"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(sql))
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("%s: %w", sql, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(body))
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", sql, err)
	}
	return strings.TrimSpace(string(body)), nil
}

// stop sends SIGTERM and waits for the server to exit, killing it after
// stopDelay; it returns the exit error, nil for a clean exit. It is
// idempotent.
func (s *server) stop() error {
	s.once.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(stopDelay):
			_ = s.cmd.Process.Kill()
			<-s.exited
			s.err = fmt.Errorf("pcapload serve: no exit %v after SIGTERM", stopDelay)
		}
	})
	<-s.exited
	if s.err != nil {
		return fmt.Errorf("pcapload serve: %w\n%s", s.err, tail(s.stderr.String(), 2000))
	}
	return nil
}
