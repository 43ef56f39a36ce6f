package chdb

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/ebitengine/purego"
)

var (
	// ErrServing reports a Listen in a process whose engine already served
	// or has a DB open: the engine starts once per process.
	ErrServing = errors.New("engine already started in this process")
	// ErrNotLoopback reports a listen address off the loopback interface.
	ErrNotLoopback = errors.New("listen address is not loopback")
)

// ServeConfig says where the engine listens. Both addresses are host:port
// on one loopback address (127.0.0.1 or ::1); an empty address leaves that
// protocol off, but one of them must be on.
type ServeConfig struct {
	TCP  string // native protocol, e.g. "127.0.0.1:9000"
	HTTP string // HTTP interface, e.g. "127.0.0.1:8123"

	// ConfigFile, when set, is a ClickHouse server configuration (XML or
	// YAML) the engine reads at start, as clickhouse-local's --config-file:
	// remote_servers in it makes the server one shard of a cluster.
	ConfigFile string
}

// Server is the embedded engine serving one data path with ClickHouse's
// native and HTTP protocols.
//
// The engine has no call that listens and returns: its listeners live
// inside clickhouse-local's command line entry point, query_stable_v2, for
// as long as its --query runs. So the server runs, on a locked OS thread, a
// query that starts the listeners and then reads a named pipe that this
// process holds open for writing. The read blocks until Close closes the
// pipe; the query then sees the end of its input and ends without error,
// and the call returns, closing the listeners. (KILL QUERY works too, but
// the engine prints the cancellation to stderr and needs a client.)
//
// The engine stops like clickhouse-server: it waits for running queries,
// and when client connections (an idle keep-alive HTTP connection, a
// pooled native one) are still open about 5 s after the stop, it ends the
// whole process with exit status 0. Close clients before Close when the
// process has more to do.
//
// TODO(serve): the forced exit skips the caller's cleanup; passing
// shutdown_wait_unfinished through a --config-file, or closing client
// connections from inside, would let Close always return.
type Server struct {
	path string
	cfg  ServeConfig
	stop *os.File      // write end of the pipe the query reads
	tmp  string        // directory of the pipe
	done chan struct{} // closed when query_stable_v2 returns
	err  error         // its outcome, set before done is closed

	closeOnce sync.Once
	closeErr  error
}

// serveQuery starts the listeners, then reads the pipe at %s until its
// writer closes it. Reading with read(2) rather than pread, which a pipe
// refuses.
const serveQuery = "SYSTEM START LISTEN TCP; SYSTEM START LISTEN HTTP; " +
	"SELECT * FROM file(%s, 'RawBLOB') SETTINGS storage_file_read_method = 'read' FORMAT Null"

// readyTimeout bounds how long Listen waits for the listeners; the engine
// starts in well under a second on the development machine, so 60 s only
// trips on a real fault.
const readyTimeout = 60 * time.Second

// Listen starts the engine on dbPath (created if needed) and returns once
// it answers on its listeners. The caller must Close the Server.
//
// It fails with ErrServing when this process has run the engine before
// (the engine serves once per process) or has a DB open, with ErrLocked
// when another process holds dbPath, and with ErrNotLoopback for an
// address off the loopback interface.
func Listen(dbPath string, cfg ServeConfig) (*Server, error) {
	s, err := listen(dbPath, cfg)
	if err != nil {
		return nil, fmt.Errorf("chdb serve %s: %w", dbPath, err)
	}
	return s, nil
}

func listen(dbPath string, cfg ServeConfig) (*Server, error) {
	args, err := serveArgs(cfg)
	if err != nil {
		return nil, err
	}
	if err := probeListen(cfg); err != nil {
		return nil, err
	}
	api, err := bindServe()
	if err != nil {
		return nil, err
	}
	abs, err := claimEngine(dbPath)
	if err != nil {
		return nil, err
	}
	s := &Server{path: abs, cfg: cfg, done: make(chan struct{})}
	pipe, err := s.makePipe()
	if err != nil {
		releaseEngine()
		return nil, err
	}
	args = append(args, "--path="+abs, "--query="+fmt.Sprintf(serveQuery, quoteString(pipe)))
	go s.run(api, args)

	if err := s.waitReady(); err != nil {
		s.Close()
		<-s.done
		return nil, err
	}
	return s, nil
}

