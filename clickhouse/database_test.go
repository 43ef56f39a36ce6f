package clickhouse_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/pcapload/pcapload/clickhouse"
	"github.com/pcapload/pcapload/clickhouse/chtest"
	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/internal/captest"
	"github.com/pcapload/pcapload/load"
)

// TestSink_newDatabase loads into databases the server does not have yet,
// by both protocols and every wire compression the URL can ask for, with
// inserts small enough that many are in flight one after the other: the
// database is created, every row arrives once, and a second load adds
// nothing. Every column arrives equal, whichever the protocol: the native
// blocks and the Arrow stream give the same checksum of the rows.
func TestSink_newDatabase(t *testing.T) {
	srv := chtest.Start(t)
	conn := srv.Conn(t)
	in := []ingest.Input{{Path: "../testdata/resolver.pcap"}}
	urls := map[string]string{
		"native_lz4":   "clickhouse://" + srv.TCP + "/native_lz4",
		"native_none":  "clickhouse://" + srv.TCP + "/native_none?compression=none",
		"http_zstd":    "http://" + srv.HTTP + "/http_zstd?compression=zstd",
		"http_none":    "http://" + srv.HTTP + "/http_none?compression=none",
		"http_lz4":     "http://" + srv.HTTP + "/http_lz4?compression=lz4",
		"http_default": "http://" + srv.HTTP + "/http_default",
	}
	sums := map[string]uint64{}
	for db, url := range urls {
		t.Run(db, func(t *testing.T) {
			var rows uint64
			for run := range 2 {
				s, err := clickhouse.Open(url, clickhouse.Options{InsertRows: 100})
				if err != nil {
					t.Fatal(err)
				}
				res := load.Run(context.Background(), in, []load.Sink{s}, load.Options{BatchRows: 50})
				s.Close()
				f := res.Files[0]
				if f.Failed() {
					t.Fatalf("run %d: %v %v", run, f.Stats.Err, f.SinkErrs)
				}
				rows += f.Rows[s.Name()]
			}
			var count, distinct, sum uint64
			q := fmt.Sprintf("SELECT count(), uniqExact(frame, id, qr), sum(cityHash64(*)) FROM `%s`.dns_messages", db)
			if err := conn.QueryRow(context.Background(), q).Scan(&count, &distinct, &sum); err != nil {
				t.Fatal(err)
			}
			sums[db] = sum
			if count != 1000 || distinct != 1000 || rows != 1000 {
				t.Errorf("%d rows (%d distinct) stored, %d counted over two runs; want 1000 once", count, distinct, rows)
			}
		})
	}
	for db, sum := range sums {
		if sum != sums["http_none"] {
			t.Errorf("rows in %s differ from those loaded by HTTP: checksum %d, want %d", db, sum, sums["http_none"])
		}
	}
}

// TestSink_manyDays loads a capture of 120 days, one insert holding rows
// of all of them, by both protocols: the engine refuses an insert of more
// than 100 days' parts unless told otherwise.
func TestSink_manyDays(t *testing.T) {
	srv := chtest.Start(t)
	in := []ingest.Input{{Path: captest.Hopping(t, 120, 600)}}
	for db, url := range map[string]string{"days_native": "clickhouse://" + srv.TCP + "/days_native",
		"days_http": "http://" + srv.HTTP + "/days_http"} {
		s, err := clickhouse.Open(url, clickhouse.Options{})
		if err != nil {
			t.Fatal(err)
		}
		res := load.Run(context.Background(), in, []load.Sink{s}, load.Options{})
		s.Close()
		if f := res.Files[0]; f.Failed() || f.Rows[s.Name()] != 600 {
			t.Errorf("%s: %d rows, failed: %v %v; want 600", db, f.Rows[s.Name()], f.Stats.Err, f.SinkErrs)
		}
	}
}

// TestSink_mergeSettings: a load sets dns_messages to merge fewer, larger
// sets of parts (schema.MergeDDL); through a proxy answering that
// statement as a server before ClickHouse 24.11 does (UNKNOWN_SETTING),
// the load goes on with the server's defaults and stores every row.
func TestSink_mergeSettings(t *testing.T) {
	srv := chtest.Start(t)
	conn := srv.Conn(t)
	var refused atomic.Int32
	backend := &url.URL{Scheme: "http", Host: srv.HTTP}
	proxy := httputil.NewSingleHostReverseProxy(backend)
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if bytes.Contains(body, []byte("merge_selector_base")) {
			refused.Add(1)
			w.Header().Set("X-ClickHouse-Exception-Code", "115")
			http.Error(w, "Code: 115. DB::Exception: Unknown setting 'merge_selector_base'. (UNKNOWN_SETTING)",
				http.StatusInternalServerError)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, r)
	}))
	defer old.Close()

	in := []ingest.Input{{Path: "../testdata/resolver.pcap"}}
	for _, tc := range []struct{ db, url, settings string }{
		{"current", "http://" + srv.HTTP + "/current", "1"},
		{"older", old.URL + "/older", "0"},
	} {
		s, err := clickhouse.Open(tc.url, clickhouse.Options{})
		if err != nil {
			t.Fatal(err)
		}
		res := load.Run(context.Background(), in, []load.Sink{s}, load.Options{})
		s.Close()
		if f := res.Files[0]; f.Failed() {
			t.Fatalf("%s: %v %v", tc.db, f.Stats.Err, f.SinkErrs)
		}
		var count uint64
		var set uint8
		q := fmt.Sprintf("SELECT (SELECT count() FROM `%s`.dns_messages), "+
			"(SELECT engine_full LIKE '%%merge_selector_base = 30%%' FROM system.tables "+
			"WHERE database = '%s' AND name = 'dns_messages')", tc.db, tc.db)
		if err := conn.QueryRow(context.Background(), q).Scan(&count, &set); err != nil {
			t.Fatal(err)
		}
		if count != 1000 || fmt.Sprint(set) != tc.settings {
			t.Errorf("%s: %d rows, merge settings %d; want 1000 rows, settings %s", tc.db, count, set, tc.settings)
		}
	}
	if refused.Load() == 0 {
		t.Error("the proxy refused no merge settings: the older server was not played")
	}
}
