package chdb

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLibraryPath(t *testing.T) {
	t.Setenv("PCAPLOAD_CHDB_LIB", "")
	t.Setenv("PCAPLOAD_CACHE", "/c")
	if got, want := LibraryPath(), "/c/chdb/"+Version+"/libchdb.so"; got != want {
		t.Errorf("LibraryPath() = %q, want %q", got, want)
	}
	t.Setenv("PCAPLOAD_CACHE", "")
	t.Setenv("XDG_CACHE_HOME", "/x")
	if got, want := LibraryPath(), "/x/pcapload/chdb/"+Version+"/libchdb.so"; got != want {
		t.Errorf("LibraryPath() = %q, want %q", got, want)
	}
	t.Setenv("PCAPLOAD_CHDB_LIB", "/lib/libchdb.so")
	if got, want := LibraryPath(), "/lib/libchdb.so"; got != want {
		t.Errorf("LibraryPath() = %q, want %q", got, want)
	}
}

func TestDB_Query(t *testing.T) {
	db := openTemp(t)
	mustExec(t, db, `CREATE TABLE t (id UInt32, name String) ENGINE = MergeTree ORDER BY id;
		INSERT INTO t VALUES (1, 'a'), (2, 'b')`)

	tests := []struct {
		name, query, format, want string
	}{
		{"csv", "SELECT id, name FROM t ORDER BY id", "CSV", "1,\"a\"\n2,\"b\"\n"},
		{"tsv", "SELECT count() FROM t", "TSV", "2\n"},
		{"json", "SELECT id FROM t ORDER BY id", "JSONEachRow", "{\"id\":1}\n{\"id\":2}\n"},
		{"empty", "SELECT id FROM t WHERE id > 5", "CSV", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustQuery(t, db, tt.query, tt.format); got != tt.want {
				t.Errorf("Query() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestDB_ExecRows returns the rows an INSERT ... SELECT wrote, none when
// it selects none, and the engine's error for a bad one.
func TestDB_ExecRows(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	mustExec(t, db, "CREATE TABLE n (x UInt64) ENGINE = MergeTree ORDER BY x")
	for _, tt := range []struct {
		query string
		want  uint64
	}{
		{"INSERT INTO n SELECT number FROM numbers(37)", 37},
		{"INSERT INTO n SELECT number FROM numbers(37) WHERE number > 100", 0},
	} {
		if got, err := db.ExecRows(ctx, tt.query); err != nil || got != tt.want {
			t.Errorf("ExecRows(%q) = %d, %v; want %d", tt.query, got, err, tt.want)
		}
	}
	var e *Error
	if _, err := db.ExecRows(ctx, "INSERT INTO missing SELECT 1"); !errors.As(err, &e) || e.Name != "UNKNOWN_TABLE" {
		t.Errorf("ExecRows(into a missing table) = %v, want UNKNOWN_TABLE", err)
	}
}

func TestDB_Exec_badSQL(t *testing.T) {
	db := openTemp(t)
	tests := []struct {
		name, query, code string
		want              int
	}{
		{"syntax", "SELEC 1 FROM", "SYNTAX_ERROR", 62},
		{"unknown table", "SELECT * FROM missing", "UNKNOWN_TABLE", 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := db.Exec(context.Background(), tt.query)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Exec() error = %v, want *Error", err)
			}
			if e.Code != tt.want || e.Name != tt.code {
				t.Errorf("Exec() error code = %d %s, want %d %s", e.Code, e.Name, tt.want, tt.code)
			}
			if !strings.HasPrefix(err.Error(), "chdb exec: Code: ") {
				t.Errorf("Exec() error = %q, want context then engine text", err)
			}
		})
	}
}

func TestDB_Query_cancelled(t *testing.T) {
	db := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := db.Query(ctx, "SELECT 1", "CSV"); !errors.Is(err, context.Canceled) {
		t.Errorf("Query() error = %v, want context.Canceled", err)
	}
}

func TestDB_Close(t *testing.T) {
	requireLibrary(t)
	db, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
	if err := db.Exec(context.Background(), "SELECT 1"); !errors.Is(err, ErrClosed) {
		t.Errorf("Exec after Close = %v, want ErrClosed", err)
	}
}

// TestOpen_secondPath covers the engine's one-path-per-process rule: a second
// path is refused while the first is open, accepted once it is closed, and
// each path keeps its own tables.
func TestOpen_secondPath(t *testing.T) {
	requireLibrary(t)
	ctx := context.Background()
	first, second := t.TempDir(), t.TempDir()

	a, err := Open(first)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, a, "CREATE TABLE only_first (x UInt8) ENGINE = MergeTree ORDER BY x")
	if _, err := Open(second); !errors.Is(err, ErrOtherPath) {
		t.Errorf("Open(second) while first open = %v, want ErrOtherPath", err)
	}

	// The same path gives a second, independent connection.
	a2, err := Open(first)
	if err != nil {
		t.Fatalf("Open(first) again = %v", err)
	}
	if got := mustQuery(t, a2, "EXISTS TABLE only_first", "TSV"); got != "1\n" {
		t.Errorf("second connection sees only_first = %q, want 1", got)
	}
	for _, db := range []*DB{a, a2} {
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}

	b, err := Open(second)
	if err != nil {
		t.Fatalf("Open(second) after Close = %v", err)
	}
	defer b.Close()
	if got := mustQuery(t, b, "EXISTS TABLE only_first", "TSV"); got != "0\n" {
		t.Errorf("second path sees only_first = %q, want 0", got)
	}
	if err := b.Exec(ctx, "CREATE TABLE only_second (x UInt8) ENGINE = MergeTree ORDER BY x"); err != nil {
		t.Fatal(err)
	}
}

// TestOpen_lockedByOtherProcess runs this test binary as a helper that holds
// a path, then checks the error a second process gets.
func TestOpen_lockedByOtherProcess(t *testing.T) {
	if dir := os.Getenv("CHDB_TEST_HOLD"); dir != "" {
		holdPath(t, dir)
		return
	}
	requireLibrary(t)
	dir := filepath.Join(t.TempDir(), "db")
	ready := filepath.Join(t.TempDir(), "ready")
	cmd := exec.Command(os.Args[0], "-test.run=^TestOpen_lockedByOtherProcess$")
	cmd.Env = append(os.Environ(), "CHDB_TEST_HOLD="+dir, "CHDB_TEST_READY="+ready)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		_ = cmd.Wait()
	}()
	waitForFile(t, ready)

	_, err = Open(dir)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("Open(held path) = %v, want ErrLocked", err)
	}
	t.Logf("second process gets: %v", err)
	if msg := err.Error(); !strings.Contains(msg, dir) || strings.Contains(msg, "\n") {
		t.Errorf("Open(held path) error = %q, want one line naming %s", msg, dir)
	}
}

// holdPath is the helper process: open dir, signal readiness, wait for stdin
// to close.
func holdPath(t *testing.T, dir string) {
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := os.WriteFile(os.Getenv("CHDB_TEST_READY"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, _ = os.Stdin.Read(make([]byte, 1))
}

func waitForFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("helper process did not create %s", path)
}

func TestCaptureStderr(t *testing.T) {
	got, err := captureStderr(func() {
		_, _ = os.Stderr.WriteString("engine says\n")
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != "engine says\n" {
		t.Errorf("captureStderr() = %q, want %q", got, "engine says\n")
	}
}
