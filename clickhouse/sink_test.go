package clickhouse

import (
	"errors"
	"fmt"
	"net"
	"strings"
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

// TestSink_Begin_retries checks that a server that does not answer fails
// Begin after the retries, each after a doubled wait.
func TestSink_Begin_retries(t *testing.T) {
	for _, scheme := range []string{"clickhouse", "http"} {
		t.Run(scheme, func(t *testing.T) {
			s, err := Open(scheme+"://"+closedAddr(t)+"/default", Options{Retries: 2, Backoff: 50 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			start := time.Now()
			if _, err := s.Begin(load.File{Path: "f.pcap"}); err == nil || !strings.Contains(err.Error(), "after 3 attempts") {
				t.Errorf("Begin = %v, want a failure after 3 attempts", err)
			}
			if d := time.Since(start); d < 150*time.Millisecond {
				t.Errorf("Begin failed after %v, want at least 50+100 ms of backoff", d)
			}
			// The next file retries too: an outage shorter than
			// outage is ridden out.
			if _, err := s.Begin(load.File{Path: "g.pcap"}); err == nil || !strings.Contains(err.Error(), "after 3 attempts") {
				t.Errorf("second Begin = %v, want a failure after 3 attempts", err)
			}
			// Down for longer, the next files try once: a thousand files
			// into a server that is down would each spend the retries.
			s.downSince.Store(time.Now().Add(-s.outage() - time.Second).UnixNano())
			if _, err := s.Begin(load.File{Path: "h.pcap"}); err == nil || !strings.Contains(err.Error(), "tried once") {
				t.Errorf("Begin after the outage = %v, want one try", err)
			}
			// And until the next probe, none: a server that never answers
			// costs a timeout a try.
			if _, err := s.Begin(load.File{Path: "i.pcap"}); !errors.Is(err, errDown) {
				t.Errorf("Begin just after a probe = %v, want not tried", err)
			}
		})
	}
}

// TestSink_noAnswer: a server that accepts connections and never answers
// fails a statement after the answer timeout, counted as not reached; it
// hung a load for good.
func TestSink_noAnswer(t *testing.T) {
	addr := chtest.Silent(t)
	for _, scheme := range []string{"clickhouse", "http"} {
		t.Run(scheme, func(t *testing.T) {
			s, err := Open(scheme+"://"+addr+"/default",
				Options{Retries: 1, Backoff: 10 * time.Millisecond, Timeout: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			done := make(chan error, 1)
			go func() {
				_, err := s.Begin(load.File{Path: "f.pcap"})
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || s.downSince.Load() == 0 {
					t.Errorf("Begin = %v, down since %d; want a failure counted as not reached", err, s.downSince.Load())
				}
			case <-time.After(20 * time.Second):
				t.Fatal("Begin still waiting for an answer after 20 s")
			}
			// Down since the first attempt, longer than the outage (80 ms)
			// by the retries' timeouts: the next file tries once, and the
			// one after, within the probe interval of that try's end, not
			// at all. Counted from the retries' end, each file of a
			// server that never answered spent them all.
			if _, err := s.Begin(load.File{Path: "g.pcap"}); err == nil || !strings.Contains(err.Error(), "tried once") {
				t.Errorf("second Begin = %v, want one try", err)
			}
			if _, err := s.Begin(load.File{Path: "h.pcap"}); !errors.Is(err, errDown) {
				t.Errorf("third Begin = %v, want not tried", err)
			}
		})
	}
}

// TestSink_reachedAgain: a sink that could not reach its server retries
// again once a statement reaches it.
func TestSink_reachedAgain(t *testing.T) {
	srv := chtest.Start(t)
	s, err := Open("http://"+srv.HTTP+"/default", Options{Retries: 2, Backoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.downSince.Store(time.Now().Add(-time.Hour).UnixNano())
	if err := s.ensureTables(t.Context()); err != nil {
		t.Fatal(err)
	}
	if s.downSince.Load() != 0 {
		t.Error("the sink still counts the server as down after reaching it")
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
}
