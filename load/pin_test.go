package load_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/internal/captest"
	"github.com/pcapload/pcapload/internal/chdb"
	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/internal/testenv"
	"github.com/pcapload/pcapload/load"
	"github.com/pcapload/pcapload/parquet"
	"github.com/pcapload/pcapload/schema"
)

// changingSink changes the file it is begun on, between the file's hash
// and its decoding, as a capture still being written or a rename over it
// would, and counts the rows it is sent by their file_hash.
type changingSink struct {
	change func(path string)
	rows   map[string]int64
}

func (s *changingSink) Name() string { return "changing" }
func (s *changingSink) Close() error { return nil }

func (s *changingSink) Begin(f load.File) (load.FileSink, error) {
	s.change(f.Path)
	return s, nil
}

func (s *changingSink) Write(_ parquet.Partition, rec arrow.RecordBatch) error {
	col := rec.Column(int(rec.Schema().FieldIndices("file_hash")[0]))
	for i := range col.Len() {
		s.rows[schema.Label(col, i)]++
	}
	return nil
}

func (s *changingSink) Commit(*ingest.FileStats) error { return nil }
func (s *changingSink) Abort()                         {}

// changingGroupSink is changingSink taking small files in groups, which
// are all hashed before the first is begun.
type changingGroupSink struct{ changingSink }

func (s *changingGroupSink) SplitGroup(files []load.File) ([][]int, error) {
	return load.OneGroup(len(files)), nil
}

func (s *changingGroupSink) BeginGroup(files []load.File) (load.GroupFileSink, []bool, error) {
	for _, f := range files {
		s.change(f.Path)
	}
	return s, make([]bool, len(files)), nil
}

func (s *changingGroupSink) Commit([]*ingest.FileStats) error { return nil }

