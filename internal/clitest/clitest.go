// Package clitest holds what the tests of the pcapload command share
// between its own package and cmd/pcapload/e2e: running the built
// binary, the captures they load, and the checksums by which two loads
// are shown to have stored the same rows.
package clitest

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pcapload/pcapload/clickhouse/chtest"
	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/schema"
)

// RunBinary runs the built pcapload and returns its exit code and output.
func RunBinary(t testing.TB, bin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut strings.Builder
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("run %s: %v", bin, err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

// Query runs the sql command of bin on the embedded database db and
// returns its CSV rows, the header left out.
func Query(t testing.TB, bin, db, q string) string {
	t.Helper()
	code, out, errOut := RunBinary(t, bin, "sql", "--db", db, "--format", "csv", q)
	if code != 0 {
		t.Fatalf("sql %q: exit %d: %s", q, code, errOut)
	}
	_, rows, _ := strings.Cut(out, "\n")
	return rows
}

// ServerQuery runs a query of two UInt64 columns on srv and returns them
// as sql --format csv prints them, so that they compare with Query's.
func ServerQuery(t testing.TB, srv *chtest.Server, q string) string {
	t.Helper()
	var a, b uint64
	if err := srv.Conn(t).QueryRow(context.Background(), q).Scan(&a, &b); err != nil {
		t.Fatalf("query %q: %v", q, err)
	}
	return fmt.Sprintf("%d,%d\n", a, b)
}

// Destinations are the two URLs a load takes for srv, by protocol.
func Destinations(srv *chtest.Server) map[string]string {
	return map[string]string{
		"native": "clickhouse://" + srv.TCP + "/default",
		"http":   "http://" + srv.HTTP + "/default",
	}
}

// WriteCaptures generates two captures of n messages each into a new
// directory. They start just before midnight, so their inserts hold rows
// of two days (two partitions, two blocks an insert).
func WriteCaptures(t testing.TB, n int) string {
	t.Helper()
	dir := t.TempDir()
	start := time.Date(2026, 11, 2, 23, 59, 59, 700_000_000, time.UTC).UnixNano()
	for i, name := range []string{"a.pcap", "b.pcap"} {
		cfg := gen.Config{Seed: int64(i + 1), Messages: n, Start: start}
		if _, err := gen.WriteFile(filepath.Join(dir, name), cfg, gen.Pcap); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// WriteArchive generates files captures of n messages each, every one
// different, into a new directory, as rotate would name them.
func WriteArchive(t testing.TB, files, n int) string {
	t.Helper()
	dir := t.TempDir()
	start := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	for i := range files {
		at := start.Add(time.Duration(i) * time.Minute)
		cfg := gen.Config{Seed: int64(100 + i), Messages: n, Start: at.UnixNano()}
		if _, err := gen.WriteFile(filepath.Join(dir, at.Format("dns-20060102-1504.pcap")), cfg, gen.Pcap); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// ContentSQL checksums the dns_messages rows: their count and the sum of a
// hash of every column but those in except.
func ContentSQL(except ...string) string {
	var cols []string
	for _, c := range schema.Columns {
		if !strings.Contains(" "+strings.Join(except, " ")+" ", " "+c.Name+" ") {
			cols = append(cols, "`"+c.Name+"`")
		}
	}
	return "SELECT count(), sum(cityHash64(" + strings.Join(cols, ", ") + ")) FROM dns_messages"
}

// LoadedSQL counts the files whose latest generation has exactly one
// loaded record, and all the files recorded.
const LoadedSQL = `SELECT
	(SELECT count() FROM (SELECT file_hash FROM capture_files
		WHERE status = 'loaded' AND (file_hash, generation) IN
			(SELECT file_hash, max(generation) FROM capture_files GROUP BY file_hash)
		GROUP BY file_hash HAVING count() = 1)),
	(SELECT uniqExact(file_hash) FROM capture_files)`
