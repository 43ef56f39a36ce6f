package load_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/internal/chdb"
	"github.com/pcapload/pcapload/internal/testenv"
	"github.com/pcapload/pcapload/load"
	"github.com/pcapload/pcapload/parquet"
	"github.com/pcapload/pcapload/schema"
)

// TestRun_groupBesideParquet loads small files into the embedded database
// and a Parquet export at once: the database takes them in groups, the
// export one by one beside it, and both hold every row once, in a first
// run and in a second, which the database leaves out.
func TestRun_groupBesideParquet(t *testing.T) {
	testenv.RequireCHDB(t)
	ctx := context.Background()
	dir := t.TempDir()
	inputs := corpusInputs(t)
	want := decoded(t, inputs)
	dbPath, pqDir := filepath.Join(dir, "db"), filepath.Join(dir, "parquet")

	for run := 1; run <= 2; run++ {
		emb, err := load.OpenEmbedded(ctx, dbPath, "test")
		if err != nil {
			t.Fatal(err)
		}
		pq := load.NewParquetSink(pqDir)
		res := load.Run(ctx, inputs, []load.Sink{emb, pq}, load.Options{Workers: 2, BatchRows: 50})
		if err := emb.Close(); err != nil {
			t.Fatal(err)
		}
		for _, f := range res.Files {
			if f.Failed() || f.Skipped != "" {
				t.Fatalf("run %d: %s: failed %v %v, skipped %q", run, f.Stats.Path, f.Stats.Err, f.SinkErrs, f.Skipped)
			}
			wantDB := f.Stats.Messages()
			if run == 2 {
				wantDB = 0
				if !slices.Equal(f.Loaded, []string{emb.Name()}) {
					t.Errorf("run 2: %s already loaded in %q, want the database alone", f.Stats.Path, f.Loaded)
				}
			}
			if f.Rows[emb.Name()] != wantDB || f.Rows[pq.Name()] != f.Stats.Messages() {
				t.Errorf("run %d: %s: rows %v, want %d in the database and %d in Parquet",
					run, f.Stats.Path, f.Rows, wantDB, f.Stats.Messages())
			}
		}
		if got := readParquet(t, pqDir); !slices.Equal(got, want) {
			t.Fatalf("run %d: Parquet holds %d rows, decoder made %d; first difference: %s", run, len(got), len(want), firstDiff(got, want))
		}
	}

	db, err := chdb.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := queryRows(t, db, "SELECT "+fingerprintSQL+" FROM dns_messages"); !slices.Equal(got, want) {
		t.Fatalf("database holds %d rows, decoder made %d; first difference: %s", len(got), len(want), firstDiff(got, want))
	}
	// The files went in as groups, each recorded grouped then loaded.
	out, err := db.Query(ctx, "SELECT status, count() FROM capture_files GROUP BY status ORDER BY status", "CSV")
	if err != nil {
		t.Fatal(err)
	}
	n := itoa(len(inputs))
	if got, want := strings.ReplaceAll(strings.TrimSpace(string(out)), "\n", " "), `"grouped",`+n+` "loaded",`+n; got != want {
		t.Errorf("load records by status: %s, want %s", got, want)
	}
}