// TestRun_pinnedFile changes a capture after its hash and before its
// decoding: packets appended, as tcpdump still writing it would, or
// another capture renamed over it. The rows are those of the bytes
// hashed, and carry their hash.
func TestRun_pinnedFile(t *testing.T) {
	dir := t.TempDir()
	first := writeCapture(t, dir, "first.pcap", gen.Config{Seed: 41, Messages: 1500})
	more := writeCapture(t, dir, "more.pcap", gen.Config{Seed: 42, Messages: 900})
	content, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	hash := hex.EncodeToString(sum[:])
	want := int64(countMessages(t, first))
	moreBytes, err := os.ReadFile(more)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		change func(t *testing.T, path string)
	}{
		{"packets appended", func(t *testing.T, path string) {
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.Write(moreBytes[24:]); err != nil { // its records, after its header
				t.Fatal(err)
			}
		}},
		{"another capture renamed over it", func(t *testing.T, path string) {
			tmp := path + ".new"
			if err := os.WriteFile(tmp, moreBytes, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, path); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		for _, grouped := range []bool{false, true} {
			name := tt.name
			if grouped {
				name += ", grouped"
			}
			t.Run(name, func(t *testing.T) {
				checkPinned(t, content, hash, want, grouped, func(p string) { tt.change(t, p) })
			})
		}
	}
}

// TestRun_pinnedFileCut cuts a capture in place at a packet's end once it
// is hashed: the load fails, naming the cut, rather than store fewer rows
// than the hash stands for.
func TestRun_pinnedFileCut(t *testing.T) {
	dir := t.TempDir()
	_, content := generated(t, dir, "first.pcap", gen.Config{Seed: 43, Messages: 800})
	cut := recordEnd(t, content, len(content)/2)
	path := filepath.Join(dir, "dns.pcap")
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	s := &changingSink{rows: make(map[string]int64), change: func(p string) {
		if err := os.Truncate(p, int64(cut)); err != nil {
			t.Error(err)
		}
	}}
	res := load.Run(context.Background(), []ingest.Input{{Path: path}}, []load.Sink{s}, load.Options{Workers: 1})
	err := res.Files[0].Stats.Err
	if !errors.Is(err, ingest.ErrUnread) || !strings.Contains(err.Error(), fmt.Sprintf("offset %d: ", cut)) ||
		!strings.Contains(err.Error(), fmt.Sprintf("cut %d bytes short while it loaded", len(content)-cut)) {
		t.Errorf("load of a file cut after its hash: %v, want the cut named, at its offset", err)
	}
}

// checkPinned loads content as a file that change changes once it is
// hashed, and checks that the rows are want, under hash.
func checkPinned(t *testing.T, content []byte, hash string, want int64, grouped bool, change func(string)) {
	path := filepath.Join(t.TempDir(), "dns.pcap")
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	rows := make(map[string]int64)
	var s load.Sink = &changingSink{change: change, rows: rows}
	if grouped {
		s = &changingGroupSink{changingSink{change: change, rows: rows}}
	}
	res := load.Run(context.Background(), []ingest.Input{{Path: path, Size: int64(len(content))}}, []load.Sink{s},
		load.Options{Workers: 1})
	f := res.Files[0]
	if f.Failed() {
		t.Fatalf("load failed: %v %v", f.Stats.Err, f.SinkErrs)
	}
	if f.Stats.Hash != hash {
		t.Errorf("hash %s, want the first content's %s", f.Stats.Hash, hash)
	}
	if len(rows) != 1 || rows[hash] != want {
		t.Errorf("rows by file_hash %v, want %d under %s", rows, want, hash)
	}
	if f.Stats.Bytes != int64(len(content)) {
		t.Errorf("read %d bytes, want the %d hashed", f.Stats.Bytes, len(content))
	}
}

// TestLoad_cutWhileLoading cuts a capture in place while it loads into the
// embedded database, one by one and in a group, then puts it back whole
// and loads it again: the cut load's rows are taken out (its last insert,
// short, would otherwise share its token with the rerun's whole one, and
// the engine drop the whole one), and the rerun stores every message once,
// counted once by the views.
func TestLoad_cutWhileLoading(t *testing.T) {
	testenv.RequireCHDB(t)
	tmp := t.TempDir()
	src, content := generated(t, tmp, "src.pcap", gen.Config{Seed: 44, Messages: 20_000})
	if len(content) < 1<<20 {
		t.Fatalf("capture of %d bytes: too small to be cut past the first read", len(content))
	}
	want := countMessages(t, src)
	other := writeCapture(t, tmp, "other.pcap", gen.Config{Seed: 45, Messages: 300})
	otherRows := countMessages(t, other)
	for _, groups := range []int{1, 8} {
		t.Run(fmt.Sprintf("group files %d", groups), func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "db")
			path := writeBytes(t, dir, "dns.pcap", content)
			cut := false
			opt := load.Options{Workers: 1, BatchRows: 500, GroupFiles: groups, Checkpoint: func(step string, n int) {
				if step == "batch" && n == 2 && !cut {
					cut = true
					if err := os.Truncate(path, int64(len(content))*6/10); err != nil {
						t.Error(err)
					}
				}
			}}
			res := loadInto(t, db, []ingest.Input{{Path: path}, {Path: other}}, opt)
			f := res.Files[0]
			if !errors.Is(f.Stats.Err, ingest.ErrUnread) {
				t.Fatalf("load of a file cut while it loaded: %v, want ErrUnread", f.Stats.Err)
			}
			if n := f.Rows["db"]; n != 0 {
				t.Errorf("cut file counted %d rows, want none: they are taken out", n)
			}

			writeBytes(t, dir, "dns.pcap", content)
			opt.Checkpoint = nil
			res = loadInto(t, db, []ingest.Input{{Path: path}}, opt)
			if f := res.Files[0]; f.Failed() || f.Skipped != "" {
				t.Fatalf("rerun: %v %v %q", f.Stats.Err, f.SinkErrs, f.Skipped)
			}
			conn, err := chdb.Open(db)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			total := itoa(int(want+otherRows)) + "\n"
			if got := queryText(t, conn, "SELECT count() FROM dns_messages"); got != total {
				t.Errorf("dns_messages holds %q rows, want %q", got, total)
			}
			if got := queryText(t, conn, "SELECT sum(messages) FROM message_counts"); got != total {
				t.Errorf("message_counts counts %q, want %q", got, total)
			}
		})
	}
}

// TestRun_parquetCutWhileLoading cuts a capture in place while it is
// exported to Parquet: no file of its rows is left in the export, as they
// are not those of the hash that would name them.
func TestRun_parquetCutWhileLoading(t *testing.T) {
	dir := t.TempDir()
	path := writeCapture(t, dir, "dns.pcap", gen.Config{Seed: 46, Messages: 20_000})
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "export")
	opt := load.Options{Workers: 1, BatchRows: 500, Checkpoint: func(step string, n int) {
		if step == "batch" && n == 2 {
			if err := os.Truncate(path, fi.Size()*6/10); err != nil {
				t.Error(err)
			}
		}
	}}
	res := load.Run(context.Background(), []ingest.Input{{Path: path}}, []load.Sink{load.NewParquetSink(out)}, opt)
	f := res.Files[0]
	if !errors.Is(f.Stats.Err, ingest.ErrUnread) {
		t.Fatalf("export of a file cut while it loaded: %v, want ErrUnread", f.Stats.Err)
	}
	if n := f.Rows["parquet:"+out]; n != 0 {
		t.Errorf("cut file counted %d rows, want none", n)
	}
	if files, _ := filepath.Glob(filepath.Join(out, "date=*", "sensor=*", "*")); len(files) != 0 {
		t.Errorf("export holds %v, want nothing of the cut file", files)
	}
}

