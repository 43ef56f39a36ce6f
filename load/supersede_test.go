package load_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/internal/captest"
	"github.com/pcapload/pcapload/internal/chdb"
	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/internal/testenv"
	"github.com/pcapload/pcapload/load"
	"github.com/pcapload/pcapload/schema"
)

// TestLoad_grownFileSupersedes loads a capture while it is still being
// written, then again once whole: the rows of the first load give way to
// the whole file's, so every message is stored once and the views count
// it once. The first load may end cut short in a record (failed) or at a
// record's end (loaded); the file may come back at its path or in another
// folder, alone or in a group. A file of the same name that does not
// start with the earlier bytes leaves them be.
func TestLoad_grownFileSupersedes(t *testing.T) {
	testenv.RequireCHDB(t)
	tmp := t.TempDir()
	src, whole := generated(t, tmp, "src.pcap", gen.Config{Seed: 21, Messages: 3000})
	wholeRows := countMessages(t, src)
	other := writeCapture(t, tmp, "other.pcap", gen.Config{Seed: 22, Messages: 700})
	otherRows := countMessages(t, other)

	tests := []struct {
		name     string
		cut      int    // bytes of the first load
		again    string // where the whole file is given again, relative to the folder
		groups   int    // Options.GroupFiles
		wantPrev string // status of the first load
		sensor   string // the whole file's, as its rotate sidecar names it; the load's when empty
	}{
		{"cut in a record, same path", len(whole)/2 + 5, "dns.pcap", 1, "failed", ""},
		{"at a record's end, same path", recordEnd(t, whole, len(whole)/3), "dns.pcap", 1, "loaded", ""},
		{"cut in a record, moved, grouped", len(whole)/2 + 5, "later/dns.pcap", 8, "failed", ""},
		// Copied before its sidecar, the cut copy was loaded as the
		// load's sensor: both stayed (a hostile run).
		{"cut, then whole with its own sensor", len(whole)/2 + 5, "dns.pcap", 1, "failed", "sP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "db")
			first := filepath.Join(dir, "dns.pcap")
			if err := os.WriteFile(first, whole[:tt.cut], 0o644); err != nil {
				t.Fatal(err)
			}
			opt := load.Options{Workers: 2, BatchRows: 500, GroupFiles: tt.groups}
			res := loadInto(t, db, []ingest.Input{{Path: first}}, opt)
			if res.Files[0].Stats.Messages() == 0 || res.Files[0].Stats.Messages() >= wholeRows {
				t.Fatalf("first load stored %d messages, want some of %d", res.Files[0].Stats.Messages(), wholeRows)
			}
			if got := res.Files[0].Failed(); got != (tt.wantPrev == "failed") {
				t.Fatalf("first load failed = %v (%v), want status %s", got, res.Files[0].Stats.Err, tt.wantPrev)
			}
			prevHash := res.Files[0].Stats.Hash

			again := filepath.Join(dir, tt.again)
			if err := os.MkdirAll(filepath.Dir(again), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(again, whole, 0o644); err != nil {
				t.Fatal(err)
			}
			res = loadInto(t, db, []ingest.Input{{Path: again, Sensor: tt.sensor}, {Path: other}}, opt)
			for _, f := range res.Files {
				if f.Failed() || f.Skipped != "" {
					t.Fatalf("%s: %v %v %s", f.Stats.Path, f.Stats.Err, f.SinkErrs, f.Skipped)
				}
			}
			if got := onlySuperseded(res.Files[0]); !slices.Equal(got, []string{first}) {
				t.Errorf("whole load says it superseded %q, want %q", got, first)
			}

			conn, err := chdb.Open(db)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if got, want := queryText(t, conn, "SELECT count() FROM dns_messages"), itoa(int(wholeRows+otherRows))+"\n"; got != want {
				t.Errorf("dns_messages holds %q rows, want %q: the first load's rows stayed", got, want)
			}
			if got := queryText(t, conn, "SELECT count() FROM dns_messages WHERE file_hash = '"+prevHash+"'"); got != "0\n" {
				t.Errorf("%q rows of the first load remain", got)
			}
			if got := queryText(t, conn, "SELECT sum(messages) FROM message_counts"); got != itoa(int(wholeRows+otherRows))+"\n" {
				t.Errorf("message_counts counts %q messages, want %d", got, wholeRows+otherRows)
			}
			rec := queryText(t, conn, "SELECT status, error FROM capture_files WHERE file_hash = '"+prevHash+
				"' ORDER BY generation DESC, loaded_at DESC LIMIT 1")
			if !strings.HasPrefix(rec, "superseded\tsuperseded by ") {
				t.Errorf("first load's latest record = %q, want it superseded", rec)
			}

			// The same name, other bytes: an unrelated capture keeps its
			// rows beside the file's.
			unrelated := filepath.Join(dir, "elsewhere", "dns.pcap")
			if err := os.MkdirAll(filepath.Dir(unrelated), 0o755); err != nil {
				t.Fatal(err)
			}
			bigger := writeCapture(t, tmp, tt.name+".pcap", gen.Config{Seed: 23, Messages: 4000})
			if err := os.Rename(bigger, unrelated); err != nil {
				t.Fatal(err)
			}
			loadInto(t, db, []ingest.Input{{Path: unrelated}}, opt)
			biggerRows := countMessages(t, unrelated)
			total := itoa(int(wholeRows+otherRows+biggerRows)) + "\n"
			if got := queryText(t, conn, "SELECT count() FROM dns_messages"); got != total {
				t.Errorf("after an unrelated file of the same name dns_messages holds %q rows, want %q", got, total)
			}

			// The cut file given again, from a copy: held, as the start
			// of the whole one.
			backup := filepath.Join(dir, "backup", "dns.pcap")
			if err := os.MkdirAll(filepath.Dir(backup), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(backup, whole[:tt.cut], 0o644); err != nil {
				t.Fatal(err)
			}
			res = loadInto(t, db, []ingest.Input{{Path: backup}}, opt)
			if f := res.Files[0]; f.Skipped != "already loaded" {
				t.Errorf("superseded file loaded again: skipped %q (%v), want already loaded", f.Skipped, f.Stats.Err)
			}
			if got := queryText(t, conn, "SELECT count() FROM dns_messages"); got != total {
				t.Errorf("after the superseded file again dns_messages holds %q rows, want %q", got, total)
			}
		})
	}
}

// loadInto loads inputs into the embedded database at path.
func loadInto(t *testing.T, path string, inputs []ingest.Input, opt load.Options) *load.Result {
	t.Helper()
	ctx := context.Background()
	emb, err := load.OpenEmbedded(ctx, path, "test")
	if err != nil {
		t.Fatal(err)
	}
	emb.InsertRows = 1000
	defer emb.Close()
	return load.Run(ctx, inputs, []load.Sink{emb}, opt)
}

// countMessages decodes the capture at path and returns its messages.
func countMessages(t *testing.T, path string) uint64 {
	t.Helper()
	var st ingest.FileStats
	if err := ingest.NewDecoder(ingest.Config{}).DecodeFile(ingest.Input{Path: path}, &st, nil,
		func(*schema.Row) error { return nil }); err != nil {
		t.Fatal(err)
	}
	return st.Messages()
}

// recordEnd returns the offset, at or after n, where a record of the
// classic pcap whole ends.
func recordEnd(t *testing.T, whole []byte, n int) int {
	t.Helper()
	off := 24
	for off < len(whole) {
		capLen := int(uint32(whole[off+8]) | uint32(whole[off+9])<<8 | uint32(whole[off+10])<<16 | uint32(whole[off+11])<<24)
		off += 16 + capLen
		if off >= n {
			return off
		}
	}
	t.Fatalf("no record ends after %d", n)
	return 0
}

// TestRun_parquetGrownFileSupersedes exports a capture cut short, as while
// it is still being written, then the whole file: the first export's files
// are removed once the whole file's are in place, so the export holds each
// message once; the export's log says which was superseded. An unrelated
// capture of the same name keeps its files.
func TestRun_parquetGrownFileSupersedes(t *testing.T) {
	// Over three days, so that the first export has several files.
	hop := captest.Hopping(t, 3, 3000)
	whole, err := os.ReadFile(hop)
	if err != nil {
		t.Fatal(err)
	}
	want := int(countMessages(t, hop))

	dir := t.TempDir()
	out := filepath.Join(dir, "export")
	path := filepath.Join(dir, "dns.pcap")
	export := func(inputs ...string) {
		t.Helper()
		var ins []ingest.Input
		for _, p := range inputs {
			ins = append(ins, ingest.Input{Path: p})
		}
		res := load.Run(context.Background(), ins, []load.Sink{load.NewParquetSink(out)}, load.Options{Workers: 2, BatchRows: 500})
		for _, f := range res.Files {
			if len(f.SinkErrs) > 0 {
				t.Fatalf("%s: %v", f.Stats.Path, f.SinkErrs)
			}
		}
	}
	writeBytes(t, dir, "dns.pcap", whole[:len(whole)/2+5])
	export(path)
	first, _ := filepath.Glob(filepath.Join(out, "date=*", "sensor=*", "*.parquet"))
	if len(first) < 2 {
		t.Fatalf("first export made %d files, want one a day", len(first))
	}
	if n := len(readParquet(t, out)); n == 0 || n >= want {
		t.Fatalf("first export holds %d rows, want some of %d", n, want)
	}

	writeBytes(t, dir, "dns.pcap", whole)
	export(path)
	if n := len(readParquet(t, out)); n != want {
		t.Errorf("export holds %d rows after the whole file, want %d: the first export's stayed", n, want)
	}
	for _, p := range first {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s of the first export is still there", p)
		}
	}
	log, err := os.ReadFile(filepath.Join(out, "_pcapload", "exports.jsonl"))
	if err != nil || !strings.Contains(string(log), `"superseded_by":"`) {
		t.Errorf("export log %q (%v) says nothing superseded", log, err)
	}

	// The cut copy given again: held, as the start of the whole file,
	// whether it is hashed first or beside its decoding.
	for _, ahead := range []int64{1 << 40, 1} {
		restore := load.SetHashAheadBytes(ahead)
		res := load.Run(context.Background(), []ingest.Input{{Path: writeBytes(t, t.TempDir(), "dns.pcap", whole[:len(whole)/2+5])}},
			[]load.Sink{load.NewParquetSink(out)}, load.Options{Workers: 1, BatchRows: 500})
		restore()
		if f := res.Files[0]; f.Skipped != "already loaded" {
			t.Errorf("superseded capture exported again (hashed ahead from %d bytes): skipped %q, loaded in %q (%v)",
				ahead, f.Skipped, f.Loaded, f.Stats.Err)
		}
		if n := len(readParquet(t, out)); n != want {
			t.Errorf("export holds %d rows after the superseded capture again, want %d", n, want)
		}
	}

	// The same name, other bytes, bigger: both stay.
	other := filepath.Join(dir, "elsewhere", "dns.pcap")
	if err := os.MkdirAll(filepath.Dir(other), 0o755); err != nil {
		t.Fatal(err)
	}
	writeCaptureAt(t, other, gen.Config{Seed: 24, Messages: 5000})
	// Written long ago: nothing may grow out of it, so the log, which
	// would otherwise grow by a line a capture, leaves it out.
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(other, old, old); err != nil {
		t.Fatal(err)
	}
	export(other)
	if n, w := len(readParquet(t, out)), want+int(countMessages(t, other)); n != w {
		t.Errorf("after an unrelated file of the same name the export holds %d rows, want %d", n, w)
	}
	after, err := os.ReadFile(filepath.Join(out, "_pcapload", "exports.jsonl"))
	if err != nil || len(after) != len(log) {
		t.Errorf("export log grew from %d to %d bytes (%v) with a capture written long ago", len(log), len(after), err)
	}
}

