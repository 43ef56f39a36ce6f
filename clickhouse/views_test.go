package clickhouse_test

import (
	"context"
	"testing"

	"github.com/pcapload/pcapload/clickhouse"
	"github.com/pcapload/pcapload/clickhouse/chtest"
	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/load"
	"github.com/pcapload/pcapload/schema"
)

// TestSink_viewsAndRetention loads a capture into a server with a
// retention: the views are filled as in the embedded database, and
// dns_messages has the TTL on loaded_at.
func TestSink_viewsAndRetention(t *testing.T) {
	srv := chtest.Start(t)
	s, err := clickhouse.Open("clickhouse://"+srv.TCP+"/default", clickhouse.Options{Retention: 7})
	if err != nil {
		t.Fatal(err)
	}
	in := []ingest.Input{{Path: "../testdata/resolver.pcap"}}
	res := load.Run(context.Background(), in, []load.Sink{s}, load.Options{})
	s.Close()
	if f := res.Files[0]; f.Failed() {
		t.Fatalf("load: %v %v", f.Stats.Err, f.SinkErrs)
	}

	conn := srv.Conn(t)
	want := map[string]uint64{
		"SELECT sum(messages) FROM message_counts": 1000,
		"SELECT toUInt64(sum(count) = (SELECT count() FROM dns_messages ARRAY JOIN answer_names WHERE qr)) " +
			"FROM passive_dns": 1,
		"SELECT toUInt64(position(engine_full, 'TTL loaded_at + toIntervalDay(7)') > 0) FROM system.tables " +
			"WHERE database = 'default' AND name = 'dns_messages'": 1,
		"SELECT toUInt64(max(version)) FROM schema_version": schema.Version,
	}
	for q, w := range want {
		var got uint64
		if err := conn.QueryRow(context.Background(), q).Scan(&got); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
		if got != w {
			t.Errorf("%s = %d, want %d", q, got, w)
		}
	}
}
