package chdb

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"golang.org/x/sync/errgroup"
)

// TestDB_InsertArrow_wide inserts the 50-column table in several batches and
// checks counts and values derived from row numbers.
func TestDB_InsertArrow_wide(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	mustExec(t, db, wideDDL("wide"))
	recs := wideBatches(10_000, 3_000)
	defer releaseAll(recs)

	if err := db.InsertArrow(ctx, "wide", wideSchema(), recs...); err != nil {
		t.Fatalf("InsertArrow: %v", err)
	}
	if err := db.InsertArrow(ctx, "wide", wideSchema(), recs[0]); err != nil {
		t.Fatalf("second InsertArrow: %v", err)
	}
	tests := []struct{ name, query, want string }{
		{"count", "SELECT count() FROM wide", "13000\n"},
		{"rows", "SELECT uniqExact(ts) FROM wide", "10000\n"},
		{"row 4242", "SELECT u3, f1, n2, s7, a0, ip3, ts FROM wide WHERE ts = toDateTime64('2024-01-01 00:00:00.004242', 9, 'UTC')",
			"4245\ttrue\t12726\thost242.example7.com.\t['a.example.com.','192.0.2.1']\t::ffff:10.0.16.146\t2024-01-01 00:00:00.004242000\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustQuery(t, db, tt.query, "TSV"); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestDB_InsertArrowToken inserts the same batches under several tokens
// into a table that keeps a deduplication window: an insert with a token
// seen before is dropped, one with a new token is not.
func TestDB_InsertArrowToken(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	mustExec(t, db, wideDDL("wide")+" SETTINGS non_replicated_deduplication_window = 100")
	recs := wideBatches(1_000, 300)
	defer releaseAll(recs)

	tests := []struct {
		token string
		want  string // rows after the insert
	}{
		{"file:0:1", "1000\n"},
		{"file:0:1", "1000\n"},
		{"file:0:2", "2000\n"},
		{"it's quoted", "3000\n"},
		{"it's quoted", "3000\n"},
		{"file:0:1", "3000\n"},
	}
	for i, tt := range tests {
		taken := make([]arrow.RecordBatch, len(recs))
		for k, r := range recs {
			r.Retain()
			taken[k] = r
		}
		if err := db.InsertArrowTaking(ctx, "wide", tt.token, wideSchema(), taken); err != nil {
			t.Fatalf("insert %d (%q): %v", i, tt.token, err)
		}
		if got := mustQuery(t, db, "SELECT count() FROM wide", "TSV"); got != tt.want {
			t.Errorf("after insert %d (%q): count = %q, want %q", i, tt.token, got, tt.want)
		}
	}
}

func TestDB_InsertArrow_cancelled(t *testing.T) {
	db := openTemp(t)
	mustExec(t, db, wideDDL("wide"))
	recs := wideBatches(10, 10)
	defer releaseAll(recs)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.InsertArrow(ctx, "wide", wideSchema(), recs...); err == nil {
		t.Fatal("InsertArrow with cancelled context succeeded")
	}
	if got := mustQuery(t, db, "SELECT count() FROM wide", "TSV"); got != "0\n" {
		t.Errorf("count = %q, want 0", got)
	}
}

// BenchmarkDB_InsertArrow inserts 1,000,000 rows of the 50-column table per
// operation: go test -run=^$ -bench=InsertArrow -benchtime=3x.
func BenchmarkDB_InsertArrow(b *testing.B) {
	db := openTemp(b)
	const rows = 1_000_000
	for _, batch := range []int{16_384, 65_536, 131_072} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			recs := wideBatches(rows, batch)
			defer releaseAll(recs)
			for b.Loop() {
				b.StopTimer()
				mustExec(b, db, "DROP TABLE IF EXISTS wide; "+wideDDL("wide"))
				b.StartTimer()
				if err := db.InsertArrow(context.Background(), "wide", wideSchema(), recs...); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
	b.Run("two connections", func(b *testing.B) { benchParallel(b, db, rows) })
}

// benchParallel inserts rows as two halves from two connections at once.
func benchParallel(b *testing.B, a *DB, rows int) {
	c, err := Open(a.Path())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	recs := wideBatches(rows, 65_536)
	defer releaseAll(recs)
	half := len(recs) / 2
	for b.Loop() {
		b.StopTimer()
		mustExec(b, a, "DROP TABLE IF EXISTS wide; "+wideDDL("wide"))
		b.StartTimer()
		var g errgroup.Group
		g.Go(func() error { return a.InsertArrow(context.Background(), "wide", wideSchema(), recs[:half]...) })
		g.Go(func() error { return c.InsertArrow(context.Background(), "wide", wideSchema(), recs[half:]...) })
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// TestDB_InsertArrow_concurrent inserts from two connections on one path at
// once, as parallel loaders would.
func TestDB_InsertArrow_concurrent(t *testing.T) {
	a := openTemp(t)
	b, err := Open(a.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	mustExec(t, a, wideDDL("wide"))
	recs := wideBatches(4_000, 1_000)
	defer releaseAll(recs)

	var g errgroup.Group
	for _, db := range []*DB{a, b, a, b} {
		g.Go(func() error {
			return db.InsertArrow(context.Background(), "wide", wideSchema(), recs...)
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := mustQuery(t, b, "SELECT count() FROM wide", "TSV"); got != "16000\n" {
		t.Errorf("count = %q, want 16000", got)
	}
}

// TestDB_InsertArrowTaking inserts batches it hands over: they are all
// released, after an insert that succeeds and after one that fails, and
// the rows of the first are there.
func TestDB_InsertArrowTaking(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	mustExec(t, db, wideDDL("wide"))
	for _, table := range []string{"wide", "missing"} {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		recs := wideBatchesFrom(mem, 1_000, 300)
		err := db.InsertArrowTaking(ctx, table, "", wideSchema(), recs)
		if (err != nil) != (table == "missing") {
			t.Errorf("InsertArrowTaking into %s: %v", table, err)
		}
		if n := mem.CurrentAlloc(); n != 0 {
			t.Errorf("after an insert into %s, %d bytes of its batches are still held", table, n)
		}
		for i, r := range recs {
			if r != nil {
				t.Errorf("batch %d of the insert into %s is still in the caller's slice", i, table)
			}
		}
	}
	if got := mustQuery(t, db, "SELECT count() FROM wide", "TSV"); got != "1000\n" {
		t.Errorf("wide holds %q rows, want 1000", got)
	}
}
