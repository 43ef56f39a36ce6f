package clickhouse_test

import (
	"context"
	"fmt"
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