// TestLoad_sidecarHashFirst loads a rotate capture whose bytes changed
// since rotate recorded their hash in its sidecar: it fails before any of
// its rows is stored, in a database and a Parquet export, hashed first or
// beside its decoding.
func TestLoad_sidecarHashFirst(t *testing.T) {
	testenv.RequireCHDB(t)
	dir := t.TempDir()
	path, b := generated(t, dir, "s-20261102T080000Z-000001.pcap", gen.Config{Seed: 47, Messages: 3000})
	sum := sha256.Sum256(b)
	sidecar := fmt.Sprintf(`{"file": %q, "format": "pcap", "packets": 1, "sha256": %q}`, filepath.Base(path), hex.EncodeToString(sum[:]))
	if err := os.WriteFile(path+".json", []byte(sidecar), 0o644); err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, ahead := range []int64{1 << 40, 1} {
		restore := load.SetHashAheadBytes(ahead)
		db, out := filepath.Join(t.TempDir(), "db"), filepath.Join(t.TempDir(), "export")
		emb, err := load.OpenEmbedded(context.Background(), db, "test")
		if err != nil {
			t.Fatal(err)
		}
		sinks := []load.Sink{load.NewParquetSink(out)}
		if ahead > 1 {
			sinks = append(sinks, emb) // a database hashes first anyway
		}
		res := load.Run(context.Background(), []ingest.Input{{Path: path}}, sinks, load.Options{Workers: 1, BatchRows: 500})
		emb.Close()
		restore()
		f := res.Files[0]
		if !errors.Is(f.Stats.Err, ingest.ErrSidecarMismatch) || !strings.Contains(f.Stats.Err.Error(), "SHA-256") {
			t.Errorf("hashed ahead from %d bytes: error %v, want the sidecar's SHA-256 named", ahead, f.Stats.Err)
		}
		conn, err := chdb.Open(db)
		if err != nil {
			t.Fatal(err)
		}
		if got := queryText(t, conn, "SELECT count() FROM dns_messages"); got != "0\n" {
			t.Errorf("database holds %q rows of the changed file, want none", got)
		}
		conn.Close()
		if files, _ := filepath.Glob(filepath.Join(out, "date=*", "sensor=*", "*.parquet")); len(files) != 0 {
			t.Errorf("export holds %v, want nothing of the changed file", files)
		}
	}
}

// TestRun_parquetManyDaysAgain exports a capture of 100 days, more than a
// capture keeps Parquet files open for, then again: cut in place while it
// exports, which leaves the first export whole, and then whole with larger
// batches, which leaves none of the first export's extra files.
func TestRun_parquetManyDaysAgain(t *testing.T) {
	content, err := os.ReadFile(captest.Hopping(t, 100, 20_000))
	if err != nil {
		t.Fatal(err)
	}
	path := writeBytes(t, t.TempDir(), "days.pcap", content)
	out := filepath.Join(t.TempDir(), "export")
	export := func(opt load.Options) *load.Result {
		t.Helper()
		return load.Run(context.Background(), []ingest.Input{{Path: path}}, []load.Sink{load.NewParquetSink(out)}, opt)
	}
	files := func() []string {
		f, _ := filepath.Glob(filepath.Join(out, "date=*", "sensor=*", "*.parquet"))
		return f
	}
	if f := export(load.Options{Workers: 1, BatchRows: 20}).Files[0]; f.Failed() {
		t.Fatalf("first export: %v %v", f.Stats.Err, f.SinkErrs)
	}
	want, first := len(readParquet(t, out)), files()
	if len(first) <= 100 {
		t.Fatalf("first export made %d files: want files opened again (NAME-N)", len(first))
	}

	res := export(load.Options{Workers: 1, BatchRows: 20, Checkpoint: func(step string, n int) {
		if step == "batch" && n == 5 {
			if err := os.Truncate(path, int64(len(content)/2)); err != nil {
				t.Error(err)
			}
		}
	}})
	if err := res.Files[0].Stats.Err; !errors.Is(err, ingest.ErrUnread) {
		t.Fatalf("export cut while it ran: %v, want ErrUnread", err)
	}
	if got := len(readParquet(t, out)); got != want || !slices.Equal(files(), first) {
		t.Errorf("after an export cut while it ran: %d rows in %d files, want the first export's %d in %d",
			got, len(files()), want, len(first))
	}

	writeBytes(t, filepath.Dir(path), "days.pcap", content)
	if f := export(load.Options{Workers: 1, BatchRows: 5000}).Files[0]; f.Failed() {
		t.Fatalf("export with larger batches: %v %v", f.Stats.Err, f.SinkErrs)
	}
	if got := len(readParquet(t, out)); got != want {
		t.Errorf("after an export with larger batches: %d rows, want %d", got, want)
	}
}