// makePipe creates the named pipe the serving query reads and opens it
// read-write: opening a pipe write-only blocks until a reader comes, and
// holding a write end is what keeps the reader waiting.
func (s *Server) makePipe() (string, error) {
	dir, err := os.MkdirTemp("", "pcapload-serve-")
	if err != nil {
		return "", fmt.Errorf("create stop pipe: %w", err)
	}
	pipe := filepath.Join(dir, "stop")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("create stop pipe: %w", err)
	}
	f, err := os.OpenFile(pipe, os.O_RDWR, 0)
	if err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("open stop pipe: %w", err)
	}
	s.stop, s.tmp = f, dir
	return pipe, nil
}

// probeListen listens on each address and lets go: one in use fails
// here, in one line, where the engine printed its exception over several
// after the other listener had answered and the server been announced.
func probeListen(cfg ServeConfig) error {
	for _, addr := range []string{cfg.TCP, cfg.HTTP} {
		if addr == "" {
			continue
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		l.Close()
	}
	return nil
}

// serveArgs checks the addresses and turns them into clickhouse-local
// arguments.
func serveArgs(cfg ServeConfig) ([]string, error) {
	if cfg.TCP == "" && cfg.HTTP == "" {
		return nil, errors.New("no listen address")
	}
	args := []string{"pcapload"}
	var host netip.Addr
	for _, a := range []struct{ flag, addr string }{{"--tcp_port=", cfg.TCP}, {"--http_port=", cfg.HTTP}} {
		if a.addr == "" {
			continue
		}
		ap, err := netip.ParseAddrPort(a.addr)
		if err != nil {
			return nil, fmt.Errorf("listen address %q: want a loopback IP address and a port, as 127.0.0.1:9000 or [::1]:9000",
				a.addr)
		}
		if !ap.Addr().IsLoopback() {
			return nil, fmt.Errorf("%s: %w", a.addr, ErrNotLoopback)
		}
		if host.IsValid() && host != ap.Addr() {
			return nil, fmt.Errorf("listen addresses %s and %s: want one host for both", cfg.TCP, cfg.HTTP)
		}
		if ap.Port() == 0 {
			return nil, fmt.Errorf("listen address %s: want a port", a.addr)
		}
		host = ap.Addr()
		args = append(args, a.flag+strconv.Itoa(int(ap.Port())))
	}
	args = append(args, "--listen_host="+host.String())
	if cfg.ConfigFile != "" {
		// The engine starts without a word when the file is missing.
		abs, err := filepath.Abs(cfg.ConfigFile)
		if err == nil {
			_, err = os.Stat(abs)
		}
		if err != nil {
			return nil, fmt.Errorf("config file: %w", err)
		}
		args = append(args, "--config-file="+abs)
	}
	return args, nil
}

// run calls query_stable_v2 and records its outcome. The thread stays
// locked for the call: the engine keeps thread-local state in it.
func (s *Server) run(api *stableAPI, args []string) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer close(s.done)
	defer endServe()
	s.err = api.call(args)
}

// waitReady polls the listeners until each answers, or the engine call ends.
func (s *Server) waitReady() error {
	deadline := time.Now().Add(readyTimeout)
	for _, addr := range []string{s.cfg.TCP, s.cfg.HTTP} {
		if addr == "" {
			continue
		}
		for !answers(addr) {
			select {
			case <-s.done:
				if s.err != nil {
					return s.err
				}
				return errors.New("engine stopped before listening")
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("no listener on %s after %v", addr, readyTimeout)
			}
		}
	}
	return nil
}

// answers reports whether something accepts connections on addr.
func answers(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// Path returns the absolute data directory served.
func (s *Server) Path() string { return s.path }

// Done is closed when the engine has stopped serving, by Close or on its own.
func (s *Server) Done() <-chan struct{} { return s.done }

// Err returns the engine's error when it stopped with one; nil while it
// serves.
func (s *Server) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// stopTimeout bounds how long Close waits for the engine to end its query:
// queries still running from clients finish first.
const stopTimeout = 60 * time.Second

// Close stops the listeners and waits for the engine call to return. It is
// idempotent and returns the first call's outcome.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Server) close() error {
	defer os.RemoveAll(s.tmp)
	if err := s.stop.Close(); err != nil {
		return fmt.Errorf("chdb serve %s: stop: %w", s.path, err)
	}
	deadline := time.After(stopTimeout)
	tick := time.NewTicker(nudgeEvery)
	defer tick.Stop()
	for {
		select {
		case <-s.done:
			if s.err != nil {
				return fmt.Errorf("chdb serve %s: %w", s.path, s.err)
			}
			return nil
		case <-deadline:
			return fmt.Errorf("chdb serve %s: stop: engine still running after %v", s.path, stopTimeout)
		case <-tick.C:
			s.nudge()
		}
	}
}

