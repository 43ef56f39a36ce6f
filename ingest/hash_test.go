package ingest_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pcapload/pcapload/ingest"
)

// TestHashFile checks the hash against SHA-256 of the bytes, for files
// empty, smaller and larger than the buffer the hash reads through.
func TestHashFile(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1000, 5<<20 + 7} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		path := filepath.Join(dir, "f")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := ingest.HashFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if want := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("%d bytes: hash %s, want %s", size, got, want)
		}
	}
	missing := filepath.Join(dir, "missing.pcap")
	if _, err := ingest.HashFile(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: error %v, want one naming %s", err, missing)
	}
}

// TestHashFileUntil stops hashing when done is closed, and hashes as
// HashFile does while it is open.
func TestHashFileUntil(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, bytes.Repeat([]byte("dns"), 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	want, err := ingest.HashFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ingest.HashFileUntil(path, make(chan struct{})); got != want || err != nil {
		t.Errorf("done open: %q, %v; want %q", got, err, want)
	}
	done := make(chan struct{})
	close(done)
	if got, err := ingest.HashFileUntil(path, done); got != "" || !errors.Is(err, ingest.ErrCancelled) {
		t.Errorf("done closed: %q, %v; want ErrCancelled", got, err)
	}
}

// TestNotCapture tells notes, empty files and compressed notes from
// captures, plain and compressed, and from a capture cut in its header.
func TestNotCapture(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	capture, err := os.ReadFile("../testdata/resolver.pcap")
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("# notes\n"))
	zw.Close()
	for _, c := range []struct {
		path string
		want bool
	}{
		{write("README.md", []byte("# captures of resolver 3\n")), true},
		{write("empty", nil), true},
		{write("notes.gz", gz.Bytes()), true},
		{"../testdata/resolver.pcap", false},
		{"../testdata/resolver-ns.pcapng.zst", false},
		{write("cut.pcap", capture[:10]), false},
		{filepath.Join(dir, "missing"), false},
	} {
		if got := ingest.NotCapture(c.path); got != c.want {
			t.Errorf("NotCapture(%s) = %v, want %v", filepath.Base(c.path), got, c.want)
		}
	}
}
