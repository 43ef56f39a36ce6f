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

// TestLoad_sidecarSensor: a file rotate wrote for a sensor, loaded as
// another, is noted: the rows carry the sensor given, not rotate's.
func TestLoad_sidecarSensor(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tap1-20261102T080000Z-000001.pcap")
	st, err := gen.WriteFile(path, gen.Config{Seed: 5, Messages: 200}, gen.Pcap)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	sidecar := fmt.Sprintf(`{"file": %q, "sensor": "tap1", "format": "pcap", "packets": %d, "sha256": %q}`,
		filepath.Base(path), st.Packets, hex.EncodeToString(sum[:]))
	if err := os.WriteFile(path+".json", []byte(sidecar), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		flags []string
		noted bool
		rows  string // the sensor the rows are stored as
	}{
		{[]string{"--sensor", "default"}, true, "default"},
		{[]string{"--sensor", "tap1"}, false, "tap1"},
		{nil, false, "tap1"}, // not given: the sidecar's
	} {
		dir := t.TempDir()
		args := append(append([]string{"load", "--json", "--to", "parquet:" + dir}, tc.flags...), path)
		code, out, errOut := runCmd(t, nil, args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", tc.flags, code, errOut)
		}
		notes := strings.Join(loadJSON(t, out).Notes, "\n")
		want := `1 file written by rotate for sensor "tap1", loaded as sensor "default" (--sensor)`
		if strings.Contains(notes, want) != tc.noted {
			t.Errorf("%v: notes %q; want %q: %v", tc.flags, notes, want, tc.noted)
		}
		if got, _ := filepath.Glob(filepath.Join(dir, "*", "sensor="+tc.rows)); len(got) == 0 {
			t.Errorf("%v: no partition of sensor %s in the export", tc.flags, tc.rows)
		}
	}
}
