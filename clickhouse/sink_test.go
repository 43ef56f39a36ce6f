package clickhouse

import (
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	chgo "github.com/ClickHouse/ch-go"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"

	"github.com/pcapload/pcapload/clickhouse/chtest"
	"github.com/pcapload/pcapload/load"
)

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// resettingAddr returns the address of a listener that accepts every
// connection and resets it at once, as a server going down does.
func resettingAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}
	}()
	return l.Addr().String()
}

// TestSink_Begin_retries checks that a server that cannot be reached
// (refused, or reset) fails Begin once it has not been reached for the
// outage, retried meanwhile with doubling waits, so that a restart is
// ridden out; then the server counts as down, and the next Begin probes it
// once, and the one after, before the probe interval, not at all.
func TestSink_Begin_retries(t *testing.T) {
	for _, tc := range []struct{ scheme, addr string }{
		{"clickhouse", closedAddr(t)}, {"http", closedAddr(t)},
		{"clickhouse", resettingAddr(t)}, {"http", resettingAddr(t)},
	} {
		scheme := tc.scheme
		t.Run(scheme, func(t *testing.T) {
			s, err := Open(scheme+"://"+tc.addr+"/default", Options{Retries: 2, Backoff: 50 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			start := time.Now()
			if _, err := s.Begin(load.File{Path: "f.pcap"}); err == nil || !strings.Contains(err.Error(), "attempts in") {
				t.Errorf("Begin = %v, want a failure after its attempts", err)
			}
			if d := time.Since(start); d < s.outage() {
				t.Errorf("Begin failed after %v, want the outage (%v) ridden out", d, s.outage())
			}
			if _, err := s.Begin(load.File{Path: "g.pcap"}); err == nil || !strings.Contains(err.Error(), "probed") {
				t.Errorf("Begin once down = %v, want one probe", err)
			}
			if _, err := s.Begin(load.File{Path: "h.pcap"}); !errors.Is(err, errDown) {
				t.Errorf("Begin just after a probe = %v, want not tried", err)
			}
		})
	}
}

// TestSink_noAnswer: a server that accepts connections and never answers
// fails a statement after one attempt's timeout, not one per retry (a
// new user's load waited 20 minutes on its first file); once it is down, a
// probe waits for an answer to a ping only, not a statement's timeout.
func TestSink_noAnswer(t *testing.T) {
	addr := chtest.Silent(t)
	for _, scheme := range []string{"clickhouse", "http"} {
		t.Run(scheme, func(t *testing.T) {
			const timeout = 2 * time.Second
			s, err := Open(scheme+"://"+addr+"/default", Options{Retries: 3, Backoff: 10 * time.Millisecond, Timeout: timeout})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			start := time.Now()
			if _, err := s.Begin(load.File{Path: "f.pcap"}); err == nil {
				t.Fatal("Begin on a silent server succeeded")
			}
			if d := time.Since(start); d > timeout+time.Second {
				t.Errorf("Begin failed after %v, want one attempt's %v", d, timeout)
			}

			s.opt.Timeout = time.Hour
			time.Sleep(s.probe())
			start = time.Now()
			if _, err := s.Begin(load.File{Path: "g.pcap"}); err == nil || !strings.Contains(err.Error(), "probed") {
				t.Errorf("Begin once down = %v, want a probe", err)
			}
			if d := time.Since(start); d > 2*s.probe()+time.Second {
				t.Errorf("the probe took %v, want its ping's %v at most", d, 2*s.probe())
			}
		})
	}
}

// TestServerError_oneLine: an exception of several lines reads as one.
func TestServerError_oneLine(t *testing.T) {
	err := &ServerError{Status: 500, Message: "Code: 210. DB::NetException:\n\nConnection refused (127.0.0.1:1)\n"}
	if got := err.Error(); got != "server answered 500: Code: 210. DB::NetException: Connection refused (127.0.0.1:1)" {
		t.Errorf("Error() = %q, want one line", got)
	}
}

func TestOpen_badCompression(t *testing.T) {
	for _, raw := range []string{"clickhouse://127.0.0.1:9000/x", "http://127.0.0.1:8123/x"} {
		if _, err := Open(raw, Options{Compression: "snappy"}); err == nil {
			t.Errorf("Open(%s, snappy) = nil, want an error", raw)
		}
	}
}

// TestHTTP_shortError: a server that cannot be reached fails an insert
// with a line naming the server, not the URL with the insert's query.
func TestHTTP_shortError(t *testing.T) {
	tg, err := Parse("http://" + closedAddr(t) + "/db")
	if err != nil {
		t.Fatal(err)
	}
	h, err := newHTTP(tg, Options{Compression: "none"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.post(t.Context(), "INSERT INTO t ("+strings.Repeat("`column`, ", 100)+"`x`)", strings.NewReader(""), "")
	if err == nil || len(err.Error()) > 200 || !strings.Contains(err.Error(), tg.Addr) {
		t.Errorf("post = %v (%d bytes), want a short error naming %s", err, len(fmt.Sprint(err)), tg.Addr)
	}
}

// TestSink_permanentErrors: an answer no retry can change (here a user
// the server does not know) fails at once, not after the retries and
// their backoff. Over HTTP against a server; the native protocol's
// exceptions are classified by the same codes, checked without a server,
// as a native login that fails aborts the served engine (see README).
func TestSink_permanentErrors(t *testing.T) {
	srv := chtest.Start(t)
	s, err := Open("http://nobody:wrong@"+srv.HTTP+"/default", Options{Retries: 3, Backoff: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	_, err = s.Begin(load.File{Path: "f.pcap"})
	if code, _ := serverCode(err); code != 516 || strings.Contains(err.Error(), "attempts") {
		t.Errorf("Begin = %v (code %d), want AUTHENTICATION_FAILED (516) at the first attempt", err, code)
	}
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("Begin failed after %v, want no backoff", d)
	}

	// HTTP sent to the native port: its 400 names no code, and no retry
	// reaches another port.
	wrong, err := Open("http://"+srv.TCP+"/default", Options{Retries: 3, Backoff: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer wrong.Close()
	start = time.Now()
	if _, err = wrong.Begin(load.File{Path: "f.pcap"}); err == nil || strings.Contains(err.Error(), "attempts") {
		t.Errorf("Begin over HTTP at the native port = %v, want an error at the first attempt", err)
	}
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("Begin at the native port failed after %v, want no backoff", d)
	}

	for _, err := range []error{
		fmt.Errorf("insert: %w", &proto.Exception{Code: 62, Message: "Syntax error"}),
		fmt.Errorf("insert: %w", &chgo.Exception{Code: 516, Message: "Authentication failed"}),
	} {
		if !permanent(err) {
			t.Errorf("permanent(%v) = false", err)
		}
	}
	for _, err := range []error{
		&proto.Exception{Code: 241, Message: "memory limit exceeded"},
		&ServerError{Status: 500, Message: "Code: 252. DB::Exception: Too many parts"},
		&ServerError{Status: 429, Message: "Too Many Requests"},
		errors.New("connection refused"),
	} {
		if permanent(err) {
			t.Errorf("permanent(%v) = true, want a retry", err)
		}
	}
	for _, err := range []error{&ServerError{Status: 503, Message: "no healthy upstream"},
		fmt.Errorf("read: %w", syscall.ECONNRESET), fmt.Errorf("answer: %w", io.ErrUnexpectedEOF)} {
		if !unreachable(err) || permanent(err) {
			t.Errorf("unreachable(%v) = false or permanent, want a server not reached", err)
		}
	}
}

// TestSink_unfinishedOverHTTP: the loads that did not end are all named
// over HTTP, odd names too; the answer was read to its first line.
func TestSink_unfinishedOverHTTP(t *testing.T) {
	srv := chtest.Start(t)
	s, err := Open("http://"+srv.HTTP+"/default", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	files := []load.File{
		{Path: "/a/one.pcap", Hash: strings.Repeat("a1", 32)},
		{Path: "/a/two,\nlines.pcap", Hash: strings.Repeat("b2", 32)},
		{Path: "/a/three.pcap", Hash: strings.Repeat("c3", 32)},
	}
	g, _, err := s.BeginGroup(files)
	if err != nil {
		t.Fatal(err)
	}
	g.Abort() // as a crash leaves it: marked grouped, no outcome
	got, err := s.Unfinished()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{files[0].Path, files[2].Path, files[1].Path} // by path
	if !slices.Equal(got, want) {
		t.Errorf("unfinished = %q, want %q", got, want)
	}
}

// TestQuery_refused: a query to a server that refuses the connection says
// so at once, not that it waited for an answer (a new user read "no answer
// to SELECT 1 in 10s" after 8 ms).
func TestQuery_refused(t *testing.T) {
	start := time.Now()
	err := Query(t.Context(), "http://"+closedAddr(t)+"/default", "SELECT 1", "TSV", io.Discard)
	if err == nil || !strings.Contains(err.Error(), "cannot connect") || strings.Contains(err.Error(), "no answer") {
		t.Errorf("Query on a refused port: %v; want it said it cannot connect", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Query on a refused port took %v", d)
	}
}
