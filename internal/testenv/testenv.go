// Package testenv lets tests ask for what they need from the machine: on a
// developer's machine a missing piece skips the test, under CI=true it
// fails it, so that CI can never pass by skipping.
package testenv

import (
	"os"
	"testing"

	"github.com/pcapload/pcapload/internal/chdb"
)

// RequireCHDB stops the test unless the embedded engine's library is there
// (make test fetches it).
func RequireCHDB(tb testing.TB) {
	tb.Helper()
	if _, err := os.Stat(chdb.LibraryPath()); err != nil {
		Missing(tb, "the embedded ClickHouse engine (run scripts/fetch-chdb.sh): "+err.Error())
	}
}

// Missing skips the test, or fails it under CI=true.
func Missing(tb testing.TB, what string) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("missing %s", what)
	}
	tb.Skipf("missing %s", what)
}