// TestRun_groupBesideHeld loads small files into the embedded database,
// in groups, and into a destination beside it that already holds every
// other file: rows the group gathered from those files alone reach the
// group only, and each file's own rows reach the other destination.
func TestRun_groupBesideHeld(t *testing.T) {
	testenv.RequireCHDB(t)
	ctx := context.Background()
	inputs := corpusInputs(t)
	want := decoded(t, inputs)
	beside := &besideSink{held: make(map[string]bool), rows: make(map[string]uint64)}
	for i, in := range inputs {
		if i%2 == 1 {
			h, err := ingest.HashFile(in.Path)
			if err != nil {
				t.Fatal(err)
			}
			beside.held[h] = true
		}
	}
	dbPath := filepath.Join(t.TempDir(), "db")
	emb, err := load.OpenEmbedded(ctx, dbPath, "test")
	if err != nil {
		t.Fatal(err)
	}
	res := load.Run(ctx, inputs, []load.Sink{emb, beside}, load.Options{Workers: 2, BatchRows: 50})
	if err := emb.Close(); err != nil {
		t.Fatal(err)
	}
	for i, f := range res.Files {
		if f.Failed() || f.Skipped != "" {
			t.Fatalf("%s: failed %v %v, skipped %q", f.Stats.Path, f.Stats.Err, f.SinkErrs, f.Skipped)
		}
		wantBeside := f.Stats.Messages()
		if i%2 == 1 {
			wantBeside = 0
			if !slices.Equal(f.Loaded, []string{beside.Name()}) {
				t.Errorf("%s already loaded in %q, want %s", f.Stats.Path, f.Loaded, beside.Name())
			}
		}
		if f.Rows[emb.Name()] != f.Stats.Messages() || beside.rows[f.Stats.Path] != wantBeside {
			t.Errorf("%s: %d rows in the database, %d beside; want %d and %d", f.Stats.Path,
				f.Rows[emb.Name()], beside.rows[f.Stats.Path], f.Stats.Messages(), wantBeside)
		}
	}
	if beside.stray > 0 {
		t.Errorf("%d rows reached the destination beside with another file's sink", beside.stray)
	}
	db, err := chdb.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := queryRows(t, db, "SELECT "+fingerprintSQL+" FROM dns_messages"); !slices.Equal(got, want) {
		t.Fatalf("database holds %d rows, decoder made %d; first difference: %s", len(got), len(want), firstDiff(got, want))
	}
}

// TestRun_groupBesideFailing loads small files into the embedded
// database, which holds some of them already, and into a destination
// beside it that fails every file as it begins (a server that is down):
// the files the database holds are decoded for nothing, and their rows
// must not reach the group's inserts (a hostile run stored them twice).
func TestRun_groupBesideFailing(t *testing.T) {
	testenv.RequireCHDB(t)
	ctx := context.Background()
	inputs := corpusInputs(t)
	want := decoded(t, inputs)
	dbPath := filepath.Join(t.TempDir(), "db")
	var held []ingest.Input
	for i, in := range inputs {
		if i%2 == 1 {
			held = append(held, in)
		}
	}
	emb, err := load.OpenEmbedded(ctx, dbPath, "test")
	if err != nil {
		t.Fatal(err)
	}
	load.Run(ctx, held, []load.Sink{emb}, load.Options{Workers: 2, BatchRows: 50})
	if emb, err = load.OpenEmbedded(ctx, dbPath, "test"); err != nil {
		t.Fatal(err)
	}
	down := &besideSink{fail: true, rows: make(map[string]uint64)}
	res := load.Run(ctx, inputs, []load.Sink{emb, down}, load.Options{Workers: 2, BatchRows: 50})
	if err := emb.Close(); err != nil {
		t.Fatal(err)
	}
	for i, f := range res.Files {
		if f.SinkErrs[down.Name()] == nil || f.Stats.Err != nil || len(f.SinkErrs) != 1 {
			t.Errorf("%s: errors %v %v, want the one of %s", f.Stats.Path, f.Stats.Err, f.SinkErrs, down.Name())
		}
		wantDB := f.Stats.Messages()
		if i%2 == 1 {
			wantDB = 0
		}
		if f.Rows[emb.Name()] != wantDB {
			t.Errorf("%s: %d rows in the database, want %d", f.Stats.Path, f.Rows[emb.Name()], wantDB)
		}
	}
	db, err := chdb.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := queryRows(t, db, "SELECT "+fingerprintSQL+" FROM dns_messages"); !slices.Equal(got, want) {
		t.Fatalf("database holds %d rows, decoder made %d; first difference: %s", len(got), len(want), firstDiff(got, want))
	}
}

// besideSink is a destination that takes files one by one and holds
// (reports as loaded) those whose hash is in held, or fails every file
// when fail is set. It counts the rows it
// commits of each file, and any row of another file than the one begun.
type besideSink struct {
	held map[string]bool
	fail bool

	mu    sync.Mutex
	rows  map[string]uint64 // by path
	stray int
}

