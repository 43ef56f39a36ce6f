package rotate

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRotator_Retention(t *testing.T) {
	// Six uncompressed files of two 1000-byte packets: 2124 bytes each and
	// about 420 of sidecar.
	tests := []struct {
		name string
		cfg  Config
		want []uint64 // sequence numbers kept
	}{
		{"no limit", Config{}, []uint64{1, 2, 3, 4, 5, 6}},
		{"keep files", Config{KeepFiles: 2}, []uint64{5, 6}},
		{"keep bytes", Config{KeepBytes: 8000}, []uint64{4, 5, 6}},
		{"keep bytes below one file", Config{KeepBytes: 1}, []uint64{6}},
		{"min free beyond the disk", Config{MinFree: 1 << 62}, []uint64{6}},
		{"min free satisfied", Config{MinFree: 1}, []uint64{1, 2, 3, 4, 5, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			// Files retention must not touch: a .part, another sensor's
			// file, an unrelated file.
			keep := []string{
				"s-20261102T070000Z-000000.pcapng.part",
				"other-20261102T070000Z-000001.pcapng",
				"notes.txt",
			}
			for _, k := range keep {
				if err := os.WriteFile(filepath.Join(dir, k), []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cfg := tt.cfg
			cfg.Dir, cfg.Sensor, cfg.Compression, cfg.MaxPackets = dir, "s", CompressNone, 2
			r := writeAll(t, cfg, synthetic(12, start0, 1000))

			var got []uint64
			for _, f := range finishedFiles(t, dir) {
				n, _ := parseName(filepath.Base(f))
				got = append(got, n.seq)
				if _, err := os.Stat(sidecarPath(f)); err != nil {
					t.Errorf("sidecar of kept file: %v", err)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("kept %v, want %v", got, tt.want)
			}
			names := dirNames(t, dir)
			for _, k := range keep {
				if !slices.Contains(names, k) {
					t.Errorf("%s was deleted", k)
				}
			}
			if len(names) != len(keep)+2*len(tt.want) {
				t.Errorf("directory holds %v: orphan sidecars?", names)
			}
			if d := r.Totals().Deleted; d != uint64(6-len(tt.want)) {
				t.Errorf("Totals.Deleted = %d, want %d", d, 6-len(tt.want))
			}
		})
	}
}

func TestRotator_OnClose(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(t.TempDir(), "hook.log")
	cfg := Config{
		Dir: dir, Sensor: "s", MaxPackets: 1,
		OnClose: []string{"sh", "-c", `test -s "$1.json" && echo "$1" >> "$0"`, log},
	}
	writeAll(t, cfg, synthetic(3, start0, 100))
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatalf("hook did not run: %v", err)
	}
	got := slices.Sorted(slices.Values(strings.Split(strings.TrimSpace(string(b)), "\n")))
	want := finishedFiles(t, dir)
	if !slices.Equal(got, want) {
		t.Fatalf("hook saw %v, want %v", got, want)
	}
}

// TestRotator_OnCloseFailure checks that a failing hook does not fail the
// run.
func TestRotator_OnCloseFailure(t *testing.T) {
	cfg := Config{Dir: t.TempDir(), Sensor: "s", OnClose: []string{"false"}}
	writeAll(t, cfg, synthetic(1, start0, 100))
	if got := len(finishedFiles(t, cfg.Dir)); got != 1 {
		t.Fatalf("got %d files, want 1", got)
	}
}

// TestNew_Retention checks that the limits apply at start, before any file
// closes.
func TestNew_Retention(t *testing.T) {
	dir := t.TempDir()
	writeAll(t, Config{Dir: dir, Sensor: "s", MaxPackets: 1}, synthetic(3, start0, 100))
	r, err := New(Config{Dir: dir, Sensor: "s", KeepFiles: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := finishedFiles(t, dir); len(got) != 1 || filepath.Base(got[0]) != "s-20261102T080002Z-000003.pcapng.zst" {
		t.Fatalf("kept %s, want the newest only", baseNames(got))
	}
	if d := r.Totals().Deleted; d != 2 {
		t.Fatalf("Totals.Deleted = %d, want 2", d)
	}
}
