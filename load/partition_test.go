package load_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
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
	path := hoppingCapture(t, days, 4000)
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

// TestRun_hoppingDaysAgain exports a capture hopping between more days
// than a worker gathers batches for, twice into one folder: the second
// export replaces the first's files, the same names, rather than leaving
// some of them beside its own (the end of a file flushed its days in map
// order, which decided the names of further files of a day).
func TestRun_hoppingDaysAgain(t *testing.T) {
	path := hoppingCapture(t, 40, 600)
	out := t.TempDir()
	var names [2][]string
	var msgs uint64
	for run := range 2 {
		res := load.Run(context.Background(), []ingest.Input{{Path: path}}, []load.Sink{load.NewParquetSink(out)},
			load.Options{Workers: 1})
		if err := res.Files[0].Stats.Err; err != nil {
			t.Fatal(err)
		}
		msgs = res.Files[0].Stats.Messages()
		names[run], _ = filepath.Glob(filepath.Join(out, "date=*", "sensor=*", "*.parquet"))
	}
	if !slices.Equal(names[0], names[1]) {
		t.Errorf("the second export wrote %d files, %d after the first; the names differ", len(names[1]), len(names[0]))
	}
	if got := len(readParquet(t, out)); uint64(got) != msgs {
		t.Errorf("%d rows read back after two exports, want the %d messages once", got, msgs)
	}
}

// hoppingCapture writes a capture of n generated packets that hop to the
// next of days days at every packet, and returns its path.
func hoppingCapture(t *testing.T, days, n int) string {
	t.Helper()
	pkts := captest.ReadAll(t, bytes.NewReader(captest.Generate(t, n, gen.Pcap, gen.Config{Seed: 5})))
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
	return path
}
