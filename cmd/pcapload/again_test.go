package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pcapload/pcapload/internal/clitest"
	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/internal/testenv"
)

// TestLoad_again loads the same capture again, renamed and moved: the
// database adds nothing and the Parquet export keeps one set of files;
// with --force the rows are replaced, not added.
func TestLoad_again(t *testing.T) {
	testenv.RequireCHDB(t)
	dir, other := clitest.WriteCaptures(t, 3000), t.TempDir()
	first, moved := filepath.Join(dir, "a.pcap"), filepath.Join(other, "renamed.pcap")
	db, pq := filepath.Join(t.TempDir(), "db"), t.TempDir()

	steps := []struct {
		name     string
		path     string
		force    bool
		wantRows uint64 // rows the load writes to the database
		wantFile string // every row's file afterwards
	}{
		{"first load", first, false, 3000, first},
		{"same file again", first, false, 0, first},
		{"renamed and moved", moved, false, 0, first},
		{"forced", moved, true, 3000, moved},
		{"forced again", moved, true, 3000, moved},
	}
	var wantContent string
	var wantParquet []string
	for i, st := range steps {
		if st.path == moved && i > 0 && steps[i-1].path != moved {
			if err := os.Rename(first, moved); err != nil {
				t.Fatal(err)
			}
		}
		args := []string{"load", "--json", "--db", db, "--to", "db", "--to", "parquet:" + pq}
		if st.force {
			args = append(args, "--force")
		}
		code, out, errOut := runCmd(t, nil, append(args, st.path)...)
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", st.name, code, errOut)
		}
		if got := loadJSON(t, out).Rows["db:"+db]; got != st.wantRows {
			t.Errorf("%s: wrote %d rows to the database, want %d", st.name, got, st.wantRows)
		}
		content := sqlCSV(t, db, clitest.ContentSQL("file"))
		files := sqlCSV(t, db, "SELECT uniqExact(file), any(file) FROM dns_messages")
		if wantFiles := "1,\"" + st.wantFile + "\"\n"; files != wantFiles {
			t.Errorf("%s: files in the rows %q, want %q", st.name, files, wantFiles)
		}
		parquet, _ := filepath.Glob(filepath.Join(pq, "*", "*", "*.parquet"))
		if i == 0 {
			wantContent, wantParquet = content, parquet
			continue
		}
		if content != wantContent {
			t.Errorf("%s: rows (count, checksum) %q, want %q", st.name, content, wantContent)
		}
		if !slices.Equal(parquet, wantParquet) {
			t.Errorf("%s: parquet files %v, want %v", st.name, parquet, wantParquet)
		}
	}
}

// sqlCSV runs a query with the sql command in-process and returns its CSV
// rows, the header left out.
func sqlCSV(t *testing.T, db, q string) string {
	t.Helper()
	code, out, errOut := runCmd(t, nil, "sql", "--db", db, "--format", "csv", q)
	if code != exitOK {
		t.Fatalf("sql %q: exit %d: %s", q, code, errOut)
	}
	_, rows, _ := strings.Cut(out, "\n")
	return rows
}

// TestLoad_longPathsGroup loads a group of 300 small captures whose paths
// are a kilobyte long: the Ledger's queries name them all, and must stay
// under what the server parses.
func TestLoad_longPathsGroup(t *testing.T) {
	testenv.RequireCHDB(t)
	dir := t.TempDir()
	for range 4 {
		dir = filepath.Join(dir, strings.Repeat("d", 250))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		cfg := gen.Config{Seed: int64(i + 1), Messages: 20}
		if _, err := gen.WriteFile(filepath.Join(dir, fmt.Sprintf("c%03d.pcap", i)), cfg, gen.Pcap); err != nil {
			t.Fatal(err)
		}
	}
	db := filepath.Join(t.TempDir(), "db")
	args := []string{"load", "--json", "--progress", "never", "--workers", "1", "--group-files", "300", "--db", db, dir}
	code, out, errOut := runCmd(t, nil, args...)
	if s := loadJSON(t, out); code != exitOK || s.FilesLoaded != 300 {
		t.Fatalf("load: exit %d, %d files loaded of 300\n%s", code, s.FilesLoaded, errOut)
	}
	code, out, _ = runCmd(t, nil, args...)
	if s := loadJSON(t, out); code != exitOK || s.FilesSkipped != 300 {
		t.Errorf("again: exit %d, %d files left out as loaded; want all 300", code, s.FilesSkipped)
	}
}