// nudgeEvery is how often Close nudges the stop pipe until the engine ends.
const nudgeEvery = 50 * time.Millisecond

// nudge opens the stop pipe for writing and closes it again. The engine
// opens the pipe only once its listeners answer, so a Close right after
// Listen may close the last writer first; the engine's open then waited
// for a writer that never came (a test under load hung for its minute).
// Opened without blocking, the pipe only opens when a reader has it,
// waiting or reading: its open returns, and with this writer gone its
// read ends.
func (s *Server) nudge() {
	if f, err := os.OpenFile(filepath.Join(s.tmp, "stop"), os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
		f.Close()
	}
}

// Serve serves dbPath until ctx ends, then stops the listeners. ready, when
// not nil, is called once the listeners answer.
func Serve(ctx context.Context, dbPath string, cfg ServeConfig, ready func(*Server)) error {
	s, err := Listen(dbPath, cfg)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(s)
	}
	select {
	case <-ctx.Done():
		return s.Close()
	case <-s.Done():
		if err := s.Close(); err != nil {
			return err
		}
		return fmt.Errorf("chdb serve %s: engine stopped on its own", s.path)
	}
}

// claimEngine takes the process's one engine for serving, for good: the
// engine refuses a second start in one process ("EventNotifier is
// initialized twice"). It counts as a connection on the path so that Open
// on another path fails with ErrOtherPath.
func claimEngine(dbPath string) (string, error) {
	abs, err := filepath.Abs(dbPath)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", err
	}
	engine.mu.Lock()
	defer engine.mu.Unlock()
	if engine.conns > 0 || served {
		return "", ErrServing
	}
	served = true
	engine.path = abs
	engine.conns++
	return abs, nil
}

// releaseEngine gives back a claim taken by a Listen that failed before
// the engine started.
func releaseEngine() {
	engine.mu.Lock()
	served = false
	engine.conns--
	engine.mu.Unlock()
}

// endServe lets go of the path once the engine stops serving; served stays
// true.
func endServe() {
	engine.mu.Lock()
	engine.conns--
	engine.mu.Unlock()
}

// served is true once a Server has run the engine; guarded by engine.mu.
var served bool

// stableAPI is clickhouse-local's command line entry point, bound on first
// use so that Open alone never needs it.
type stableAPI struct {
	query func(argc int32, argv **byte) *localResultV2 // C memory
	free  func(res *localResultV2)
}

var stable struct {
	once sync.Once
	api  *stableAPI
	err  error
}

func bindServe() (*stableAPI, error) {
	if _, err := lib(); err != nil {
		return nil, err
	}
	stable.once.Do(func() {
		h, err := purego.Dlopen(loaded.path, purego.RTLD_LAZY|purego.RTLD_LOCAL)
		if err != nil {
			stable.err = fmt.Errorf("bind query_stable_v2: %w", err)
			return
		}
		api := &stableAPI{}
		for name, fn := range map[string]any{"query_stable_v2": &api.query, "free_result_v2": &api.free} {
			sym, err := purego.Dlsym(h, name)
			if err != nil {
				stable.err = fmt.Errorf("bind %s: %w", name, err)
				return
			}
			purego.RegisterFunc(fn, sym)
		}
		stable.api = api
	})
	return stable.api, stable.err
}

// localResultV2 mirrors struct local_result_v2 of chdb.h.
type localResultV2 struct {
	buf          *byte
	len          uintptr
	vec          uintptr
	elapsed      float64
	rowsRead     uint64
	bytesRead    uint64
	errorMessage *byte
}

// call runs query_stable_v2 with args and returns the engine's error.
func (a *stableAPI) call(args []string) error {
	argv := make([]*byte, len(args)+1)
	for i, arg := range args {
		argv[i] = cString(arg)
	}
	res := a.query(int32(len(args)), &argv[0])
	runtime.KeepAlive(argv)
	if res == nil {
		return errors.New("engine returned no result")
	}
	defer a.free(res)
	if res.errorMessage != nil {
		return engineError(goString(res.errorMessage))
	}
	return nil
}

// goString copies a NUL-terminated C string.
func goString(p *byte) string {
	n := 0
	for *(*byte)(unsafe.Add(unsafe.Pointer(p), n)) != 0 {
		n++
	}
	return string(unsafe.Slice(p, n))
}

// quoteString returns s as a ClickHouse string literal.
func quoteString(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
}
