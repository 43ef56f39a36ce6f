package parquet

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// staleTemp is how long a temporary file of a name must have gone
// unwritten before a commit of that name removes it: a killed export's.
// An export running beside, of the same capture into the same folder,
// leaves its files of days it has done unwritten until its end (see
// File.Finish): an hour is far longer than any capture takes.
const staleTemp = time.Hour

// Leftovers removes what earlier exports of a capture left in a partition
// folder: the temporary files of a killed export (.NAME.*.tmp and
// .NAME-N.*.tmp, unwritten for staleTemp), and NAME-N.parquet files that
// this export did not write again, as one cut into more files leaves.
//
// It lists each folder once, the first time it is asked about it, and
// keeps only the names of such files. Globbing the folder for every
// capture was a quarter of the CPU of exporting a thousand small captures
// into one folder, and grew with the square of their number. What another
// export adds to a folder after it is listed is left for a later run.
// It is safe for concurrent use.
type Leftovers struct {
	mu      sync.Mutex
	folders map[string]map[string][]string // folder -> NAME -> its files there
}

// Remove removes the leftovers of name in folder, keeping the paths in
// written.
func (l *Leftovers) Remove(folder, name string, written map[string]bool) {
	for _, f := range l.take(folder, name) {
		path := filepath.Join(folder, f)
		if strings.HasSuffix(f, ".tmp") {
			if fi, err := os.Stat(path); err == nil && time.Since(fi.ModTime()) > staleTemp {
				os.Remove(path)
			}
		} else if !written[path] {
			os.Remove(path)
		}
	}
}

// take returns and forgets the files of name in folder, listing the
// folder first if it was not yet.
func (l *Leftovers) take(folder, name string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.folders == nil {
		l.folders = make(map[string]map[string][]string)
	}
	names, ok := l.folders[folder]
	if !ok {
		names = list(folder)
		l.folders[folder] = names
	}
	files := names[name]
	delete(names, name)
	return files
}

// list returns the folder's leftovers by the name they would be of:
// .NAME.RANDOM.tmp by NAME, .NAME-N.RANDOM.tmp by NAME-N and NAME, and
// NAME-N.parquet by NAME, for a decimal N.
func list(folder string) map[string][]string {
	names := make(map[string][]string)
	d, err := os.Open(folder)
	if err != nil {
		return names
	}
	defer d.Close()
	entries, _ := d.Readdirnames(-1)
	for _, e := range entries {
		switch {
		case len(e) > len("..tmp") && e[0] == '.' && strings.HasSuffix(e, ".tmp"):
			inner := e[1 : len(e)-len(".tmp")] // NAME.RANDOM
			i := strings.LastIndexByte(inner, '.')
			if i < 0 {
				continue
			}
			names[inner[:i]] = append(names[inner[:i]], e)
			if base, ok := cutNumber(inner[:i]); ok {
				names[base] = append(names[base], e)
			}
		case strings.HasSuffix(e, ".parquet"):
			// Not by its own name: NAME.parquet is what an export writes.
			if base, ok := cutNumber(strings.TrimSuffix(e, ".parquet")); ok {
				names[base] = append(names[base], e)
			}
		}
	}
	return names
}

// cutNumber splits NAME-N into NAME, for a decimal N.
func cutNumber(s string) (string, bool) {
	i := strings.LastIndexByte(s, '-')
	if i < 0 || i == len(s)-1 {
		return "", false
	}
	for _, c := range s[i+1:] {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return s[:i], true
}
