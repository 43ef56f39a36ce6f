package load_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/internal/captest"
	"github.com/pcapload/pcapload/internal/testenv"
	"github.com/pcapload/pcapload/load"
)

// TestRun_hoppingDays: a capture whose packets hop between 20 to 300 days, one
// day to the next at every packet, gets one Parquet file per day holding
// all its rows. Flushing every day's batch when more days came than a
// worker gathers at once cut such a capture into one-row batches, and a
// file for each.
func TestRun_hoppingDays(t *testing.T) {
	// 40 and 300 days: more than the 32, then 256, a worker once gathered
	// at once, which cycling through them cut into 18,359 and 150,092
	// files (hostile runs).
	for _, days := range []int{20, 40, 300} {
		path := captest.Hopping(t, days, 4000)
		out := t.TempDir()
		batches := 0
		res := load.Run(context.Background(), []ingest.Input{{Path: path}}, []load.Sink{load.NewParquetSink(out)},
			load.Options{Workers: 1, Checkpoint: func(step string, _ int) {
				if step == "batch" {
					batches++
				}
			}})
		if err := res.Files[0].Stats.Err; err != nil {
			t.Fatal(err)
		}
		files, _ := filepath.Glob(filepath.Join(out, "date=*", "sensor=*", "*.parquet"))
		if len(files) != days || batches != days {
			t.Errorf("%d days: %d Parquet files of %d batches, want one of one per day", days, len(files), batches)
		}
		msgs := res.Files[0].Stats.Messages()
		if got := len(readParquet(t, out)); uint64(got) != msgs || msgs < 3000 {
			t.Errorf("%d days: %d rows read back, want the %d messages", days, got, msgs)
		}
	}
}

// TestRun_hoppingDaysAgain exports a capture hopping between more days
// than a worker gathers batches for, twice into one folder: the second
// export replaces the first's files, the same names, rather than leaving
// some of them beside its own (the end of a file flushed its days in map
// order, which decided the names of further files of a day).
func TestRun_hoppingDaysAgain(t *testing.T) {
	path := captest.Hopping(t, 40, 600)
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

// TestRun_embeddedManyDays loads a capture of 120 days into the embedded
// database in one insert: the engine refuses more than 100 days' parts in
// one unless told otherwise.
func TestRun_embeddedManyDays(t *testing.T) {
	testenv.RequireCHDB(t)
	emb, err := load.OpenEmbedded(context.Background(), filepath.Join(t.TempDir(), "db"), "test")
	if err != nil {
		t.Fatal(err)
	}
	res := load.Run(context.Background(), []ingest.Input{{Path: captest.Hopping(t, 120, 600)}}, []load.Sink{emb}, load.Options{})
	if err := emb.Close(); err != nil {
		t.Fatal(err)
	}
	if f := res.Files[0]; f.Failed() || f.Rows[emb.Name()] != 600 {
		t.Errorf("%d rows, failed: %v %v; want 600", f.Rows[emb.Name()], f.Stats.Err, f.SinkErrs)
	}
}
