package chdb

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestServeArgs_configFile(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "cluster.xml")
	if err := os.WriteFile(cfg, []byte("<clickhouse/>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	got, err := serveArgs(ServeConfig{TCP: "127.0.0.1:9000", ConfigFile: "cluster.xml"})
	if err != nil {
		t.Fatalf("serveArgs: %v", err)
	}
	if want := "--config-file=" + cfg; !slices.Contains(got, want) {
		t.Errorf("serveArgs = %q, want %q among them", got, want)
	}

	_, err = serveArgs(ServeConfig{TCP: "127.0.0.1:9000", ConfigFile: "missing.xml"})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("serveArgs with a missing config file = %v, want fs.ErrNotExist", err)
	}
}
