package chdb

import (
	"context"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

// requireLibrary skips when libchdb.so is missing on a developer machine and
// fails under CI=true, where make test fetches it first.
func requireLibrary(tb testing.TB) {
	tb.Helper()
	if err := Load(LibraryPath()); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("chdb library required under CI: %v", err)
		}
		tb.Skipf("chdb library unavailable (run scripts/fetch-chdb.sh): %v", err)
	}
}

// openTemp opens the engine on a fresh directory and closes it at cleanup.
func openTemp(tb testing.TB) *DB {
	tb.Helper()
	requireLibrary(tb)
	db, err := Open(tb.TempDir())
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return db
}

func mustExec(tb testing.TB, db *DB, query string) {
	tb.Helper()
	if err := db.Exec(context.Background(), query); err != nil {
		tb.Fatalf("Exec(%q): %v", query, err)
	}
}

func mustQuery(tb testing.TB, db *DB, query, format string) string {
	tb.Helper()
	out, err := db.Query(context.Background(), query, format)
	if err != nil {
		tb.Fatalf("Query(%q): %v", query, err)
	}
	return string(out)
}

func releaseAll(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}
