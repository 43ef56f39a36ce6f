package ingest_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pcapload/pcapload/ingest"
)

// TestExpand_RotateFolder: in a folder rotate writes to, finished files
// load, their sidecars and hidden files are not inputs, and files still
// being written are skipped and said.
func TestExpand_RotateFolder(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"s-1.pcapng.zst", "s-1.pcapng.zst.json", "s-2.pcapng.zst.part",
		"s-2.pcapng.zst.json.part", ".hidden", "notes.json"} {
		os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644)
	}
	inputs, skipped, err := ingest.Expand([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range inputs {
		got = append(got, filepath.Base(in.Path))
		if !in.Walked {
			t.Errorf("%s not marked as found by walking", in.Path)
		}
	}
	if len(got) != 2 || got[0] != "notes.json" || got[1] != "s-1.pcapng.zst" {
		t.Errorf("inputs %v, want notes.json (no capture beside it) and s-1.pcapng.zst", got)
	}
	if len(skipped) != 2 {
		t.Errorf("skipped %v, want the two .part files", skipped)
	}
	if _, _, err := ingest.Expand([]string{"-", "-"}); err == nil {
		t.Error("standard input twice: no error")
	}
}

// TestExpand_links: a folder named through a link is walked, a link to a
// capture inside a folder is loaded, and links to a folder (which can
// loop) or to nothing are skipped and said.
func TestExpand_links(t *testing.T) {
	top := t.TempDir()
	archive := filepath.Join(top, "archive")
	os.Mkdir(archive, 0o755)
	os.WriteFile(filepath.Join(archive, "a.pcap"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(top, "b.pcap"), []byte("xy"), 0o644)
	os.WriteFile(filepath.Join(top, "w.pcap.part"), []byte("x"), 0o644)
	for link, target := range map[string]string{"b.pcap": "../b.pcap", "loop": "..", "gone.pcap": "missing.pcap",
		"alias.pcap": "../w.pcap.part"} {
		if err := os.Symlink(target, filepath.Join(archive, link)); err != nil {
			t.Fatal(err)
		}
	}
	named := filepath.Join(top, "latest")
	if err := os.Symlink("archive", named); err != nil {
		t.Fatal(err)
	}
	inputs, skipped, err := ingest.Expand([]string{named})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range inputs {
		got = append(got, strings.TrimPrefix(in.Path, named+string(filepath.Separator))+":"+fmt.Sprint(in.Size))
	}
	if strings.Join(got, " ") != "a.pcap:1 b.pcap:2" {
		t.Errorf("inputs %v, want a.pcap (1 byte) and the linked b.pcap (2 bytes)", got)
	}
	reasons := make(map[string]string)
	for _, s := range skipped {
		reasons[filepath.Base(s.Path)] = s.Reason
	}
	if len(reasons) != 3 || !strings.Contains(reasons["loop"], "folder") || !strings.Contains(reasons["gone.pcap"], "nothing") ||
		!strings.Contains(reasons["alias.pcap"], ".part") {
		t.Errorf("skipped %v, want the links to a folder, to nothing and to a .part file, said", skipped)
	}

	// A pattern's FIFO is skipped, as a folder's is; it hung the load.
	fifo := filepath.Join(top, "f.pcap")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	inputs, skipped, _ = ingest.Expand([]string{filepath.Join(top, "f*")})
	if len(inputs) != 0 || len(skipped) != 1 {
		t.Errorf("pattern matching a FIFO: inputs %v, skipped %v; want it skipped", inputs, skipped)
	}
}

// TestExpand_patternFound marks a pattern's matches as found, as a
// folder's files are, and a file named as it is not.
func TestExpand_patternFound(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"dns_a.pcap", "dns_a.tshark.csv"} {
		os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644)
	}
	named := filepath.Join(dir, "dns_a.pcap")
	inputs, _, err := ingest.Expand([]string{filepath.Join(dir, "dns_*"), named})
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) != 2 || !inputs[0].Walked || !inputs[1].Walked {
		t.Errorf("inputs %+v, want both matches found (Walked)", inputs)
	}
	inputs, _, err = ingest.Expand([]string{named})
	if err != nil || len(inputs) != 1 || inputs[0].Walked {
		t.Errorf("named file: %+v, %v; want it not Walked", inputs, err)
	}
}

// TestExpand_patternMatchesNothing: a pattern that matches no file fails
// alone, saying so rather than that no file has its name.
func TestExpand_patternMatchesNothing(t *testing.T) {
	dir := t.TempDir()
	for arg, want := range map[string]string{
		filepath.Join(dir, "dns_*.pcap"): "no file matches the pattern",
		filepath.Join(dir, "dns[.pcap"):  "no file matches the pattern", // malformed: failed the run
		filepath.Join(dir, "dns.pcap"):   "no such file",
	} {
		inputs, _, err := ingest.Expand([]string{arg})
		if err != nil || len(inputs) != 1 {
			t.Fatalf("Expand(%s) = %+v, %v; want it kept as an input to fail alone", arg, inputs, err)
		}
		err = inputs[0].Pin()
		if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Pin(%s) = %v, want %q", arg, err, want)
		}
	}
}
