package clickhouse

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

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
		})
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
