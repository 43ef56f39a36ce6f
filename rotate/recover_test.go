package rotate

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pcapload/pcapload/ingest/capture"
	"github.com/pcapload/pcapload/internal/captest"
	"github.com/pcapload/pcapload/internal/gen"
)

// TestRecover_Truncated leaves a .part cut in the middle of a frame, as a
// crash does, and checks Recover keeps every packet before the cut.
func TestRecover_Truncated(t *testing.T) {
	data := captest.Generate(t, 2000, gen.PcapNano, gen.Config{})
	ps, _, err := captest.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []Compression{CompressZstd, CompressGzip, CompressNone} {
		t.Run(c.String(), func(t *testing.T) {
			path, bs := writeFramed(t, c, ps)
			dir := filepath.Dir(path)
			whole, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// Leave only a truncated .part, without sidecar.
			mid := bs[len(bs)/2]
			cut := mid.size + 100
			if err := os.WriteFile(path+".part", whole[:cut], 0o644); err != nil {
				t.Fatal(err)
			}
			os.Remove(path)
			os.Remove(sidecarPath(path))

			recs, err := Recover(Config{Dir: dir, Sensor: "s"})
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 1 || recs[0].Action != "rewritten" || recs[0].Path != path {
				t.Fatalf("Recover = %+v", recs)
			}
			var fe *capture.FormatError
			if !errors.As(recs[0].Cause, &fe) {
				t.Errorf("cause %v, want a *capture.FormatError", recs[0].Cause)
			}
			got := captest.ReadFile(t, path)
			if len(got) < mid.packets {
				t.Fatalf("recovered %d packets, want at least %d", len(got), mid.packets)
			}
			captest.Equal(t, got, ps[:len(got)])
			s, err := ReadSidecar(path)
			if err != nil {
				t.Fatal(err)
			}
			if !s.Recovered || s.Packets != uint64(len(got)) || s.Sensor != "s" || s.Compression != c.String() ||
				s.FirstNS != ps[0].Time || s.LastNS != got[len(got)-1].Time {
				t.Fatalf("sidecar %+v", s)
			}
			if names := dirNames(t, dir); len(names) != 2 {
				t.Fatalf("directory holds %v", names)
			}
		})
	}
}

func TestRecover_Cases(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(tb testing.TB, path string) // path: a finished file with sidecar
		wantAction string
		wantNames  []string // suffixes of path left in the directory
		recovered  bool
	}{
		{"complete with sidecar", func(tb testing.TB, path string) {
			rename(tb, path, path+".part")
		}, "renamed", []string{"", ".json"}, false},
		{"complete, stale sidecar", func(tb testing.TB, path string) {
			rename(tb, path, path+".part")
			s, _ := ReadSidecar(path)
			s.SHA256 = "00"
			if err := writeSidecar(path, s); err != nil {
				tb.Fatal(err)
			}
		}, "rewritten", []string{"", ".json"}, true},
		{"renamed, original left", func(tb testing.TB, path string) {
			copyFile(tb, path, path+".part")
		}, "removed", []string{"", ".json"}, false},
		{"no header", func(tb testing.TB, path string) {
			rename(tb, path, path+".part")
			os.Truncate(path+".part", 3)
			os.Remove(sidecarPath(path))
		}, "removed", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeAll(t, Config{Dir: dir, Sensor: "s", Compression: CompressNone}, synthetic(3, start0, 100))
			path := finishedFiles(t, dir)[0]
			tt.setup(t, path)
			// Leftovers of an interrupted sidecar write and rewrite.
			for _, junk := range []string{path + ".json.part", path + rewriteSuffix} {
				if err := os.WriteFile(junk, []byte("junk"), 0o644); err != nil {
					t.Fatal(err)
				}
			}

			recs, err := Recover(Config{Dir: dir, Sensor: "s"})
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 1 || recs[0].Action != tt.wantAction {
				t.Fatalf("Recover = %+v, want action %s", recs, tt.wantAction)
			}
			var want []string
			for _, s := range tt.wantNames {
				want = append(want, filepath.Base(path)+s)
			}
			if got := dirNames(t, dir); !slices.Equal(got, want) {
				t.Fatalf("directory holds %v, want %v", got, want)
			}
			if len(want) == 0 {
				return
			}
			if got := captest.ReadFile(t, path); len(got) != 3 {
				t.Fatalf("%d packets, want 3", len(got))
			}
			if s, err := ReadSidecar(path); err != nil || s.Recovered != tt.recovered {
				t.Fatalf("sidecar %+v, %v; want recovered %v", s, err, tt.recovered)
			}
		})
	}
}

func rename(tb testing.TB, from, to string) {
	tb.Helper()
	if err := os.Rename(from, to); err != nil {
		tb.Fatal(err)
	}
}

func copyFile(tb testing.TB, from, to string) {
	tb.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		tb.Fatal(err)
	}
}
