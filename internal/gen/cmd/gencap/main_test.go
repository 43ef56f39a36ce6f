package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/pcapload/pcapload/internal/gen"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "a.pcapng")
	var stderr bytes.Buffer
	args := []string{"-o", out, "-n", "300", "-seed", "4", "-format", "pcapng", "-tcp", "0.1"}
	err := run(args, nil, &stderr)
	if err != nil {
		t.Fatalf("run: %v (%s)", err, stderr.String())
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	cfg := gen.Config{Seed: 4, Messages: 300, TCP: 0.1}
	if _, err := gen.Write(&want, cfg, gen.Pcapng, nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Error("gencap output differs from gen.Write with the same config")
	}
}

func TestRun_Stdout(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run([]string{"-o", "-", "-n", "10", "-compress", "gzip"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if b := stdout.Bytes(); len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Errorf("stdout does not start with the gzip magic: % x", b[:min(len(b), 4)])
	}
}

func TestRun_Usage(t *testing.T) {
	for name, args := range map[string][]string{
		"no output":      {"-n", "10"},
		"bad format":     {"-o", "x", "-format", "erf"},
		"extra argument": {"-o", "x", "y"},
		"bad compressor": {"-o", "x", "-compress", "lzma"},
	} {
		t.Run(name, func(t *testing.T) {
			var stderr bytes.Buffer
			if err := run(args, nil, &stderr); !errors.Is(err, errUsage) {
				t.Errorf("run(%q) = %v, want errUsage", args, err)
			}
		})
	}
}
