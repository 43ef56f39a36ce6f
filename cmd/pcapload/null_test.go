package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRun_LoadNull: --to null decodes every message, counts a row for
// each, and writes nothing, not even the default database.
func TestRun_LoadNull(t *testing.T) {
	in := captureDir(t)
	// The default database, in the working directory; --db beside
	// --to null is refused (TestUsage_ignoredFlags).
	const db = "pcapload.db"
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Fatalf("%s is there before the load: %v", db, err)
	}
	code, stdout, stderr := runCmd(t, nil, "load", "--json", "--to", "null", in)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	s := loadJSON(t, stdout)
	checkAccounting(t, s)
	if s.FilesLoaded != 3 || s.FilesSkipped != 1 || s.Messages != 4000 ||
		s.Rows["null"] != s.Messages || len(s.Rows) != 1 {
		t.Errorf("summary %+v, want 3 files, README skipped, 4000 messages, as many null rows", s)
	}
	if s.Reassembly.Pairs.Paired == 0 {
		t.Errorf("no pairs: the decoding is not the full one")
	}
	for _, f := range s.PerFile {
		if f.Rows["null"] != f.Messages {
			t.Errorf("%s: %d rows for %d messages", f.Path, f.Rows["null"], f.Messages)
		}
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("the database %s was touched: %v", db, err)
	}
	if entries, _ := os.ReadDir(in); len(entries) != 4 {
		t.Errorf("input folder holds %d entries, want the 4 it had", len(entries))
	}
}

// TestRun_LoadNullAlone: null takes no other destination, and none is
// opened before that is said.
func TestRun_LoadNullAlone(t *testing.T) {
	dir := t.TempDir()
	db, pq := filepath.Join(dir, "db"), filepath.Join(dir, "parquet")
	for _, args := range [][]string{
		{"load", "--to", "null", "--to", "parquet:" + pq, "../../testdata/resolver.pcap"},
		{"load", "--db", db, "--to", "db", "--to", "null", "../../testdata/resolver.pcap"},
	} {
		code, _, stderr := runCmd(t, nil, args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", args, code, exitUsage, stderr)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("destinations were opened: %v", entries)
	}
}
