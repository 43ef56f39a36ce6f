package load_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/load"
	"github.com/pcapload/pcapload/parquet"
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
	col := rec.Column(int(rec.Schema().FieldIndices("file_hash")[0])).(*array.String)
	for i := range col.Len() {
		s.rows[col.Value(i)]++
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
	content, err := os.ReadFile(writeCapture(t, dir, "first.pcap", gen.Config{Seed: 43, Messages: 800}))
	if err != nil {
		t.Fatal(err)
	}
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
	err = res.Files[0].Stats.Err
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("offset %d: the file ended there", cut)) {
		t.Errorf("load of a file cut after its hash: %v, want the cut named", err)
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
