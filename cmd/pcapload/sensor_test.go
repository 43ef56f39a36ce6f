package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pcapload/pcapload/internal/gen"
)

// withSidecar writes a capture at path and, unless sensor is empty, a
// sidecar as rotate writes, naming sensor.
func withSidecar(t *testing.T, path string, seed int64, sensor string) {
	t.Helper()
	st, err := gen.WriteFile(path, gen.Config{Seed: seed, Messages: 200}, gen.Pcap)
	if err != nil {
		t.Fatal(err)
	}
	if sensor == "" {
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	sidecar := fmt.Sprintf(`{"file": %q, "sensor": %q, "format": "pcap", "packets": %d, "sha256": %q}`,
		filepath.Base(path), sensor, st.Packets, hex.EncodeToString(sum[:]))
	if err := os.WriteFile(path+".json", []byte(sidecar), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLoad_sidecarSensor: without --sensor, each file rotate wrote is
// stored as the sensor its sidecar names, whatever else the run loads, and
// any other file as "default"; --sensor sets one for all, and a file
// rotate wrote for another sensor is noted.
func TestLoad_sidecarSensor(t *testing.T) {
	dir := t.TempDir()
	rotated := filepath.Join(dir, "tap1-20261102T080000Z-000001.pcap")
	withSidecar(t, rotated, 5, "tap1")
	plain := filepath.Join(dir, "plain.pcap")
	withSidecar(t, plain, 6, "")
	refused := filepath.Join(dir, "odd.pcap")
	withSidecar(t, refused, 7, "../x")
	note := `1 file written by rotate for sensor "tap1", loaded as sensor "default" (--sensor)`
	for _, tc := range []struct {
		flags  []string
		inputs []string
		noted  bool
		want   map[string]string // sensor by file
	}{
		{[]string{"--sensor", "default"}, []string{dir}, true,
			map[string]string{rotated: "default", plain: "default", refused: "default"}},
		{[]string{"--sensor", "tap1"}, []string{dir}, false,
			map[string]string{rotated: "tap1", plain: "tap1", refused: "tap1"}},
		// Not given: each its own sidecar's, whatever the run holds.
		{nil, []string{dir}, false, map[string]string{rotated: "tap1", plain: "default", refused: "default"}},
		{nil, []string{rotated}, false, map[string]string{rotated: "tap1"}},
		{nil, []string{plain}, false, map[string]string{plain: "default"}},
	} {
		out := t.TempDir()
		args := append(append([]string{"load", "--json", "--to", "parquet:" + out}, tc.flags...), tc.inputs...)
		code, stdout, errOut := runCmd(t, nil, args...)
		if code != exitOK {
			t.Fatalf("%v %v: exit %d: %s", tc.flags, tc.inputs, code, errOut)
		}
		s := loadJSON(t, stdout)
		notes := strings.Join(s.Notes, "\n")
		if strings.Contains(notes, note) != tc.noted {
			t.Errorf("%v: notes %q; want %q: %v", tc.flags, notes, note, tc.noted)
		}
		if tc.flags == nil && tc.want[refused] != "" && !strings.Contains(notes, `its sidecar's sensor "../x" is refused`) {
			t.Errorf("%v: the refused sidecar sensor is not noted: %q", tc.flags, notes)
		}
		if len(s.PerFile) != len(tc.want) {
			t.Fatalf("%v %v: %d files, want %d", tc.flags, tc.inputs, len(s.PerFile), len(tc.want))
		}
		for _, f := range s.PerFile {
			want := tc.want[f.Path]
			if f.Sensor != want {
				t.Errorf("%v: %s loaded as sensor %q, want %q", tc.flags, f.Path, f.Sensor, want)
			}
			if got, _ := filepath.Glob(filepath.Join(out, "*", "sensor="+want)); len(got) == 0 {
				t.Errorf("%v: no partition of sensor %s in the export", tc.flags, want)
			}
		}
	}
}
