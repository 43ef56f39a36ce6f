package load_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/load"
)

// nullInputs copies testdata's generated captures into a folder beside a
// README and expands it as the command would.
func nullInputs(t *testing.T) (string, []ingest.Input) {
	t.Helper()
	dir := t.TempDir()
	paths, _ := filepath.Glob("../testdata/resolver*")
	if len(paths) != 3 {
		t.Fatalf("testdata captures %v, want 3", paths)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	readme := filepath.Join(dir, "README.md")
	if err := os.WriteFile(readme, []byte("# captures\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inputs, _, err := ingest.Expand([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	return dir, inputs
}

// TestDecode: every message becomes a row counted under "null", the same
// rows a real destination gets, and nothing is written anywhere.
func TestDecode(t *testing.T) {
	dir, inputs := nullInputs(t)
	// One worker each, so that both see the files in the same order: the
	// TCP accounting of a reused Decoder depends on the files before it (a
	// recycled tcpdns flow keeps its closed mark), which is not this
	// test's subject.
	opt := load.Options{Workers: 1}
	res := load.Decode(context.Background(), inputs, opt)

	out := t.TempDir()
	sinks := []load.Sink{load.NewParquetSink(out)}
	want := load.Run(context.Background(), inputs, sinks, opt)
	var total uint64
	for i, f := range res.Files {
		st := &f.Stats
		if filepath.Base(st.Path) == "README.md" {
			if f.Skipped == "" {
				t.Errorf("README: not skipped")
			}
			continue
		}
		if f.Failed() || st.Hash == "" {
			t.Errorf("%s: error %v, hash %q; want loaded and hashed", st.Path, st.Err, st.Hash)
		}
		if got := f.Rows[load.NullName]; got != st.Messages() || got == 0 {
			t.Errorf("%s: %d rows, want one per message (%d)", st.Path, got, st.Messages())
		}
		wf := &want.Files[i]
		if got, w := f.Rows[load.NullName], wf.Rows["parquet:"+out]; got != w {
			t.Errorf("%s: %d rows, the Parquet destination got %d", st.Path, got, w)
		}
		ws := &wf.Stats
		if st.Packets != ws.Packets || st.Pairs != ws.Pairs || st.TCP != ws.TCP ||
			st.Hash != ws.Hash {
			t.Errorf("%s: stats %+v, Run's %+v", st.Path, *st, wf.Stats)
		}
		total += f.Rows[load.NullName]
	}
	if total != 4000 {
		t.Errorf("%d rows in all, want testdata's 4000 messages", total)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 4 {
		t.Errorf("input folder holds %d entries after the run, want the 4 it had", len(entries))
	}
}

// TestNullSink: given to Run, the null destination takes every batch and
// keeps none.
func TestNullSink(t *testing.T) {
	_, inputs := nullInputs(t)
	sinks := []load.Sink{load.NullSink{}}
	res := load.Run(context.Background(), inputs, sinks, load.Options{BatchRows: 100})
	for _, f := range res.Files {
		if f.Skipped != "" {
			continue
		}
		if f.Failed() || f.Rows[load.NullName] != f.Stats.Messages() {
			t.Errorf("%s: error %v, %d rows for %d messages", f.Stats.Path, f.Stats.Err,
				f.Rows[load.NullName], f.Stats.Messages())
		}
	}
}

// TestDecode_Cancelled: a cancelled run marks the files it did not start
// failed, as Run does, each error naming its file.
func TestDecode_Cancelled(t *testing.T) {
	_, inputs := nullInputs(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := load.Decode(ctx, inputs, load.Options{Workers: 1})
	for _, f := range res.Files {
		if f.Skipped == "" && !f.Failed() {
			t.Errorf("%s: loaded after cancel", f.Stats.Path)
		}
		// The summary prints the error alone: it must name the file.
		if err := f.Stats.Err; err != nil && !strings.Contains(err.Error(), f.Stats.Path) {
			t.Errorf("%s: error %q does not name the file", f.Stats.Path, err)
		}
	}
}
