package load_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/internal/chdb"
	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/internal/testenv"
)

// TestEmbeddedSink_SetRetention loads a 2016 capture with a retention of
// one day: counted from load time, the rows survive a merge that applies
// the TTL, where one counted from packet time drops them all.
func TestEmbeddedSink_SetRetention(t *testing.T) {
	testenv.RequireCHDB(t)
	ctx := context.Background()
	dir := t.TempDir()
	const jan2016 = 1451606400 * int64(1e9)
	capture := writeCapture(t, dir, "2016.pcap", gen.Config{Seed: 3, Messages: 5000, Start: jan2016})
	path := filepath.Join(dir, "db")
	loadEmbedded(t, path, []ingest.Input{{Path: capture}}, 1)
	db, err := chdb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	ttl := queryText(t, db,
		"SELECT engine_full FROM system.tables WHERE database = 'default' AND name = 'dns_messages'")
	if !strings.Contains(ttl, "TTL loaded_at + toIntervalDay(1)") {
		t.Errorf("dns_messages has no TTL on loaded_at:\n%s", ttl)
	}
	count := "SELECT count(), toYear(min(time)) FROM dns_messages"
	want := queryText(t, db, count)
	if !strings.HasSuffix(want, "\t2016\n") || strings.HasPrefix(want, "0\t") {
		t.Fatalf("loaded rows, year: %q, want rows of 2016", want)
	}
	if err := db.Exec(ctx, "OPTIMIZE TABLE dns_messages FINAL"); err != nil {
		t.Fatal(err)
	}
	if got := queryText(t, db, count); got != want {
		t.Errorf("after OPTIMIZE FINAL: rows, year = %q, want %q", got, want)
	}

	// The control: the same TTL counted from packet time drops every row,
	// so the merge above did apply the TTL.
	for _, q := range []string{
		"ALTER TABLE dns_messages MODIFY TTL toDateTime(time) + INTERVAL 1 DAY",
		"OPTIMIZE TABLE dns_messages FINAL",
	} {
		if err := db.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if got := queryText(t, db, "SELECT count() FROM dns_messages"); got != "0\n" {
		t.Errorf("rows left by a packet-time TTL = %q, want 0", got)
	}
}
