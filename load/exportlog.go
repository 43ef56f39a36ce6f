package load

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/pcapload/pcapload/ingest"
)

// exportLogName is where a Parquet export keeps its exportLog, under its
// root. Readers of the partitions pass over it: Spark and Hive skip
// folders whose names begin with an underscore, and a glob of
// **/*.parquet does not match it.
const exportLogName = "_pcapload/exports.jsonl"

// exportLog is the record of the capture files a Parquet export holds, one
// JSON line each: their hash, base name, size and output files. With it an
// export does what a database's load records do for a capture loaded while
// it was still being written, then again whole (Ledger.supersede): the
// files of the earlier export are removed once the whole file's are in
// place, and a line says so. Lines are appended, each in one write, so
// that loads into one export from several processes do not mix them; a
// process sees the lines written before it first needed them.
//
// Only captures that may still have been written when they were exported
// get a line: those cut short, and those modified within growWindow of
// their export. An archive's captures, done long before, get none, so
// the log stays small and is read whole, where a line per capture of a
// nightly export would make it grow by the year.
type exportLog struct {
	root string

	mu      sync.Mutex
	read    bool
	entries []exportEntry
}

type exportEntry struct {
	Hash         string   `json:"hash"`
	Name         string   `json:"name,omitempty"`  // base name of the capture file
	Path         string   `json:"path,omitempty"`  // the capture file as given
	Bytes        int64    `json:"bytes,omitempty"` // read as stored
	Files        []string `json:"files,omitempty"` // outputs, relative to the root
	Sensor       string   `json:"sensor"`
	SupersededBy string   `json:"superseded_by,omitempty"`
}

// commit records the export of f, read as st, into outputs; first it
// removes the outputs of earlier exports that f grew from (see
// supersedeCandidates).
func (l *exportLog) commit(f File, sensor string, st *ingest.FileStats, outputs []string) error {
	if f.Hash == "" {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.load(); err != nil {
		return err
	}
	var lines []exportEntry
	for _, old := range l.earlier(f, sensor, st.Bytes) {
		h, ok, err := ingest.HashPrefix(f.input(), old.Bytes)
		if err != nil || !ok || h != old.Hash {
			continue
		}
		for _, rel := range old.Files {
			if !filepath.IsLocal(rel) {
				continue // not one this log wrote
			}
			if err := os.Remove(filepath.Join(l.root, rel)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("remove %s, superseded: %w", rel, err)
			}
		}
		lines = append(lines, exportEntry{Hash: old.Hash, Sensor: sensor, SupersededBy: f.Hash})
		if f.outcome != nil {
			f.outcome.superseded = append(f.outcome.superseded, cmp.Or(old.Path, old.Name))
		}
	}
	if mayGrow(f.Path, st) {
		slices.Sort(outputs)
		lines = append(lines, exportEntry{Hash: f.Hash, Name: filepath.Base(f.Path), Path: f.Path, Sensor: sensor,
			Bytes: st.Bytes, Files: outputs})
	}
	return l.append(lines)
}

// superseded reports whether the log says the capture of hash, exported
// for sensor, was superseded.
func (l *exportLog) superseded(hash, sensor string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.load(); err != nil {
		return false, err
	}
	for _, e := range l.entries {
		if e.Hash == hash && e.Sensor == sensor && e.SupersededBy != "" {
			return true, nil
		}
	}
	return false, nil
}

// growWindow is how recently a capture must have been modified, when it
// is exported, for its export to be logged as one a later, longer version
// of it may supersede.
const growWindow = time.Hour

// mayGrow reports whether the capture at path, read as st, may still have
// been written when it was read: cut short, or modified lately.
func mayGrow(path string, st *ingest.FileStats) bool {
	if st.Err != nil {
		return true
	}
	fi, err := os.Stat(path)
	return err == nil && time.Since(fi.ModTime()) < growWindow
}

// earlier returns the exports of sensor, of files of f's base name
// smaller than bytes and not superseded: those f may have grown from.
// Those of f's own path come first, all of them; then the latest
// supersedeCandidates of other paths.
func (l *exportLog) earlier(f File, sensor string, bytes int64) []exportEntry {
	name := filepath.Base(f.Path)
	superseded := make(map[exportKey]bool)
	for _, e := range l.entries {
		if e.SupersededBy != "" {
			superseded[exportKey{e.Hash, e.Sensor}] = true
		}
	}
	var same, other []exportEntry
	seen := make(map[string]bool)
	for i := len(l.entries) - 1; i >= 0; i-- {
		e := l.entries[i]
		if e.Name != name || e.Sensor != sensor || e.Bytes <= 0 || e.Bytes >= bytes || e.Hash == f.Hash ||
			superseded[exportKey{e.Hash, e.Sensor}] || seen[e.Hash] {
			continue
		}
		seen[e.Hash] = true
		switch {
		case e.Path == f.Path:
			same = append(same, e)
		case len(other) < supersedeCandidates:
			other = append(other, e)
		}
	}
	return append(same, other...)
}

// exportKey names a capture's export: its files are under its sensor's
// partitions.
type exportKey struct{ hash, sensor string }

// load reads the log once. Lines it cannot parse (a line cut by a crash)
// are passed over.
func (l *exportLog) load() error {
	if l.read {
		return nil
	}
	file, err := os.Open(filepath.Join(l.root, exportLogName))
	if errors.Is(err, fs.ErrNotExist) {
		l.read = true
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the export's log: %w", err)
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var e exportEntry
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.Hash != "" {
			l.entries = append(l.entries, e)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read the export's log: %w", err)
	}
	l.read = true
	return nil
}

// append writes lines at the end of the log, each in one write.
func (l *exportLog) append(lines []exportEntry) error {
	if len(lines) == 0 {
		return nil
	}
	path := filepath.Join(l.root, exportLogName)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write the export's log: %w", err)
	}
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("write the export's log: %w", err)
	}
	for _, e := range lines {
		b, err := json.Marshal(e)
		if err == nil {
			_, err = file.Write(append(b, '\n'))
		}
		if err != nil {
			file.Close()
			return fmt.Errorf("write the export's log: %w", err)
		}
		l.entries = append(l.entries, e)
	}
	return file.Close()
}
