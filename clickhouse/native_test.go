package clickhouse

import (
	"context"
	"testing"

	"github.com/pcapload/pcapload/clickhouse/chtest"
	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/load"
)

// TestNative_slicedBlocks cuts every batch into native blocks of a few
// rows, so that blocks start inside batches: the rows arrive as the HTTP
// sink sends them.
func TestNative_slicedBlocks(t *testing.T) {
	defer func(n int64) { blockRows = n }(blockRows)
	blockRows = 7
	srv := chtest.Start(t)
	in := []ingest.Input{{Path: "../testdata/resolver.pcap"}}
	sums := map[string]uint64{}
	for db, url := range map[string]string{
		"native": "clickhouse://" + srv.TCP + "/native",
		"http":   "http://" + srv.HTTP + "/http",
	} {
		s, err := Open(url, Options{})
		if err != nil {
			t.Fatal(err)
		}
		res := load.Run(context.Background(), in, []load.Sink{s}, load.Options{BatchRows: 100})
		s.Close()
		if f := res.Files[0]; f.Failed() {
			t.Fatalf("%s: %v %v", db, f.Stats.Err, f.SinkErrs)
		}
		var n, sum uint64
		err = srv.Conn(t).QueryRow(context.Background(),
			"SELECT count(), sum(cityHash64(*)) FROM "+db+".dns_messages").Scan(&n, &sum)
		if err != nil || n != 1000 {
			t.Fatalf("%s: %d rows (%v), want 1000", db, n, err)
		}
		sums[db] = sum
	}
	if sums["native"] != sums["http"] {
		t.Errorf("native rows differ from HTTP's: checksum %d, want %d", sums["native"], sums["http"])
	}
}
