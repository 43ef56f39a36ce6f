package load_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/internal/chdb"
	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/internal/testenv"
	"github.com/pcapload/pcapload/load"
	"github.com/pcapload/pcapload/schema"
)

// TestRun_groups loads the corpus, a capture cut short and a file that is
// no capture into the embedded database alone, which groups small files:
// every row lands once, each file is accounted for on its own, and a
// second run leaves the loaded files out and replaces the failed one's
// rows rather than adding to them.
func TestRun_groups(t *testing.T) {
	testenv.RequireCHDB(t)
	ctx := context.Background()
	dir := t.TempDir()
	inputs := corpusInputs(t)
	want := decoded(t, inputs)

	cut := filepath.Join(dir, "cut.pcap")
	if _, err := gen.WriteFile(cut, gen.Config{Seed: 3, Messages: 400}, gen.Pcap); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(cut)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(cut, fi.Size()-7); err != nil {
		t.Fatal(err)
	}
	var cutRows uint64
	var cutStats ingest.FileStats
	err = ingest.NewDecoder(ingest.Config{}).DecodeFile(ingest.Input{Path: cut}, &cutStats, nil, func(*schema.Row) error {
		cutRows++
		return nil
	})
	if err == nil || cutRows == 0 {
		t.Fatalf("cut capture: %d rows, error %v; want rows and an error", cutRows, err)
	}
	readme := filepath.Join(dir, "README")
	if err := os.WriteFile(readme, []byte("captures of resolver 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inputs = append(inputs, ingest.Input{Path: cut}, ingest.Input{Path: readme, Walked: true})
	nCorpus := len(inputs) - 2

	dbPath := filepath.Join(dir, "db")
	run := func() (*load.Result, string) {
		t.Helper()
		emb, err := load.OpenEmbedded(ctx, dbPath, "test")
		if err != nil {
			t.Fatal(err)
		}
		return load.Run(ctx, inputs, []load.Sink{emb}, load.Options{Workers: 2, BatchRows: 50}), emb.Name()
	}

	res, name := run()
	var rows uint64
	for i, f := range res.Files[:nCorpus] {
		if f.Failed() || f.Skipped != "" {
			t.Fatalf("%s: failed %v %v, skipped %q", inputs[i].Path, f.Stats.Err, f.SinkErrs, f.Skipped)
		}
		if f.Rows[name] != f.Stats.Messages() {
			t.Errorf("%s: %d rows written, %d messages", inputs[i].Path, f.Rows[name], f.Stats.Messages())
		}
		rows += f.Rows[name]
	}
	if rows != uint64(len(want)) {
		t.Errorf("corpus: %d rows written, decoder made %d", rows, len(want))
	}
	checkCut := func(run string, f load.FileResult) {
		t.Helper()
		if f.Stats.Err == nil || len(f.SinkErrs) > 0 || f.Rows[name] != cutRows {
			t.Errorf("%s: cut capture: error %v, sink errors %v, %d rows; want its fault and %d rows",
				run, f.Stats.Err, f.SinkErrs, f.Rows[name], cutRows)
		}
	}
	checkCut("first run", res.Files[nCorpus])
	if f := res.Files[nCorpus+1]; f.Skipped != "not a capture file" || f.Failed() {
		t.Errorf("README: skipped %q, error %v %v", f.Skipped, f.Stats.Err, f.SinkErrs)
	}

	db, err := chdb.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	wantAll := func() []string {
		// The cut capture's rows, then the corpus's.
		got := queryRows(t, db, "SELECT "+fingerprintSQL+" FROM dns_messages WHERE file != "+schema.Quote(cut))
		if !slices.Equal(got, want) {
			t.Fatalf("database holds %d corpus rows, decoder made %d; first difference: %s", len(got), len(want), firstDiff(got, want))
		}
		return got
	}
	wantAll()
	statuses := func() string {
		out, err := db.Query(ctx, "SELECT status, count() FROM capture_files GROUP BY status ORDER BY status", "CSV")
		if err != nil {
			t.Fatal(err)
		}
		return strings.ReplaceAll(strings.TrimSpace(string(out)), "\n", " ")
	}
	cutCount := func() string {
		out, err := db.Query(ctx, "SELECT count() FROM dns_messages WHERE file = "+schema.Quote(cut), "CSV")
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	// Every capture was marked grouped before its rows went in; the
	// README, no capture by its first bytes, was left out before.
	first := `"failed",1 "grouped",` + itoa(nCorpus+1) + ` "loaded",` + itoa(nCorpus)
	if got := statuses(); got != first {
		t.Errorf("load records by status: %s, want %s", got, first)
	}
	if got := cutCount(); got != itoa(int(cutRows)) {
		t.Errorf("cut capture: %s rows stored, want %d", got, cutRows)
	}
	db.Close()

	res, _ = run()
	for i, f := range res.Files[:nCorpus] {
		if f.Skipped != "already loaded" {
			t.Errorf("second run: %s skipped %q, want already loaded", inputs[i].Path, f.Skipped)
		}
	}
	checkCut("second run", res.Files[nCorpus])
	if db, err = chdb.Open(dbPath); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	wantAll()
	if got := cutCount(); got != itoa(int(cutRows)) {
		t.Errorf("second run: cut capture: %s rows stored, want %d (replaced, not added)", got, cutRows)
	}
	// The failed file was replaced and grouped again.
	second := `"failed",2 "grouped",` + itoa(nCorpus+2) + ` "loaded",` + itoa(nCorpus) +
		` "replaced",1 "replacing",1`
	if got := statuses(); got != second {
		t.Errorf("second run: load records by status: %s, want %s", got, second)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestRun_sameContent loads two copies of a capture in one run, grouped and
// one by one: the second is left out, said, and the rows are stored once.
func TestRun_sameContent(t *testing.T) {
	testenv.RequireCHDB(t)
	ctx := context.Background()
	dir := t.TempDir()
	var inputs []ingest.Input
	for i, name := range []string{"a.pcap", "c.pcap"} {
		path := filepath.Join(dir, name)
		if _, err := gen.WriteFile(path, gen.Config{Seed: int64(i + 1), Messages: 300}, gen.Pcap); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, ingest.Input{Path: path})
	}
	data, err := os.ReadFile(inputs[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(dir, "b.pcap")
	if err := os.WriteFile(copyPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	inputs = []ingest.Input{inputs[0], {Path: copyPath}, inputs[1]}

	for _, groupFiles := range []int{0, 1} {
		t.Run(fmt.Sprint("group-files ", groupFiles), func(t *testing.T) {
			dbPath := filepath.Join(t.TempDir(), "db")
			emb, err := load.OpenEmbedded(ctx, dbPath, "test")
			if err != nil {
				t.Fatal(err)
			}
			res := load.Run(ctx, inputs, []load.Sink{emb}, load.Options{Workers: 2, GroupFiles: groupFiles})
			var skipped, written int
			var rows uint64
			for _, f := range res.Files {
				if f.Failed() {
					t.Fatalf("%s failed: %v %v", f.Stats.Path, f.Stats.Err, f.SinkErrs)
				}
				if strings.HasPrefix(f.Skipped, "same content as ") {
					skipped++
					continue
				}
				written++
				rows += f.Rows[emb.Name()]
			}
			if skipped != 1 || written != 2 {
				t.Fatalf("%d files left out as copies, %d loaded; want 1 and 2", skipped, written)
			}
			db, err := chdb.Open(dbPath)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			out, err := db.Query(ctx, "SELECT count() FROM dns_messages", "CSV")
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(string(out)); got != strconv.FormatUint(rows, 10) {
				t.Errorf("database holds %s rows, the load wrote %d", got, rows)
			}
		})
	}
}

// TestRun_unfinished: a run names the files whose load began in the
// database and did not end, here one whose group was marked and never
// committed, and not the files it loads itself.
func TestRun_unfinished(t *testing.T) {
	testenv.RequireCHDB(t)
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "a.pcap")
	if _, err := gen.WriteFile(path, gen.Config{Seed: 4, Messages: 200}, gen.Pcap); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "db")
	emb, err := load.OpenEmbedded(ctx, dbPath, "test")
	if err != nil {
		t.Fatal(err)
	}
	gone := load.File{Path: "/archive/gone.pcap", Hash: strings.Repeat("ab", 32)}
	g, _, err := emb.BeginGroup([]load.File{gone})
	if err != nil {
		t.Fatal(err)
	}
	g.Abort() // as a crash leaves it: marked grouped, no outcome

	res := load.Run(ctx, []ingest.Input{{Path: path}}, []load.Sink{emb}, load.Options{})
	if f := res.Files[0]; f.Failed() || f.Skipped != "" {
		t.Fatalf("load failed: %v %v %q", f.Stats.Err, f.SinkErrs, f.Skipped)
	}
	if got := res.Unfinished[emb.Name()]; !slices.Equal(got, []string{gone.Path}) {
		t.Errorf("unfinished loads = %q, want %q", got, gone.Path)
	}
}

// TestRun_notCaptureOneByOne loads a folder's capture and README one by
// one, as two destinations make it: the README, no capture by its first
// bytes, is left out before any destination hears of it, so no run names
// it as an unfinished load.
func TestRun_notCaptureOneByOne(t *testing.T) {
	testenv.RequireCHDB(t)
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "a.pcap")
	if _, err := gen.WriteFile(path, gen.Config{Seed: 5, Messages: 200}, gen.Pcap); err != nil {
		t.Fatal(err)
	}
	readme := filepath.Join(dir, "README.md")
	if err := os.WriteFile(readme, []byte("# captures\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inputs := []ingest.Input{{Path: path, Walked: true}, {Path: readme, Walked: true}}
	dbPath := filepath.Join(dir, "db")
	for run := 1; run <= 2; run++ {
		emb, err := load.OpenEmbedded(ctx, dbPath, "test")
		if err != nil {
			t.Fatal(err)
		}
		sinks := []load.Sink{emb, load.NewParquetSink(filepath.Join(dir, "parquet"))}
		res := load.Run(ctx, inputs, sinks, load.Options{GroupFiles: 1})
		if f := res.Files[1]; f.Skipped != "not a capture file" || f.Failed() {
			t.Errorf("run %d: README skipped %q, error %v %v", run, f.Skipped, f.Stats.Err, f.SinkErrs)
		}
		if got := res.Unfinished[emb.Name()]; len(got) > 0 {
			t.Errorf("run %d: unfinished loads %q, want none", run, got)
		}
		if err := emb.Close(); err != nil {
			t.Fatal(err)
		}
	}
	db, err := chdb.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out, err := db.Query(ctx, "SELECT count() FROM capture_files WHERE path = "+schema.Quote(readme), "CSV")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != "0" {
		t.Errorf("README: %s load records, want none", got)
	}
}

// TestRun_sameContentFailed: a file left out for its content says so
// when the file loaded in its place failed, and not otherwise.
func TestRun_sameContentFailed(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) ingest.Input {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return ingest.Input{Path: path}
	}
	capPath := filepath.Join(dir, "a.pcap")
	if _, err := gen.WriteFile(capPath, gen.Config{Seed: 1, Messages: 50}, gen.Pcap); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(capPath)
	if err != nil {
		t.Fatal(err)
	}
	inputs := []ingest.Input{{Path: capPath}, write("b.pcap", data),
		write("notes.txt", []byte("not a capture\n")), write("notes-copy.txt", []byte("not a capture\n"))}
	res := load.Run(t.Context(), inputs, []load.Sink{load.NewParquetSink(t.TempDir())}, load.Options{Workers: 1})
	want := map[string]string{
		"b.pcap":         "same content as " + capPath,
		"notes-copy.txt": "same content as " + inputs[2].Path + ", which failed",
	}
	for _, f := range res.Files {
		if w := want[filepath.Base(f.Stats.Path)]; f.Skipped != w {
			t.Errorf("%s: skipped %q, want %q", f.Stats.Path, f.Skipped, w)
		}
	}
}

// TestRun_loadedAs: a file loaded again under another name, on its own
// or in a group, is left out saying the name it was loaded under.
func TestRun_loadedAs(t *testing.T) {
	testenv.RequireCHDB(t)
	ctx := t.Context()
	dir := t.TempDir()
	first := filepath.Join(dir, "first.pcap")
	if _, err := gen.WriteFile(first, gen.Config{Seed: 3, Messages: 100}, gen.Pcap); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	moved := filepath.Join(dir, "moved.pcap")
	if err := os.WriteFile(moved, data, 0o644); err != nil {
		t.Fatal(err)
	}
	// Beside a file not loaded yet, so that a group is begun.
	other := filepath.Join(dir, "other.pcap")
	if _, err := gen.WriteFile(other, gen.Config{Seed: 4, Messages: 100}, gen.Pcap); err != nil {
		t.Fatal(err)
	}
	for _, groupFiles := range []int{0, 1} {
		t.Run(fmt.Sprint("group-files ", groupFiles), func(t *testing.T) {
			dbPath := filepath.Join(t.TempDir(), "db")
			for _, step := range []struct{ path, skipped string }{
				{first, ""},
				{moved, "already loaded as " + first},
				{first, "already loaded"},
			} {
				emb, err := load.OpenEmbedded(ctx, dbPath, "test")
				if err != nil {
					t.Fatal(err)
				}
				inputs := []ingest.Input{{Path: step.path}, {Path: other}}
				res := load.Run(ctx, inputs, []load.Sink{emb}, load.Options{Workers: 1, GroupFiles: groupFiles})
				if got := res.Files[0].Skipped; got != step.skipped {
					t.Errorf("%s: skipped %q, want %q", step.path, got, step.skipped)
				}
			}
		})
	}
}

// TestRun_fileSensors: files of a load each stored as their own sensor
// (Input.Sensor), in a group and one by one: the rows and the load
// records say it.
func TestRun_fileSensors(t *testing.T) {
	testenv.RequireCHDB(t)
	ctx := t.Context()
	dir := t.TempDir()
	var inputs []ingest.Input
	for i, sensor := range []string{"tap1", "", "tap2"} {
		path := filepath.Join(dir, fmt.Sprintf("f%d.pcap", i))
		if _, err := gen.WriteFile(path, gen.Config{Seed: int64(40 + i), Messages: 100}, gen.Pcap); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, ingest.Input{Path: path, Sensor: sensor})
	}
	want := []string{"f0.pcap tap1", "f1.pcap load", "f2.pcap tap2"}
	for _, groupFiles := range []int{0, 1} {
		t.Run(fmt.Sprint("group-files ", groupFiles), func(t *testing.T) {
			dbPath := filepath.Join(t.TempDir(), "db")
			emb, err := load.OpenEmbedded(ctx, dbPath, "load")
			if err != nil {
				t.Fatal(err)
			}
			opt := load.Options{Workers: 1, GroupFiles: groupFiles, Decode: ingest.Config{Sensor: "load"}}
			for _, f := range load.Run(ctx, inputs, []load.Sink{emb}, opt).Files {
				if f.Failed() {
					t.Fatalf("%s: %v %v", f.Stats.Path, f.Stats.Err, f.SinkErrs)
				}
			}
			db, err := chdb.Open(dbPath)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, q := range []string{
				"SELECT DISTINCT concat(splitByChar('/', file)[-1], ' ', sensor) AS r FROM dns_messages",
				"SELECT DISTINCT concat(splitByChar('/', path)[-1], ' ', sensor) AS r FROM capture_files",
			} {
				if got := queryRows(t, db, q); !slices.Equal(got, want) {
					t.Errorf("%s: %q, want %q", q, got, want)
				}
			}
		})
	}
}
