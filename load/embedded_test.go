package load_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/internal/chdb"
	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/internal/testenv"
	"github.com/pcapload/pcapload/load"
)

// TestEmbedded_twoInsertsInFlight holds a file's first insert in flight
// after the engine has taken it: the file's second insert must start and
// end meanwhile, and every row land once.
func TestEmbedded_twoInsertsInFlight(t *testing.T) {
	testenv.RequireCHDB(t)
	dir := t.TempDir()
	path := writeCapture(t, dir, "dns.pcap", gen.Config{Seed: 48, Messages: 3000})
	dbPath := filepath.Join(dir, "db")
	ctx := context.Background()
	emb, err := load.OpenEmbedded(ctx, dbPath, "test")
	if err != nil {
		t.Fatal(err)
	}
	emb.InsertRows = 500

	var mu sync.Mutex
	var order []int
	second := make(chan struct{})
	opt := load.Options{Workers: 1, BatchRows: 100, Checkpoint: func(step string, n int) {
		if step != "insert" {
			return
		}
		switch n {
		case 1:
			select {
			case <-second:
			case <-time.After(20 * time.Second):
				t.Error("insert 2 did not end while insert 1 was in flight: one insert at a time")
			}
		case 2:
			close(second)
		}
		mu.Lock()
		order = append(order, n)
		mu.Unlock()
	}}
	res := load.Run(ctx, []ingest.Input{{Path: path}}, []load.Sink{emb}, opt)
	if err := emb.Close(); err != nil {
		t.Fatal(err)
	}
	f := res.Files[0]
	if f.Failed() {
		t.Fatalf("load failed: %v %v", f.Stats.Err, f.SinkErrs)
	}
	if len(order) < 3 || order[0] != 2 {
		t.Errorf("inserts ended in the order %v, want insert 2 first and more than 2", order)
	}

	db, err := chdb.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out, err := db.Query(ctx, "SELECT count(), uniqExact(frame, pair_frame, id) FROM dns_messages", "TSV")
	if err != nil {
		t.Fatal(err)
	}
	n := itoa(int(f.Stats.Messages()))
	want := n + "\t" + n
	if got := strings.TrimSpace(string(out)); got != want {
		t.Errorf("dns_messages holds (rows, frames) %s, want %s", got, want)
	}
}
