package load_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/ingest/capture"
	"github.com/pcapload/pcapload/internal/captest"
	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/load"
)

// TestRun_hoppingDays: a capture whose packets hop between 20 days, one
// day to the next at every packet, gets one Parquet file per day holding
// all its rows. Flushing every day's batch when more days came than a
// worker gathers at once cut such a capture into one-row batches, and a
// file for each.
func TestRun_hoppingDays(t *testing.T) {
	const days = 20
	pkts := captest.ReadAll(t, bytes.NewReader(captest.Generate(t, 4000, gen.Pcap, gen.Config{Seed: 5})))
	path := filepath.Join(t.TempDir(), "hop.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := capture.NewPcapWriter(f, pkts[0].LinkType, 65535, true)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC).UnixNano()
	for i, p := range pkts {
		ts := base + int64(i%days)*int64(24*time.Hour) + int64(i)*int64(time.Microsecond)
		if err := w.WritePacket(ts, p.Data, p.OrigLen); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	out := t.TempDir()
	res := load.Run(context.Background(), []ingest.Input{{Path: path}}, []load.Sink{load.NewParquetSink(out)},
		load.Options{Workers: 1})
	if err := res.Files[0].Stats.Err; err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(out, "date=*", "sensor=*", "*.parquet"))
	if len(files) != days {
		t.Errorf("%d Parquet files, want one per day, %d", len(files), days)
	}
	msgs := res.Files[0].Stats.Messages()
	if got := len(readParquet(t, out)); uint64(got) != msgs || msgs < 3000 {
		t.Errorf("%d rows read back, want the %d messages", got, msgs)
	}
}