// writeBytes writes b to dir/name and returns its path.
func writeBytes(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeCaptureAt generates a pcap of cfg at path.
func writeCaptureAt(t *testing.T, path string, cfg gen.Config) {
	t.Helper()
	if _, err := gen.WriteFile(path, cfg, gen.Pcap); err != nil {
		t.Fatal(err)
	}
}

// TestLoad_grownFilesOfOneName cuts captures of one base name in five
// folders (one per sensor box: s1/eth0.pcap, ...), loads them, then loads
// larger unrelated captures of that name, more than supersede checks, and
// at last the whole captures together in one group: each whole capture
// supersedes its own cut load, whatever its place in the group.
func TestLoad_grownFilesOfOneName(t *testing.T) {
	testenv.RequireCHDB(t)
	tmp := t.TempDir()
	dir := t.TempDir()
	db := filepath.Join(dir, "db")
	opt := load.Options{Workers: 2, BatchRows: 500}
	var wholes, cuts []ingest.Input
	var wholeBytes [][]byte
	var want uint64
	for i := range 5 { // more than the candidates of other paths checked
		src, b := generated(t, tmp, fmt.Sprintf("src%d.pcap", i), gen.Config{Seed: int64(60 + i), Messages: 1500 + 500*i})
		path := filepath.Join(dir, fmt.Sprintf("s%d", i), "eth0.pcap")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		writeBytes(t, filepath.Dir(path), "eth0.pcap", b[:len(b)/2+7])
		cuts = append(cuts, ingest.Input{Path: path})
		wholes = append(wholes, ingest.Input{Path: path})
		wholeBytes = append(wholeBytes, b) // written over the cut ones after the unrelated loads
		want += countMessages(t, src)
	}
	loadInto(t, db, cuts, opt)
	for i := range 4 {
		p := filepath.Join(dir, fmt.Sprintf("big%d", i), "eth0.pcap")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		writeCaptureAt(t, p, gen.Config{Seed: int64(70 + i), Messages: 6000})
		loadInto(t, db, []ingest.Input{{Path: p}}, opt)
		want += countMessages(t, p)
	}
	for i, in := range wholes {
		writeBytes(t, filepath.Dir(in.Path), "eth0.pcap", wholeBytes[i])
	}
	res := loadInto(t, db, wholes, opt)
	for _, f := range res.Files {
		if f.Failed() || len(onlySuperseded(f)) != 1 {
			t.Errorf("%s: %v, superseded %q, want one earlier load", f.Stats.Path, f.Stats.Err, f.Superseded())
		}
	}
	conn, err := chdb.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if got := queryText(t, conn, "SELECT count() FROM dns_messages"); got != itoa(int(want))+"\n" {
		t.Errorf("dns_messages holds %q rows, want %d", got, want)
	}
}

// TestLoad_killedLoadSuperseded loads a capture cut short and takes away
// its outcome, as a loader killed before writing it would leave the load
// records, then loads the whole capture: the killed load, known by its
// mark and the size the mark holds, is superseded too.
func TestLoad_killedLoadSuperseded(t *testing.T) {
	testenv.RequireCHDB(t)
	dir := t.TempDir()
	src, whole := generated(t, t.TempDir(), "src.pcap", gen.Config{Seed: 81, Messages: 4000})
	want := countMessages(t, src)
	db := filepath.Join(dir, "db")
	path := writeBytes(t, dir, "dns.pcap", whole[:len(whole)/2+9])
	opt := load.Options{Workers: 1, BatchRows: 500, GroupFiles: 1}
	loadInto(t, db, []ingest.Input{{Path: path}}, opt)
	conn, err := chdb.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Exec(context.Background(), "DELETE FROM capture_files WHERE status IN ('loaded', 'failed')"); err != nil {
		t.Fatal(err)
	}

	writeBytes(t, dir, "dns.pcap", whole)
	emb, err := load.OpenEmbedded(context.Background(), db, "test")
	if err != nil {
		t.Fatal(err)
	}
	emb.SetTakeover(0)
	emb.InsertRows = 1000
	res := load.Run(context.Background(), []ingest.Input{{Path: path}}, []load.Sink{emb}, opt)
	emb.Close()
	if f := res.Files[0]; f.Failed() || len(onlySuperseded(f)) != 1 {
		t.Errorf("whole load: %v %v, superseded %q, want the killed load", f.Stats.Err, f.SinkErrs, f.Superseded())
	}
	if got := queryText(t, conn, "SELECT count() FROM dns_messages"); got != itoa(int(want))+"\n" {
		t.Errorf("dns_messages holds %q rows, want %d", got, want)
	}
}

// onlySuperseded returns what f superseded in its one destination, nil
// when it superseded nothing or in several.
func onlySuperseded(f load.FileResult) []string {
	sup := f.Superseded()
	if len(sup) != 1 {
		return nil
	}
	for _, paths := range sup {
		return paths
	}
	return nil
}

// TestRun_parquetSupersedeBySensor exports a cut capture for two sensors,
// then the whole capture for one: that sensor's export holds the whole
// capture's rows once, and the other's keeps its cut rows.
func TestRun_parquetSupersedeBySensor(t *testing.T) {
	tmp := t.TempDir()
	src, whole := generated(t, tmp, "src.pcap", gen.Config{Seed: 91, Messages: 3000})
	want := int(countMessages(t, src))
	out := filepath.Join(t.TempDir(), "export")
	path := writeBytes(t, t.TempDir(), "dns.pcap", whole[:len(whole)/2+5])
	export := func(sensor string) {
		t.Helper()
		s := load.NewParquetSink(out)
		s.Sensor = sensor
		res := load.Run(context.Background(), []ingest.Input{{Path: path}}, []load.Sink{s},
			load.Options{Workers: 1, BatchRows: 500, Decode: ingest.Config{Sensor: sensor}})
		if f := res.Files[0]; len(f.SinkErrs) > 0 {
			t.Fatalf("%s: %v", sensor, f.SinkErrs)
		}
	}
	export("s1")
	export("s2")
	cut := len(readParquet(t, filepath.Join(out))) / 2
	writeBytes(t, filepath.Dir(path), "dns.pcap", whole)
	export("s1")
	rows := func(sensor string) int {
		files, _ := filepath.Glob(filepath.Join(out, "date=*", "sensor="+sensor, "*.parquet"))
		n := 0
		for _, f := range files {
			n += int(parquetRows(t, f))
		}
		return n
	}
	if got := rows("s1"); got != want {
		t.Errorf("s1 export holds %d rows, want the whole capture's %d", got, want)
	}
	if got := rows("s2"); got != cut {
		t.Errorf("s2 export holds %d rows, want the cut capture's %d", got, cut)
	}
}

// parquetRows returns the rows of the Parquet file at path.
func parquetRows(t *testing.T, path string) int64 {
	t.Helper()
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	return pf.NumRows()
}

// generated writes a pcap of cfg into dir and returns its path and bytes.
func generated(t *testing.T, dir, name string, cfg gen.Config) (string, []byte) {
	t.Helper()
	path := writeCapture(t, dir, name, cfg)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, b
}

// TestLoad_supersedeAfterFailedLoads: a whole capture whose first load
// was interrupted still supersedes a cut copy loaded since, and a cut copy
// whose superseding load was interrupted loads again when given alone.
func TestLoad_supersedeAfterFailedLoads(t *testing.T) {
	testenv.RequireCHDB(t)
	src, whole := generated(t, t.TempDir(), "src.pcap", gen.Config{Seed: 93, Messages: 20_000})
	want := countMessages(t, src)
	cutBytes := whole[:recordEnd(t, whole, len(whole)/2)]
	dir := t.TempDir()
	path := filepath.Join(dir, "s1", "eth0.pcap")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	count := func(db string) string {
		conn, err := chdb.Open(db)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return queryText(t, conn, "SELECT count() FROM dns_messages")
	}
	// interrupted loads path into db, cancelled at its batch n.
	interrupted := func(db string, n int) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		emb, err := load.OpenEmbedded(ctx, db, "test")
		if err != nil {
			t.Fatal(err)
		}
		defer emb.Close()
		res := load.Run(ctx, []ingest.Input{{Path: path}}, []load.Sink{emb}, load.Options{Workers: 1, BatchRows: 500,
			Checkpoint: func(step string, k int) {
				if step == "batch" && k == n {
					cancel()
				}
			}})
		if !res.Files[0].Failed() {
			t.Fatal("the load was not interrupted")
		}
	}
	opt := load.Options{Workers: 1, BatchRows: 500}

	t.Run("whole first interrupted", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "db")
		writeBytes(t, filepath.Dir(path), "eth0.pcap", whole)
		interrupted(db, 3)
		writeBytes(t, filepath.Dir(path), "eth0.pcap", cutBytes)
		loadInto(t, db, []ingest.Input{{Path: path}}, opt)
		writeBytes(t, filepath.Dir(path), "eth0.pcap", whole)
		res := loadInto(t, db, []ingest.Input{{Path: path}}, opt)
		if f := res.Files[0]; f.Failed() || len(onlySuperseded(f)) != 1 {
			t.Errorf("whole load: %v, superseded %v, want the cut copy", f.Stats.Err, f.Superseded())
		}
		if got := count(db); got != itoa(int(want))+"\n" {
			t.Errorf("dns_messages holds %q rows, want %d", got, want)
		}
	})
	t.Run("superseding load interrupted", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "db")
		writeBytes(t, filepath.Dir(path), "eth0.pcap", cutBytes)
		cut := loadInto(t, db, []ingest.Input{{Path: path}}, opt).Files[0].Stats.Messages()
		writeBytes(t, filepath.Dir(path), "eth0.pcap", whole)
		interrupted(db, 30)
		writeBytes(t, filepath.Dir(path), "eth0.pcap", cutBytes)
		res := loadInto(t, db, []ingest.Input{{Path: path}}, opt)
		if f := res.Files[0]; f.Failed() || f.Skipped != "" {
			t.Errorf("cut copy again: %v, skipped %q; want it loaded, its superseder not", f.Stats.Err, f.Skipped)
		}
		if got := count(db); got != itoa(int(cut))+"\n" {
			t.Errorf("dns_messages holds %q rows, want the cut copy's %d", got, cut)
		}
	})
}