func (s *besideSink) Name() string { return "beside" }
func (s *besideSink) Close() error { return nil }

func (s *besideSink) Begin(f load.File) (load.FileSink, error) {
	if s.fail {
		return nil, errors.New("connection refused")
	}
	if s.held[f.Hash] {
		return nil, load.ErrLoaded
	}
	return &besideFile{sink: s, path: f.Path}, nil
}

type besideFile struct {
	sink  *besideSink
	path  string
	rows  uint64
	stray int
}

var fileColumn = schema.Arrow().FieldIndices("file")[0]

func (f *besideFile) Write(_ parquet.Partition, rec arrow.RecordBatch) error {
	col := rec.Column(fileColumn)
	for i := range col.Len() {
		if schema.Label(col, i) != f.path {
			f.stray++
		}
	}
	f.rows += uint64(rec.NumRows())
	return nil
}

func (f *besideFile) Commit(*ingest.FileStats) error {
	f.sink.mu.Lock()
	defer f.sink.mu.Unlock()
	f.sink.rows[f.path] += f.rows
	f.sink.stray += f.stray
	return nil
}

func (f *besideFile) Abort() {}

// TestRun_twoDatabasesOneByOne loads small files into the embedded
// database and a second group destination: both take them one by one.
// Two databases may be one named twice (a path spelled two ways, a
// server's two ports), and only a file's own insert tokens, the same in
// both loads, keep its rows from being stored twice.
func TestRun_twoDatabasesOneByOne(t *testing.T) {
	testenv.RequireCHDB(t)
	ctx := context.Background()
	inputs := corpusInputs(t)
	dbPath := filepath.Join(t.TempDir(), "db")
	emb, err := load.OpenEmbedded(ctx, dbPath, "test")
	if err != nil {
		t.Fatal(err)
	}
	second := &groupRecorder{besideSink{rows: make(map[string]uint64)}, 0}
	res := load.Run(ctx, inputs, []load.Sink{emb, second}, load.Options{Workers: 2})
	for _, f := range res.Files {
		if f.Failed() || f.Skipped != "" {
			t.Fatalf("%s: failed %v %v, skipped %q", f.Stats.Path, f.Stats.Err, f.SinkErrs, f.Skipped)
		}
	}
	if second.groups > 0 {
		t.Errorf("the second database was given %d groups, want none", second.groups)
	}
	db, err := chdb.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := queryText(t, db, "SELECT count() FROM capture_files WHERE status = 'grouped'"); got != "0\n" {
		t.Errorf("%s files recorded grouped in the embedded database, want none", strings.TrimSpace(got))
	}
}

// groupRecorder is a group destination that counts the groups it is
// given and takes files one by one as besideSink does.
type groupRecorder struct {
	besideSink
	groups int
}

func (s *groupRecorder) SplitGroup(files []load.File) ([][]int, error) {
	all := make([]int, len(files))
	for i := range all {
		all[i] = i
	}
	return [][]int{all}, nil
}

func (s *groupRecorder) BeginGroup([]load.File) (load.GroupFileSink, []bool, error) {
	s.mu.Lock()
	s.groups++
	s.mu.Unlock()
	return nil, nil, errors.New("groupRecorder takes no group")
}

// TestRun_noSinkBegun: files that no destination began (the one there is
// fails each as it begins: a server that is down) fail without being
// decoded, and count no packet: they were decoded whole for nothing, and
// their messages counted in the summary.
func TestRun_noSinkBegun(t *testing.T) {
	inputs := corpusInputs(t)
	for _, groupFiles := range []int{0, 1} {
		down := &besideSink{fail: true, rows: make(map[string]uint64)}
		res := load.Run(t.Context(), inputs, []load.Sink{down}, load.Options{Workers: 2, GroupFiles: groupFiles})
		for _, f := range res.Files {
			if !f.Failed() || f.Skipped != "" || f.Stats.Packets != 0 {
				t.Errorf("group-files %d: %s: failed %v, skipped %q, %d packets; want failed, none decoded",
					groupFiles, f.Stats.Path, f.Failed(), f.Skipped, f.Stats.Packets)
			}
		}
	}
}
